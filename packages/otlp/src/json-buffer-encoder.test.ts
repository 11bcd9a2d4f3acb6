import Long from 'long';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { goString } from '../../../collector/src/exporters/loki/convert.js';
import { goldenRequest } from '../../../collector/src/exporters/testdata/golden-records.js';
import {
  encodeAnyValueJson, encodeAnyValueJsonInto, encodeResourceLogsJson, encodeResourceLogsJsonInto, JsonByteWriter,
  type AnyValue, type KeyValue, type LogRecord, type ResourceLogs,
} from './index.js';

/** mulberry32: deterministic, so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectSame(rl: ResourceLogs, w = new JsonByteWriter(16)): void {
  w.reset();
  encodeResourceLogsJsonInto(rl, w);
  const want = Buffer.from(encodeResourceLogsJson(rl), 'utf8');
  if (!w.bytes().equals(want)) expect(w.bytes().toString('latin1')).toBe(want.toString('latin1'));
}

class Gen {
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

describe('encodeResourceLogsJsonInto', () => {
  it('writes the golden records byte for byte like encodeResourceLogsJson', () => {
    const req = goldenRequest();
    expect(req.resourceLogs.length).toBeGreaterThan(0);
    for (const rl of req.resourceLogs) expectSame(rl);
  });

  it('matches on thousands of random records (unicode, escapes, lone surrogates, number extremes)', () => {
    const g = new Gen(prng(20240115));
    const w = new JsonByteWriter(16);
    for (let i = 0; i < 4000; i++) expectSame(g.resourceLogs(), w);
  });

  it('matches JSON.stringify on single awkward strings', () => {
    const w = new JsonByteWriter(4);
    const cases = ['', '"', '\\', '\u0000\u001f\u007f', '\b\f\n\r\t\v', '\ud800', '\udc00', '\udc00\ud800', '\ud83d\ude00',
      'a\ud83d', '\ude00b', '\u2028\u2029', 'x'.repeat(47) + '\ud800', 'é'.repeat(100), '😀'.repeat(60), 'q"'.repeat(40)];
    for (const s of cases) {
      const v: AnyValue = { stringValue: s };
      w.reset();
      encodeAnyValueJsonInto(v, w);
      expect(w.bytes().toString('utf8')).toBe(encodeAnyValueJson(v));
      expect(w.bytes().equals(Buffer.from(encodeAnyValueJson(v), 'utf8'))).toBe(true);
    }
  });

  it('number() renders like String() (short decimals, random doubles, edges)', () => {
    const r = prng(11);
    const w = new JsonByteWriter(8);
    const values = [0.1, 0.3, 0.1 + 0.2, 1e-3, 0.0015, 0.9995, 1.005, 2.675, 90.5, -0.001, 999999999999.999, 1e12 + 0.5, 123456789012.345,
      5e-324, 1e21, 1.5e-7, 2 ** 52 + 0.5, -0, NaN, Infinity, -Infinity, Number.MAX_VALUE];
    for (let i = 0; i < 20000; i++) {
      const d = 10 ** (1 + (i % 3));
      const k = Math.floor(r() * 10 ** Math.floor(r() * 13) * d);
      values.push(k / d, -k / d, (k + 0.5) / d, r() * 10 ** Math.floor(r() * 15));
    }
    for (const n of values) {
      w.reset();
      w.number(n);
      expect(w.bytes().toString('latin1')).toBe(String(n));
    }
  });

  it('text() appends UTF-8 as is; truncate() drops a partial write', () => {
    const w = new JsonByteWriter(4);
    w.text('[1,');
    const at = w.length;
    w.text('"é✅\ud800"');
    w.truncate(at);
    w.text('"✅🚀"]');
    expect(w.bytes().toString('utf8')).toBe('[1,"✅🚀"]');
  });

  it('grows by doubling across many records without corrupting earlier output', () => {
    const g = new Gen(prng(7));
    const w = new JsonByteWriter(16);
    const want: Buffer[] = [];
    let caps = 0;
    let last = w.capacity;
    for (let i = 0; i < 2000; i++) {
      const rl = g.resourceLogs();
      if (i) w.byte(0x2c);
      encodeResourceLogsJsonInto(rl, w);
      want.push(Buffer.from((i ? ',' : '') + encodeResourceLogsJson(rl), 'utf8'));
      if (w.capacity !== last) {
        expect(w.capacity).toBeGreaterThanOrEqual(last * 2);
        last = w.capacity;
        caps++;
      }
    }
    expect(caps).toBeGreaterThan(5);
    expect(w.bytes().equals(Buffer.concat(want))).toBe(true);
    const copy = w.copy();
    w.reset();
    expect(w.length).toBe(0);
    expect(w.capacity).toBe(last);
    w.byte(0x41);
    expect(copy.equals(Buffer.concat(want))).toBe(true);
  });
});

const numberText = (n: number): string => {
  const w = new JsonByteWriter(64);
  w.number(n);
  return w.bytes().toString('utf8');
};

describe('JsonByteWriter.number', () => {
  it('is String(n) for integers, short decimals, random doubles and the special values', () => {
    const values = [0, -0, 1, -1, 12.5, 0.5, -0.25, 0.1, 0.2, 0.1 + 0.2, 1.005, 99.95, 1e-7, 1e-3, 1.5e-3, 123456789.125, 2 ** 50 / 8 + 0.125,
      2 ** 53, 1e21, 1.5e300, -1e-300, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity, 0.001, 0.0015, 4.35, 0.07];
    for (let i = 0; i < 20000; i++) {
      values.push(Math.random() * 1000, Math.round(Math.random() * 1e6) / 1000, -Math.round(Math.random() * 1e9) / 100, Math.round(Math.random() * 2 ** 52) / 8);
      values.push((Math.random() - 0.5) * 10 ** (Math.random() * 40 - 20));
    }
    for (const n of values) expect(numberText(n)).toBe(String(n));
  });
});

// Strings that exercise every escape path, short (hand-written loop) and long (native encoder).
const PIECES = ['a', '"', '\\', '\u0000', '\u0001', '\b', '\t', '\n', '\f', '\r', '\u001f', '\u007f', '<', '>', '&', 'ü', '世',
  '\u2028', '\u2029', '🚀', '\ud800', '\udc00', '\udbff\udfff', '\uffff', ' '];

function samples(): string[] {
  const out = ['', 'plain ascii', 'x'.repeat(47), 'x'.repeat(48), 'x'.repeat(100)];
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 400; i++) {
    let s = '';
    const len = rnd(90);
    for (let j = 0; j < len; j++) s += rnd(3) === 0 ? PIECES[rnd(PIECES.length)]! : String.fromCharCode(97 + rnd(26));
    out.push(s);
  }
  for (const p of PIECES) out.push(p, `${'y'.repeat(60)}${p}`, `${p}${'z'.repeat(60)}`);
  return out;
}

const written = (f: (w: JsonByteWriter) => void): Buffer => {
  const w = new JsonByteWriter(16);
  f(w);
  return w.copy();
};

describe('JsonByteWriter: strings, numbers and bytes for exporter bodies', () => {
  it('string: the UTF-8 of JSON.stringify, lone surrogates included', () => {
    for (const s of samples()) expect(written((w) => w.string(s)).toString('hex'), JSON.stringify(s)).toBe(Buffer.from(JSON.stringify(s)).toString('hex'));
  });

  it('goString: the loki string form (Go encoding/json escapes)', () => {
    for (const s of samples()) expect(written((w) => w.goString(s)).toString('hex'), JSON.stringify(s)).toBe(Buffer.from(goString(s)).toString('hex'));
  });

  it('text and pbString: Buffer.from and protobufjs bytes', () => {
    for (const s of samples()) {
      expect(written((w) => w.text(s)).toString('hex')).toBe(Buffer.from(s).toString('hex'));
      const pb = protobuf.Writer.create().string(s).finish();
      // protobufjs prefixes the length: compare the rest.
      const lenBytes = pb.length - Buffer.byteLength(s);
      expect(written((w) => w.pbString(s)).toString('hex'), JSON.stringify(s)).toBe(Buffer.from(pb.subarray(lenBytes)).toString('hex'));
    }
  });

  it('numbers, int64, varints, hex and base64 as their string forms', () => {
    for (const n of [0, -0, 1, 9, 10, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER, -5, 0.25, 1e21, 1.5e-7, -3.75, NaN, Infinity]) {
      expect(written((w) => w.number(n)).toString()).toBe(String(n));
    }
    for (const v of [Long.fromString('-9007199254740993'), Long.fromString('9223372036854775807'), Long.fromString('18446744073709551615', true), Long.fromNumber(42), 7.9, -7.9]) {
      expect(written((w) => w.int64(v)).toString()).toBe(typeof v === 'number' ? String(Math.trunc(v)) : v.toString());
    }
    for (const n of [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 35 + 3, 2 ** 52 + 1]) {
      expect(written((w) => w.varint(n)).toString('hex')).toBe(Buffer.from(protobuf.Writer.create().uint64(n).finish()).toString('hex'));
    }
    const bytes = new Uint8Array([0, 1, 127, 128, 255, 16, 3]);
    for (let k = 0; k <= bytes.length; k++) {
      const b = bytes.subarray(0, k);
      expect(written((w) => w.hex(b)).toString()).toBe(Buffer.from(b).toString('hex'));
      expect(written((w) => w.base64(b)).toString()).toBe(Buffer.from(b).toString('base64'));
    }
  });

  it('views stay valid after detach; truncate, append and escapedJsonText', () => {
    const w = new JsonByteWriter(16);
    w.ascii('hello');
    const v = w.bytes();
    w.detach(16);
    w.ascii('world');
    expect(v.toString()).toBe('hello');
    w.truncate(2);
    expect(w.copy().toString()).toBe('wo');
    const src = new JsonByteWriter(16);
    src.text('{"a":"b\\"c"}');
    const out = new JsonByteWriter(4);
    out.append(src, 1);
    out.escapedJsonText(src, 0, src.length);
    expect(out.copy().toString()).toBe(`"a":"b\\"c"}${JSON.stringify('{"a":"b\\"c"}').slice(1, -1)}`);
  });
});
