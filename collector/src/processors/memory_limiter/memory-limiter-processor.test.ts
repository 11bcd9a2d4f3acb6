import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecordingConsumer } from '../../../../test/kit/index.js';
import type { CreateSettings, LogsBatch } from '../../component.js';
import { RetryableError } from '../../errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { MetricNames, Telemetry, type Counter } from '../../telemetry/metrics.js';
import {
  computeLimits,
  liveMemory,
  memoryLimiterConfigSchema,
  memoryLimiterProcessorFactory,
  MemoryLimiterProcessor,
  parseCgroupLimit,
  totalMemoryBytes,
  type MemoryLimiterOptions,
} from './index.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

function batch(n: number): LogsBatch {
  return { resourceLogs: [], recordCount: n, receivedAt: 0 };
}

let started: MemoryLimiterProcessor[] = [];
afterEach(async () => {
  await Promise.all(started.map((p) => p.shutdown()));
  started = [];
});

async function make(config: Record<string, unknown>, options: MemoryLimiterOptions) {
  const lines: string[] = [];
  const telemetry = new Telemetry();
  const settings: CreateSettings = {
    id: { type: 'memory_limiter', name: '', id: 'memory_limiter' },
    logger: createLogger({ write: (l) => lines.push(l) }),
    telemetry,
  };
  const next = new RecordingConsumer();
  const p = new MemoryLimiterProcessor(settings, memoryLimiterConfigSchema.parse(config), next, options);
  await p.start();
  started.push(p);
  return { p, next, lines, telemetry };
}

describe('memory_limiter config', () => {
  it('defaults check_interval to 1s and requires a limit, naming the path', () => {
    expect(memoryLimiterConfigSchema.parse({ limit_mib: 100 })).toEqual({
      check_interval: 1000,
      limit_mib: 100,
      spike_limit_mib: 0,
      limit_percentage: 0,
      spike_limit_percentage: 0,
      min_gc_interval_when_soft_limited: 1000,
      min_gc_interval_when_hard_limited: 0,
    });
    const r = memoryLimiterConfigSchema.safeParse({});
    expect(r.error!.issues).toEqual([expect.objectContaining({ path: ['limit_mib'], message: expect.stringContaining('one of limit_mib or limit_percentage') })]);
    expect(memoryLimiterFactoryType()).toBe('memory_limiter');
  });

  it('rejects inconsistent limits with the key that is wrong', () => {
    const path = (c: Record<string, unknown>) => memoryLimiterConfigSchema.safeParse(c).error?.issues[0]?.path;
    expect(path({ limit_mib: 100, spike_limit_mib: 100 })).toEqual(['spike_limit_mib']);
    expect(path({ limit_percentage: 50, spike_limit_percentage: 60 })).toEqual(['spike_limit_percentage']);
    expect(path({ limit_percentage: 101 })).toEqual(['limit_percentage']);
    expect(path({ limit_mib: 100, check_interval: '0s' })).toEqual(['check_interval']);
    expect(path({ limit_mib: 100, ballast_size_mib: 1 })).toEqual([]); // unknown key (reported at the object)
  });
});

function memoryLimiterFactoryType(): string {
  return memoryLimiterProcessorFactory.type;
}

