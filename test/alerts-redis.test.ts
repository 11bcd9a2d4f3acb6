/**
 * Two alerts exporters (two instances) sharing the local Redis (127.0.0.1:6379): each sees the same
 * matching records and fires, and each transition is notified exactly once in all. Skipped with a message
 * locally when Redis is not running; failing when CI=true (.ci/run starts it).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Long from 'long';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceLogs } from '@tributary/otlp';
import { startRecordingServer, testHost, testSettings, type RecordingServer } from './kit/index.js';
import { tempDir, waitFor } from './support/collector-process.js';
import { AlertsExporter, alertsConfigSchema } from '../collector/src/exporters/alerts/index.js';

const inCi = process.env.CI === 'true';
const redisUp = await new Promise<boolean>((resolve) => {
  const s = net.connect(6379, '127.0.0.1', () => { s.end(); resolve(true); });
  s.on('error', () => resolve(false));
});
if (!redisUp && !inCi) console.warn('skipping: no Redis at 127.0.0.1:6379');

function batch(body: string, sev: number): ResourceLogs[] {
  return [{
    resource: { attributes: [{ key: 'project.id', value: { stringValue: 'shop' } }, { key: 'service.name', value: { stringValue: 'checkout' } }], droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [{ timeUnixNano: Long.fromNumber(Date.now()).multiply(1_000_000), observedTimeUnixNano: Long.ZERO, severityNumber: sev, severityText: '', body: { stringValue: body }, attributes: [], droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '' }] }],
  }];
}

describe('alerts across two instances with Redis', () => {
  let hook: RecordingServer;
  let dir = '';
  const instances: AlertsExporter[] = [];
  beforeAll(async () => {
    hook = await startRecordingServer(() => ({ status: 200 }));
    dir = tempDir('trib-alerts-redis-');
  });
  let prefix = '';
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const e of instances) await e.shutdown();
    if (redisUp && prefix) {
      const { createClient } = await import('redis');
      const client = createClient({ url: 'redis://127.0.0.1:6379' });
      await client.connect();
      for (const p of [prefix, ...prefixes]) for await (const keys of client.scanIterator({ MATCH: `${p}*` })) if (keys.length) await client.del(keys);
      await client.close();
    }
    await hook.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.runIf(!redisUp && inCi)('Redis must be running when CI=true', () => {
    throw new Error('no Redis at 127.0.0.1:6379 (CI=true): .ci/run starts it');
  });

  it.skipIf(!redisUp)('each transition is notified exactly once', async () => {
    prefix = `tributary-test-${randomUUID()}:`;
    for (const name of ['a', 'b']) {
      const config = alertsConfigSchema.parse({
        history: { path: path.join(dir, name, 'alerts.db') },
        evaluation_interval: '50ms',
        redis: { url: 'redis://127.0.0.1:6379', key_prefix: prefix },
        notifiers: { webhook: { url: hook.url } },
        rules: [{ name: 'db', kind: 'pattern', pattern: '(?i)database.*failed', window: '3s', cooldown: '0s', notify: ['webhook'] }],
      });
      const e = new AlertsExporter(testSettings(`alerts/${name}`), config);
      await e.start(testHost());
      instances.push(e);
    }
    const events = (): string[] => hook.requests.map((r) => (JSON.parse(r.body.toString()) as { event: string }).event);
    const send = async (): Promise<void> => {
      for (const e of instances) await e.send({ resourceLogs: batch('database write failed', 17), recordCount: 1, receivedAt: performance.now() });
    };
    await send();
    // Both instances fire (observing is synchronous); one notification.
    expect(instances.map((e) => e.engine!.active(undefined).length)).toEqual([1, 1]);
    await Promise.all(instances.map((e) => e.dispatcher!.idle()));
    expect(events()).toEqual(['firing']);
    // Both resolve (1s window): one resolved notification.
    await waitFor('both resolved', () => instances.every((e) => e.engine!.active(undefined).length === 0) || undefined, 10_000);
    await Promise.all(instances.map((e) => e.dispatcher!.idle()));
    expect(events()).toEqual(['firing', 'resolved']);
    // It fires again: a new transition, notified once more.
    await send();
    expect(instances.map((e) => e.engine!.active(undefined).length)).toEqual([1, 1]);
    await Promise.all(instances.map((e) => e.dispatcher!.idle()));
    expect(events()).toEqual(['firing', 'resolved', 'firing']);
  }, 20_000);

  it.skipIf(!redisUp)('count rules count every instance\'s records (shared per-second counters)', async () => {
    const p = `tributary-test-${randomUUID()}:`;
    prefixes.push(p);
    const before = hook.requests.length;
    const pair: AlertsExporter[] = [];
    for (const name of ['c', 'd']) {
      const config = alertsConfigSchema.parse({
        history: { path: path.join(dir, name, 'alerts.db') },
        evaluation_interval: '1h',
        redis: { url: 'redis://127.0.0.1:6379', key_prefix: p },
        notifiers: { webhook: { url: hook.url } },
        rules: [{ name: 'errors', kind: 'count', query: 'severity>=error', threshold: 5, window: '1m', notify: ['webhook'] }],
      });
      const e = new AlertsExporter(testSettings(`alerts/${name}`), config);
      await e.start(testHost());
      instances.push(e);
      pair.push(e);
    }
    const three = async (e: AlertsExporter): Promise<void> => {
      for (let i = 0; i < 3; i++) await e.send({ resourceLogs: batch('payment failed', 17), recordCount: 1, receivedAt: performance.now() });
    };
    await three(pair[0]!);
    await three(pair[1]!);
    // Alone, each instance has 3 (not above 5).
    expect(pair.map((e) => e.engine!.active(undefined).length)).toEqual([0, 0]);
    // After exchanging counts, each sees 6: both fire, one notification in all.
    await pair[0]!.evaluate();
    await pair[1]!.evaluate();
    await pair[0]!.evaluate();
    expect(pair.map((e) => e.engine!.active(undefined)[0]?.value)).toEqual([6, 6]);
    await Promise.all(pair.map((e) => e.dispatcher!.idle()));
    const sent = hook.requests.slice(before).map((r) => JSON.parse(r.body.toString()) as { event: string; alert: { rule: string; value: number } });
    expect(sent.map((b) => `${b.event}:${b.alert.rule}:${b.alert.value}`)).toEqual(['firing:errors:6']);
  }, 20_000);
});
