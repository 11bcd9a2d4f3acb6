/** Random records for the codec tests: unicode, escapes, lone surrogates, number and int64 extremes. */
import Long from 'long';
import type { AnyValue, KeyValue, LogRecord, ResourceLogs } from '../model.js';

/** mulberry32: deterministic, so a failure reproduces. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  char(): string {
    switch (this.int(12)) {
      case 0: return String.fromCharCode(this.int(0x20)); // C0 controls
      case 1: return this.pick(['"', '\\', '/', '\u2028', '\u2029', '\u007f', '\u0080', '\u00ff', '<', '>', '&', "'"]);
      case 2: return String.fromCharCode(0xd800 + this.int(0x800)); // lone surrogate (either half)
      case 3: return String.fromCodePoint(0x1f300 + this.int(0x300)); // emoji (pair)
      case 4: return String.fromCharCode(0x80 + this.int(0x780)); // 2-byte UTF-8
      case 5: {
        const c = 0x800 + this.int(0xf800 - 0x800);
        return String.fromCharCode(c >= 0xd800 && c < 0xe000 ? c + 0x800 : c); // 3-byte UTF-8
      }
      case 6: return String.fromCodePoint(0x10000 + this.int(0x100000)); // any astral
      default: return String.fromCharCode(0x20 + this.int(0x5f)); // printable ASCII
    }
  }
  string(): string {
    const len = this.pick([0, 0, 1, 2, 5, 10, 30, 47, 48, 49, 100, 200, 1000]);
    let s = '';
    // Mostly-ASCII strings exercise the native path; fully random ones the escaping loop.
    const plain = this.int(3) === 0;
    for (let i = 0; i < len; i++) s += plain && this.int(50) ? String.fromCharCode(0x20 + this.int(0x5f)) : this.char();
    if (plain && this.int(4) === 0) s += '\ud83d\ude00';
    return s;
  }
  number(): number {
    return this.pick([
      () => 0, () => -0, () => this.int(1000), () => -this.int(1000), () => this.r() * 1e6 - 5e5, () => this.r() * 1e-9,
      () => Number.MAX_SAFE_INTEGER, () => -Number.MAX_SAFE_INTEGER, () => Number.MAX_SAFE_INTEGER + 2, () => 2 ** 53,
      () => 1e21, () => -1e21, () => 1.5e300, () => Number.MAX_VALUE, () => Number.MIN_VALUE, () => 5e-324,
      () => NaN, () => Infinity, () => -Infinity, // eslint-disable-next-line no-loss-of-precision -- a double with more digits than it can hold, on purpose
      () => 123456789.123456789, () => (this.r() - 0.5) * 2 ** (this.int(120) - 60),
    ])();
  }
  long(): Long {
    return this.pick([
      () => Long.MAX_VALUE, () => Long.MIN_VALUE, () => Long.ZERO, () => Long.NEG_ONE, () => Long.MAX_UNSIGNED_VALUE,
      () => Long.fromNumber(2 ** 53), () => Long.fromNumber(-(2 ** 53)), () => Long.fromNumber(2 ** 53 - 1),
      () => Long.fromNumber(-(2 ** 53) + 1), () => Long.fromBits(this.int(2 ** 32) | 0, this.int(2 ** 32) | 0),
      () => Long.fromBits(this.int(2 ** 32) | 0, this.int(2 ** 32) | 0, true), () => Long.fromNumber(this.int(1e6) - 5e5),
      () => Long.fromBits(this.int(2 ** 32) | 0, 0x1fffff), () => Long.fromBits(this.int(2 ** 32) | 0, 0x200000),
      () => Long.fromBits(this.int(2 ** 32) | 0, -0x200000), () => Long.fromBits(this.int(2 ** 32) | 0, -0x200001),
    ])();
  }
  bytes(max: number): Uint8Array {
    const n = this.int(max + 1);
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  anyValue(depth: number): AnyValue | null {
    switch (this.int(depth > 3 ? 8 : 10)) {
      case 0: return this.int(4) === 0 ? null : {};
      case 1: return { stringValue: this.string() };
      case 2: return { boolValue: this.int(2) === 0 };
      case 3: return { intValue: this.int(2) ? this.long() : this.number() };
      case 4: return { doubleValue: this.number() };
      case 5: {
        // Subarray at an odd offset: encoders must honour byteOffset.
        const b = this.bytes(40);
        return { bytesValue: this.int(2) ? b : Buffer.from(b).subarray(this.int(Math.max(1, b.length))) };
      }
      case 6: return { stringValue: this.pick(['', 'x', 'GET', 'ok']) };
      case 7: return { stringValue: null, boolValue: null, intValue: null, doubleValue: this.int(10) };
      case 8: return { kvlistValue: { values: this.kvs(depth + 1) } };
      default: {
        const n = this.int(5);
        const values: AnyValue[] = [];
        for (let i = 0; i < n; i++) values.push(this.anyValue(depth + 1) ?? {});
        return { arrayValue: { values } };
      }
    }
  }
  kvs(depth: number): KeyValue[] {
    const n = this.int(depth ? 4 : 8);
    const out: KeyValue[] = [];
    for (let i = 0; i < n; i++) {
      const v = this.anyValue(depth);
      out.push(v === null && this.int(2) ? { key: this.string() } : { key: this.string(), value: v });
    }
    return out;
  }
  id(n: number): Uint8Array {
    return this.pick([() => new Uint8Array(0), () => new Uint8Array(n), () => this.bytesExact(n)])();
  }
  bytesExact(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  nanos(): Long {
    return this.pick([
      () => Long.UZERO, () => Long.fromString('1705314600123456789', true), () => Long.MAX_UNSIGNED_VALUE,
      () => Long.fromBits(this.int(2 ** 32) | 0, this.int(2 ** 32) | 0, true), () => Long.fromBits(this.int(2 ** 32) | 0, 0, true),
      () => Long.fromBits(this.int(1e6), 1, true), () => Long.fromBits(0, 1, true),
      // Low six digits zero or short: the zero padding of the decimal split.
      () => Long.fromString('1000000000000000000', true), () => Long.fromString('1000000000000000007', true),
      () => Long.fromString(`17053146001234${String(this.int(1e5)).padStart(5, '0')}`, true),
    ])();
  }
  smallUint(): number {
    return this.pick([0, 0, 0, 1, 7, 2 ** 31, 2 ** 32 - 1, this.int(1000)]);
  }
  record(): LogRecord {
    return {
      timeUnixNano: this.nanos(),
      observedTimeUnixNano: this.nanos(),
      severityNumber: this.pick([0, 0, 1, 9, 17, 24, -1, 2 ** 31 - 1]),
      severityText: this.int(2) ? this.pick(['', 'INFO', 'ERROR']) : this.string(),
      body: this.int(5) ? this.anyValue(0) : null,
      attributes: this.kvs(0),
      droppedAttributesCount: this.smallUint(),
      flags: this.pick([0, 1, 0xffffffff, -1, 0x100]),
      traceId: this.id(16),
      spanId: this.id(8),
      eventName: this.int(3) ? '' : this.string(),
    };
  }
  resourceLogs(): ResourceLogs {
    const scopes = this.int(3) + (this.int(5) === 0 ? 0 : 1);
    const scopeLogs: ResourceLogs['scopeLogs'] = [];
    for (let i = 0; i < scopes; i++) {
      const recs: LogRecord[] = [];
      const n = this.int(4);
      for (let j = 0; j < n; j++) recs.push(this.record());
      scopeLogs.push({
        scope: this.int(4) === 0 ? null : { name: this.int(2) ? this.string() : '', version: this.int(2) ? '1.2.3' : '', attributes: this.kvs(0), droppedAttributesCount: this.smallUint() },
        logRecords: recs,
        schemaUrl: this.int(2) ? '' : this.string(),
      });
    }
    return {
      resource: this.int(4) === 0 ? null : { attributes: this.kvs(0), droppedAttributesCount: this.smallUint() },
      scopeLogs,
      schemaUrl: this.int(2) ? '' : 'https://opentelemetry.io/schemas/1.26.0',
    };
  }
}
