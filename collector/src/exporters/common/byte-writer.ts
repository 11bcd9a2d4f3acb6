/**
 * `ByteWriter`: a reusable growable byte buffer for exporters that build request bodies per batch
 * (JSON documents, NDJSON, protobuf). Strings are written straight as UTF-8 with the escaping of the
 * target format, byte-identical to the string route they replace:
 *
 * - `jsonString`: the UTF-8 of `JSON.stringify(s)` (well-formed stringify: lone surrogates as `\udXXX`);
 * - `goString`: Go encoding/json (the above plus `<`, `>`, `&`, U+2028, U+2029 as `\u00XX` / `\u20XX`);
 * - `utf8`: `Buffer.from(s)` (lone surrogates as U+FFFD);
 * - `pbString`: the bytes protobufjs' node Writer writes for a string field.
 *
 * Reuse one writer across records and batches: `reset()` keeps the capacity, so after warm-up only
 * the bodies handed out (`copyRange`) are allocated.
 */
import type { Long } from '@tributary/otlp';

const TWO_32 = 4294967296;
/** Strings at least this long are checked with one regex and written by the native UTF-8 encoder. */
const NATIVE_MIN = 48;
/** Code units JSON.stringify escapes: `"`, `\`, C0 controls and lone surrogates. */
const JSON_ESCAPE = /["\\\u0000-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** The same plus what Go's encoding/json escapes on top (HTML-safe). */
const GO_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const HEX_DIGITS = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX_DIGITS[i] = '0123456789abcdef'.charCodeAt(i);
/** Byte → its two lowercase hex digits (high << 8 | low). */
const HEX_PAIR = new Uint16Array(256);
for (let b = 0; b < 256; b++) HEX_PAIR[b] = (HEX_DIGITS[b >> 4]! << 8) | HEX_DIGITS[b & 15]!;
const B64 = new Uint8Array(64);
for (let i = 0; i < 64; i++) B64[i] = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i);
/** Second byte of JSON.stringify's short escapes (\b \t \n \f \r), 0 where it uses \u00XX. */
const SHORT_ESCAPE = new Uint8Array(32);
SHORT_ESCAPE[8] = 0x62;
SHORT_ESCAPE[9] = 0x74;
SHORT_ESCAPE[10] = 0x6e;
SHORT_ESCAPE[12] = 0x66;
SHORT_ESCAPE[13] = 0x72;
/** ASCII code units written as themselves: 1 in JSON.stringify, and in Go's encoding/json (not `<>&`). */
const PLAIN_JSON = new Uint8Array(128);
for (let c = 0x20; c < 0x80; c++) PLAIN_JSON[c] = 1;
PLAIN_JSON[0x22] = 0;
PLAIN_JSON[0x5c] = 0;
const PLAIN_GO = PLAIN_JSON.slice();
PLAIN_GO[0x3c] = 0;
PLAIN_GO[0x3e] = 0;
PLAIN_GO[0x26] = 0;

