import { describe, expect, it } from 'vitest';
import type { Host, LogsBatch } from '../../component.js';
import { PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { Metrics } from '../../telemetry/metric-names.js';
import type { SendingQueueConfig } from '../exporter-helper-config.js';
import { RetryPolicy } from '../retry.js';
import { ExporterAccounting } from './accounting.js';
import { QueueSender } from './queue-sender.js';
import { RetrySender } from './retry-sender.js';
import { TimeoutSender } from './timeout-sender.js';
import { batchOf, senderSettings } from './test-support.js';

function queueSender(send: (b: LogsBatch) => Promise<void>, over: Partial<SendingQueueConfig> = {}) {
  const { settings, counter } = senderSettings();
  const accounting = new ExporterAccounting(settings, undefined);
  const signal = new AbortController().signal;
  const policy = new RetryPolicy({ enabled: false, initial_interval: 1, randomization_factor: 0, multiplier: 1, max_interval: 1, max_elapsed_time: 0 });
  const retry = new RetrySender(new TimeoutSender('x', { send }, 0), policy, accounting, signal, () => performance.now());
  const config: SendingQueueConfig = { enabled: true, num_consumers: 1, queue_size: 2, drop_oldest: false, ...over };
  return { q: new QueueSender(settings, config, retry, accounting, signal, undefined), counter, settings };
}

const host = { getExtension: () => undefined } as unknown as Host;

describe('QueueSender', () => {
  it('queues, drains with the workers, and refuses with back-pressure when full', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const sent: number[] = [];
    const { q, counter } = queueSender(async (b) => { await gate; sent.push(b.recordCount); });
    await q.open(host);
    q.startWorkers();
    await q.consume(batchOf(1)); // taken by the worker
    await new Promise((r) => setTimeout(r, 5));
    await q.consume(batchOf(2));
    await q.consume(batchOf(3));
    const full = await q.consume(batchOf(4)).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(ThrottledError);
    expect(counter(Metrics.exporterEnqueueFailed.name)).toBe(4);
    expect(q.capacity).toBe(2);
    release();
    await q.close();
    await q.drain();
    expect(sent).toEqual([1, 2, 3]);
    expect(q.size).toBe(0);
  });

  it('queue disabled: the caller waits for the send and gets its outcome as a typed error', async () => {
    const ok = queueSender(() => Promise.resolve(), { enabled: false });
    await ok.q.consume(batchOf(1));
    expect(ok.counter(Metrics.exporterSent.name)).toBe(1);
    const bad = queueSender(() => Promise.reject(new PermanentError('400')), { enabled: false });
    await expect(bad.q.consume(batchOf(1))).rejects.toBeInstanceOf(PermanentError);
    const down = queueSender(() => Promise.reject(new RetryableError('503')), { enabled: false });
    await expect(down.q.consume(batchOf(1))).rejects.toBeInstanceOf(RetryableError);
  });

  it('a storage id naming no extension is a start error', async () => {
    const { q } = queueSender(() => Promise.resolve(), { storage: 'file_storage/x' });
    await expect(q.open(host)).rejects.toThrow('sending_queue.storage: extension "file_storage/x" is not configured in service.extensions');
  });
});
