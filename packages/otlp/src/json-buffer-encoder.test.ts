import Long from 'long';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { goString } from '../../../collector/src/exporters/loki/convert.js';
import { goldenRequest } from '../../../collector/src/exporters/testdata/golden-records.js';
import {
  encodeAnyValueJson, encodeAnyValueJsonInto, encodeResourceLogsJson, encodeResourceLogsJsonInto, JsonByteWriter,
  type AnyValue, type ResourceLogs,
} from './index.js';
import { Gen, prng } from './testdata/random-records.js';

function expectSame(rl: ResourceLogs, w = new JsonByteWriter(16)): void {
  w.reset();
  encodeResourceLogsJsonInto(rl, w);
  const want = Buffer.from(encodeResourceLogsJson(rl), 'utf8');
  if (!w.bytes().equals(want)) expect(w.bytes().toString('latin1')).toBe(want.toString('latin1'));
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
