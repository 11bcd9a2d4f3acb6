import { describe, expect, it } from 'vitest';
import type { LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { Metrics } from '../../telemetry/metric-names.js';
import { RetryPolicy } from '../retry.js';
import { ExporterAccounting } from './accounting.js';
import { RetrySender } from './retry-sender.js';
import { TimeoutSender } from './timeout-sender.js';
import { batchOf, senderSettings } from './test-support.js';

const policy = (over: Partial<ConstructorParameters<typeof RetryPolicy>[0]> = {}) =>
  new RetryPolicy({ enabled: true, initial_interval: 1, randomization_factor: 0, multiplier: 1, max_interval: 1, max_elapsed_time: 0, ...over });

function chain(send: (b: LogsBatch) => Promise<void>, over: Partial<ConstructorParameters<typeof RetryPolicy>[0]> = {}, signal = new AbortController().signal) {
  const { settings, counter } = senderSettings();
  const accounting = new ExporterAccounting(settings, undefined);
  const retry = new RetrySender(new TimeoutSender('x', { send }, 0), policy(over), accounting, signal, () => performance.now());
  return { retry, counter };
}

describe('RetrySender', () => {
  it('retries retryable failures until sent, counting the retries', async () => {
    let n = 0;
    const { retry, counter } = chain(() => (++n < 3 ? Promise.reject(new RetryableError('503')) : Promise.resolve()));
    expect(await retry.send(batchOf(4), false)).toEqual(['sent', undefined]);
    expect(counter(Metrics.exporterRetries.name)).toBe(2);
    expect(counter(Metrics.exporterSent.name)).toBe(4);
  });

  it('a permanent error is not retried and is given up on', async () => {
    const { retry, counter } = chain(() => Promise.reject(new PermanentError('400')));
    const [outcome] = await retry.send(batchOf(2), false);
    expect(outcome).toBe('permanent');
    expect(counter(Metrics.exporterSendFailed.name, { reason: 'permanent' })).toBe(2);
    expect(counter(Metrics.exporterRetries.name)).toBe(0);
  });

  it('a PartialSendError: accepted ones count as sent, rejected are given up, only the rest is sent again', async () => {
    const sizes: number[] = [];
    const { retry, counter } = chain((b) => {
      sizes.push(b.recordCount);
      return sizes.length === 1 ? Promise.reject(new PartialSendError('some', { retry: batchOf(2), rejected: batchOf(1) })) : Promise.resolve();
    });
    expect((await retry.send(batchOf(6), false))[0]).toBe('sent');
    expect(sizes).toEqual([6, 2]);
    expect(counter(Metrics.exporterSent.name)).toBe(5);
    expect(counter(Metrics.exporterSendFailed.name, { reason: 'permanent' })).toBe(1);
  });

  it('gives up when retries are disabled (exhausted), and honours Retry-After within max_elapsed_time', async () => {
    const off = chain(() => Promise.reject(new ThrottledError('429')), { enabled: false });
    expect((await off.retry.send(batchOf(3), false))[0]).toBe('exhausted');
    expect(off.counter(Metrics.exporterSendFailed.name, { reason: 'retries_exhausted' })).toBe(3);
    const long = chain(() => Promise.reject(new ThrottledError('429', { retryAfterMs: 60_000 })), { max_elapsed_time: 1000 });
    expect((await long.retry.send(batchOf(1), false))[0]).toBe('exhausted');
  });

  it('an abort ends the wait: shutdown outcome, given up unless kept on disk', async () => {
    const ac = new AbortController();
    const { retry, counter } = chain(() => Promise.reject(new RetryableError('down')), { initial_interval: 60_000, max_interval: 60_000 }, ac.signal);
    const p = retry.send(batchOf(2), true);
    setTimeout(() => ac.abort(new Error('stop')), 10);
    expect((await p)[0]).toBe('shutdown');
    expect(counter(Metrics.exporterSendFailed.name, { reason: 'shutdown' })).toBe(0);
  });
});
