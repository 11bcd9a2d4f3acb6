/** The Cloud Logging sender against a local endpoint: auth header, gzip, error classes, multi-request partial sends. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Long from 'long';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nanosFromMillis, type LogRecord } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { GoogleCloudExporter, googleCloudExporterConfigSchema } from './index.js';

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
let answer: (i: number) => Answer = () => ({ status: 200, body: {} });
const seen: { headers: IncomingHttpHeaders; body: { entries: { textPayload?: string }[] } }[] = [];
let server: Server;
let url = '';
let dir: string;
let keyFile: string;
let privatePem: string;

beforeAll(async () => {
  const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-gcp-unit-'));
  keyFile = path.join(dir, 'key.json');
  fs.writeFileSync(keyFile, JSON.stringify({ type: 'service_account', project_id: 'key-proj', private_key_id: 'kid1', private_key: privatePem, client_email: 'sa@key-proj.iam.gserviceaccount.com', client_id: '1', token_uri: 'http://127.0.0.1:9/token' }));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      seen.push({ headers: req.headers, body: JSON.parse(raw.toString()) as { entries: { textPayload?: string }[] } });
      const a = answer(seen.length - 1);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(JSON.stringify(a.body ?? {}));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

let exporters: GoogleCloudExporter[] = [];
afterEach(async () => {
  await Promise.all(exporters.map((e) => e.shutdown()));
  exporters = [];
  seen.length = 0;
  answer = () => ({ status: 200, body: {} });
});

async function exporter(extra: Record<string, unknown> = {}): Promise<GoogleCloudExporter> {
  const config = googleCloudExporterConfigSchema.parse({ credentials_file: keyFile, ...extra, log: { endpoint: url, default_log_name: 'app', ...(extra.log as object) } });
  const e = new GoogleCloudExporter({ id: { type: 'googlecloud', name: '', id: 'googlecloud' }, logger: createLogger({ write: () => {}, level: 'error' }), telemetry: new Telemetry() }, config);
  await e.start();
  exporters.push(e);
  return e;
}

function batch(texts: string[]): LogsBatch {
  const logRecords: LogRecord[] = texts.map((t) => ({
    timeUnixNano: nanosFromMillis(1_700_000_000_000), observedTimeUnixNano: Long.UZERO, severityNumber: 9, severityText: '', body: { stringValue: t },
    attributes: [], droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  }));
  return { resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords }] }], recordCount: logRecords.length, receivedAt: 0 };
}
const never = new AbortController().signal;
async function failure(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  throw new Error('expected a failure');
}
const texts = (b: LogsBatch | undefined) => b?.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.body?.stringValue))) ?? [];

describe('GoogleCloudExporter.send', () => {
  it('takes the project from the key, sends gzip with a bearer JWT and the quota-project header', async () => {
    const e = await exporter({ destination_project_quota: true, log: { compression: 'gzip' } });
    await e.send(batch(['hello']), never);
    expect(seen).toHaveLength(1);
    const h = seen[0]!.headers;
    expect(h['content-encoding']).toBe('gzip');
    expect(h['x-goog-user-project']).toBe('key-proj');
    expect(String(h.authorization)).toMatch(/^Bearer ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(seen[0]!.body.entries[0]).toMatchObject({ logName: 'projects/key-proj/logs/app', textPayload: 'hello' });
  });

  it('user_agent replaces the User-Agent, with {{version}} filled in', async () => {
    const e = await exporter({ project: 'p', user_agent: 'my-collector/{{version}} (edge)' });
    await e.send(batch(['a']), never);
    expect(seen[0]!.headers['user-agent']).toMatch(/^my-collector\/\d+\.\d+\.\d+.* \(edge\)$/);
  });

  it('classifies answers: 401 permanent, 503 + RetryInfo retryable with its delay, 429 throttled with Retry-After', async () => {
    const e = await exporter({ project: 'p' });
    answer = () => ({ status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED', message: 'bad token' } } });
    const p = await failure(e.send(batch(['a']), never));
    expect(p).toBeInstanceOf(PermanentError);
    expect(p.message).toContain('HTTP 401 UNAUTHENTICATED: bad token');
    answer = () => ({ status: 503, body: { error: { code: 14, status: 'UNAVAILABLE', message: 'x', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2.5s' }] } } });
    const r = await failure(e.send(batch(['a']), never));
    expect(r).toBeInstanceOf(RetryableError);
    expect((r as RetryableError).retryAfterMs).toBe(2500);
    answer = () => ({ status: 429, headers: { 'retry-after': '3' }, body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'quota' } } });
    const t = await failure(e.send(batch(['a']), never));
    expect(t).toBeInstanceOf(ThrottledError);
    expect((t as ThrottledError).retryAfterMs).toBe(3000);
    const token = String(seen[0]!.headers.authorization).slice(7);
    for (const err of [p, r, t]) {
      expect(err.message).not.toContain(token);
      expect(err.message).not.toContain(privatePem.split('\n')[1]!);
    }
  });

  it('a batch split into several requests: a later failure hands back only the unsent records', async () => {
    const e = await exporter({ project: 'p' });
    answer = (i) => (i === 0 ? { status: 200, body: {} } : { status: 503, body: { error: { code: 14, message: 'down' } } });
    const big = 'y'.repeat(200_000);
    const records = Array.from({ length: 60 }, (_, i) => `${i} ${big}`); // ≈ 12 MB: two requests
    const err = await failure(e.send(batch(records), never));
    expect(err).toBeInstanceOf(PartialSendError);
    const n = seen[0]!.body.entries.length;
    expect(n).toBeGreaterThan(0);
    expect(texts((err as PartialSendError).retry)).toEqual(records.slice(n));
  });

  it('a credential failure is retryable and names no secret', async () => {
    const e = await exporter({ project: 'p', credentials_file: path.join(dir, 'missing.json') });
    const err = await failure(e.send(batch(['a']), never));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toContain('getting credentials failed');
    expect(seen).toHaveLength(0);
  });
});
