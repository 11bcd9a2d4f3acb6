import { describe, expect, it } from 'vitest';
import { heapFlagsFor } from './heap.js';

describe('heapFlagsFor', () => {
  it('sizes the old generation at the largest memory_limiter limit_mib and the young one at limit/64', () => {
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 512 }, 'memory_limiter/b': { limit_mib: 256 }, batch: {} }, [], undefined))
      .toEqual(['--max-old-space-size=512', '--max-semi-space-size=8']);
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 4096 } }, [], '')).toEqual(['--max-old-space-size=4096', '--max-semi-space-size=16']);
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 32 } }, [], '')).toEqual(['--max-old-space-size=64', '--max-semi-space-size=1']);
  });

  it('is empty without limit_mib, or when the process already has a heap flag (no restart loop)', () => {
    expect(heapFlagsFor({ batch: {} }, [], undefined)).toEqual([]);
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 0, limit_percentage: 80 } }, [], undefined)).toEqual([]);
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 512 } }, ['--max-old-space-size=512', '--max-semi-space-size=8'], undefined)).toEqual([]);
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 512 } }, [], '--max-semi-space-size=2')).toEqual([]);
  });
});
