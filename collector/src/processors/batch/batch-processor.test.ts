import { afterEach, describe, expect, it } from 'vitest';
import { RecordingConsumer, testSettings } from '../../../../test/kit/index.js';
import { countLogRecords, nanosFromMillis, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import type { LogsBatch, LogsConsumer } from '../../component.js';
import { ThrottledError } from '../../errors.js';
import { MetricNames, Telemetry, type Counter, type Histogram } from '../../telemetry/metrics.js';
import { BATCH_SEND_SIZE_METRIC, BatchProcessor, batchProcessorConfigSchema, batchProcessorFactory, splitResourceLogs } from './index.js';

let seq = 0;
function record(): LogRecord {
  const id = seq++;
  return {
    timeUnixNano: nanosFromMillis(1_700_000_000_000 + id),
    observedTimeUnixNano: nanosFromMillis(1_700_000_000_000 + id),
    severityNumber: 9,
    severityText: 'INFO',
    body: { intValue: id },
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: new Uint8Array(0),
    spanId: new Uint8Array(0),
    eventName: '',
  };
}

/** A ResourceLogs list shaped by `shape`: one array per resource, one number (records) per scope. */
function resourceLogs(shape: number[][], service = 'svc'): ResourceLogs[] {
  return shape.map((scopes, r) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: `${service}-${r}` } }], droppedAttributesCount: 0 },
    schemaUrl: `rs${r}`,
    scopeLogs: scopes.map((n, s) => ({
      scope: { name: `scope-${s}`, version: '1', attributes: [], droppedAttributesCount: 0 },
      schemaUrl: `ss${s}`,
      logRecords: Array.from({ length: n }, record),
    })),
  }));
}

function batchOf(shape: number[][], receivedAt = performance.now()): LogsBatch {
  const rls = resourceLogs(shape);
  return { resourceLogs: rls, recordCount: countLogRecords(rls), receivedAt };
}

function recordsOf(rls: readonly ResourceLogs[]): LogRecord[] {
  const out: LogRecord[] = [];
  for (const rl of rls) for (const sl of rl.scopeLogs) out.push(...sl.logRecords);
  return out;
}

/** Settlement state of a promise, observable without awaiting it. */
function track(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown; done: Promise<void> } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown; done: Promise<void> } = { state: 'pending', done: Promise.resolve() };
  t.done = p.then(
    () => void (t.state = 'resolved'),
    (err: unknown) => {
      t.state = 'rejected';
      t.error = err;
    },
  );
  return t;
}

const flushMicrotasks = () => new Promise<void>((r) => setImmediate(r));

let processors: BatchProcessor[] = [];
function make(config: Record<string, unknown>, next: LogsConsumer) {
  const telemetry = new Telemetry();
  const settings = testSettings('batch', telemetry);
  // The tests below describe wait_for_result mode unless they say otherwise.
  const p = new BatchProcessor(settings, batchProcessorConfigSchema.parse({ wait_for_result: true, ...config }), next);
  processors.push(p);
  return { p, telemetry };
}

afterEach(async () => {
  await Promise.allSettled(processors.map((p) => p.shutdown()));
  processors = [];
});

