/**
 * A protobuf writer for OTLP logs, tuned for one record at a time appended to a batch buffer: nested lengths
 * get one reserved byte and are moved only when the content is 128 bytes or more; attribute keys are encoded
 * once and copied afterwards.
 */

const KEY_CACHE_LIMIT = 4096;
const TWO_32 = 4294967296;

export class ProtoWriter {
  buf: Buffer;
  pos = 0;
  private readonly keys = new Map<string, Buffer>();

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  reset(): void {
    this.pos = 0;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  varint(n: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    if (n < 0) n = 0;
    while (n >= 0x80) {
      buf[pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[pos++] = n;
    this.pos = pos;
  }

  /** A signed int64 as protobuf writes it (two's complement, 10 bytes for negatives). */
  int64(n: number): void {
    if (n >= 0) { this.varint(n); return; }
    this.ensure(10);
    let lo = n % TWO_32;
    let hi = Math.floor(n / TWO_32);
    if (lo < 0) lo += TWO_32;
    hi = (hi + TWO_32) % TWO_32;
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = (lo >>> 7) | ((hi & 0x7f) << 25);
      hi >>>= 7;
    }
    this.buf[this.pos++] = 1;
  }

  fixed32(n: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = n & 0xff; b[p + 1] = (n >>> 8) & 0xff; b[p + 2] = (n >>> 16) & 0xff; b[p + 3] = (n >>> 24) & 0xff;
    this.pos = p + 4;
  }

  /** Nanoseconds since the epoch as fixed64, from seconds and nanoseconds (exact, no BigInt). */
  fixed64Time(seconds: number, nanos: number): void {
    this.ensure(8);
    // seconds * 1e9 + nanos, split into 32-bit halves without losing precision.
    const sHi = Math.floor(seconds / 65536);
    const sLo = seconds - sHi * 65536;
    const a = sHi * 1e9; // < 2^47; contributes a * 2^16
    const b = sLo * 1e9 + nanos; // < 2^47
    const aHi = Math.floor(a / 65536);
    const aLo = (a - aHi * 65536) * 65536;
    const bHi = Math.floor(b / TWO_32);
    let lo = aLo + (b - bHi * TWO_32);
    let hi = aHi + bHi;
    if (lo >= TWO_32) { lo -= TWO_32; hi += 1; }
    const b8 = this.buf;
    let p = this.pos;
    hi >>>= 0;
    b8[p++] = lo & 0xff; b8[p++] = (lo >>> 8) & 0xff; b8[p++] = (lo >>> 16) & 0xff; b8[p++] = (lo >>> 24) & 0xff;
    b8[p++] = hi & 0xff; b8[p++] = (hi >>> 8) & 0xff; b8[p++] = (hi >>> 16) & 0xff; b8[p++] = (hi >>> 24) & 0xff;
    this.pos = p;
  }

  /** Appends `n` bytes already written at `from` (the same timestamp twice). */
  copyWithin(from: number, n: number): void {
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = from; i < from + n; i++) buf[p++] = buf[i] as number;
    this.pos = p;
  }

  /** Lowercase or uppercase hex as raw bytes (ids), without a native call. */
  hexBytes(hex: string): void {
    const n = hex.length >> 1;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < hex.length; i += 2) b[p++] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
    this.pos = p;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  raw(b: Uint8Array, from = 0, to = b.length): void {
    const n = to - from;
    this.ensure(n);
    if (n <= 64) {
      // A few bytes (keys, severity text): a loop beats the native copy's call overhead.
      const buf = this.buf;
      let p = this.pos;
      for (let i = from; i < to; i++) buf[p++] = b[i] as number;
      this.pos = p;
      return;
    }
    if (b instanceof Buffer) b.copy(this.buf, this.pos, from, to);
    else this.buf.set(b.subarray(from, to), this.pos);
    this.pos += n;
  }

  /** Reserves one length byte; returns where the message starts. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of the message started at `at`, moving it when the length needs more than one byte. */
  end(at: number): void {
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    const size = len < 0x4000 ? 2 : len < 0x200000 ? 3 : len < 0x10000000 ? 4 : 5;
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    let n = len;
    let p = at;
    while (n >= 0x80) {
      this.buf[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[p] = n;
    this.pos += size - 1;
  }

  /** A string field: tag, length, UTF-8. */
  string(tag: number, s: string): void {
    const n = s.length;
    this.ensure(n * 3 + 6);
    const buf = this.buf;
    buf[this.pos++] = tag;
    if (n < 0x80) {
      // ASCII fast path: one byte per char, length known up front.
      const at = this.pos++;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + 1 + i] = c;
      }
      if (i === n) {
        buf[at] = n;
        this.pos = at + 1 + n;
        return;
      }
      this.pos = at + 1 + buf.write(s, at + 1, 'utf8');
      this.end(at);
      return;
    }
    const at = this.pos++;
    this.pos += buf.write(s, this.pos, 'utf8');
    this.end(at);
  }

  /** `key` field (1) of a KeyValue, from the cache. */
  key(k: string): void {
    let enc = this.keys.get(k);
    if (enc === undefined) {
      const bytes = Buffer.from(k, 'utf8');
      enc = Buffer.allocUnsafe(bytes.length + 6);
      let p = 0;
      enc[p++] = 0x0a;
      let n = bytes.length;
      while (n >= 0x80) { enc[p++] = (n & 0x7f) | 0x80; n >>>= 7; }
      enc[p++] = n;
      bytes.copy(enc, p);
      enc = enc.subarray(0, p + bytes.length);
      if (this.keys.size < KEY_CACHE_LIMIT) this.keys.set(k, enc);
    }
    this.raw(enc);
  }
}

function nibble(c: number): number {
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}

const MAX_DEPTH = 8;

/** An AnyValue message body (without its own tag/length). */
export function writeAnyValue(w: ProtoWriter, v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string': w.string(0x0a, v); return;
    case 'boolean': w.byte(0x10); w.byte(v ? 1 : 0); return;
    case 'number':
      if (Number.isSafeInteger(v)) { w.byte(0x18); w.int64(v); } else { w.byte(0x21); w.double(v); }
      return;
    case 'bigint': w.string(0x0a, v.toString()); return;
    case 'object': {
      if (v === null) return;
      if (v instanceof Uint8Array) { w.byte(0x3a); w.varint(v.length); w.raw(v); return; }
      if (depth >= MAX_DEPTH) { w.string(0x0a, '[depth limit]'); return; }
      if (v instanceof Date) { w.string(0x0a, Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()); return; }
      if (Array.isArray(v)) {
        w.byte(0x2a);
        const at = w.begin();
        for (let i = 0; i < v.length; i++) {
          w.byte(0x0a);
          const va = w.begin();
          writeAnyValue(w, v[i] as unknown, depth + 1);
          w.end(va);
        }
        w.end(at);
        return;
      }
      if (v instanceof Error) {
        writeAnyValue(w, { type: v.name, message: v.message, stack: v.stack }, depth);
        return;
      }
      w.byte(0x32);
      const at = w.begin();
      const o = v as Record<string, unknown>;
      for (const k in o) {
        if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
        const x = o[k];
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        writeKeyValue(w, 0x0a, k, x, depth + 1);
      }
      w.end(at);
      return;
    }
    default:
      return;
  }
}

/** A KeyValue under field `tag` (0x32 for a record's attributes, 0x0a inside a kvlist or a resource). */
export function writeKeyValue(w: ProtoWriter, tag: number, k: string, v: unknown, depth: number): void {
  w.byte(tag);
  const at = w.begin();
  w.key(k);
  w.byte(0x12);
  const va = w.begin();
  writeAnyValue(w, v, depth);
  w.end(va);
  w.end(at);
}
