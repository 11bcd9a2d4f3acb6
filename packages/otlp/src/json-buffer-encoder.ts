/**
 * OTLP/JSON straight into bytes: the same output as `Buffer.from(encodeResourceLogsJson(rl), 'utf8')`,
 * byte for byte, written into one reusable growable buffer. Hot exporters (the file exporter) use it to
 * avoid the intermediate cons-strings, their flattening and the final UTF-8 copy of the string encoder.
 *
 * `JsonByteWriter` is also the one byte writer exporters build request bodies with (JSON, NDJSON,
 * protobuf). Strings are written with the escaping of the target format, byte-identical to the string
 * route they replace:
 *
 * - `string`: the UTF-8 of `JSON.stringify(s)` (well-formed stringify: lone surrogates as `\udXXX`);
 * - `goString`: Go encoding/json (the above plus `<`, `>`, `&`, U+2028, U+2029 as `\u00XX` / `\u20XX`);
 * - `text`: `Buffer.from(s)` (lone surrogates as U+FFFD);
 * - `pbString`: the bytes protobufjs' node Writer writes for a string field.
 */
import Long from 'long';
import type { AnyValue, InstrumentationScope, KeyValue, LogRecord, ResourceLogs } from './model.js';
import { cleanWireBytes, keyEquals } from './wire-record.js';

const TWO_32 = 4294967296;
/** Strings at least this long are checked with one regex and written by the native UTF-8 encoder. */
const NATIVE_MIN = 48;
/** Code units JSON.stringify escapes: `"`, `\`, C0 controls and lone surrogates (well-formed stringify). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** The same plus what Go's encoding/json escapes on top (HTML-safe). */
const GO_NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const HEX_DIGITS = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX_DIGITS[i] = '0123456789abcdef'.charCodeAt(i);
/** Byte → its two lowercase hex digits (high << 8 | low), so IDs never go through a string. */
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

const k = (s: string): Buffer => Buffer.from(s, 'latin1');
// Constant pieces, encoded once.
const K_RESOURCE = k('{"resource":{');
const K_SCOPE_LOGS = k('"scopeLogs":[');
const K_SCOPE = k('"scope":{');
const K_LOG_RECORDS = k('"logRecords":[');
const K_SCHEMA_URL = k(',"schemaUrl":');
const K_NAME = k('"name":');
const K_VERSION = k('"version":');
const K_ATTRIBUTES = k('"attributes":[');
const K_DROPPED = k('"droppedAttributesCount":');
const K_TIME = k('"timeUnixNano":"');
const K_OBSERVED = k('"observedTimeUnixNano":"');
const K_SEVERITY_NUMBER = k('"severityNumber":');
const K_SEVERITY_TEXT = k('"severityText":');
const K_BODY = k('"body":');
const K_FLAGS = k('"flags":');
const K_TRACE_ID = k('"traceId":"');
const K_SPAN_ID = k('"spanId":"');
const K_EVENT_NAME = k('"eventName":');
const K_KEY = k('{"key":');
const K_VALUE = k(',"value":');
const K_STRING_VALUE = k('{"stringValue":');
const K_BOOL_TRUE = k('{"boolValue":true}');
const K_BOOL_FALSE = k('{"boolValue":false}');
const K_INT_VALUE = k('{"intValue":"');
const K_DOUBLE_VALUE = k('{"doubleValue":');
const K_KVLIST_VALUE = k('{"kvlistValue":{"values":[');
const K_ARRAY_VALUE = k('{"arrayValue":{"values":[');
const K_BYTES_VALUE = k('{"bytesValue":"');
const K_EMPTY = k('{}');
const K_CLOSE_ARRAY_VALUE = k(']}}');
const K_INFINITY = k('"Infinity"');
const K_NEG_INFINITY = k('"-Infinity"');
const K_NAN = k('"NaN"');

/**
 * A growable byte buffer with JSON primitives. Reuse one across records and batches: `reset()` keeps
 * the capacity, so after warm-up encoding allocates nothing but what a few numbers need.
 */