describe('memory limits', () => {
  it('limit_mib with the default spike of 20%', () => {
    expect(computeLimits(memoryLimiterConfigSchema.parse({ limit_mib: 1000 }), 0)).toEqual({ hardBytes: 1000 * MIB, softBytes: 800 * MIB });
  });
  it('limit_mib with an explicit spike; limit_mib wins over percentages', () => {
    const c = memoryLimiterConfigSchema.parse({ limit_mib: 1000, spike_limit_mib: 300, limit_percentage: 10 });
    expect(computeLimits(c, 64 * GIB)).toEqual({ hardBytes: 1000 * MIB, softBytes: 700 * MIB });
  });
  it('percentages of total memory', () => {
    const c = memoryLimiterConfigSchema.parse({ limit_percentage: 75, spike_limit_percentage: 25 });
    expect(computeLimits(c, 4 * GIB)).toEqual({ hardBytes: 3 * GIB, softBytes: 2 * GIB });
    const d = memoryLimiterConfigSchema.parse({ limit_percentage: 50 });
    expect(computeLimits(d, 10 * GIB)).toEqual({ hardBytes: 5 * GIB, softBytes: 4 * GIB });
  });
  it('percentage limits use the injected total at start', async () => {
    const { p } = await make({ limit_percentage: 80, spike_limit_percentage: 20 }, { readMemory: () => 0, totalMemory: () => 2 * GIB });
    const hard = Math.floor((2 * GIB * 80) / 100);
    expect(p.memoryLimits).toEqual({ hardBytes: hard, softBytes: hard - Math.floor((2 * GIB * 20) / 100) });
  });
  it('reads cgroup limits: a number, or "max" for none', () => {
    expect(parseCgroupLimit('536870912\n')).toBe(536870912);
    expect(parseCgroupLimit('max\n')).toBeUndefined();
    expect(parseCgroupLimit('')).toBeUndefined();
  });
  it('total memory is positive and never above the machine', async () => {
    const { totalmem } = await import('node:os');
    const total = await totalMemoryBytes();
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(totalmem());
  });
});

