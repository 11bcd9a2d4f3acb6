import { describe, expect, it } from 'vitest';
import { testSettings } from '../../../test/kit/index.js';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../component.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceLogs } from '@tributary/otlp';
import { PartialSendError, PermanentError, RetryableError, ThrottledError } from '../errors.js';
import { readDeadLetterFile } from './dead-letter.js';
import { silentLogger } from '../telemetry/logger.js';
import { Counter, Histogram, MetricNames, Telemetry } from '../telemetry/metrics.js';
import type { ExporterHelperConfig } from './exporter-helper-config.js';
import { DEAD_LETTERED_METRIC, exporterHelperConfigSchema, QueuedRetryExporter } from './exporter-helper.js';

const ID = 'test/x';

function setup(over: { timeout?: number; deadLetter?: string; queue?: Partial<ExporterHelperConfig['sending_queue']>; retry?: Partial<ExporterHelperConfig['retry_on_failure']> } = {}) {
  const telemetry = new Telemetry();
  const settings: CreateSettings = testSettings(ID, telemetry);
  const config: ExporterHelperConfig = {
    ...(over.deadLetter !== undefined ? { dead_letter: { path: over.deadLetter } } : {}),
    timeout: over.timeout ?? 5000,
    sending_queue: { enabled: true, num_consumers: 1, queue_size: 100, drop_oldest: false, ...over.queue },
    retry_on_failure: {
      enabled: true, initial_interval: 5, randomization_factor: 0, multiplier: 2, max_interval: 50, max_elapsed_time: 0,
      ...over.retry,
    },
  };
  const counter = (name: string, labels: Record<string, string> = {}): number =>
    (telemetry.find(name) as Counter | undefined)?.total({ exporter: ID, ...labels }) ?? 0;
  return { telemetry, settings, config, counter };
}

const host = { telemetry: new Telemetry(), logger: silentLogger } as unknown as Host;
const batch = (n: number, tag = n): LogsBatch & { tag: number } => ({ resourceLogs: [], recordCount: n, receivedAt: performance.now(), tag });

