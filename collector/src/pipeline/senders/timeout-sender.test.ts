import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../errors.js';
import { TimeoutSender } from './timeout-sender.js';
import { batchOf } from './test-support.js';

describe('TimeoutSender', () => {
  it('passes a send through and forgets the attempt', async () => {
    let seen: AbortSignal | undefined;
    const t = new TimeoutSender('x', { send: (_b, signal) => { seen = signal; return Promise.resolve(); } }, 1000);
    await t.send(batchOf(1));
    expect(seen?.aborted).toBe(false);
    expect(t.attemptsInFlight).toBe(0);
  });

  it('settles a hung send with a RetryableError when the timeout expires, and aborts its signal', async () => {
    let seen: AbortSignal | undefined;
    const t = new TimeoutSender('x', { send: (_b, signal) => { seen = signal; return new Promise(() => undefined); } }, 20);
    const err = await t.send(batchOf(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toBe('exporter x: send timed out after 20ms');
    expect(seen?.aborted).toBe(true);
    expect(t.attemptsInFlight).toBe(0);
  });

  it('abortAll ends every attempt in flight with the given error; a sender error passes as is', async () => {
    const t = new TimeoutSender('x', { send: () => new Promise(() => undefined) }, 0);
    const a = t.send(batchOf(1)).catch((e: unknown) => e);
    const b = t.send(batchOf(2)).catch((e: unknown) => e);
    expect(t.attemptsInFlight).toBe(2);
    const stop = new RetryableError('stop');
    t.abortAll(stop);
    expect(await a).toBe(stop);
    expect(await b).toBe(stop);
    const bad = new PermanentError('bad');
    const p = new TimeoutSender('x', { send: () => Promise.reject(bad) }, 0);
    await expect(p.send(batchOf(1))).rejects.toBe(bad);
    const thrower = new TimeoutSender('x', { send: () => { throw bad; } }, 0);
    await expect(thrower.send(batchOf(1))).rejects.toBe(bad);
  });
});
