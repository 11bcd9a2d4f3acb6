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
  afterAll(async () => {
    for (const e of instances) await e.shutdown();
    if (redisUp && prefix) {
      const { createClient } = await import('redis');
      const client = createClient({ url: 'redis://127.0.0.1:6379' });
      await client.connect();
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) if (keys.length) await client.del(keys);
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
});