/** A promise with its resolvers, for senders the test releases. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Waits (bounded) until `cond` holds, polling on a short interval. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('exporterHelperConfigSchema', () => {
  it('fills the upstream defaults', () => {
    const c = exporterHelperConfigSchema.parse({});
    expect(c).toEqual({
      dead_letter: {},
      timeout: 5000,
      sending_queue: { enabled: true, num_consumers: 10, queue_size: 1000, drop_oldest: false },
      retry_on_failure: { enabled: true, initial_interval: 5000, randomization_factor: 0.5, multiplier: 1.5, max_interval: 30000, max_elapsed_time: 300000 },
    });
    expect(() => exporterHelperConfigSchema.parse({ retry_on_failure: { bogus: 1 } })).toThrow();
  });
});

describe('QueuedRetryExporter', () => {
  it('queues, sends, and counts sent records and latency', async () => {
    const { settings, config, counter, telemetry } = setup();
    const got: number[] = [];
    let started = false;
    const sender: LogsSender = { start: async () => { started = true; }, send: async (b) => { got.push(b.recordCount); } };
    const ex = new QueuedRetryExporter(settings, config, sender);
    await ex.start(host);
    expect(started).toBe(true);
    await ex.consume(batch(3));
    await ex.consume(batch(4));
    await until(() => got.length === 2);
    expect(got).toEqual([3, 4]);
    expect(counter(MetricNames.exporterSent)).toBe(7);
    const h = telemetry.find(MetricNames.exporterLatency) as Histogram;
    expect(h.bind({ exporter: ID }).count).toBe(7);
    expect(telemetry.render()).toContain(`${MetricNames.exporterQueueCapacity}{exporter="${ID}"} 100`);
    await ex.shutdown();
  });

  it('retries retryable failures on the back-off schedule', async () => {
    const { settings, config, counter } = setup({ retry: { initial_interval: 20, multiplier: 2, max_interval: 1000 } });
    const times: number[] = [];
    const sender: LogsSender = {
      send: async () => {
        times.push(performance.now());
        if (times.length <= 3) throw new RetryableError('503');
      },
    };
    const ex = new QueuedRetryExporter(settings, { ...config, sending_queue: { ...config.sending_queue, enabled: false } }, sender);
    await ex.start(host);
    await ex.consume(batch(2));
    expect(times.length).toBe(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 20, 40, 80 ms (timers never fire early; allow 1ms clock granularity).
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThanOrEqual(79);
    expect(counter(MetricNames.exporterRetries)).toBe(3);
    expect(counter(MetricNames.exporterSent)).toBe(2);
    await ex.shutdown();
  });

  it('honours Retry-After over the computed interval', async () => {
    const { settings, config } = setup({ retry: { initial_interval: 1 } });
    const times: number[] = [];
    const sender: LogsSender = {
      send: async () => {
        times.push(performance.now());
        if (times.length === 1) throw new ThrottledError('429', { retryAfterMs: 150 });
      },
    };
    const ex = new QueuedRetryExporter(settings, config, sender);
    await ex.start(host);
    await ex.consume(batch(1));
    await until(() => times.length === 2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(149);
    await ex.shutdown();
  });

  it('never retries a PermanentError and counts it (queue disabled: rejects with it)', async () => {
    const { settings, config, counter } = setup({ queue: { enabled: false } });
    let calls = 0;
    const ex = new QueuedRetryExporter(settings, config, { send: async () => { calls++; throw new PermanentError('400 bad data'); } });
    await ex.start(host);
    await expect(ex.consume(batch(5))).rejects.toBeInstanceOf(PermanentError);
    expect(calls).toBe(1);
    expect(counter(MetricNames.exporterSendFailed, { reason: 'permanent' })).toBe(5);
    expect(counter(MetricNames.exporterRetries)).toBe(0);
    await ex.shutdown();
  });

  it('gives up after max_elapsed_time and counts retries_exhausted', async () => {
    const { settings, config, counter } = setup({ queue: { enabled: false }, retry: { initial_interval: 10, max_interval: 10, max_elapsed_time: 60 } });
    let calls = 0;
    const ex = new QueuedRetryExporter(settings, config, { send: async () => { calls++; throw new Error('connection refused'); } });
    await ex.start(host);
    const t0 = performance.now();
    await expect(ex.consume(batch(4))).rejects.toBeInstanceOf(RetryableError);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(8);
    expect(counter(MetricNames.exporterSendFailed, { reason: 'retries_exhausted' })).toBe(4);
    expect(counter(MetricNames.exporterSent)).toBe(0);
    await ex.shutdown();
  });

  it('gives up at once when Retry-After exceeds the remaining max_elapsed_time', async () => {
    const { settings, config, counter } = setup({ queue: { enabled: false }, retry: { max_elapsed_time: 1000 } });
    let calls = 0;
    const ex = new QueuedRetryExporter(settings, config, { send: async () => { calls++; throw new ThrottledError('429', { retryAfterMs: 60_000 }); } });
    await ex.start(host);
    await expect(ex.consume(batch(1))).rejects.toBeInstanceOf(ThrottledError);
    expect(calls).toBe(1);
    expect(counter(MetricNames.exporterSendFailed, { reason: 'retries_exhausted' })).toBe(1);
  });

  it('retry_on_failure.enabled false: one attempt only', async () => {
    const { settings, config } = setup({ queue: { enabled: false }, retry: { enabled: false } });
    let calls = 0;
    const ex = new QueuedRetryExporter(settings, config, { send: async () => { calls++; throw new RetryableError('503'); } });
    await ex.start(host);
    await expect(ex.consume(batch(1))).rejects.toThrow('503');
    expect(calls).toBe(1);
  });

  it('refuses with ThrottledError when the queue is full and counts enqueue_failed', async () => {
    const { settings, config, counter } = setup({ queue: { queue_size: 2 } });
    const gate = deferred();
    let inSend = 0;
    const ex = new QueuedRetryExporter(settings, config, { send: async () => { inSend++; await gate.promise; } });
    await ex.start(host);
    await ex.consume(batch(1));
    await until(() => inSend === 1); // the worker holds batch 1; the queue is empty again
    await ex.consume(batch(2));
    await ex.consume(batch(3));
    expect(ex.queueSize).toBe(2);
    expect(ex.queuedRecords).toBe(5);
    const err = await ex.consume(batch(7)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBe(1000);
    expect((err as Error).message).toContain(ID);
    expect(counter(MetricNames.exporterEnqueueFailed)).toBe(7);
    gate.resolve();
    await ex.shutdown();
    expect(counter(MetricNames.exporterSent)).toBe(6);
  });

  it('drop_oldest evicts the oldest queued batch, counted as queue_full', async () => {
    const { settings, config, counter } = setup({ queue: { queue_size: 2, drop_oldest: true } });
    const gate = deferred();
    const sent: number[] = [];
    const ex = new QueuedRetryExporter(settings, config, {
      send: async (b) => { await gate.promise; sent.push((b as ReturnType<typeof batch>).tag); },
    });
    await ex.start(host);
    await ex.consume(batch(1, 1));
    await until(() => ex.queueSize === 0);
    await ex.consume(batch(2, 2));
    await ex.consume(batch(3, 3));
    await ex.consume(batch(4, 4));
    expect(ex.queueSize).toBe(2);
    expect(counter(MetricNames.exporterSendFailed, { reason: 'queue_full' })).toBe(2);
    gate.resolve();
    await ex.shutdown();
    expect(sent).toEqual([1, 3, 4]);
  });

  it('shutdown drains the queue behind a slow sender, then shuts the sender down', async () => {
    const { settings, config, counter } = setup();
    const events: string[] = [];
    let failedOnce = false;
    const ex = new QueuedRetryExporter(settings, config, {
      send: async (b) => {
        await new Promise((r) => setTimeout(r, 10));
        const tag = (b as ReturnType<typeof batch>).tag;
        if (tag === 2 && !failedOnce) { failedOnce = true; throw new RetryableError('blip'); }
        events.push(`sent ${tag}`);
      },
      shutdown: async () => { events.push('sender shutdown'); },
    });
    await ex.start(host);
    for (let i = 1; i <= 5; i++) await ex.consume(batch(1, i));
    const done = ex.shutdown();
    await expect(ex.consume(batch(1))).rejects.toThrow(/shutting down/);
    await done;
    expect(events).toEqual(['sent 1', 'sent 2', 'sent 3', 'sent 4', 'sent 5', 'sender shutdown']);
    expect(counter(MetricNames.exporterSent)).toBe(5);
    expect(counter(MetricNames.exporterRetries)).toBe(1);
  });

  it('abort() cancels the send in flight and retry waits, counts the rest as dropped, lets shutdown finish', async () => {
    const { settings, config, counter } = setup({ queue: { num_consumers: 2 } });
    const signals: AbortSignal[] = [];
    const ex = new QueuedRetryExporter(settings, config, {
      send: (b, signal) => {
        signals.push(signal);
        // Batch 1 hangs and ignores its signal; batch 2 waits for a long Retry-After.
        if ((b as ReturnType<typeof batch>).tag === 2) return Promise.reject(new ThrottledError('429', { retryAfterMs: 60_000 }));
        return new Promise<void>(() => {});
      },
    });
    await ex.start(host);
    await ex.consume(batch(1, 1));
    await ex.consume(batch(2, 2));
    await until(() => signals.length === 2);
    await ex.consume(batch(4, 3));
    await ex.consume(batch(8, 4));
    const done = ex.shutdown();
    ex.abort('test');
    const t0 = performance.now();
    await done;
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(signals[0]!.aborted).toBe(true);
    expect(counter(MetricNames.exporterSendFailed, { reason: 'shutdown' })).toBe(15);
    expect(counter(MetricNames.exporterSent)).toBe(0);
    expect(ex.queueSize).toBe(0);
  });

  it('timeout aborts a hanging send, which is then retried', async () => {
    const { settings, config, counter } = setup({ timeout: 30 });
    const signals: AbortSignal[] = [];
    const ex = new QueuedRetryExporter(settings, config, {
      send: (_b, signal) => {
        signals.push(signal);
        return signals.length === 1 ? new Promise<void>(() => {}) : Promise.resolve();
      },
    });
    await ex.start(host);
    const t0 = performance.now();
    await ex.consume(batch(2));
    await until(() => counter(MetricNames.exporterSent) === 2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    expect(signals.length).toBe(2);
    expect(signals[0]!.aborted).toBe(true);
    expect(String(signals[0]!.reason)).toContain('timed out after 30ms');
    expect(signals[1]!.aborted).toBe(false);
    expect(counter(MetricNames.exporterRetries)).toBe(1);
    await ex.shutdown();
  });

  it('runs num_consumers sends in parallel, and no more', async () => {
    const { settings, config } = setup({ queue: { num_consumers: 4 } });
    let active = 0;
    let maxActive = 0;
    let done = 0;
    const ex = new QueuedRetryExporter(settings, config, {
      send: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 20));
        active--;
        done++;
      },
    });
    await ex.start(host);
    for (let i = 0; i < 12; i++) await ex.consume(batch(1));
    await ex.shutdown();
    expect(done).toBe(12);
    expect(maxActive).toBe(4);
  });

  it('refuses before start', async () => {
    const { settings, config } = setup();
    const ex = new QueuedRetryExporter(settings, config, { send: async () => {} });
    await expect(ex.consume(batch(1))).rejects.toBeInstanceOf(RetryableError);
  });
});

/** A batch of `ids.length` records whose bodies are the given numbers (one resource, one scope). */
function numbered(ids: number[]): LogsBatch {
  const rl: ResourceLogs = {
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'dl-test' } }], droppedAttributesCount: 0 },
    scopeLogs: [{ scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 }, logRecords: ids.map((id) => ({
      timeUnixNano: 0, observedTimeUnixNano: 0, severityNumber: 9, severityText: 'INFO', body: { intValue: id }, attributes: [],
      droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
    })) as unknown as ResourceLogs['scopeLogs'][number]['logRecords'], schemaUrl: '' }],
    schemaUrl: '',
  };
  return { resourceLogs: [rl], recordCount: ids.length, receivedAt: performance.now() };
}
const idsOf = (b: LogsBatch): number[] =>
  b.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => Number(r.body?.intValue))));

