import Long from 'long';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RecordingConsumer, testSettings } from '../../../../test/kit/index.js';
import type { KeyValue, LogRecord, ResourceLogs } from '@tributary/otlp';
import { type LogsBatch } from '../../component.js';
import { ThrottledError } from '../../errors.js';
import { silentLogger } from '../../telemetry/logger.js';
import { MetricNames, Telemetry } from '../../telemetry/metrics.js';
import { MemoryBucketStore, type BucketStore } from './bucket-store.js';
import { rateLimitConfigSchema } from './config.js';
import { RateLimitProcessor, STORE_ERRORS_METRIC } from './ratelimit-processor.js';

function rec(n: number, attributes: KeyValue[] = []): LogRecord {
  return {
    timeUnixNano: Long.fromNumber(1_700_000_000_000_000_000, true), observedTimeUnixNano: Long.UZERO,
    severityNumber: 9, severityText: '', body: { stringValue: `r${n}` },
    attributes: [{ key: 'n', value: { intValue: n } }, ...attributes],
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  };
}

function svc(name: string): KeyValue {
  return { key: 'service.name', value: { stringValue: name } };
}

/** One ResourceLogs per service (resource attribute service.name), `count` records each. */
function batchFor(parts: Array<[service: string, count: number]>, start = 0): LogsBatch {
  let n = start;
  const rls: ResourceLogs[] = parts.map(([service, count]) => ({
    resource: { attributes: [svc(service)], droppedAttributesCount: 0 }, schemaUrl: '',
    scopeLogs: [{ scope: null, schemaUrl: '', logRecords: Array.from({ length: count }, () => rec(n++)) }],
  }));
  return { resourceLogs: rls, recordCount: parts.reduce((a, [, c]) => a + c, 0), receivedAt: 0 };
}

