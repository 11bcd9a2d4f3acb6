import Long from 'long';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { nanosToDecimal } from '@tributary/otlp';
import { goString } from '../loki/convert.js';
import { ByteWriter, splitMillis, splitSeconds } from './byte-writer.js';

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

const written = (f: (w: ByteWriter) => void): Buffer => {
  const w = new ByteWriter(16);
  f(w);
  return w.copyRange();
};

describe('ByteWriter', () => {
  it('jsonString: the UTF-8 of JSON.stringify, lone surrogates included', () => {
    for (const s of samples()) expect(written((w) => w.jsonString(s)).toString('hex'), JSON.stringify(s)).toBe(Buffer.from(JSON.stringify(s)).toString('hex'));
  });

  it('goString: the loki string form (Go encoding/json escapes)', () => {
    for (const s of samples()) expect(written((w) => w.goString(s)).toString('hex'), JSON.stringify(s)).toBe(Buffer.from(goString(s)).toString('hex'));
  });

  it('utf8 and pbString: Buffer.from and protobufjs bytes', () => {
    for (const s of samples()) {
      expect(written((w) => w.utf8(s)).toString('hex')).toBe(Buffer.from(s).toString('hex'));
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
    const w = new ByteWriter(16);
    w.ascii('hello');
    const v = w.view();
    w.detach(16);
    w.ascii('world');
    expect(v.toString()).toBe('hello');
    w.truncate(2);
    expect(w.copyRange().toString()).toBe('wo');
    const src = new ByteWriter(16);
    src.utf8('{"a":"b\\"c"}');
    const out = new ByteWriter(4);
    out.append(src, 1);
    out.escapedJsonText(src, 0, src.length);
    expect(out.copyRange().toString()).toBe(`"a":"b\\"c"}${JSON.stringify('{"a":"b\\"c"}').slice(1, -1)}`);
  });

  it('splitMillis / splitSeconds: exact against the decimal form', () => {
    for (const d of ['0', '999999', '1000000', '1705314600123456789', '1705314600000000000', '18446744073709551615', '4294967296', '999999999', '1000000000']) {
      const t = Long.fromString(d, true);
      expect(nanosToDecimal(t)).toBe(d);
      const m = splitMillis(t);
      expect(`${m.whole}:${m.rest}`).toBe(`${d.length > 6 ? BigInt(d.slice(0, -6)) : 0n}:${Number(d.slice(-6))}`);
      const sec = splitSeconds(t);
      expect(`${sec.whole}:${sec.rest}`).toBe(`${d.length > 9 ? BigInt(d.slice(0, -9)) : 0n}:${Number(d.slice(-9))}`);
    }
  });
});