describe('QueuedRetryExporter dead-letter and partial sends', () => {
  async function tempFile(): Promise<{ path: string; cleanup: () => Promise<void> }> {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-dl-'));
    return { path: join(dir, 'nested', 'dir', 'dead.jsonl'), cleanup: () => rm(dir, { recursive: true, force: true }) };
  }

  it('writes a permanently refused batch to the dead-letter file as OTLP/JSON with the reason, counted', async () => {
    const f = await tempFile();
    try {
      const { settings, config, counter } = setup({ deadLetter: f.path });
      const ex = new QueuedRetryExporter(settings, config, { send: async () => { throw new PermanentError('400 mapping failed'); } });
      await ex.start(host);
      await ex.consume(numbered([1, 2, 3]));
      await ex.shutdown();
      expect(counter(DEAD_LETTERED_METRIC)).toBe(3);
      expect(counter(DEAD_LETTERED_METRIC, { reason: 'permanent' })).toBe(3);
      expect(counter(MetricNames.exporterSendFailed)).toBe(0); // dead-lettered, not dropped
      const line = JSON.parse((await readFile(f.path, 'utf8')).trim()) as Record<string, unknown>;
      expect(line['exporter']).toBe(ID);
      expect(line['reason']).toContain('400 mapping failed');
      expect(Number.isNaN(Date.parse(String(line['time'])))).toBe(false);
      const entries = [];
      for await (const e of readDeadLetterFile(f.path)) entries.push(e);
      expect(entries).toHaveLength(1);
      expect(idsOf({ resourceLogs: entries[0]!.resourceLogs, recordCount: 3, receivedAt: 0 })).toEqual([1, 2, 3]);
    } finally {
      await f.cleanup();
    }
  });

  it('PartialSendError: dead-letters the rejected records, retries only the retry part, counts the rest as sent', async () => {
    const f = await tempFile();
    try {
      const { settings, config, counter } = setup({ deadLetter: f.path });
      const attempts: number[][] = [];
      const ex = new QueuedRetryExporter(settings, config, {
        send: async (b) => {
          const ids = idsOf(b);
          attempts.push(ids);
          if (attempts.length === 1) {
            // 1 and 2 taken, 3 refused for good, 4 and 5 to be retried.
            throw new PartialSendError('bulk: some items failed', { rejected: numbered([3]), retry: numbered([4, 5]), retryAfterMs: 10 });
          }
        },
      });
      await ex.start(host);
      await ex.consume(numbered([1, 2, 3, 4, 5]));
      await until(() => attempts.length === 2);
      await ex.shutdown();
      expect(attempts).toEqual([[1, 2, 3, 4, 5], [4, 5]]);
      expect(counter(MetricNames.exporterSent)).toBe(4);
      expect(counter(DEAD_LETTERED_METRIC)).toBe(1);
      expect(counter(MetricNames.exporterRetries)).toBe(1);
      const entries = [];
      for await (const e of readDeadLetterFile(f.path)) entries.push(e);
      expect(entries.map((e) => idsOf({ resourceLogs: e.resourceLogs, recordCount: 0, receivedAt: 0 }))).toEqual([[3]]);
      expect(entries[0]!.reason).toContain('some items failed');
    } finally {
      await f.cleanup();
    }
  });

  it('PartialSendError without a dead-letter file: the rejected records are counted as dropped (permanent)', async () => {
    const { settings, config, counter } = setup();
    const ex = new QueuedRetryExporter(settings, config, {
      send: async () => { throw new PartialSendError('2 items invalid', { rejected: numbered([7, 8]) }); },
    });
    await ex.start(host);
    await ex.consume(numbered([6, 7, 8]));
    await ex.shutdown();
    expect(counter(MetricNames.exporterSent)).toBe(1);
    expect(counter(MetricNames.exporterSendFailed, { reason: 'permanent' })).toBe(2);
    expect(counter(DEAD_LETTERED_METRIC)).toBe(0);
  });

  it('retries exhausted go to the dead-letter file too; queue disabled: the caller still gets the error', async () => {
    const f = await tempFile();
    try {
      const { settings, config, counter } = setup({ deadLetter: f.path, queue: { enabled: false }, retry: { enabled: false } });
      const ex = new QueuedRetryExporter(settings, config, { send: async () => { throw new RetryableError('503'); } });
      await ex.start(host);
      await expect(ex.consume(numbered([9]))).rejects.toThrow('503');
      await ex.shutdown();
      expect(counter(DEAD_LETTERED_METRIC, { reason: 'retries_exhausted' })).toBe(1);
      expect(await readFile(f.path, 'utf8')).toContain('"reason":"retries_exhausted: 503"');
    } finally {
      await f.cleanup();
    }
  });

  it('a dead-letter path that cannot be written: counted as dropped and as dead_letter_failed', async () => {
    const f = await tempFile();
    try {
      // A directory where the file should be: the append fails.
      const { mkdir } = await import('node:fs/promises');
      await mkdir(f.path, { recursive: true });
      const { settings, config, counter } = setup({ deadLetter: f.path });
      const ex = new QueuedRetryExporter(settings, config, { send: async () => { throw new PermanentError('400'); } });
      await ex.start(host);
      await ex.consume(numbered([1, 2]));
      await ex.shutdown();
      expect(counter(MetricNames.exporterSendFailed, { reason: 'permanent' })).toBe(2);
      expect(counter('tributary_exporter_dead_letter_failed_log_records_total')).toBe(2);
    } finally {
      await f.cleanup();
    }
  });
});