export class JsonByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(16, initialCapacity));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Current capacity in bytes (grows by doubling, never shrinks). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Forgets the content, keeps the memory. */
  reset(): void {
    this.pos = 0;
  }

  /** Drops everything after the first `length` bytes (undoes a tentative write). */
  truncate(length: number): void {
    if (length < this.pos) this.pos = Math.max(0, length);
  }

  /**
   * Bytes [start, end) as a view, not a copy: it shares memory with the writer, so it is overwritten
   * once the writer is reset and written again, and it never shows later writes. Keep the writer
   * untouched while the view is in use (e.g. during an async write), take `copy()`, or `detach()`.
   */
  bytes(start = 0, end = this.pos): Buffer {
    return this.buf.subarray(start, end);
  }

  /** A copy of bytes [start, end), independent of the writer. */
  copy(start = 0, end = this.pos): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    this.buf.copy(out, 0, start, end);
    return out;
  }

  /**
   * Hands the buffer over (views taken with `bytes()` stay valid and are never written again) and
   * continues in a fresh one of `capacity` bytes: for bodies that leave without a copy.
   */
  detach(capacity: number): void {
    this.buf = Buffer.allocUnsafeSlow(Math.max(16, capacity));
    this.pos = 0;
  }

  /** Appends bytes [start, end) of another writer. */
  append(from: JsonByteWriter, start = 0, end = from.pos): void {
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

  /** UTF-8 of `s` as is, no quotes or escaping: for text that already is JSON (e.g. from JSON.stringify). */
  text(s: string): void {
    const n = s.length;
    if (n <= 32) {
      // Short text: the loop beats the native call while it stays ASCII.
      let ascii = true;
      for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) ascii = false;
      if (ascii) {
        this.ascii(s);
        return;
      }
    }
    if (this.pos + 3 * n > this.buf.length) this.grow(3 * n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Makes room for `n` more bytes. */
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

  /**
   * The buffer, for code that writes bytes itself from `length` on: call `ensure` first for all it will
   * write, then `seek` to where it stopped. Any other write may replace the buffer.
   */
  get target(): Buffer {
    return this.buf;
  }

  /** Sets the write position (after writing into `target`). */
  seek(pos: number): void {
    this.pos = pos;
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
    // A loop beats the native set() call for the short constant keys.
    if (n <= 32) for (let i = 0; i < n; i++) buf[p++] = b[i]!;
    else {
      buf.set(b, p);
      p += n;
    }
    this.pos = p;
  }

  /** Copies bytes [start, end) of `src`. */
  rawRange(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.pos + n > this.buf.length) this.grow(n);
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** Text known to be ASCII (number renderings). */
  ascii(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
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
    // Two int32 halves: double `%` is a slow fmod, and Math.floor(n / 1e8) may round up by one.
    let q = Math.floor(n / 1e8);
    let r = n - q * 1e8;
    if (r < 0) {
      q--;
      r += 1e8;
    }
    this.int31(q);
    this.digits(r, 8);
  }

  /** 0 ≤ n < 2^31, without leading zeros. */
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
    } else if (!this.shortDecimal(n)) this.ascii(String(n));
  }

  /** An int64 as `encodeInt64` renders it inside its quotes (`String(Math.trunc(n))` / `Long#toString()`). */
  int64(v: Long | number): void {
    if (typeof v === 'number') {
      this.number(Math.trunc(v));
      return;
    }
    // Within ±2^53 the double is exact, and String() of it equals Long#toString().
    if (Long.isLong(v)) {
      const hi = v.unsigned ? v.high >>> 0 : v.high;
      if (hi >= -0x200000 && hi < 0x200000) {
        this.number(hi * TWO_32 + (v.low >>> 0));
        return;
      }
    }
    this.ascii(v.toString());
  }

  /** The exact decimal of the unsigned 64-bit value hi·2^32 + lo (nanosecond timestamps), without a string. */
  uint64(hi: number, lo: number): void {
    hi >>>= 0;
    lo >>>= 0;
    if (hi === 0) {
      this.uint(lo);
      return;
    }
    // hi·2^32 + lo = (hi·4294 + carry)·10^6 + b, every part below 2^53.
    let b = hi * 967296 + lo;
    const carry = Math.floor(b / 1e6);
    b -= carry * 1e6;
    this.uint(hi * 4294 + carry);
    this.digits(b, 6);
  }

  /**
   * A non-integer of at most 3 decimals and magnitude in [0.001, 1e12), written from integers (String(n)
   * allocates). There the double nearest to k/10^d prints as exactly those digits: d-decimal neighbours are
   * far more than an ulp apart, and fewer decimals would have matched a smaller d first. False otherwise.
   */
  private shortDecimal(n: number): boolean {
    const a = n < 0 ? -n : n;
    if (!(a >= 1e-3 && a < 1e12)) return false;
    for (let width = 1, scale = 10; width <= 3; width++, scale *= 10) {
      const k = Math.round(a * scale);
      if (k / scale !== a) continue;
      let q = Math.floor(k / scale);
      let r = k - q * scale;
      if (r < 0) {
        q--;
        r += scale;
      } else if (r >= scale) {
        q++;
        r -= scale;
      }
      if (n < 0) this.byte(0x2d);
      this.uint(q);
      this.byte(0x2e);
      this.digits(r, width);
      return true;
    }
    return false;
  }

  /** Lowercase hex of the bytes [start, end) (all by default), from a table. */
  hex(id: Uint8Array, start = 0, end = id.length): void {
    const n = end - start;
    if (this.pos + 2 * n > this.buf.length) this.grow(2 * n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) {
      const h = HEX_PAIR[id[i]!]!;
      buf[p++] = h >> 8;
      buf[p++] = h & 0xff;
    }
    this.pos = p;
  }

  /** Standard padded base64 (what Buffer#toString('base64') gives) of bytes [start, end) (all by default). */
  base64(b: Uint8Array, start = 0, end = b.length): void {
    const n = end;
    const out = Math.ceil((end - start) / 3) * 4;
    if (this.pos + out > this.buf.length) this.grow(out);
    const buf = this.buf;
    let p = this.pos;
    let i = start;
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
  string(s: string): void {
    this.quoted(s, PLAIN_JSON, NEEDS_ESCAPE, false);
  }

  /** A JSON string literal as Go's encoding/json writes it (HTML-safe escapes, U+2028/U+2029 escaped). */
  goString(s: string): void {
    this.quoted(s, PLAIN_GO, GO_NEEDS_ESCAPE, true);
  }

  /** `plain`: ASCII written as itself; `needsEscape`: matches any string that is not written as plain UTF-8. */
  private quoted(s: string, plain: Uint8Array, needsEscape: RegExp, lineSeparators: boolean): void {
    const n = s.length;
    if (n >= NATIVE_MIN && !needsEscape.test(s)) {
      // UTF-8 needs at most 3 bytes per code unit.
      if (this.pos + 3 * n + 2 > this.buf.length) this.grow(3 * n + 2);
      const buf = this.buf;
      let p = this.pos;
      buf[p++] = 0x22;
      p += buf.write(s, p, 'utf8');
      buf[p++] = 0x22;
      this.pos = p;
      return;
    }
    // Worst case with escapes: 6 bytes per code unit (\u00XX, \udXXX).
    if (this.pos + 6 * n + 2 > this.buf.length) this.grow(6 * n + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        // A table lookup beats the three comparisons.
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
        if (lineSeparators && (c === 0x2028 || c === 0x2029)) p = unicodeEscape(buf, p, c);
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
  escapedJsonText(from: JsonByteWriter, start: number, end: number): void {
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


function writeDouble(out: JsonByteWriter, d: number): void {
  if (Number.isFinite(d)) out.number(d);
  else out.raw(d > 0 ? K_INFINITY : d < 0 ? K_NEG_INFINITY : K_NAN);
}

export function encodeAnyValueJsonInto(v: AnyValue | null | undefined, out: JsonByteWriter): void {
  if (v == null) out.raw(K_EMPTY);
  else if (v.stringValue != null) {
    out.raw(K_STRING_VALUE);
    out.string(v.stringValue);
    out.byte(0x7d);
  } else if (v.boolValue != null) out.raw(v.boolValue ? K_BOOL_TRUE : K_BOOL_FALSE);
  else if (v.intValue != null) {
    out.raw(K_INT_VALUE);
    out.int64(v.intValue);
    out.byte(0x22);
    out.byte(0x7d);
  } else if (v.doubleValue != null) {
    out.raw(K_DOUBLE_VALUE);
    writeDouble(out, v.doubleValue);
    out.byte(0x7d);
  } else if (v.kvlistValue != null) {
    out.raw(K_KVLIST_VALUE);
    writeKeyValues(out, v.kvlistValue.values);
    out.raw(K_CLOSE_ARRAY_VALUE);
  } else if (v.arrayValue != null) {
    out.raw(K_ARRAY_VALUE);
    const vals = v.arrayValue.values;
    for (let i = 0; i < vals.length; i++) {
      if (i) out.byte(0x2c);
      encodeAnyValueJsonInto(vals[i], out);
    }
    out.raw(K_CLOSE_ARRAY_VALUE);
  } else if (v.bytesValue != null) {
    out.raw(K_BYTES_VALUE);
    out.base64(v.bytesValue);
    out.byte(0x22);
    out.byte(0x7d);
  } else out.raw(K_EMPTY);
}

/** The elements of a KeyValue array, without the brackets. */
function writeKeyValues(out: JsonByteWriter, kvs: readonly KeyValue[]): void {
  for (let i = 0; i < kvs.length; i++) {
    if (i) out.byte(0x2c);
    writeKeyValue(out, kvs[i]!);
  }
}

function writeKeyValue(out: JsonByteWriter, kv: KeyValue): void {
  out.raw(K_KEY);
  out.string(kv.key);
  out.raw(K_VALUE);
  encodeAnyValueJsonInto(kv.value, out);
  out.byte(0x7d);
}

/** `"attributes":[…]` and `"droppedAttributesCount":n` when set; returns whether anything was written. */
function writeAttributeHolder(out: JsonByteWriter, attrs: readonly KeyValue[] | undefined, dropped: number | undefined, sep: boolean): boolean {
  if (attrs && attrs.length) {
    if (sep) out.byte(0x2c);
    out.raw(K_ATTRIBUTES);
    writeKeyValues(out, attrs);
    out.byte(0x5d);
    sep = true;
  }
  if (dropped) {
    if (sep) out.byte(0x2c);
    out.raw(K_DROPPED);
    out.number(dropped);
    return true;
  }
  return sep;
}

function writeScope(out: JsonByteWriter, sc: InstrumentationScope): void {
  out.raw(K_SCOPE);
  let sep = false;
  if (sc.name) {
    out.raw(K_NAME);
    out.string(sc.name);
    sep = true;
  }
  if (sc.version) {
    if (sep) out.byte(0x2c);
    out.raw(K_VERSION);
    out.string(sc.version);
    sep = true;
  }
  writeAttributeHolder(out, sc.attributes, sc.droppedAttributesCount, sep);
  out.byte(0x7d);
}

function writeLogRecord(out: JsonByteWriter, r: LogRecord): void {
  const wire = cleanWireBytes(r);
  if (wire !== undefined) {
    writeWireLogRecord(out, wire.wire, wire.wireStart, wire.wireEnd, wire.overlay);
    return;
  }
  out.byte(0x7b);
  let sep = false;
  if (r.timeUnixNano && (r.timeUnixNano.low | r.timeUnixNano.high)) {
    out.raw(K_TIME);
    out.uint64(r.timeUnixNano.high, r.timeUnixNano.low);
    out.byte(0x22);
    sep = true;
  }
  if (r.observedTimeUnixNano && (r.observedTimeUnixNano.low | r.observedTimeUnixNano.high)) {
    if (sep) out.byte(0x2c);
    out.raw(K_OBSERVED);
    out.uint64(r.observedTimeUnixNano.high, r.observedTimeUnixNano.low);
    out.byte(0x22);
    sep = true;
  }
  if (r.severityNumber) {
    if (sep) out.byte(0x2c);
    out.raw(K_SEVERITY_NUMBER);
    out.number(r.severityNumber);
    sep = true;
  }
  if (r.severityText) {
    if (sep) out.byte(0x2c);
    out.raw(K_SEVERITY_TEXT);
    out.string(r.severityText);
    sep = true;
  }
  if (r.body != null) {
    if (sep) out.byte(0x2c);
    out.raw(K_BODY);
    encodeAnyValueJsonInto(r.body, out);
    sep = true;
  }
  sep = writeAttributeHolder(out, r.attributes, r.droppedAttributesCount, sep);
  if (r.flags) {
    if (sep) out.byte(0x2c);
    out.raw(K_FLAGS);
    out.uint(r.flags >>> 0);
    sep = true;
  }
  if (r.traceId && r.traceId.length) {
    if (sep) out.byte(0x2c);
    out.raw(K_TRACE_ID);
    out.hex(r.traceId);
    out.byte(0x22);
    sep = true;
  }
  if (r.spanId && r.spanId.length) {
    if (sep) out.byte(0x2c);
    out.raw(K_SPAN_ID);
    out.hex(r.spanId);
    out.byte(0x22);
    sep = true;
  }
  if (r.eventName) {
    if (sep) out.byte(0x2c);
    out.raw(K_EVENT_NAME);
    out.string(r.eventName);
  }
  out.byte(0x7d);
}

/**
 * Appends one ResourceLogs as OTLP/JSON to `out`: exactly the bytes of
 * `Buffer.from(encodeResourceLogsJson(rl), 'utf8')`.
 */
export function encodeResourceLogsJsonInto(rl: ResourceLogs, out: JsonByteWriter): void {
  if (rl.resource != null) {
    out.raw(K_RESOURCE);
    writeAttributeHolder(out, rl.resource.attributes, rl.resource.droppedAttributesCount, false);
    out.byte(0x7d);
    out.byte(0x2c);
  } else out.byte(0x7b);
  out.raw(K_SCOPE_LOGS);
  const sls = rl.scopeLogs;
  for (let i = 0; i < sls.length; i++) {
    const sl = sls[i]!;
    out.byte(i ? 0x2c : 0x7b);
    if (i) out.byte(0x7b);
    if (sl.scope != null) {
      writeScope(out, sl.scope);
      out.byte(0x2c);
    }
    out.raw(K_LOG_RECORDS);
    const recs = sl.logRecords;
    for (let j = 0; j < recs.length; j++) {
      if (j) out.byte(0x2c);
      writeLogRecord(out, recs[j]!);
    }
    out.byte(0x5d);
    if (sl.schemaUrl) {
      out.raw(K_SCHEMA_URL);
      out.string(sl.schemaUrl);
    }
    out.byte(0x7d);
  }
  out.byte(0x5d);
  if (rl.schemaUrl) {
    out.raw(K_SCHEMA_URL);
    out.string(rl.schemaUrl);
  }
  out.byte(0x7d);
}

// ---------------------------------------------------------------------------------------------------
// OTLP/JSON straight from a received record's protobuf bytes (a clean WireLogRecord, whose bytes were
// checked on receipt: known fields have their schema's wire type, singular fields occur once, AnyValue
// holds at most one member, strings are valid UTF-8). The output is the bytes `writeLogRecord` writes
// for the decoded record; unknown fields are left out, as decoding drops them.
//
// Room for the whole record is made once (JSON of a protobuf field is at most ~12 times its bytes), then
// bytes are written into the buffer at a local position `q`; the few writer methods used in between
// (numbers, an overlay's values) get the position with `seek` and may replace the buffer, so `o` is
// re-read after them.

type WireBytes = Buffer & { utf8Slice(s: number, e: number): string };

/** Output bytes per wire byte, at most (an empty KeyValue: 2 bytes in, `{"key":"","value":{}}` out). */
const WIRE_JSON_FACTOR = 12;

/** Position after the last varint read. */
let np = 0;

/** Low 32 bits (unsigned) of the varint at `p`; sets `np`. */
function wireVarint32(buf: Uint8Array, p: number): number {
  let c = buf[p++]!;
  if (c < 0x80) {
    np = p;
    return c;
  }
  let v = c & 0x7f;
  for (let shift = 7; shift < 32; shift += 7) {
    c = buf[p++]!;
    v |= (c & 0x7f) << shift;
    if (c < 0x80) {
      np = p;
      return v >>> 0;
    }
  }
  while (buf[p++]! >= 0x80);
  np = p;
  return v >>> 0;
}

/** Skips the value of wire type `wt` at `p`; returns the position after it. */
function wireSkip(buf: Uint8Array, p: number, wt: number): number {
  if (wt === 0) {
    while (buf[p++]! >= 0x80);
    return p;
  }
  if (wt === 1) return p + 8;
  if (wt === 5) return p + 4;
  const n = wireVarint32(buf, p);
  return np + n;
}

function u32le(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

/** Content start of each singular LogRecord field (index = field number), -1 when absent. */
const fieldAt = new Int32Array(13);
const fieldEnd = new Int32Array(13);

function put(o: Buffer, q: number, k: Uint8Array): number {
  for (let i = 0; i < k.length; i++) o[q++] = k[i]!;
  return q;
}

/**
 * The JSON string literal of the valid UTF-8 in [s, e) of `src`: the bytes `string()` writes for its decoded
 * text (valid UTF-8 holds no lone surrogates, so only `"`, `\` and C0 controls change).
 */
function putString(o: Buffer, q: number, src: WireBytes, s: number, e: number): number {
  o[q++] = 0x22;
  if (e - s >= 32) {
    // Long text: find whether anything needs escaping, else copy natively.
    let i = s;
    while (i < e) {
      const c = src[i]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c) break;
      i++;
    }
    if (i === e) {
      src.copy(o, q, s, e);
      q += e - s;
      o[q++] = 0x22;
      return q;
    }
  }
  for (let i = s; i < e; i++) {
    const c = src[i]!;
    if (c >= 0x80 || PLAIN_JSON[c] === 1) o[q++] = c;
    else if (c === 0x22 || c === 0x5c) {
      o[q++] = 0x5c;
      o[q++] = c;
    } else if (SHORT_ESCAPE[c] !== 0) {
      o[q++] = 0x5c;
      o[q++] = SHORT_ESCAPE[c]!;
    } else q = unicodeEscape(o, q, c);
  }
  o[q++] = 0x22;
  return q;
}

function putHex(o: Buffer, q: number, src: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) {
    const h = HEX_PAIR[src[i]!]!;
    o[q++] = h >> 8;
    o[q++] = h & 0xff;
  }
  return q;
}

/** A signed int64 given as a varint at `p` (`intValue`), as `int64()` writes the decoded Long; returns the new position. */
function writeWireInt64(out: JsonByteWriter, q: number, buf: Uint8Array, p: number): number {
  let lo = 0;
  let hi = 0;
  let i = 0;
  for (; i < 4; i++) {
    const c = buf[p++]!;
    lo |= (c & 0x7f) << (7 * i);
    if (c < 0x80) {
      // Below 2^28: the digits straight from the integer.
      const o = out.target;
      if (lo < 10) o[q++] = 0x30 + lo;
      else if (lo < 100) {
        o[q++] = 0x30 + ((lo / 10) | 0);
        o[q++] = 0x30 + (lo % 10);
      } else {
        out.seek(q);
        out.uint(lo);
        q = out.length;
      }
      return q;
    }
  }
  const c4 = buf[p++]!;
  lo |= (c4 & 0x7f) << 28;
  hi = (c4 & 0x7f) >> 4;
  if (c4 >= 0x80) {
    for (i = 0; i < 5; i++) {
      const c = buf[p++]!;
      hi |= (c & 0x7f) << (7 * i + 3);
      if (c < 0x80) break;
    }
  }
  out.seek(q);
  // Within ±2^53 the double is exact, and String() of it equals Long#toString().
  if (hi >= -0x200000 && hi < 0x200000) out.number(hi * TWO_32 + (lo >>> 0));
  else out.ascii(new Long(lo, hi, false).toString());
  return out.length;
}

/** Writes the AnyValue in [p, end) at `q`; returns the new position. */
function writeWireAnyValue(out: JsonByteWriter, q: number, buf: WireBytes, p: number, end: number): number {
  while (p < end) {
    const tag = wireVarint32(buf, p);
    p = np;
    const field = tag >>> 3;
    if (field < 1 || field > 7) {
      p = wireSkip(buf, p, tag & 7);
      continue;
    }
    let o = out.target;
    switch (field) {
      case 1: {
        const n = wireVarint32(buf, p);
        q = put(o, q, K_STRING_VALUE);
        q = putString(o, q, buf, np, np + n);
        o[q++] = 0x7d;
        return q;
      }
      case 2:
        return put(o, q, wireVarint32(buf, p) !== 0 ? K_BOOL_TRUE : K_BOOL_FALSE);
      case 3:
        q = put(o, q, K_INT_VALUE);
        q = writeWireInt64(out, q, buf, p);
        o = out.target;
        o[q++] = 0x22;
        o[q++] = 0x7d;
        return q;
      case 4:
        for (let i = 0; i < 8; i++) F64_BYTES[i] = buf[p + i]!;
        out.seek(put(o, q, K_DOUBLE_VALUE));
        writeDouble(out, F64[0]!);
        out.byte(0x7d);
        return out.length;
      case 7: {
        const n = wireVarint32(buf, p);
        out.seek(put(o, q, K_BYTES_VALUE));
        out.base64(buf, np, np + n);
        out.byte(0x22);
        out.byte(0x7d);
        return out.length;
      }
      default: {
        // 5 arrayValue, 6 kvlistValue: repeated field 1 of AnyValue / KeyValue.
        const n = wireVarint32(buf, p);
        const e = np + n;
        q = put(o, q, field === 6 ? K_KVLIST_VALUE : K_ARRAY_VALUE);
        let r = np;
        let first = true;
        while (r < e) {
          const t = wireVarint32(buf, r);
          r = np;
          if (t >>> 3 !== 1) {
            r = wireSkip(buf, r, t & 7);
            continue;
          }
          const len = wireVarint32(buf, r);
          const s = np;
          r = s + len;
          if (!first) out.target[q++] = 0x2c;
          first = false;
          q = field === 6 ? writeWireKeyValue(out, q, buf, s, r) : writeWireAnyValue(out, q, buf, s, r);
        }
        return put(out.target, q, K_CLOSE_ARRAY_VALUE);
      }
    }
  }
  return put(out.target, q, K_EMPTY);
}

function writeWireKeyValue(out: JsonByteWriter, q: number, buf: WireBytes, p: number, end: number): number {
  let keyStart = 0;
  let keyEnd = 0;
  let valueStart = -1;
  let valueEnd = 0;
  while (p < end) {
    const tag = wireVarint32(buf, p);
    p = np;
    if (tag === 0x0a || tag === 0x12) {
      const n = wireVarint32(buf, p);
      if (tag === 0x0a) {
        keyStart = np;
        keyEnd = np + n;
      } else {
        valueStart = np;
        valueEnd = np + n;
      }
      p = np + n;
    } else p = wireSkip(buf, p, tag & 7);
  }
  const o = out.target;
  q = put(o, q, K_KEY);
  q = putString(o, q, buf, keyStart, keyEnd);
  q = put(o, q, K_VALUE);
  q = valueStart < 0 ? put(o, q, K_EMPTY) : writeWireAnyValue(out, q, buf, valueStart, valueEnd);
  out.target[q++] = 0x7d;
  return q;
}

/** Index of the overlay entry whose key is the key of the KeyValue in [start, end), or -1. */
function overlayIndex(buf: WireBytes, start: number, end: number, overlay: readonly KeyValue[]): number {
  let p = start;
  while (p < end) {
    const tag = wireVarint32(buf, p);
    p = np;
    if (tag === 0x0a) {
      const n = wireVarint32(buf, p);
      for (let i = 0; i < overlay.length; i++) if (keyEquals(buf, np, np + n, overlay[i]!.key)) return i;
      return -1;
    }
    p = wireSkip(buf, p, tag & 7);
  }
  // No key field: the key is "".
  for (let i = 0; i < overlay.length; i++) if (overlay[i]!.key === '') return i;
  return -1;
}

/** One overlay attribute through the object path; returns the new position. */
function writeOverlayKeyValue(out: JsonByteWriter, q: number, kv: KeyValue): number {
  out.seek(q);
  writeKeyValue(out, kv);
  return out.length;
}

/** `"key":"<decimal>"` of a non-zero fixed64 at `at` (after a comma when `sep`); false when it is zero. */
function writeTimestamp(out: JsonByteWriter, key: Uint8Array, buf: Uint8Array, at: number, sep: boolean): boolean {
  const lo = u32le(buf, at);
  const hi = u32le(buf, at + 4);
  if ((lo | hi) === 0) return false;
  if (sep) out.byte(0x2c);
  out.raw(key);
  out.uint64(hi, lo);
  out.byte(0x22);
  return true;
}

function writeWireLogRecord(out: JsonByteWriter, buf: WireBytes, start: number, end: number, overlay: readonly KeyValue[] | null): void {
  fieldAt.fill(-1);
  let attributes = 0;
  let p = start;
  while (p < end) {
    const tag = wireVarint32(buf, p);
    p = np;
    const field = tag >>> 3;
    const wt = tag & 7;
    let s = p;
    if (wt === 2) {
      const n = wireVarint32(buf, p);
      s = np;
      p = s + n;
    } else p = wireSkip(buf, p, wt);
    if (field === 6) attributes++;
    else if (field >= 1 && field <= 12) {
      fieldAt[field] = s;
      fieldEnd[field] = p;
    }
  }
  const time = fieldAt[1]!;
  const severity = fieldAt[2]!;
  const severityText = fieldAt[3]!;
  const body = fieldAt[5]!;
  const dropped = fieldAt[7]!;
  const flags = fieldAt[8]!;
  const traceId = fieldAt[9]!;
  const spanId = fieldAt[10]!;
  const observed = fieldAt[11]!;
  const eventName = fieldAt[12]!;
  out.ensure(WIRE_JSON_FACTOR * (end - start) + 256);
  let o = out.target;
  let q = out.length;
  o[q++] = 0x7b;
  // `writeTimestamp` writes through the writer's methods: the position and buffer are taken back after.
  out.seek(q);
  let sep = time >= 0 && writeTimestamp(out, K_TIME, buf, time, false);
  sep = (observed >= 0 && writeTimestamp(out, K_OBSERVED, buf, observed, sep)) || sep;
  q = out.length;
  o = out.target;
  if (severity >= 0) {
    const n = wireVarint32(buf, severity) | 0;
    if (n) {
      if (sep) o[q++] = 0x2c;
      q = put(o, q, K_SEVERITY_NUMBER);
      if (n > 0 && n < 10) o[q++] = 0x30 + n;
      else if (n >= 10 && n < 100) {
        o[q++] = 0x30 + ((n / 10) | 0);
        o[q++] = 0x30 + (n % 10);
      } else {
        out.seek(q);
        out.number(n);
        q = out.length;
        o = out.target;
      }
      sep = true;
    }
  }
  if (severityText >= 0 && fieldEnd[3]! > severityText) {
    if (sep) o[q++] = 0x2c;
    q = put(o, q, K_SEVERITY_TEXT);
    q = putString(o, q, buf, severityText, fieldEnd[3]!);
    sep = true;
  }
  if (body >= 0) {
    if (sep) o[q++] = 0x2c;
    q = put(o, q, K_BODY);
    q = writeWireAnyValue(out, q, buf, body, fieldEnd[5]!);
    o = out.target;
    sep = true;
  }
  if (attributes > 0 || (overlay !== null && overlay.length > 0)) {
    if (sep) o[q++] = 0x2c;
    q = put(o, q, K_ATTRIBUTES);
    let first = true;
    let replaced = 0;
    p = start;
    while (p < end) {
      const tag = wireVarint32(buf, p);
      p = np;
      if (tag >>> 3 !== 6) {
        p = wireSkip(buf, p, tag & 7);
        continue;
      }
      const n = wireVarint32(buf, p);
      const s = np;
      p = s + n;
      if (!first) out.target[q++] = 0x2c;
      first = false;
      const i = overlay === null ? -1 : overlayIndex(buf, s, p, overlay);
      if (i < 0) q = writeWireKeyValue(out, q, buf, s, p);
      else {
        replaced |= 1 << i;
        q = writeOverlayKeyValue(out, q, overlay![i]!);
      }
    }
    if (overlay !== null) {
      for (let i = 0; i < overlay.length; i++) {
        if (replaced & (1 << i)) continue;
        if (!first) out.target[q++] = 0x2c;
        first = false;
        q = writeOverlayKeyValue(out, q, overlay[i]!);
      }
    }
    // The overlay's values are outside the room made above.
    out.seek(q);
    out.ensure(WIRE_JSON_FACTOR * (end - start) + 256);
    o = out.target;
    o[q++] = 0x5d;
    sep = true;
  }
  if (dropped >= 0) {
    const n = wireVarint32(buf, dropped);
    if (n) {
      if (sep) o[q++] = 0x2c;
      out.seek(put(o, q, K_DROPPED));
      out.number(n);
      q = out.length;
      o = out.target;
      sep = true;
    }
  }
  if (flags >= 0) {
    const f = u32le(buf, flags);
    if (f) {
      if (sep) o[q++] = 0x2c;
      q = put(o, q, K_FLAGS);
      if (f < 10) o[q++] = 0x30 + f;
      else {
        out.seek(q);
        out.uint(f);
        q = out.length;
        o = out.target;
      }
      sep = true;
    }
  }
  if (traceId >= 0 && fieldEnd[9]! > traceId) {
    if (sep) o[q++] = 0x2c;
    q = put(o, q, K_TRACE_ID);
    q = putHex(o, q, buf, traceId, fieldEnd[9]!);
    o[q++] = 0x22;
    sep = true;
  }
  if (spanId >= 0 && fieldEnd[10]! > spanId) {
    if (sep) o[q++] = 0x2c;
    q = put(o, q, K_SPAN_ID);
    q = putHex(o, q, buf, spanId, fieldEnd[10]!);
    o[q++] = 0x22;
    sep = true;
  }
  if (eventName >= 0 && fieldEnd[12]! > eventName) {
    if (sep) o[q++] = 0x2c;
    q = put(o, q, K_EVENT_NAME);
    q = putString(o, q, buf, eventName, fieldEnd[12]!);
  }
  o[q++] = 0x7d;
  out.seek(q);
}
