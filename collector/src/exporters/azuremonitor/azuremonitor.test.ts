/**
 * Golden `convert` tests on the shared record set, expectations written by hand from the upstream exporter and
 * the Logs Ingestion API docs (a JSON array of row objects; TimeGenerated as ISO 8601 UTC; ≤ 1 MB per
 * call), and the sender against a local HTTP endpoint with a stub credential (the real @azure/identity
 * chain is exercised end to end in test/exporter-azuremonitor.test.ts).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nanosFromDecimal, type LogRecord } from '@tributary/otlp';
import type { CreateSettings, LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { goldenBatch, goldenRequest } from '../testdata/golden-records.js';
import {
  AzureMonitorExporter,
  azureMonitorExporterConfigSchema,
  azureMonitorExporterFactory,
  azureTime,
  compileColumns,
  convertToIngestionRequests,
  DEFAULT_COLUMNS,
  ingestionError,
  resolveAuthType,
  createCredential,
  selectRecords,
  tokenError,
} from './index.js';

const NOW = nanosFromDecimal('1700000000000000001');
const SECRET = 'azure-client-secret-value-123';
const baseConfig = { endpoint: 'https://dce-1.westeurope-1.ingest.monitor.azure.com', rule_id: 'dcr-0123456789abcdef', stream_name: 'Custom-Logs',
  auth: { tenant_id: 't', client_id: 'c', client_secret: SECRET } };

type Row = Record<string, unknown>;
const opts = (extra: Partial<Parameters<typeof convertToIngestionRequests>[1]> = {}) => ({
  columns: compileColumns(DEFAULT_COLUMNS), streamName: 'Custom-Logs', retentionStreams: {}, maxRequestBytes: 1024 * 1024, now: NOW, ...extra,
});
const goldenRows = (): Row[] => {
  const { requests, oversize } = convertToIngestionRequests(goldenBatch().resourceLogs, opts());
  expect(oversize).toEqual([]);
  expect(requests).toHaveLength(1);
  return JSON.parse(requests[0]!.body) as Row[];
};
const byCase = (rows: Row[], c: string): Row => rows.find((r) => (r['Attributes'] as Row)['golden.case'] === c)!;

const RESOURCE_ATTRS = {
  'service.name': 'checkout', 'service.namespace': 'shop', 'service.version': '1.4.2', 'service.instance.id': 'pod-7',
  'deployment.environment': 'prod', 'host.name': 'web-1', 'k8s.pod.name': 'checkout-7d9f', 'telemetry.sdk.language': 'nodejs',
};

describe('azuremonitor convert (golden, default columns)', () => {
  it('a JSON array with one row object per record; every column of the string-body case', () => {
    const rows = goldenRows();
    expect(rows).toHaveLength(goldenBatch().recordCount);
    expect(byCase(rows, 'string-body')).toEqual({
      TimeGenerated: '2024-01-15T10:30:00.1234567Z',
      ObservedTime: '2024-01-15T10:30:01.0000005Z',
      SeverityText: 'ERROR',
      SeverityNumber: 17,
      Body: 'GET /checkout 500 in 12ms',
      TraceId: '437ab4d83468c540bb0f3398a39faa59',
      SpanId: '2e26da881214cd7c',
      TraceFlags: 1,
      ServiceName: 'checkout',
      ScopeName: 'golden-scope',
      ScopeVersion: '2.0.0',
      Attributes: { 'golden.case': 'string-body', 'http.method': 'GET', 'http.status_code': 500, duration_ms: 12.5, 'cache.hit': false },
      ResourceAttributes: RESOURCE_ATTRS,
    });
  });

  it('Body is AsString; attributes keep JSON types (dynamic); bytes base64', () => {
    const rows = goldenRows();
    expect(byCase(rows, 'map-body')['Body']).toBe('{"msg":"order placed","order":{"id":1042,"total":99.95},"tags":["a","b"]}');
    expect(byCase(rows, 'array-body')['Body']).toBe('["one",2,true]');
    expect(byCase(rows, 'bytes-body')['Body']).toBe('3q2+7w==');
    expect(byCase(rows, 'empty-body')['Body']).toBe('');
    expect(byCase(rows, 'non-ascii')).toMatchObject({ Body: 'Grüße, 世界! 🚀 naïve café', Attributes: { city: 'Zürich', emoji: '✅' } });
    expect(byCase(rows, 'nested-attributes')['Attributes']).toEqual({
      'golden.case': 'nested-attributes',
      http: { request: { method: 'POST', headers: { 'x-id': 'abc' } }, status: 201 },
      list: [1, [2]],
      html: '<b>&</b>',
    });
  });

  it('TimeGenerated falls back to observed, then now; IDs left out when empty or all-zero', () => {
    const rows = goldenRows();
    expect(byCase(rows, 'no-timestamp')['TimeGenerated']).toBe('2024-01-15T10:30:01.0000005Z');
    expect(byCase(rows, 'no-timestamps')['TimeGenerated']).toBe('2023-11-14T22:13:20.0000000Z');
    expect(byCase(rows, 'no-timestamps')).not.toHaveProperty('ObservedTime');
    for (const c of ['zero-ids', 'no-ids']) {
      expect(byCase(rows, c)).not.toHaveProperty('TraceId');
      expect(byCase(rows, c)).not.toHaveProperty('SpanId');
      expect(byCase(rows, c)['TraceFlags']).toBe(0);
    }
    expect(azureTime(nanosFromDecimal('1705314600123456789'))).toBe('2024-01-15T10:30:00.1234567Z');
  });

  it('severities as is; event name; empty scope version left out', () => {
    const rows = goldenRows();
    expect(byCase(rows, 'severity-text-only')).toMatchObject({ SeverityText: 'warning', SeverityNumber: 0 });
    expect(byCase(rows, 'event')['EventName']).toBe('checkout.completed');
    expect(byCase(rows, 'string-body')).not.toHaveProperty('EventName');
    for (let n = 0; n <= 24; n++) {
      const r = byCase(rows, `severity-${n}`);
      expect(r).toMatchObject({ SeverityNumber: n, Body: `severity ${n}`, ScopeName: 'severity-scope' });
      expect(r).not.toHaveProperty('ScopeVersion');
    }
  });

  it('a configured mapping: only those columns, keyed sources, scope attributes', () => {
    const columns = compileColumns({ TimeGenerated: 'time', Msg: 'body', Method: 'attributes["http.method"]', Env: 'resource.attributes["deployment.environment"]', S: 'scope.attributes["scope.attr"]', Raw: 'body_raw' });
    const rows = JSON.parse(convertToIngestionRequests(goldenBatch().resourceLogs, opts({ columns })).requests[0]!.body) as Row[];
    expect(rows[0]).toEqual({ TimeGenerated: '2024-01-15T10:30:00.1234567Z', Msg: 'GET /checkout 500 in 12ms', Method: 'GET', Env: 'prod', S: 's', Raw: 'GET /checkout 500 in 12ms' });
    expect(rows[1]!['Raw']).toEqual({ msg: 'order placed', order: { id: 1042, total: 99.95 }, tags: ['a', 'b'] });
  });

  it('retention: RetentionClass/RetentionDays columns and routing a class to its own stream', () => {
    const req = goldenRequest();
    const recs = req.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    recs[0]!.attributes.push({ key: 'retention.class', value: { stringValue: 'audit' } }, { key: 'retention.days', value: { intValue: -1 } });
    recs[1]!.attributes.push({ key: 'retention.class', value: { stringValue: 'debug' } }, { key: 'retention.days', value: { intValue: 7 } });
    const { requests } = convertToIngestionRequests(req.resourceLogs, opts({ retentionStreams: { audit: 'Custom-AuditLogs' } }));
    expect(requests.map((r) => [r.stream, r.records.length]).sort()).toEqual([['Custom-AuditLogs', 1], ['Custom-Logs', 38]]);
    const audit = JSON.parse(requests.find((r) => r.stream === 'Custom-AuditLogs')!.body) as Row[];
    expect(audit[0]).toMatchObject({ RetentionClass: 'audit', RetentionDays: -1, Body: 'GET /checkout 500 in 12ms' });
    expect((JSON.parse(requests.find((r) => r.stream === 'Custom-Logs')!.body) as Row[])[0]).toMatchObject({ RetentionClass: 'debug', RetentionDays: 7 });
  });

  it('splits at the byte limit measured on the encoded (UTF-8) body; an over-limit row is oversize', () => {
    const req = goldenRequest();
    const recs = req.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    recs[3] = { ...recs[3]!, body: { stringValue: '€'.repeat(2000) } }; // 6000 bytes, 2000 chars
    const limit = 4000;
    const { requests, oversize } = convertToIngestionRequests(req.resourceLogs, opts({ maxRequestBytes: limit }));
    expect(oversize).toEqual([{ rl: req.resourceLogs[0], sl: req.resourceLogs[0]!.scopeLogs[0], lr: recs[3] }]);
    expect(oversize[0]!.lr).toBe(recs[3]);
    let total = 0;
    for (const r of requests) {
      expect(Buffer.byteLength(r.body)).toBe(r.bytes);
      expect(r.bytes).toBeLessThanOrEqual(limit);
      const rows = JSON.parse(r.body) as Row[];
      expect(rows).toHaveLength(r.records.length);
      total += rows.length;
    }
    expect(requests.length).toBeGreaterThan(2);
    expect(total).toBe(goldenBatch().recordCount - 1);
    // each call is as full as the next row allows
    for (let i = 0; i + 1 < requests.length; i++) {
      const nextRow = JSON.stringify((JSON.parse(requests[i + 1]!.body) as Row[])[0]);
      expect(requests[i]!.bytes + 1 + Buffer.byteLength(nextRow)).toBeGreaterThan(limit);
    }
  });

  it('selectRecords keeps resource and scope, and only the chosen records', () => {
    const b = goldenBatch();
    const rl = b.resourceLogs[0]!;
    const sub = selectRecords(b, [{ rl, sl: rl.scopeLogs[0]!, lr: rl.scopeLogs[0]!.logRecords[0]! }, { rl, sl: rl.scopeLogs[1]!, lr: rl.scopeLogs[1]!.logRecords[2]! }]);
    expect(sub.recordCount).toBe(2);
    expect(sub.resourceLogs[0]!.resource).toBe(b.resourceLogs[0]!.resource);
    expect(sub.resourceLogs[0]!.scopeLogs.map((s) => s.logRecords.length)).toEqual([1, 1]);
    expect(sub.resourceLogs[0]!.scopeLogs[1]!.logRecords[0]).toBe(b.resourceLogs[0]!.scopeLogs[1]!.logRecords[2]);
  });
});

describe('azuremonitor config', () => {
  it('upstream keys, defaults, and validation with paths', () => {
    const c = azureMonitorExporterConfigSchema.parse(baseConfig);
    expect(c).toMatchObject({ api_version: '2023-01-01', compression: 'gzip', max_request_bytes: 1048576, columns: DEFAULT_COLUMNS, retention_streams: {} });
    expect(c.auth).toMatchObject({ authority_host: '', scope: 'https://monitor.azure.com//.default' });
    expect(resolveAuthType(c.auth)).toBe('client_secret');
    expect(azureMonitorExporterFactory.type).toBe('azuremonitor');
    const bad = azureMonitorExporterConfigSchema.safeParse({ ...baseConfig, auth: { tenant_id: 't', client_id: 'c', client_secret: SECRET, authority_host: 'http://login.local' }, columns: { X: 'nope' } });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['auth.authority_host', 'columns.X']));
    expect(JSON.stringify(bad.error!.issues)).not.toContain(SECRET);
    const wi = azureMonitorExporterConfigSchema.safeParse({ ...baseConfig, auth: { type: 'workload_identity', tenant_id: 't', client_id: 'c' } });
    if (!process.env['AZURE_FEDERATED_TOKEN_FILE']) expect(wi.error!.issues[0]!.path).toEqual(['auth', 'federated_token_file']);
    expect(azureMonitorExporterConfigSchema.safeParse({ ...baseConfig, max_request_bytes: '2MiB' }).success).toBe(false);
    expect(resolveAuthType(azureMonitorExporterConfigSchema.parse({ ...baseConfig, auth: { client_id: 'mi' } }).auth)).toBe('managed_identity');
  });

  it('builds the configured @azure/identity credential', async () => {
    const make = async (auth: Record<string, unknown>) =>
      (await createCredential(azureMonitorExporterConfigSchema.parse({ ...baseConfig, auth }))).constructor.name;
    expect(await make({ tenant_id: 't', client_id: 'c', client_secret: SECRET, authority_host: 'https://login.microsoftonline.us' })).toBe('ClientSecretCredential');
    expect(await make({ type: 'managed_identity' })).toBe('ManagedIdentityCredential');
    expect(await make({ client_id: 'user-assigned-id' })).toBe('ManagedIdentityCredential');
    expect(await make({ type: 'workload_identity', tenant_id: 't', client_id: 'c', federated_token_file: '/var/run/secrets/azure/tokens/azure-identity-token' })).toBe('WorkloadIdentityCredential');
  });

  it('classifies answers', () => {
    const t = ingestionError('w', 429, '12', '{"error":{"code":"TooManyRequests","message":"slow"}}');
    expect(t).toBeInstanceOf(ThrottledError);
    expect((t as ThrottledError).retryAfterMs).toBe(12000);
    expect(t.message).toContain('TooManyRequests: slow');
    const u = ingestionError('w', 503, '3', '');
    expect(u).toBeInstanceOf(RetryableError);
    expect((u as RetryableError).retryAfterMs).toBe(3000);
    expect(ingestionError('w', 500, undefined, '')).toBeInstanceOf(RetryableError);
    expect(ingestionError('w', 401, undefined, '')).toBeInstanceOf(RetryableError);
    for (const s of [400, 403, 404, 413]) expect(ingestionError('w', s, undefined, '')).toBeInstanceOf(PermanentError);
    const live = new AbortController().signal;
    const refused = Object.assign(new Error('invalid_client: Error(s): 7000215 - Description: AADSTS7000215: Invalid client secret provided.\nmore'), { name: 'AuthenticationRequiredError' });
    const te = tokenError('exporter azuremonitor', refused, live);
    expect(te).toBeInstanceOf(PermanentError);
    expect(te.message).toBe('exporter azuremonitor: getting an Entra token failed: invalid_client: Error(s): 7000215 - Description: AADSTS7000215: Invalid client secret provided.');
    expect(tokenError('x', Object.assign(new Error('x'), { name: 'AuthenticationError', statusCode: 401 }), live)).toBeInstanceOf(PermanentError);
    expect(tokenError('x', new Error('connect ECONNREFUSED 127.0.0.1:443'), live)).toBeInstanceOf(RetryableError);
    expect(tokenError('x', new Error('invalid_client'), AbortSignal.abort())).toBeInstanceOf(RetryableError);
  });
});

interface Rec { url: string; headers: IncomingMessage['headers']; rows: Row[] }

describe('azuremonitor sender (local endpoint, stub credential)', () => {
  let server: Server;
  let url = '';
  const got: Rec[] = [];
  let respond: (i: number) => { status: number; headers?: Record<string, string>; body?: string } = () => ({ status: 204 });
  const exporters: AzureMonitorExporter[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        const i = got.length;
        got.push({ url: req.url ?? '', headers: req.headers, rows: JSON.parse(body.toString('utf8')) as Row[] });
        const a = respond(i);
        res.writeHead(a.status, a.headers ?? {});
        res.end(a.body ?? '');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  afterEach(async () => {
    await Promise.all(exporters.splice(0).map((e) => e.shutdown()));
    got.length = 0;
    respond = () => ({ status: 204 });
  });

  const lines: string[] = [];
  const settings = (): CreateSettings => ({
    id: { type: 'azuremonitor', name: '', id: 'azuremonitor' },
    logger: createLogger({ write: (l) => lines.push(l), level: 'debug' }),
    telemetry: new Telemetry(),
  });
  let tokens = 0;
  const credential = { getToken: async () => ({ token: `tok-${++tokens}`, expiresOnTimestamp: Date.now() + 3600_000 }) };
  async function started(extra: Record<string, unknown> = {}): Promise<AzureMonitorExporter> {
    const config = azureMonitorExporterConfigSchema.parse({ ...baseConfig, endpoint: `${url}/prefix`, ...extra });
    const e = new AzureMonitorExporter(settings(), config, credential);
    await e.start();
    exporters.push(e);
    return e;
  }
  const never = new AbortController().signal;
  async function rejection(p: Promise<unknown>): Promise<Error> {
    try {
      await p;
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected a failure');
  }
  function bigBatch(n: number, size: number): LogsBatch {
    const req = goldenRequest();
    const base = req.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    const logRecords: LogRecord[] = [];
    for (let i = 0; i < n; i++) logRecords.push({ ...base, body: { stringValue: `${i}:${'x'.repeat(size)}` }, attributes: [{ key: 'n', value: { intValue: i } }] });
    req.resourceLogs[0]!.scopeLogs = [{ ...req.resourceLogs[0]!.scopeLogs[0]!, logRecords }];
    return { resourceLogs: req.resourceLogs, recordCount: n, receivedAt: 0 };
  }
  const ns = (rows: Row[]) => rows.map((r) => (r['Attributes'] as { n: number }).n);

  it('POSTs gzip JSON rows to the DCR stream URL with the bearer token', async () => {
    const e = await started();
    await e.send(goldenBatch(), never);
    expect(got).toHaveLength(1);
    expect(got[0]!.url).toBe('/prefix/dataCollectionRules/dcr-0123456789abcdef/streams/Custom-Logs?api-version=2023-01-01');
    expect(got[0]!.headers['authorization']).toMatch(/^Bearer tok-\d+$/);
    expect(got[0]!.headers['content-type']).toBe('application/json');
    expect(got[0]!.headers['content-encoding']).toBe('gzip');
    expect(got[0]!.headers['x-ms-client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(got[0]!.rows).toHaveLength(goldenBatch().recordCount);
  });

  it('splits a large batch into ≤ max_request_bytes calls, all rows in order', async () => {
    const e = await started({ max_request_bytes: 20_000, compression: 'none' });
    await e.send(bigBatch(100, 1000), never);
    expect(got.length).toBeGreaterThanOrEqual(6);
    expect(got.flatMap((g) => ns(g.rows))).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('a 503 after some calls succeeded → PartialSendError retrying only the unsent records, with Retry-After', async () => {
    respond = (i) => (i === 2 ? { status: 503, headers: { 'retry-after': '4' } } : { status: 204 });
    const e = await started({ max_request_bytes: 20_000 });
    const err = await rejection(e.send(bigBatch(100, 1000), never));
    expect(err).toBeInstanceOf(PartialSendError);
    const p = err as PartialSendError;
    expect(p.retryAfterMs).toBe(4000);
    expect(p.rejected).toBeUndefined();
    const retried = p.retry!.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => Number((r.attributes[0]!.value!.intValue as { toString(): string }).toString()));
    const delivered = got.slice(0, 2).flatMap((g) => ns(g.rows));
    expect(p.retry!.recordCount).toBe(100 - delivered.length);
    expect([...delivered, ...retried]).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('429 on a single call → ThrottledError with retryAfterMs; 400 → PermanentError', async () => {
    respond = () => ({ status: 429, headers: { 'retry-after': '9' } });
    const e = await started();
    const t = await rejection(e.send(goldenBatch(), never));
    expect(t).toBeInstanceOf(ThrottledError);
    expect((t as ThrottledError).retryAfterMs).toBe(9000);
    respond = () => ({ status: 400, headers: { 'content-type': 'application/json' }, body: '{"error":{"code":"InvalidStream","message":"no such stream"}}' });
    const p = await rejection(e.send(goldenBatch(), never));
    expect(p).toBeInstanceOf(PermanentError);
    expect(p.message).toContain('InvalidStream: no such stream');
    expect(p.message).not.toContain(SECRET);
    expect(p.message).not.toContain('tok-');
  });

  it('an oversize record is rejected (dead letter), the rest sent', async () => {
    const e = await started({ max_request_bytes: 2000 });
    const b = bigBatch(3, 10);
    b.resourceLogs[0]!.scopeLogs[0]!.logRecords[1]!.body = { stringValue: 'y'.repeat(5000) };
    const err = await rejection(e.send(b, never));
    expect(err).toBeInstanceOf(PartialSendError);
    expect((err as PartialSendError).retry).toBeUndefined();
    expect((err as PartialSendError).rejected!.recordCount).toBe(1);
    expect(got.flatMap((g) => ns(g.rows))).toEqual([0, 2]);
  });

  it('aborting the signal → RetryableError', async () => {
    respond = () => ({ status: 204 });
    const e = await started();
    const err = await rejection(e.send(goldenBatch(), AbortSignal.abort(new Error('timeout'))));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toContain('aborted');
  });
});
