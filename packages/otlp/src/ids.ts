/** Trace / span ID helpers. IDs are `Uint8Array` (16 / 8 bytes); empty means unset (see model.ts). */
export const TRACE_ID_BYTES = 16;
export const SPAN_ID_BYTES = 8;
export const EMPTY_ID: Uint8Array = new Uint8Array(0);

/** True when the ID is absent or all zero bytes. */
export function isEmptyId(id: Uint8Array | null | undefined): boolean {
  if (id == null) return true;
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return false;
  return true;
}

/** Lowercase hex, or "" for an empty / all-zero ID. */
export function idToHex(id: Uint8Array | null | undefined): string {
  if (id == null || id.length === 0 || isEmptyId(id)) return '';
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

const HEX = /^[0-9a-fA-F]*$/;

/** Decodes a hex ID of the given byte length; "" gives an empty ID. Throws with a reason otherwise. */
export function idFromHex(hex: string, bytes: number): Uint8Array {
  if (hex.length === 0) return EMPTY_ID;
  if (hex.length !== bytes * 2) throw new Error(`must be ${bytes * 2} hex characters, got ${hex.length}`);
  if (!HEX.test(hex)) throw new Error('is not hex');
  return Buffer.from(hex, 'hex');
}
