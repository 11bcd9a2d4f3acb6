/** Nanosecond timestamp helpers. Timestamps are unsigned `Long` (see model.ts). */
import Long from 'long';

export const ZERO_NANOS: Long = Long.UZERO;

export function isZeroNanos(t: Long | null | undefined): boolean {
  return t == null || (t.low === 0 && t.high === 0);
}

/**
 * Exact decimal string of an unsigned 64-bit nanosecond value, without Long's slow division:
 * value = hi·2^32 + lo = hi·4294·10^6 + (hi·967296 + lo), every part stays below 2^53.
 */
export function nanosToDecimal(t: Long): string {
  const hi = t.high >>> 0;
  const lo = t.low >>> 0;
  if (hi === 0) return String(lo);
  let b = hi * 967296 + lo;
  const carry = Math.floor(b / 1e6);
  b -= carry * 1e6;
  const a = hi * 4294 + carry;
  const tail = String(b);
  return String(a) + '000000'.slice(tail.length) + tail;
}

/** Parses a decimal string (or a number) of nanoseconds. Throws on anything else. */
export function nanosFromDecimal(v: string | number): Long {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0 || !Number.isInteger(v)) throw new Error(`invalid nanosecond timestamp ${v}`);
    return Long.fromNumber(v, true);
  }
  if (!/^\d{1,20}$/.test(v)) throw new Error(`invalid nanosecond timestamp "${v}"`);
  const r = Long.fromString(v, true, 10);
  if (r.toString() !== v.replace(/^0+(?=\d)/, '')) throw new Error(`nanosecond timestamp "${v}" overflows 64 bits`);
  return r;
}

/**
 * Milliseconds since the epoch (a double; sub-millisecond digits kept as the fraction). The whole
 * milliseconds are exact: nanoseconds of today exceed 2^53, so they are never formed as one double
 * (that rounded 1 record in 8 to the millisecond below). high·2^32 = high·4294·10^6 + high·967296.
 */
export function nanosToMillis(t: Long): number {
  const high = t.high >>> 0;
  const rest = high * 967_296 + (t.low >>> 0);
  const restMs = Math.floor(rest / 1e6);
  return high * 4294 + restMs + (rest - restMs * 1e6) / 1e6;
}

/** Whole seconds and the remaining nanoseconds (exact: split from the decimal form). */
export function nanosToSecondsAndNanos(t: Long): { seconds: number; nanos: number } {
  const d = nanosToDecimal(t);
  if (d.length <= 9) return { seconds: 0, nanos: Number(d) };
  return { seconds: Number(d.slice(0, -9)), nanos: Number(d.slice(-9)) };
}

export function nanosFromMillis(ms: number): Long {
  const whole = Math.floor(ms);
  return Long.fromNumber(whole, true).multiply(1_000_000).add(Math.round((ms - whole) * 1e6));
}

const hrOrigin = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Current time in nanoseconds since the epoch (wall clock anchored once, advanced by hrtime). */
export function nowNanos(): Long {
  const v = hrOrigin + process.hrtime.bigint();
  return Long.fromBits(Number(v & 0xffffffffn), Number(v >> 32n), true);
}

export function nanosToBigInt(t: Long): bigint {
  return (BigInt(t.high >>> 0) << 32n) | BigInt(t.low >>> 0);
}

export function nanosFromBigInt(v: bigint): Long {
  return Long.fromBits(Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn), true);
}

/** RFC 3339 with nanoseconds, UTC (`2024-01-15T10:30:00.123456789Z`). */
export function nanosToIso(t: Long): string {
  const { seconds, nanos } = nanosToSecondsAndNanos(t);
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
}
