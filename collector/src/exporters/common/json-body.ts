/**
 * Pieces for exporters that write request bodies as JSON straight into bytes (`JsonByteWriter`) instead
 * of building an object per record and JSON.stringify-ing it. The writer output must stay byte-identical
 * to JSON.stringify of the object the exporter would have built, so these helpers also tell when a direct
 * write cannot reproduce that (JS property order) and the caller must take its object path.
 */
import { JsonByteWriter, type KeyValue } from '@tributary/otlp';

/** `"name":` exactly as JSON.stringify writes a property name, pre-encoded. */
export function jsonKey(name: string): Buffer {
  return Buffer.from(`${JSON.stringify(name)}:`, 'utf8');
}

/** UTF-8 bytes of constant text. */
export function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/**
 * Whether a property of this name keeps its insertion position in a JS object and is an own data
 * property: array-index names (digits) are ordered first by JSON.stringify, `__proto__` is not a property.
 * Conservative: every name starting with a digit counts as an index.
 */
export function keepsInsertionOrder(key: string): boolean {
  const c = key.charCodeAt(0);
  return !(c >= 0x30 && c <= 0x39) && key !== '__proto__';
}

/** Whether the attributes have exactly these names, in this order (records of one source usually do). */
export function sameKeys(attrs: readonly KeyValue[], keys: readonly string[]): boolean {
  const n = attrs.length;
  if (n !== keys.length) return false;
  for (let i = 0; i < n; i++) if (attrs[i]!.key !== keys[i]) return false;
  return true;
}

/** Big-endian unsigned 64-bit of the 8 bytes at `at`, as decimal digits. */
export function writeBytesAsUint64(w: JsonByteWriter, id: Uint8Array, at: number): void {
  const hi = ((id[at]! << 24) | (id[at + 1]! << 16) | (id[at + 2]! << 8) | id[at + 3]!) >>> 0;
  const lo = ((id[at + 4]! << 24) | (id[at + 5]! << 16) | (id[at + 6]! << 8) | id[at + 7]!) >>> 0;
  w.uint64(hi, lo);
}

/** Memory a pool keeps between conversions at most (writers beyond it are left to the GC). */
const MAX_POOLED_BYTES = 16 * 1024 * 1024;

/**
 * Writers reused across conversions: a conversion is synchronous and copies every body out before it
 * returns, so its writers are free again afterwards; warm buffers avoid fresh pages per batch.
 */
export class WriterPool {
  private readonly free: JsonByteWriter[] = [];
  private pooledBytes = 0;

  constructor(private readonly initialCapacity = 64 * 1024) {}

  take(): JsonByteWriter {
    const w = this.free.pop();
    if (w === undefined) return new JsonByteWriter(this.initialCapacity);
    this.pooledBytes -= w.capacity;
    w.reset();
    return w;
  }

  give(w: JsonByteWriter): void {
    if (this.pooledBytes + w.capacity > MAX_POOLED_BYTES) return;
    this.pooledBytes += w.capacity;
    this.free.push(w);
  }
}

/**
 * A request whose body was written as bytes: `bodyBytes` is what goes on the wire; `body`, the same
 * text as a string, is decoded only when read (tests, tools). Large strings cost a fresh heap allocation
 * each and the sender would encode them back to bytes.
 */
export class BytesBody {
  /** @param text the body when the caller has it as a string already. */
  constructor(
    readonly bodyBytes: Buffer,
    private text?: string,
  ) {}

  /** UTF-8 length of the body. */
  get bytes(): number {
    return this.bodyBytes.length;
  }

  get body(): string {
    return (this.text ??= this.bodyBytes.toString('utf8'));
  }
}