describe('QueuedRetryExporter with a persistent queue', () => {
  it('opens the queue from the storage extension; abort leaves unsent batches on disk, counted as neither sent nor dropped', async () => {
    const { DiskBatchQueue } = await import('./disk-queue.js');
    const dir = await mkdtemp(join(tmpdir(), 'tributary-pq-'));
    try {
      const { settings, config, counter } = setup({ queue: { storage: 'file_storage', num_consumers: 1 }, retry: { initial_interval: 10, max_interval: 10 } });
      const opened: string[] = [];
      const storage = {
        start: async () => undefined,
        shutdown: async () => undefined,
        openQueue: async (owner: string, o: { capacity: number; dropOldest: boolean; onDrop: (b: LogsBatch) => void }) => {
          opened.push(owner);
          return DiskBatchQueue.open({
            directory: join(dir, encodeURIComponent(owner)), capacity: o.capacity, maxBytes: 1 << 30, segmentBytes: 1 << 20, fsync: false,
            compactOnStart: true, compactOnRebound: true, dropOldest: o.dropOldest, onDrop: o.onDrop, logger: silentLogger,
          });
        },
      };
      const h = { ...host, getExtension: (id: string) => (id === 'file_storage' ? storage : undefined) } as unknown as Host;
      let down = true;
      const got: number[][] = [];
      const sender: LogsSender = { send: async (b) => { if (down) throw new RetryableError('connection refused'); got.push(idsOf(b)); } };
      const ex = new QueuedRetryExporter(settings, config, sender);
      await ex.start(h);
      expect(opened).toEqual([ID]);
      expect(ex.persistent).toBe(true);
      await ex.consume(numbered([1, 2]));
      await ex.consume(numbered([3]));
      const done = ex.shutdown();
      ex.abort('test');
      await done;
      expect(counter(MetricNames.exporterSendFailed)).toBe(0);
      expect(counter(MetricNames.exporterSent)).toBe(0);

      // Next run: the batches come back and are sent.
      down = false;
      const next = setup({ queue: { storage: 'file_storage', num_consumers: 1 } });
      const ex2 = new QueuedRetryExporter(next.settings, next.config, sender);
      await ex2.start(h);
      await until(() => got.length === 2);
      await ex2.shutdown();
      expect(got.flat().sort()).toEqual([1, 2, 3]);
      expect(next.counter(MetricNames.exporterSent)).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails start when the storage extension is missing', async () => {
    const { settings, config } = setup({ queue: { storage: 'file_storage' } });
    const ex = new QueuedRetryExporter(settings, config, { send: async () => {} });
    await expect(ex.start({ ...host, getExtension: () => undefined })).rejects.toThrow(/extension "file_storage" is not configured/);
  });
});
