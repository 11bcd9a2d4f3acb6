import Long from 'long';
import { describe, expect, it } from 'vitest';
import { nanosToDecimal } from '@tributary/otlp';
import { splitMillis, splitSeconds } from './split-nanos.js';

describe('split-nanos', () => {
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