/** Latin-1 text as bytes (for constant fragments). */
export const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(16, initialCapacity));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  get capacity(): number {
    return this.buf.length;
  }

  reset(): void {
    this.pos = 0;
  }

  /** Drops everything after the first `length` bytes. */
  truncate(length: number): void {
    if (length < this.pos) this.pos = length;
  }

  /** Moves bytes [start, length) to the front (keeps the buffer small when a body is cut off). */
  dropBefore(start: number): void {
    this.buf.copyWithin(0, start, this.pos);
    this.pos -= start;
  }

  /** A view of bytes [start, end), not a copy: overwritten by later writes after a reset. */
  view(start = 0, end = this.pos): Buffer {
    return this.buf.subarray(start, end);
  }

  /**
   * Hands the buffer over (views taken with `view()` stay valid and are never written again) and
   * continues in a fresh one of `capacity` bytes: for bodies that leave without a copy.
   */
  detach(capacity: number): void {
    this.buf = Buffer.allocUnsafeSlow(Math.max(16, capacity));
    this.pos = 0;
  }

  /** An independent copy of bytes [start, end). */
  copyRange(start = 0, end = this.pos): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    this.buf.copy(out, 0, start, end);
    return out;
  }

  /** Appends bytes [start, end) of another writer. */
  append(from: ByteWriter, start = 0, end = from.pos): void {
    const n = end - start;
    if (this.pos + n > this.buf.length) this.grow(n);
    const src = from.buf;
    const buf = this.buf;
    let p = this.pos;
    // Short runs by hand.
    if (n <= 64) for (let i = start; i < end; i++) buf[p++] = src[i]!;
    else {
      // A plain Uint8Array view: Buffer#subarray and Buffer#copy cost more than the copy of a line.
      buf.set(new Uint8Array(src.buffer, src.byteOffset + start, n), p);
      p += n;
    }
    this.pos = p;
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafeSlow(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Overwrites one byte already written. */
  setByte(at: number, c: number): void {
    this.buf[at] = c;
  }

  byte(c: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  /** Copies pre-encoded bytes. */
  raw(b: Uint8Array): void {
    const n = b.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    let p = this.pos;
    // A loop beats the native set() call for short fragments.
    if (n <= 32) for (let i = 0; i < n; i++) buf[p++] = b[i]!;
    else {
      buf.set(b, p);
      p += n;
    }
    this.pos = p;
  }

  /** Text known to be ASCII. */
  ascii(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Text as `Buffer.from(s)` encodes it. */
  utf8(s: string): void {
    const n = s.length;
    if (n < 16) {
      let ascii = true;
      for (let i = 0; i < n && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
      if (ascii) {
        this.ascii(s);
        return;
      }
    }
    if (this.pos + 3 * n > this.buf.length) this.grow(3 * n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * A string field's bytes as protobufjs' node BufferWriter writes them: below 40 code units its own
   * encoder (a lone surrogate as 3 bytes of itself), else Buffer's (U+FFFD). Same length either way.
   */
  pbString(s: string): void {
    const n = s.length;
    if (this.pos + 3 * n > this.buf.length) this.grow(3 * n);
    if (n >= 40) {
      this.pos += this.buf.write(s, this.pos, 'utf8');
      return;
    }
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) buf[p++] = c;
      else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 63);
      } else {
        const d = (c & 0xfc00) === 0xd800 && i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if ((d & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c & 0x3ff) << 10) + (d & 0x3ff);
          i++;
          buf[p++] = 0xf0 | (c >> 18);
          buf[p++] = 0x80 | ((c >> 12) & 63);
          buf[p++] = 0x80 | ((c >> 6) & 63);
          buf[p++] = 0x80 | (c & 63);
        } else {
          buf[p++] = 0xe0 | (c >> 12);
          buf[p++] = 0x80 | ((c >> 6) & 63);
          buf[p++] = 0x80 | (c & 63);
        }
      }
    }
    this.pos = p;
  }

  /** Protobuf varint of 0 ≤ n < 2^53. */
  varint(n: number): void {
    if (this.pos + 10 > this.buf.length) this.grow(10);
    const buf = this.buf;
    let p = this.pos;
    while (n >= 0x80000000) {
      const lo = n % 128;
      buf[p++] = lo | 0x80;
      n = (n - lo) / 128;
    }
    while (n > 0x7f) {
      buf[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[p++] = n;
    this.pos = p;
  }

  /** A non-negative integer below 2^53, as String(n) renders it. */
  uint(n: number): void {
    if (n < 0x80000000) {
      this.int31(n | 0);
      return;
    }
    let q = Math.floor(n / 1e8);
    let r = n - q * 1e8;
    if (r < 0) {
      q--;
      r += 1e8;
    }
    this.int31(q);
    this.digits(r, 8);
  }

  private int31(n: number): void {
    const width = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6
      : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
    this.digits(n, width);
  }

  /** Exactly `width` decimal digits of 0 ≤ n < 2^31 (zero-padded). */
  digits(n: number, width: number): void {
    if (this.pos + width > this.buf.length) this.grow(width);
    const buf = this.buf;
    let p = this.pos + width;
    this.pos = p;
    for (let i = 0; i < width; i++) {
      const q = (n / 10) | 0;
      buf[--p] = 0x30 + n - q * 10;
      n = q;
    }
  }

  /** A number exactly as String(n) renders it. */
  number(n: number): void {
    if (n >= 0 && n <= Number.MAX_SAFE_INTEGER && n % 1 === 0) this.uint(n);
    else if (n < 0 && n >= -Number.MAX_SAFE_INTEGER && n % 1 === 0) {
      this.byte(0x2d);
      this.uint(-n);
    } else this.ascii(String(n));
  }

  /** An int64 as `int64ToString` renders it (`String(Math.trunc(n))` / `Long#toString()`). */
  int64(v: Long | number): void {
    if (typeof v === 'number') {
      this.number(Math.trunc(v));
      return;
    }
    // Within ±2^53 the double is exact, and String() of it equals Long#toString().
    const hi = v.unsigned ? v.high >>> 0 : v.high;
    if (hi >= -0x200000 && hi < 0x200000) this.number(hi * TWO_32 + (v.low >>> 0));
    else this.ascii(v.toString());
  }

  /** Lowercase hex of the bytes. */
  hex(id: Uint8Array): void {
    const n = id.length;
    if (this.pos + 2 * n > this.buf.length) this.grow(2 * n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const h = HEX_PAIR[id[i]!]!;
      buf[p++] = h >> 8;
      buf[p++] = h & 0xff;
    }
    this.pos = p;
  }

  /** Standard padded base64. */
  base64(b: Uint8Array): void {
    const n = b.length;
    const out = Math.ceil(n / 3) * 4;
    if (this.pos + out > this.buf.length) this.grow(out);
    const buf = this.buf;
    let p = this.pos;
    let i = 0;
    for (; i + 2 < n; i += 3) {
      const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
      buf[p++] = B64[v >> 18]!;
      buf[p++] = B64[(v >> 12) & 63]!;
      buf[p++] = B64[(v >> 6) & 63]!;
      buf[p++] = B64[v & 63]!;
    }
    if (i < n) {
      const two = i + 1 < n;
      const v = (b[i]! << 16) | (two ? b[i + 1]! << 8 : 0);
      buf[p++] = B64[v >> 18]!;
      buf[p++] = B64[(v >> 12) & 63]!;
      buf[p++] = two ? B64[(v >> 6) & 63]! : 0x3d;
      buf[p++] = 0x3d;
    }
    this.pos = p;
  }

  /** A JSON string literal, byte-identical to the UTF-8 of JSON.stringify(s). */
  jsonString(s: string): void {
    this.quoted(s, false);
  }

  /** A JSON string literal as Go's encoding/json writes it (HTML-safe escapes). */
  goString(s: string): void {
    this.quoted(s, true);
  }

  private quoted(s: string, go: boolean): void {
    const n = s.length;
    if (n >= NATIVE_MIN && !(go ? GO_ESCAPE : JSON_ESCAPE).test(s)) {
      if (this.pos + 3 * n + 2 > this.buf.length) this.grow(3 * n + 2);
      const buf = this.buf;
      let p = this.pos;
      buf[p++] = 0x22;
      p += buf.write(s, p, 'utf8');
      buf[p++] = 0x22;
      this.pos = p;
      return;
    }
    // Worst case with escapes: 6 bytes per code unit.
    if (this.pos + 6 * n + 2 > this.buf.length) this.grow(6 * n + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 0x22;
    const plain = go ? PLAIN_GO : PLAIN_JSON;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (plain[c] === 1) buf[p++] = c;
        else if (c === 0x22 || c === 0x5c) {
          buf[p++] = 0x5c;
          buf[p++] = c;
        } else if (c < 0x20 && SHORT_ESCAPE[c] !== 0) {
          buf[p++] = 0x5c;
          buf[p++] = SHORT_ESCAPE[c]!;
        } else p = unicodeEscape(buf, p, c);
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 63);
      } else if (c < 0xd800 || c > 0xdfff) {
        if (go && (c === 0x2028 || c === 0x2029)) p = unicodeEscape(buf, p, c);
        else {
          buf[p++] = 0xe0 | (c >> 12);
          buf[p++] = 0x80 | ((c >> 6) & 63);
          buf[p++] = 0x80 | (c & 63);
        }
      } else {
        const d = c < 0xdc00 && i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          buf[p++] = 0xf0 | (cp >> 18);
          buf[p++] = 0x80 | ((cp >> 12) & 63);
          buf[p++] = 0x80 | ((cp >> 6) & 63);
          buf[p++] = 0x80 | (cp & 63);
          i++;
        } else p = unicodeEscape(buf, p, c); // lone surrogate: \udXXX like JSON.stringify
      }
    }
    buf[p++] = 0x22;
    this.pos = p;
  }

  /**
   * Bytes [start, end) of `from` as the inside of a JSON string: `"` and `\` escaped. Exact for text
   * that is itself JSON (no control characters or lone surrogates left to escape).
   */
  escapedJsonText(from: ByteWriter, start: number, end: number): void {
    const n = end - start;
    if (this.pos + 2 * n > this.buf.length) this.grow(2 * n);
    const src = from.buf;
    const buf = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c === 0x22 || c === 0x5c) buf[p++] = 0x5c;
      buf[p++] = c;
    }
    this.pos = p;
  }
}

