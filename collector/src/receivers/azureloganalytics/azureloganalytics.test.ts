import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { afterEach, describe, expect, it } from 'vitest';
import type { Extension } from '../../component.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { attr, RecordingConsumer, testHost, testSettings } from '../common/test-support.js';
import { azureLogAnalyticsConfigSchema } from './index.js';
import { AzureLogAnalyticsReceiver } from './receiver.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('azureloganalytics receiver', () => {
  it('queries a TimeGenerated window with overlap, de-duplicates, refreshes an expired token, backs off on 429/500', async () => {
    const base = Date.parse('2024-06-01T00:00:00Z');
    const rows: [string, string, number, string][] = [];
    for (let i = 0; i < 5; i++) rows.push([new Date(base + 60_000 + i * 1000).toISOString(), `msg ${i}`, i % 5, `item${i}`]);
    const scopes: string[] = [];
    let issued = 0;
    const credential: TokenCredential = {
      async getToken(scope: string | string[]): Promise<AccessToken> {
        scopes.push(String(scope));
        issued++;
        return { token: `tok-${issued}`, expiresOnTimestamp: Date.now() + 3600_000 };
      },
    };
    const queries: string[] = [];
    const auths: string[] = [];
    let plan = ['429', '500'];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { query: string };
        auths.push(String(req.headers.authorization));
        const json = (status: number, v: unknown, h: Record<string, string> = {}): void => {
          res.writeHead(status, { 'content-type': 'application/json', ...h });
          res.end(JSON.stringify(v));
        };
        if (req.url !== '/v1/workspaces/ws-1/query') return json(404, { error: { code: 'PathNotFound' } });
        const step = plan.shift();
        if (step === '429') return json(429, { error: { code: 'ThrottledError' } }, { 'retry-after': '0' });
        if (step === '500') return json(500, { error: { code: 'InternalServerError' } });
        // The first token "expires" after the throttling steps.
        if (req.headers.authorization === 'Bearer tok-1' && queries.length >= 1) return json(401, { error: { code: 'InvalidAuthenticationToken', message: 'token expired' } });
        queries.push(body.query);
        const from = Date.parse(/datetime\(([^)]+)\)/.exec(body.query)![1]!);
        const take = Number(/take (\d+)/.exec(body.query)![1]);
        const match = rows.filter((r) => Date.parse(r[0]) >= from).sort((a, b) => Date.parse(a[0]) - Date.parse(b[0])).slice(0, take);
        json(200, { tables: [{ name: 'PrimaryResult', columns: [{ name: 'TimeGenerated', type: 'datetime' }, { name: 'Message', type: 'string' }, { name: 'SeverityLevel', type: 'int' }, { name: '_ItemId', type: 'string' }], rows: match }] });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'la-'));
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const telemetry = new Telemetry();
    const consumer = new RecordingConsumer();
    const cfg = azureLogAnalyticsConfigSchema.parse({
      workspace_id: 'ws-1', query: 'AppTraces | where SeverityLevel >= 0', poll_interval: '50ms', overlap: '10m', max_rows: 3,
      start_from: '2024-06-01T00:00:00Z', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, auth: { client_id: 'x' },
    });
    const r = new AzureLogAnalyticsReceiver(testSettings('azureloganalytics', telemetry), cfg, consumer, credential);
    await r.start(testHost({ file_storage: { directory: dir, start: async () => undefined, shutdown: async () => undefined } as Extension }, telemetry));
    closers.unshift(() => r.shutdown());
    plan = ['429', '500'];
    await consumer.until(() => consumer.records().length >= 5, '5 rows', 20_000);
    rows.push([new Date(base + 61_500).toISOString(), 'late row', 3, 'item-late']);
    await consumer.until(() => consumer.bodies().includes('late row'), 'late row', 20_000);
    await new Promise((res) => setTimeout(res, 200));
    expect([...consumer.bodies()].sort()).toEqual(['late row', 'msg 0', 'msg 1', 'msg 2', 'msg 3', 'msg 4']);
    const rec = consumer.records().find((x) => attr(x, '_ItemId') === 'item3')!;
    expect(rec.severityNumber).toBe(17);
    expect(rec.timeUnixNano.toString()).toBe(String((base + 63_000) * 1e6));
    expect(queries[0]).toContain('AppTraces | where SeverityLevel >= 0\n| where TimeGenerated >= datetime(2024-05-31T23:50:00.000Z)');
    expect(scopes.every((s) => s === 'https://api.loganalytics.io/.default')).toBe(true);
    expect(auths).toContain('Bearer tok-2');
    const failures = telemetry.counter('tributary_receiver_pull_failures_total', '');
    expect(failures.total({ reason: 'throttled' })).toBe(1);
    expect(failures.total({ reason: 'server' })).toBe(1);
    expect(failures.total({ reason: 'auth' })).toBe(1);
  }, 60_000);
});
