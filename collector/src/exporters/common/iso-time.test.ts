import Long from 'long';
import { describe, expect, it } from 'vitest';
import { JsonByteWriter, nanosFromDecimal, nanosToIso } from '@tributary/otlp';
import { writeIsoNanos } from './iso-time.js';

const text = (t: Long, digits: number, quote = false): string => {
  const w = new JsonByteWriter(64);
  writeIsoNanos(w, t, digits, quote);
  return w.bytes().toString('utf8');
};

describe('writeIsoNanos', () => {
  it('matches nanosToIso (9 digits) across the whole unsigned range and at day boundaries', () => {
    const values = ['0', '1', '999999999', '1000000000', '1705314600123456789', '1705363199999999999', '1705363200000000000', '18446744073709551615', '4294967295', '4294967296'];
    for (let i = 0; i < 2000; i++) values.push(Long.fromBits((Math.random() * 2 ** 32) | 0, (Math.random() * 2 ** 32) | 0, true).toString());
    for (const v of values) {
      const t = nanosFromDecimal(v);
      expect(text(t, 9)).toBe(nanosToIso(t));
    }
  });

  it('truncates to fewer digits and quotes on request', () => {
    expect(text(nanosFromDecimal('1705314600123456789'), 7, true)).toBe('"2024-01-15T10:30:00.1234567Z"');
    expect(text(nanosFromDecimal('1705314600123456789'), 3)).toBe('2024-01-15T10:30:00.123Z');
  });
});

describe('JsonByteWriter.truncate', () => {
  it('drops what was written after the mark and never grows the content', () => {
    const w = new JsonByteWriter(16);
    w.string('abc');
    const mark = w.length;
    w.string('tentative');
    w.truncate(mark);
    w.truncate(100);
    w.byte(0x2c);
    expect(w.bytes().toString('utf8')).toBe('"abc",');
  });
});