function records(b: LogsBatch): LogRecord[] {
  return b.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

function serviceOf(b: LogsBatch, r: LogRecord): string {
  const own = r.attributes.find((a) => a.key === 'service.name');
  if (own) return own.value!.stringValue!;
  const rl = b.resourceLogs.find((x) => x.scopeLogs.some((sl) => sl.logRecords.includes(r)))!;
  return rl.resource!.attributes.find((a) => a.key === 'service.name')!.value!.stringValue!;
}

function make(config: Record<string, unknown>, store?: BucketStore) {
  const telemetry = new Telemetry();
  const next = new RecordingConsumer();
  const out = next.batches;
  const p = new RateLimitProcessor(
    testSettings('ratelimit', telemetry),
    rateLimitConfigSchema.parse(config),
    next,
    store,
  );
  const dropped = (reason: string): number => telemetry.counter(MetricNames.processorDropped, '').total({ processor: 'ratelimit', reason });
  return { p, out, telemetry, dropped };
}

const rule = (over: Record<string, unknown> = {}) => ({ name: 'per-service', key: ['service.name'], rate: 10, per: 'second', burst: 20, ...over });

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_700_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ratelimit (memory store)', () => {
  it('drop: a burst over the limit loses exactly the excess, per key, and refills at the rate', async () => {
    const { p, out, telemetry, dropped } = make({ rules: [rule()] });
    await p.start();
    const b = batchFor([['a', 50], ['b', 5]]);
    await p.consume(b);
    expect(out).toHaveLength(1);
    const kept = records(b);
    expect(kept.filter((r) => serviceOf(b, r) === 'a').map((r) => Number(r.attributes[0]!.value!.intValue))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(kept.filter((r) => serviceOf(b, r) === 'b')).toHaveLength(5);
    expect(b.recordCount).toBe(25);
    expect(dropped('rate_limited')).toBe(30);
    // 1.5 s later: 15 tokens back for `a`.
    vi.advanceTimersByTime(1500);
    const b2 = batchFor([['a', 50]]);
    await p.consume(b2);
    expect(b2.recordCount).toBe(15);
    expect(dropped('rate_limited')).toBe(65);
    expect(telemetry.counter(MetricNames.processorIncoming, '').total()).toBe(105);
    expect(telemetry.counter(MetricNames.processorOutgoing, '').total()).toBe(40);
    await p.shutdown();
  });

  it('a record attribute wins over the resource attribute; overrides change the limit for one value', async () => {
    const { p } = make({ rules: [rule({ rate: 5, burst: 5, overrides: { checkout: { rate: 100 } } })] });
    await p.start();
    const b = batchFor([['a', 10]]);
    // Records 0..4 say service.name=checkout themselves.
    for (const r of records(b).slice(0, 5)) r.attributes.push(svc('checkout'));
    const extra = batchFor([['checkout', 60]], 100);
    b.resourceLogs.push(...extra.resourceLogs);
    b.recordCount += 60;
    await p.consume(b);
    const kept = records(b);
    expect(kept.filter((r) => serviceOf(b, r) === 'checkout')).toHaveLength(65);
    expect(kept.filter((r) => serviceOf(b, r) === 'a')).toHaveLength(5);
    await p.shutdown();
  });

  it('throttle: refuses the whole batch with retryAfterMs, takes no tokens for it, passes again once refilled', async () => {
    const { p, out, telemetry } = make({ rules: [rule({ action: 'throttle' })] });
    await p.start();
    await p.consume(batchFor([['a', 15]]));
    const err = await p.consume(batchFor([['a', 10]])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    // 5 tokens left, 10 needed at 10/s → 500 ms.
    expect((err as ThrottledError).retryAfterMs).toBe(500);
    expect(telemetry.counter(MetricNames.processorRefused, '').total()).toBe(10);
    // Nothing was taken: 5 still fit right away.
    await p.consume(batchFor([['a', 5]]));
    vi.advanceTimersByTime(1000);
    await p.consume(batchFor([['a', 10]]));
    expect(out.map((b) => b.recordCount)).toEqual([15, 5, 10]);
    await p.shutdown();
  });

  it('throttle with several keys is all-or-nothing: a refused batch leaves the keys that had tokens untouched', async () => {
    const { p, out } = make({ rules: [rule({ action: 'throttle' })] });
    await p.start();
    await p.consume(batchFor([['b', 20]]));
    await expect(p.consume(batchFor([['a', 20], ['b', 1]]))).rejects.toBeInstanceOf(ThrottledError);
    await p.consume(batchFor([['a', 20]]));
    expect(out.map((b) => b.recordCount)).toEqual([20, 20]);
    // A batch bigger than the burst passes from a full bucket and leaves it in debt.
    vi.advanceTimersByTime(10_000);
    await p.consume(batchFor([['c', 30]]));
    const e = (await p.consume(batchFor([['c', 1]])).catch((x: unknown) => x)) as ThrottledError;
    expect(e).toBeInstanceOf(ThrottledError);
    expect(e.retryAfterMs).toBe(1100);
    await p.shutdown();
  });

  it('emits one summary record per limited key every summary_interval', async () => {
    const { p, out } = make({ summary_interval: '10s', rules: [rule(), { name: 'global', rate: 1000, per: 'minute', burst: 1000 }] });
    await p.start();
    await p.consume(batchFor([['a', 25], ['b', 23], ['c', 3]]));
    // Entirely over the limit: nothing is passed on.
    await p.consume(batchFor([['a', 2]]));
    expect(out).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(out).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(out).toHaveLength(2);
    const summary = records(out[1]!);
    const texts = summary.map((r) => r.body!.stringValue).sort();
    expect(texts).toEqual([
      'ratelimit: suppressed 3 records for per-service service.name=b in the last 10s',
      'ratelimit: suppressed 7 records for per-service service.name=a in the last 10s',
    ]);
    const a = summary.find((r) => r.body!.stringValue!.includes('=a'))!;
    expect(a.severityNumber).toBe(13);
    expect(a.severityText).toBe('WARN');
    expect(Object.fromEntries(a.attributes.map((kv) => [kv.key, kv.value!.stringValue ?? Number(kv.value!.intValue)]))).toEqual({
      'ratelimit.rule': 'per-service', 'ratelimit.key': 'service.name=a', 'ratelimit.suppressed': 7, 'ratelimit.action': 'drop',
    });
    expect(out[1]!.recordCount).toBe(2);
    // Nothing suppressed in the next interval: no summary.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(out).toHaveLength(2);
    await p.shutdown();
  });

  it('a failed summary send is logged, not thrown; shutdown stops the timer', async () => {
    const telemetry = new Telemetry();
    const lines: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => { lines.push(m); } };
    let calls = 0;
    const p = new RateLimitProcessor(testSettings('ratelimit', telemetry, logger), rateLimitConfigSchema.parse({ rules: [rule({ burst: 1 })] }), {
      consume: async (b) => { calls++; if (b.resourceLogs[0]!.scopeLogs[0]!.scope?.name === 'tributary/ratelimit') throw new Error('down'); },
    });
    await p.start();
    await p.consume(batchFor([['a', 3]]));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(2);
    expect(lines.some((l) => l.includes('could not send the summary'))).toBe(true);
    await p.shutdown();
    expect(vi.getTimerCount()).toBe(0);
  });

  describe('store errors', () => {
    const failing: BucketStore = {
      start: async () => {},
      take: () => Promise.reject(new Error('ECONNREFUSED')),
      shutdown: async () => {},
    };
    it('on_store_error: allow passes records and counts the error', async () => {
      const { p, out, telemetry } = make({ on_store_error: 'allow', rules: [rule()] }, failing);
      await p.consume(batchFor([['a', 50]]));
      expect(out[0]!.recordCount).toBe(50);
      expect(telemetry.counter(STORE_ERRORS_METRIC, '').total({ processor: 'ratelimit' })).toBe(1);
    });
    it('on_store_error: deny drops (drop rules) or throttles (throttle rules)', async () => {
      const d = make({ on_store_error: 'deny', rules: [rule()] }, failing);
      await d.p.consume(batchFor([['a', 50]]));
      expect(d.out).toHaveLength(0);
      expect(d.dropped('store_error')).toBe(50);
      const t = make({ on_store_error: 'deny', rules: [rule({ action: 'throttle' })] }, failing);
      const err = await t.p.consume(batchFor([['a', 5]])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ThrottledError);
      expect(t.telemetry.counter(STORE_ERRORS_METRIC, '').total()).toBe(1);
    });
  });

  it('memory store forgets buckets once they have refilled', () => {
    const store = new MemoryBucketStore();
    for (let i = 0; i < 100; i++) store.take([{ key: `k${i}`, ratePerMs: 0.01, burst: 20, want: 5 }], false);
    expect(store.size).toBe(100);
    vi.advanceTimersByTime(10_000);
    store.take([{ key: 'k0', ratePerMs: 0.01, burst: 20, want: 1 }], false);
    expect(store.size).toBe(1);
  });

  it('config: rules required, names unique, defaults filled', () => {
    expect(rateLimitConfigSchema.safeParse({}).success).toBe(false);
    expect(rateLimitConfigSchema.safeParse({ rules: [rule(), rule()] }).success).toBe(false);
    expect(rateLimitConfigSchema.safeParse({ rules: [rule({ per: 'day' })] }).success).toBe(false);
    const c = rateLimitConfigSchema.parse({ rules: [{ name: 'x', rate: 5 }] });
    expect(c).toMatchObject({ store: 'memory', on_store_error: 'allow', summary_interval: 10_000, redis: { url: 'redis://127.0.0.1:6379', key_prefix: 'tributary:rl:', timeout: 250 } });
    expect(c.rules[0]).toMatchObject({ key: [], per: 'second', action: 'drop' });
  });
});