describe('batch config', () => {
  it('has upstream defaults', () => {
    expect(batchProcessorConfigSchema.parse({})).toEqual({ wait_for_result: false, max_pending_records: 0, send_batch_size: 8192, send_batch_max_size: 0, timeout: 200 });
    expect(batchProcessorFactory.type).toBe('batch');
  });
  it('rejects send_batch_max_size below send_batch_size, naming the key', () => {
    const r = batchProcessorConfigSchema.safeParse({ send_batch_size: 100, send_batch_max_size: 50 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['send_batch_max_size']);
    expect(r.error!.issues[0]!.message).toContain('send_batch_size (100)');
    expect(batchProcessorConfigSchema.safeParse({ send_batch_size: 100, send_batch_max_size: 100 }).success).toBe(true);
  });
  it('rejects unknown keys and bad durations', () => {
    expect(batchProcessorConfigSchema.safeParse({ metadata_keys: [1] }).success).toBe(false);
    expect(batchProcessorConfigSchema.safeParse({ timeout: 'soon' }).success).toBe(false);
  });
});

describe('splitResourceLogs', () => {
  it('cuts inside a scope, sharing records and resource/scope objects', () => {
    const rls = resourceLogs([[2, 3], [4]]);
    const all = recordsOf(rls);
    const [head, tail] = splitResourceLogs(rls, 3);
    expect(recordsOf(head)).toEqual(all.slice(0, 3));
    expect(recordsOf(tail)).toEqual(all.slice(3));
    for (let i = 0; i < 3; i++) expect(recordsOf(head)[i]).toBe(all[i]); // same objects, not copies
    expect(head[0]!.resource).toBe(rls[0]!.resource);
    expect(head[0]!.scopeLogs[0]).toBe(rls[0]!.scopeLogs[0]); // whole scope shared
    expect(head[0]!.scopeLogs[1]!.scope).toBe(rls[0]!.scopeLogs[1]!.scope);
    expect(tail[0]!.schemaUrl).toBe('rs0');
    expect(tail[1]).toBe(rls[1]); // untouched resource shared
    expect(rls[0]!.scopeLogs[1]!.logRecords).toHaveLength(3); // input not mutated
  });
  it('cuts at a resource boundary', () => {
    const rls = resourceLogs([[2], [3]]);
    const [head, tail] = splitResourceLogs(rls, 2);
    expect(head).toEqual([rls[0]]);
    expect(tail).toEqual([rls[1]]);
  });
});

describe('batch processor', () => {
  it('sends when send_batch_size records are pending, and resolves contributors only after downstream accepts', async () => {
    const next = new RecordingConsumer(false);
    const { p } = make({ send_batch_size: 10, timeout: '1h' }, next);
    const a = track(p.consume(batchOf([[4]])));
    const b = track(p.consume(batchOf([[2], [4]])));
    expect(next.calls).toHaveLength(1);
    expect(next.calls[0]!.batch.recordCount).toBe(10);
    expect(countLogRecords(next.calls[0]!.batch.resourceLogs)).toBe(10);
    expect(next.calls[0]!.batch.resourceLogs).toHaveLength(3);
    await flushMicrotasks();
    expect(a.state).toBe('pending'); // back-pressure: not acknowledged before downstream
    expect(b.state).toBe('pending');
    next.calls[0]!.answer.resolve();
    await Promise.all([a.done, b.done]);
    expect(a.state).toBe('resolved');
    expect(b.state).toBe('resolved');
  });

  it('sends after timeout when the size is not reached', async () => {
    const next = new RecordingConsumer();
    const { p } = make({ send_batch_size: 1000, timeout: '50ms' }, next);
    const started = performance.now();
    const done = p.consume(batchOf([[3]]));
    expect(next.calls).toHaveLength(0);
    await next.waitForCalls(1); // bounded by the test timeout
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(next.calls[0]!.batch.recordCount).toBe(3);
    await done;
  });

  it('timeout 0 sends every arrival at once', async () => {
    const next = new RecordingConsumer();
    const { p } = make({ send_batch_size: 1000, timeout: 0 }, next);
    await p.consume(batchOf([[3]]));
    await p.consume(batchOf([[2]]));
    expect(next.calls.map((c) => c.batch.recordCount)).toEqual([3, 2]);
  });

  it('splits at send_batch_max_size without losing, duplicating or reordering records', async () => {
    const next = new RecordingConsumer();
    const { p, telemetry } = make({ send_batch_size: 5, send_batch_max_size: 7, timeout: '1h' }, next);
    const inputs = [batchOf([[3, 0, 2], [9]]), batchOf([[1]]), batchOf([[4], [], [6, 5]]), batchOf([[2]])];
    const expected = inputs.flatMap((b) => recordsOf(b.resourceLogs));
    const before = inputs.map((b) => JSON.stringify(recordsOf(b.resourceLogs).map((r) => r.body)));
    const results = inputs.map((b) => p.consume(b));
    await p.shutdown(); // sends what is left below send_batch_size
    await Promise.all(results);
    const sent = next.calls.flatMap((c) => recordsOf(c.batch.resourceLogs));
    expect(sent).toHaveLength(expected.length);
    for (let i = 0; i < expected.length; i++) expect(sent[i]).toBe(expected[i]);
    for (const c of next.calls) {
      expect(c.batch.recordCount).toBeLessThanOrEqual(7);
      expect(c.batch.recordCount).toBe(countLogRecords(c.batch.resourceLogs));
    }
    // the input batches are untouched (mutatesData: false)
    expect(inputs.map((b) => JSON.stringify(recordsOf(b.resourceLogs).map((r) => r.body)))).toEqual(before);
    expect(p.mutatesData).toBe(false);
    const labels = { processor: 'batch' };
    expect((telemetry.find(MetricNames.processorIncoming) as Counter).total(labels)).toBe(expected.length);
    expect((telemetry.find(MetricNames.processorOutgoing) as Counter).total(labels)).toBe(expected.length);
    const hist = (telemetry.find(BATCH_SEND_SIZE_METRIC) as Histogram).bind(labels);
    expect(hist.count).toBe(next.calls.length);
    expect(hist.sum).toBe(expected.length);
  });

  it('propagates a downstream failure to every contributor of the failed batch', async () => {
    const err = new ThrottledError('queue full', { retryAfterMs: 1000 });
    const next = new RecordingConsumer(err);
    const { p } = make({ send_batch_size: 6, timeout: '1h' }, next);
    const a = track(p.consume(batchOf([[2]])));
    const b = track(p.consume(batchOf([[4]])));
    await Promise.all([a.done, b.done]);
    expect(a.state).toBe('rejected');
    expect(a.error).toBe(err);
    expect(b.error).toBe(err);
  });

  it('a contributor split over two downstream calls settles after both; a failure of either rejects it and drops its rest', async () => {
    const next = new RecordingConsumer(false);
    const { p } = make({ send_batch_size: 4, send_batch_max_size: 4, timeout: '1h' }, next);
    const a = track(p.consume(batchOf([[3]])));
    const b = track(p.consume(batchOf([[6]]))); // 9 pending → 4 + 4 sent, 1 of b waits
    expect(next.calls.map((c) => c.batch.recordCount)).toEqual([4, 4]);
    next.calls[0]!.answer.resolve();
    await a.done;
    expect(a.state).toBe('resolved');
    next.calls[1]!.answer.reject(new Error('boom'));
    await b.done;
    expect(b.state).toBe('rejected');
    expect((b.error as Error).message).toBe('boom');
    await p.shutdown();
    expect(next.calls).toHaveLength(2); // b's last record was not sent after b failed
  });

  it('receivedAt of a merged batch is the earliest', async () => {
    const next = new RecordingConsumer();
    const { p } = make({ send_batch_size: 4, timeout: '1h' }, next);
    const a = p.consume(batchOf([[2]], 500));
    const b = p.consume(batchOf([[2]], 100));
    await Promise.all([a, b]);
    expect(next.calls[0]!.batch.receivedAt).toBe(100);
  });

  it('shutdown flushes what is pending and waits for downstream', async () => {
    const next = new RecordingConsumer(false);
    const { p } = make({ send_batch_size: 1000, timeout: '1h' }, next);
    const a = track(p.consume(batchOf([[5]])));
    const stopping = track(p.shutdown());
    expect(next.calls).toHaveLength(1);
    expect(next.calls[0]!.batch.recordCount).toBe(5);
    await flushMicrotasks();
    expect(stopping.state).toBe('pending');
    next.calls[0]!.answer.resolve();
    await stopping.done;
    await a.done;
    expect(a.state).toBe('resolved');
    // after shutdown, batches pass straight through
    next.auto = true;
    await p.consume(batchOf([[1]]));
    expect(next.calls).toHaveLength(2);
  });

  it('keeps order and settles everyone across thousands of small contributions (queue compaction)', async () => {
    const next = new RecordingConsumer();
    const { p } = make({ send_batch_size: 1100, send_batch_max_size: 1100, timeout: '1h' }, next);
    // Every 1100th contribution is large, so a flush leaves a split one queued behind 1099 sent ones.
    const inputs = Array.from({ length: 3000 }, (_, i) => batchOf([[i % 1100 === 1099 ? 50 : 1]]));
    const results = inputs.map((b) => p.consume(b));
    await p.shutdown();
    await Promise.all(results);
    const sent = next.calls.flatMap((c) => recordsOf(c.batch.resourceLogs));
    const expected = inputs.flatMap((b) => recordsOf(b.resourceLogs));
    expect(sent.length).toBe(expected.length);
    expect(sent.every((r, i) => r === expected[i])).toBe(true);
    expect(next.calls.every((c) => c.batch.recordCount <= 1100)).toBe(true);
  });

  it('resolves an empty batch without sending', async () => {
    const next = new RecordingConsumer();
    const { p } = make({ send_batch_size: 1, timeout: '1h' }, next);
    await p.consume({ resourceLogs: [], recordCount: 0, receivedAt: 0 });
    expect(next.calls).toHaveLength(0);
  });
});

describe('batch processor, default early acknowledgement', () => {
  it('acknowledges at once, sends after timeout, and holds a refused batch (429 to senders) until downstream takes it', async () => {
    const got: LogsBatch[] = [];
    let refuse = true;
    const next: LogsConsumer = {
      consume: async (b) => {
        if (refuse) throw new ThrottledError('queue full', { retryAfterMs: 100 });
        got.push(b);
      },
    };
    const { p, telemetry } = make({ wait_for_result: false, timeout: '20ms' }, next);
    const first = track(p.consume(batchOf([[3]])));
    await flushMicrotasks();
    expect(first.state).toBe('resolved'); // not held for the timeout
    // The flush is refused: the batch is held and new data is pushed back.
    const start = Date.now();
    while (Date.now() - start < 2000) {
      const r = await p.consume(batchOf([[1]])).then(() => 'ok', (e: unknown) => e);
      if (r instanceof ThrottledError) break;
      await new Promise((res) => setTimeout(res, 5));
    }
    const refused = await p.consume(batchOf([[2]])).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(ThrottledError);
    expect((refused as ThrottledError).retryAfterMs).toBe(100);
    refuse = false;
    // After the hold delay the held records go out and new data is accepted again.
    const deadline = Date.now() + 3000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    expect(got.length).toBeGreaterThan(0);
    await p.consume(batchOf([[1]]));
    await p.shutdown();
    const delivered = got.reduce((n, b) => n + countLogRecords(b.resourceLogs), 0);
    const refusedCount = (telemetry.find(MetricNames.processorRefused) as Counter).total();
    // Every acknowledged record was delivered: 3 first + the accepted probes + the last one.
    const incoming = (telemetry.find(MetricNames.processorIncoming) as Counter).total();
    expect(delivered).toBe(incoming - refusedCount);
  });

  it('refuses with 429 when more than max_pending_records would wait', async () => {
    const next: LogsConsumer = { consume: async () => undefined };
    const { p } = make({ wait_for_result: false, timeout: '1s', send_batch_size: 100, max_pending_records: 10 }, next);
    await p.consume(batchOf([[6]]));
    await expect(p.consume(batchOf([[6]]))).rejects.toBeInstanceOf(ThrottledError);
  });
});

describe('batch processor: a batch larger than max_pending_records', () => {
  it('is taken (not refused forever) when nothing is held, after sending on what is pending; split at send_batch_max_size', async () => {
    const next = new RecordingConsumer();
    const { p } = make({ wait_for_result: false, timeout: '1s', send_batch_size: 100, send_batch_max_size: 8192, max_pending_records: 0 }, next);
    // The default limit is 4 × max(send_batch_size, send_batch_max_size, 1024) = 32768.
    await p.consume(batchOf([[5]]));
    await p.consume(batchOf([[40_000]]));
    const sizes = next.calls.map((c) => c.batch.recordCount);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(40_005);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(8192);
    expect(sizes[0]).toBe(5); // what was pending went first
    await p.shutdown();
  });
});

describe('batch processor: held batches at shutdown (a full queue during a reload)', () => {
  it('are offered again after the refusal’s Retry-After instead of being dropped at the first refusal', async () => {
    let refusals = 2;
    const accepted: number[] = [];
    const next: LogsConsumer = {
      consume: async (b) => {
        if (refusals > 0) {
          refusals--;
          throw new ThrottledError('queue full', { retryAfterMs: 50 });
        }
        accepted.push(b.recordCount);
      },
    };
    const { p, telemetry } = make({ wait_for_result: false, timeout: '10s', send_batch_size: 5 }, next);
    await p.consume(batchOf([[5]])); // sent at once, refused, held
    await flushMicrotasks();
    await p.shutdown(); // refused once more, then taken
    expect(accepted).toEqual([5]);
    expect((telemetry.find(MetricNames.processorDropped) as Counter | undefined)?.total() ?? 0).toBe(0);
  });
});
