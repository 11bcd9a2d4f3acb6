import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { idToHex } from '@tributary/otlp';
import { afterEach, describe, expect, it } from 'vitest';
import type { Extension } from '../../component.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { attr, RecordingConsumer, testHost, testSettings } from '../common/test-support.js';
import { googleCloudLoggingConfigSchema, googleCloudLoggingReceiverFactory } from './index.js';

interface Le { insertId: string; logName: string; timestamp: string; severity?: string; textPayload?: string; jsonPayload?: Record<string, unknown>; trace?: string; spanId?: string; labels?: Record<string, string>; resource?: { type: string; labels: Record<string, string> } }

const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('googlecloudlogging receiver', () => {
  it('pages with tokens, verifies the self-signed JWT, backs off on 429, survives an expired page token, catches late entries once', async () => {
    const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcl-'));
    dirs.push(dir);
    const keyPath = path.join(dir, 'sa.json');
    fs.writeFileSync(keyPath, JSON.stringify({
      type: 'service_account', project_id: 'proj-1', private_key_id: 'kid1', private_key: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: 'reader@proj-1.iam.gserviceaccount.com', client_id: '1', token_uri: 'http://127.0.0.1:9/token',
    }));
    const entries: Le[] = [];
    const t = (s: number): string => new Date(Date.parse('2024-03-01T00:00:00Z') + s * 1000).toISOString().replace('Z', '123Z');
    for (let i = 0; i < 7; i++) entries.push({ insertId: `i${i}`, logName: 'projects/proj-1/logs/app', timestamp: t(10 + i), severity: i === 0 ? 'ERROR' : 'INFO', textPayload: `text ${i}`, labels: { env: 'prod' }, resource: { type: 'k8s_container', labels: { cluster_name: 'c1' } } });
    entries.push({ insertId: 'j', logName: 'projects/proj-1/logs/app', timestamp: t(20), jsonPayload: { message: 'structured', n: 1 }, trace: 'projects/proj-1/traces/0123456789abcdef0123456789abcdef', spanId: '0011223344556677' });
    let badAuth = 0;
    let throttle = 1;
    let expireToken = 1;
    const bodies: Record<string, unknown>[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const auth = req.headers.authorization ?? '';
        const [h, p, s] = auth.replace(/^Bearer /, '').split('.');
        if (!h || !p || !s || !crypto.verify('sha256', Buffer.from(`${h}.${p}`), pair.publicKey, Buffer.from(s, 'base64url'))) badAuth++;
        const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString() || '{}') as { scope?: string };
        if (claims.scope !== 'https://www.googleapis.com/auth/logging.read') badAuth++;
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { filter: string; pageToken?: string; pageSize: number; resourceNames: string[] };
        bodies.push(body);
        const json = (status: number, v: unknown, headers: Record<string, string> = {}): void => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(v));
        };
        if (throttle-- > 0) return json(429, { error: { code: 429, status: 'RESOURCE_EXHAUSTED' } }, { 'retry-after': '0' });
        if (body.pageToken && expireToken-- > 0) return json(400, { error: { code: 400, message: 'page token has expired', status: 'INVALID_ARGUMENT' } });
        const from = Date.parse(/timestamp >= "([^"]+)"/.exec(body.filter)![1]!);
        const match = entries.filter((e) => Date.parse(e.timestamp) >= from).sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
        const off = Number(body.pageToken ?? 0);
        json(200, { entries: match.slice(off, off + body.pageSize), ...(off + body.pageSize < match.length ? { nextPageToken: String(off + body.pageSize) } : {}) });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const telemetry = new Telemetry();
    const consumer = new RecordingConsumer();
    const cfg = googleCloudLoggingConfigSchema.parse({
      filter: 'severity >= DEFAULT', poll_interval: '50ms', page_size: 3, overlap: '30s', start_from: '2024-03-01T00:00:00Z',
      credentials_file: keyPath, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    });
    const r = googleCloudLoggingReceiverFactory.create(testSettings('googlecloudlogging', telemetry), cfg, consumer);
    await r.start(testHost({ file_storage: { directory: dir, start: async () => undefined, shutdown: async () => undefined } as Extension }, telemetry));
    closers.unshift(() => r.shutdown());
    await consumer.until(() => consumer.records().length >= 8, '8 entries', 20_000);
    entries.push({ insertId: 'late', logName: 'projects/proj-1/logs/app', timestamp: t(12), textPayload: 'late entry' });
    await consumer.until(() => consumer.bodies().includes('late entry'), 'late entry', 20_000);
    await new Promise((res) => setTimeout(res, 200));
    expect(consumer.records().length).toBe(9);
    const recs = consumer.records();
    const first = recs.find((x) => attr(x, 'gcp.insert_id') === 'i0')!;
    expect(first.severityNumber).toBe(17);
    expect(first.timeUnixNano.toString()).toBe(`${Date.parse("2024-03-01T00:00:10Z") / 1000}000123000`);
    expect(attr(first, 'env')).toBe('prod');
    const j = recs.find((x) => attr(x, 'gcp.insert_id') === 'j')!;
    expect(idToHex(j.traceId)).toBe('0123456789abcdef0123456789abcdef');
    expect(j.body?.kvlistValue?.values.find((k) => k.key === 'message')?.value?.stringValue).toBe('structured');
    expect(badAuth).toBe(0);
    expect((bodies[0] as { filter: string }).filter).toMatch(/^\(severity >= DEFAULT\) AND timestamp >= "/);
    expect((bodies[0] as { resourceNames: string[] }).resourceNames).toEqual(['projects/proj-1']);
    expect(telemetry.counter('tributary_receiver_pull_failures_total', '').total({ reason: 'throttled' })).toBe(1);
  }, 60_000);
});
