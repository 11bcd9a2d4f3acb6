import { describe, expect, it } from 'vitest';
import { heapFlagsFor, mallocEnvFor } from './heap.js';

describe('heapFlagsFor', () => {
  it('caps the old generation at 1.25 × the largest memory_limiter limit_mib (at least 96 MiB)', () => {
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 512 }, 'memory_limiter/b': { limit_mib: 256 }, batch: {} }, [], undefined))
      .toEqual(['--max-old-space-size=640']);
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 4096 } }, [], '')).toEqual(['--max-old-space-size=5120']);
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 32 } }, [], '')).toEqual(['--max-old-space-size=96']);
  });

  it('is empty without limit_mib, or when the process already has a heap flag (no restart loop)', () => {
    expect(heapFlagsFor({ batch: {} }, [], undefined)).toEqual([]);
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 0, limit_percentage: 80 } }, [], undefined)).toEqual([]);
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 512 } }, ['--max-old-space-size=512'], undefined)).toEqual([]);
    expect(heapFlagsFor({ memory_limiter: { limit_mib: 512 } }, [], '--max-semi-space-size=2')).toEqual([]);
  });
});

describe('mallocEnvFor', () => {
  it('asks glibc to map large allocations and give them back, keeping what the environment already says', () => {
    expect(mallocEnvFor({ PATH: '/bin' })).toEqual({ PATH: '/bin', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' });
    expect(mallocEnvFor({ MALLOC_MMAP_THRESHOLD_: '65536' }).MALLOC_MMAP_THRESHOLD_).toBe('65536');
  });
});
