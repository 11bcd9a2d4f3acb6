// Test setup: a record kept in its received bytes (WireLogRecord) equals a plain record with the same
// fields, as it does for every reader of the record model (toEqual would otherwise compare its storage).
import { expect } from 'vitest';

interface WireLike {
  wireStart: number;
  decoded(): unknown;
}

function isWire(x: unknown): x is WireLike {
  return typeof x === 'object' && x !== null && 'wireStart' in x && typeof (x as { decoded?: unknown }).decoded === 'function';
}

expect.addEqualityTesters([
  function wireRecordEquals(a: unknown, b: unknown, testers) {
    const aw = isWire(a);
    const bw = isWire(b);
    if (!aw && !bw) return undefined;
    return this.equals(aw ? a.decoded() : a, bw ? b.decoded() : b, testers);
  },
]);