describe('memory_limiter processor', () => {
  it('passes data through below the soft limit', async () => {
    const { p, next } = await make({ limit_mib: 100 }, { readMemory: () => 10 * MIB, gc: undefined });
    const b = batch(3);
    await p.consume(b);
    expect(next.batches).toEqual([b]);
    expect(next.batches[0]).toBe(b);
    expect(p.mutatesData).toBe(false);
  });

  it('refuses above the soft limit with a RetryableError carrying check_interval, counts refused records, then recovers', async () => {
    let rss = 10 * MIB;
    const gcCalls: number[] = [];
    const { p, next, lines, telemetry } = await make({ limit_mib: 100, spike_limit_mib: 20, check_interval: '2s' }, { readMemory: () => rss, gc: () => gcCalls.push(1) });
    rss = 85 * MIB; // above soft (80), below hard (100)
    p.check();
    expect(p.state).toBe('soft_limited');
    const b = batch(7);
    const err = await p.consume(b).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).retryAfterMs).toBe(2000);
    expect((err as Error).message).toContain('memory limit exceeded');
    expect(next.batches).toHaveLength(0);
    expect(gcCalls).toHaveLength(1); // a collection is tried before refusing
    p.check();
    expect(gcCalls).toHaveLength(1); // not again within min_gc_interval_when_soft_limited (1s)
    const refused = telemetry.find(MetricNames.processorRefused) as Counter;
    expect(refused.total({ processor: 'memory_limiter', reason: 'memory_limit' })).toBe(7);

    // transitions are logged once, not per check or per batch
    p.check();
    await p.consume(batch(1)).catch(() => {});
    expect(lines.filter((l) => l.includes('above the soft limit'))).toHaveLength(1);

    rss = 50 * MIB;
    p.check();
    expect(p.state).toBe('ok');
    await p.consume(b);
    expect(next.batches).toEqual([b]);
    expect(lines.filter((l) => l.includes('back below the soft limit'))).toHaveLength(1);
  });

  it('above the hard limit forces a GC and re-measures', async () => {
    let rss = 10 * MIB;
    let gcCalls = 0;
    const { p } = await make({ limit_mib: 100 }, {
      readMemory: () => rss,
      gc: () => {
        gcCalls++;
        rss = 90 * MIB; // the collection freed some, still above soft (80)
      },
    });
    rss = 120 * MIB;
    p.check();
    expect(gcCalls).toBe(1);
    expect(p.state).toBe('soft_limited');
    const { p: q } = await make({ limit_mib: 100 }, { readMemory: () => 150 * MIB, gc: undefined });
    expect(q.state).toBe('hard_limited'); // checked at start
    await expect(q.consume(batch(1))).rejects.toBeInstanceOf(RetryableError);
  });

  it('measures on its own every check_interval after start, and stops at shutdown', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      let rss = 10 * MIB;
      let reads = 0;
      const { p } = await make({ limit_mib: 100, check_interval: '20ms' }, {
        readMemory: () => {
          reads++;
          return rss;
        },
        gc: undefined,
      });
      expect(reads).toBe(1); // the check at start
      rss = 95 * MIB;
      vi.advanceTimersByTime(20);
      expect(reads).toBe(2);
      expect(p.state).toBe('soft_limited');
      rss = 10 * MIB;
      vi.advanceTimersByTime(20);
      expect(p.state).toBe('ok');
      await p.shutdown();
      vi.advanceTimersByTime(200);
      expect(reads).toBe(3); // timer cleared at shutdown
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('memory_limiter: what it measures', () => {
  it('limits on live memory, not on RSS that freed buffers left behind; RSS over twice the limit still refuses', async () => {
    let live = 10 * MIB;
    let rss = 790 * MIB; // high after a burst (freed buffers stay in RSS), but the memory is free
    const { p } = await make({ limit_mib: 400, check_interval: '1s' }, { readMemory: () => live, readRss: () => rss, gc: undefined });
    expect(p.state).toBe('ok');
    live = 390 * MIB;
    p.check();
    expect(p.state).toBe('soft_limited');
    live = 20 * MIB; // the pressure is gone: accepted again at the next check
    p.check();
    expect(p.state).toBe('ok');
    rss = 801 * MIB; // the secondary guard: 2 × 400 MiB
    p.check();
    expect(p.state).toBe('hard_limited');
    await expect(p.consume(batch(1))).rejects.toThrow(/rss 801 MiB ≥ 2 × hard limit 400 MiB/);
  });

  it('counts request bodies the HTTP servers hold', async () => {
    const { InFlightBudget } = await import('../../config/http-server.js');
    const { liveMemory } = await import('./memory-limiter-processor.js');
    const budget = new InFlightBudget(1 << 30);
    const before = liveMemory();
    expect(budget.admit(300 * MIB)).toBe(true);
    try {
      expect(liveMemory() - before).toBeGreaterThanOrEqual(290 * MIB);
    } finally {
      budget.release(300 * MIB);
    }
  });
});

describe('memory_limiter: admission of request bodies', () => {
  it('tells HTTP servers how much room is left, so bodies that would not fit once decoded are refused before being read', async () => {
    const { memoryAllows, InFlightBudget } = await import('../../config/http-server.js');
    let live = 100 * MIB;
    const { p } = await make({ limit_mib: 400, spike_limit_mib: 80, check_interval: '1s' }, { readMemory: () => live, readRss: undefined, gc: undefined });
    // soft 320 MiB, live 100: 220 MiB of room; a body takes ~3× its size once decoded.
    const budget = new InFlightBudget(1 << 30);
    expect(budget.admit(10 * MIB)).toBe(true);
    try {
      expect(memoryAllows(50 * MIB)).toBe(true); // (10 + 50) × 3 = 180 ≤ 220
      expect(memoryAllows(70 * MIB)).toBe(false); // (10 + 70) × 3 = 240 > 220
      live = 330 * MIB;
      p.check();
      expect(memoryAllows(1)).toBe(false); // refusing: nothing new is read
    } finally {
      budget.release(10 * MIB);
    }
    live = 100 * MIB;
    p.check();
    expect(memoryAllows(500 * MIB)).toBe(true); // alone, always let in
    await p.shutdown();
    expect(memoryAllows(1 << 40)).toBe(true); // no limiter: no memory admission
  });
});

describe('live memory', () => {
  it("counts the unused part of V8's young generation, which stays resident under load", () => {
    // Fill the young generation with short-lived garbage so it has grown past its initial size.
    let sink = 0;
    for (let i = 0; i < 200_000; i++) sink += { i, s: `x${i}` }.s.length;
    expect(sink).toBeGreaterThan(0);
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    expect(young).toBeDefined();
    const m = process.memoryUsage();
    const live = liveMemory();
    const slack = young!.space_size - young!.space_used_size;
    expect(slack).toBeGreaterThan(MIB);
    // Little is allocated between the readings; allow 256 KiB of drift.
    expect(live - (m.heapUsed + m.external)).toBeGreaterThan(slack - MIB / 4);
  });
});
