import { describe, expect, it } from 'vitest';
import { JsonByteWriter } from '@tributary/otlp';
import { writeNumber } from './json-number.js';

const text = (n: number): string => {
  const w = new JsonByteWriter(64);
  writeNumber(w, n);
  return w.bytes().toString('utf8');
};

describe('writeNumber', () => {
  it('is String(n) for integers, short decimals, random doubles and the special values', () => {
    const values = [0, -0, 1, -1, 12.5, 0.5, -0.25, 0.1, 0.2, 0.1 + 0.2, 1.005, 99.95, 1e-7, 1e-3, 1.5e-3, 123456789.125, 2 ** 50 / 8 + 0.125,
      2 ** 53, 1e21, 1.5e300, -1e-300, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity, 0.001, 0.0015, 4.35, 0.07];
    for (let i = 0; i < 20000; i++) {
      values.push(Math.random() * 1000, Math.round(Math.random() * 1e6) / 1000, -Math.round(Math.random() * 1e9) / 100, Math.round(Math.random() * 2 ** 52) / 8);
      values.push((Math.random() - 0.5) * 10 ** (Math.random() * 40 - 20));
    }
    for (const n of values) expect(text(n)).toBe(String(n));
  });
});
