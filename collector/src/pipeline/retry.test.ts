import { describe, expect, it } from 'vitest';
import { abortableDelay, RetryPolicy, STOP } from './retry.js';
import type { RetryOnFailureConfig } from './exporter-helper-config.js';

const cfg = (over: Partial<RetryOnFailureConfig> = {}): RetryOnFailureConfig => ({
  enabled: true,
  initial_interval: 100,
  randomization_factor: 0,
  multiplier: 2,
  max_interval: 1000,
  max_elapsed_time: 0,
  ...over,
});

describe('RetryPolicy', () => {
  it('grows initial × multiplier^n and caps at max_interval', () => {
    const p = new RetryPolicy(cfg());
    expect([0, 1, 2, 3, 4, 5, 50, 5000].map((n) => p.interval(n))).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
    expect([0, 1, 2].map((n) => p.nextDelay(n, 0))).toEqual([100, 200, 400]);
  });

  it('jitters within [1-f, 1+f] of the interval, using the random source', () => {
    expect(new RetryPolicy(cfg({ randomization_factor: 0.5 }), () => 0).jittered(1)).toBe(100);
    expect(new RetryPolicy(cfg({ randomization_factor: 0.5 }), () => 0.5).jittered(1)).toBe(200);
    expect(new RetryPolicy(cfg({ randomization_factor: 0.5 }), () => 0.999999).jittered(1)).toBeCloseTo(300, 3);
    const p = new RetryPolicy(cfg({ randomization_factor: 0.25 }));
    for (let i = 0; i < 200; i++) {
      const d = p.jittered(2);
      expect(d).toBeGreaterThanOrEqual(300);
      expect(d).toBeLessThanOrEqual(500);
    }
  });

  it('uses Retry-After as the wait, even above max_interval', () => {
    const p = new RetryPolicy(cfg());
    expect(p.nextDelay(0, 0, 5000)).toBe(5000);
    expect(p.nextDelay(0, 0, 0)).toBe(0);
  });

  it('stops once max_elapsed_time would be passed (including by Retry-After)', () => {
    const p = new RetryPolicy(cfg({ max_elapsed_time: 1000 }));
    expect(p.nextDelay(0, 800)).toBe(100);
    expect(p.nextDelay(0, 950)).toBe(STOP);
    expect(p.nextDelay(0, 0, 999)).toBe(999);
    expect(p.nextDelay(0, 500, 600)).toBe(STOP);
    // 0 = never give up.
    expect(new RetryPolicy(cfg({ max_elapsed_time: 0 })).nextDelay(3, 1e12)).toBe(800);
  });

  it('disabled means no retry at all', () => {
    expect(new RetryPolicy(cfg({ enabled: false })).nextDelay(0, 0)).toBe(STOP);
    expect(new RetryPolicy(cfg({ enabled: false })).nextDelay(0, 0, 10)).toBe(STOP);
  });
});

describe('abortableDelay', () => {
  it('resolves true after the delay', async () => {
    const t0 = performance.now();
    expect(await abortableDelay(20, new AbortController().signal)).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
  });

  it('resolves false at once when aborted', async () => {
    const ac = new AbortController();
    const p = abortableDelay(60_000, ac.signal);
    ac.abort();
    expect(await p).toBe(false);
    expect(await abortableDelay(60_000, ac.signal)).toBe(false);
  });
});
