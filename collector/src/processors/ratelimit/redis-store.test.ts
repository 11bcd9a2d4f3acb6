/**
 * The Redis bucket store against the Redis on 127.0.0.1:6379. Skipped with a message when it is not
 * reachable locally; fails when CI=true (CI must exercise the shared mode).
 */
import net from 'node:net';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../telemetry/logger.js';
import { RedisBucketStore, redactRedisUrl } from './redis-store.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

function reachable(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const redisUp = await reachable(6379);
const inCi = process.env.CI === 'true';
if (!redisUp && !inCi) console.warn('skipping: Redis not reachable at 127.0.0.1:6379');

const prefix = `tributary:test:${process.pid}:${Date.now()}:`;
const stores: RedisBucketStore[] = [];
function store(): RedisBucketStore {
  const s = new RedisBucketStore({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: 1000, connectTimeoutMs: 1000, logger: silentLogger });
  stores.push(s);
  return s;
}

afterAll(async () => {
  await Promise.all(stores.map((s) => s.shutdown()));
});

describe('ratelimit redis store', () => {
  it.runIf(!redisUp && inCi)('Redis must be reachable at 127.0.0.1:6379 when CI=true', () => {
    throw new Error('Redis is not reachable at 127.0.0.1:6379; the shared ratelimit store cannot be tested');
  });

  it.skipIf(!redisUp)('two stores sharing a prefix never grant more than burst + refill, under concurrency', async () => {
    const [a, b] = [store(), store()];
    await Promise.all([a.start(), b.start()]);
    const ratePerMs = 100 / 60_000;
    const started = Date.now();
    const calls = [];
    for (let i = 0; i < 40; i++) {
      const s = i % 2 === 0 ? a : b;
      calls.push(s.take([{ key: 'shared:x', ratePerMs, burst: 100, want: 7 }, { key: 'shared:y', ratePerMs, burst: 100, want: 1 }], false));
    }
    const results = await Promise.all(calls);
    const elapsed = Date.now() - started;
    const x = results.reduce((t, r) => t + r.granted[0]!, 0);
    const y = results.reduce((t, r) => t + r.granted[1]!, 0);
    expect(x).toBeGreaterThanOrEqual(100);
    expect(x).toBeLessThanOrEqual(100 + Math.ceil(elapsed * ratePerMs) + 1);
    expect(y).toBe(40);
  });

  it.skipIf(!redisUp)('all-or-nothing takes nothing when one bucket is short, and reports the wait', async () => {
    const s = store();
    await s.start();
    const ratePerMs = 10 / 1000;
    expect((await s.take([{ key: 'aon:b', ratePerMs, burst: 20, want: 20 }], true)).granted).toEqual([20]);
    const refused = await s.take([{ key: 'aon:a', ratePerMs, burst: 20, want: 20 }, { key: 'aon:b', ratePerMs, burst: 20, want: 5 }], true);
    expect(refused.granted).toEqual([0, 0]);
    expect(refused.retryAfterMs).toBeGreaterThan(300);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(500);
    // `aon:a` was not charged for the refused batch.
    expect((await s.take([{ key: 'aon:a', ratePerMs, burst: 20, want: 20 }], true)).granted).toEqual([20]);
  });

  it.skipIf(!redisUp)('falls back to EVAL when the script cache was flushed, and sets an expiry on buckets', async () => {
    const s = store();
    await s.start();
    await s.take([{ key: 'evalsha:k', ratePerMs: 1, burst: 5, want: 1 }], false);
    const admin = createClient({ url: REDIS_URL });
    await admin.connect();
    try {
      await admin.scriptFlush();
      const r = await s.take([{ key: 'evalsha:k', ratePerMs: 0.001, burst: 5, want: 10 }], false);
      expect(r.granted[0]).toBe(4);
      const ttl = await admin.pTTL(`${prefix}evalsha:k`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5000 + 1000);
    } finally {
      await admin.close();
    }
  });
});

describe('ratelimit redis store: Redis down', () => {
  it('start does not hang or throw; take fails fast instead of queueing', async () => {
    // A port nobody listens on.
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const s = new RedisBucketStore({ url: `redis://user:hunter2@127.0.0.1:${port}`, keyPrefix: 'x:', timeoutMs: 250, connectTimeoutMs: 300, logger: silentLogger });
    stores.push(s);
    const t0 = Date.now();
    await s.start();
    expect(Date.now() - t0).toBeLessThan(2000);
    const t1 = Date.now();
    await expect(s.take([{ key: 'k', ratePerMs: 1, burst: 1, want: 1 }], false)).rejects.toThrow();
    expect(Date.now() - t1).toBeLessThan(500);
    expect(redactRedisUrl(`redis://user:hunter2@127.0.0.1:${port}`)).not.toContain('hunter2');
  });
});