/** `\uXXXX` with lowercase hex, as JSON.stringify writes it. */
function unicodeEscape(buf: Buffer, p: number, c: number): number {
  buf[p++] = 0x5c;
  buf[p++] = 0x75;
  buf[p++] = HEX_DIGITS[c >> 12]!;
  buf[p++] = HEX_DIGITS[(c >> 8) & 15]!;
  buf[p++] = HEX_DIGITS[(c >> 4) & 15]!;
  buf[p++] = HEX_DIGITS[c & 15]!;
  return p;
}

/** Reused result of the split functions (read it before the next call). */
const SPLIT = { whole: 0, rest: 0 };

/** Whole milliseconds of unsigned nanoseconds and the remaining nanoseconds (0…999999), exactly. */
export function splitMillis(t: Long): { whole: number; rest: number } {
  const hi = t.high >>> 0;
  // hi·2^32 + lo = hi·4294·10^6 + (hi·967296 + lo), every part below 2^53.
  const b = hi * 967296 + (t.low >>> 0);
  const carry = Math.floor(b / 1e6);
  SPLIT.whole = hi * 4294 + carry;
  SPLIT.rest = b - carry * 1e6;
  return SPLIT;
}

/** Whole seconds of unsigned nanoseconds and the remaining nanoseconds (0…999999999), exactly. */
export function splitSeconds(t: Long): { whole: number; rest: number } {
  const m = splitMillis(t);
  const ms = m.whole;
  const s = Math.floor(ms / 1000);
  SPLIT.rest = (ms - s * 1000) * 1e6 + m.rest;
  SPLIT.whole = s;
  return SPLIT;
}

