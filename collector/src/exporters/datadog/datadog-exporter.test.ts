/** The datadog sender against a local HTTP endpoint: path, auth, encoding, status classes, partial retries, secrets. */
import { afterEach, describe, expect, it } from 'vitest';
import { closeRecordingServers, serveAttempts } from '../../../../test/kit/index.js';
import { nanosFromDecimal, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import type { CreateSettings, LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { datadogExporterConfigSchema, datadogLogsUrl, DatadogExporter } from './index.js';

const KEY = 'dd-secret-api-key-0123456789';

let exporter: DatadogExporter | undefined;
const listen = serveAttempts;

afterEach(async () => {
  await exporter?.shutdown();
  exporter = undefined;
  await closeRecordingServers();
});

function settings(lines: string[] = []): CreateSettings {
  return { id: { type: 'datadog', name: '', id: 'datadog' }, logger: createLogger({ write: (l) => lines.push(l), level: 'debug' }), telemetry: new Telemetry() };
}

async function start(endpoint: string, extra: Record<string, unknown> = {}): Promise<DatadogExporter> {
  const config = datadogExporterConfigSchema.parse({ api: { key: KEY }, logs: { endpoint }, ...extra });
  exporter = new DatadogExporter(settings(), config);
  await exporter.start();
  return exporter;
}

function batchOf(n: number, service = 'api'): LogsBatch {
  const logRecords: LogRecord[] = [];
  for (let i = 0; i < n; i++) {
    logRecords.push({
      timeUnixNano: nanosFromDecimal('1700000000000000000'), observedTimeUnixNano: nanosFromDecimal('0'), severityNumber: 9, severityText: '',
      body: { stringValue: `r${i}` }, attributes: [{ key: 'n', value: { intValue: i } }], droppedAttributesCount: 0, flags: 0,
      traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
    });
  }
  const rl: ResourceLogs = { resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords }] };
  return { resourceLogs: [rl], recordCount: n, receivedAt: 0 };
}

function numbers(b: LogsBatch | undefined): number[] {
  return (b?.resourceLogs ?? []).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.attributes[0]!.value!.intValue as number)));
}

const never = new AbortController().signal;

describe('datadog exporter send', () => {
  it('the intake URL follows api.site; logs.endpoint overrides it', () => {
    const base = { api: { key: KEY } };
    expect(datadogLogsUrl(datadogExporterConfigSchema.parse(base)).href).toBe('https://http-intake.logs.datadoghq.com/api/v2/logs');
    expect(datadogLogsUrl(datadogExporterConfigSchema.parse({ api: { key: KEY, site: 'datadoghq.eu' } })).href).toBe('https://http-intake.logs.datadoghq.eu/api/v2/logs');
    expect(datadogLogsUrl(datadogExporterConfigSchema.parse({ ...base, logs: { endpoint: 'http://127.0.0.1:9' } })).href).toBe('http://127.0.0.1:9/api/v2/logs');
    expect(datadogExporterConfigSchema.safeParse({ api: {} }).success).toBe(false);
    expect(datadogExporterConfigSchema.safeParse({ ...base, traces: { span_name_as_resource_name: true }, metrics: { resource_attributes_as_tags: true } }).success).toBe(true);
    expect(datadogExporterConfigSchema.safeParse({ ...base, logz: {} }).success).toBe(false);
  });

  it('POSTs gzip JSON arrays to /api/v2/logs with DD-API-KEY and the ddtags query', async () => {
    const { url, seen } = await listen(() => ({ status: 202, body: '{}' }));
    await (await start(url)).send(batchOf(3), never);
    expect(seen).toHaveLength(1);
    const r = seen[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe(`/api/v2/logs?ddtags=${encodeURIComponent('service:api,otel_source:datadog_exporter')}`);
    expect(r.headers['dd-api-key']).toBe(KEY);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['content-encoding']).toBe('gzip');
    const items = JSON.parse(r.body.toString()) as Record<string, unknown>[];
    expect(items.map((i) => i['message'])).toEqual(['r0', 'r1', 'r2']);
    expect(items[0]).toMatchObject({ service: 'api', status: 'info', ddsource: 'otlp_log_ingestion', n: 0 });
  });

  it('use_compression: false sends plain JSON', async () => {
    const { url, seen } = await listen(() => ({ status: 202 }));
    await (await start(url, { logs: { endpoint: url, use_compression: false } })).send(batchOf(1), never);
    expect(seen[0]!.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(seen[0]!.body.toString())).toHaveLength(1);
  });

  it.each([
    [400, PermanentError], [401, PermanentError], [403, PermanentError], [413, PermanentError],
    [404, RetryableError], [408, RetryableError], [500, RetryableError], [503, RetryableError],
  ])('HTTP %i → %o', async (status, cls) => {
    const { url } = await listen(() => ({ status, body: `{"errors":["bad key ${KEY}"]}` }));
    const err = await (await start(url)).send(batchOf(2), never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect((err as Error).message).toContain(`HTTP ${status}`);
    expect((err as Error).message).not.toContain(KEY);
  });

  it('429 is throttled with Retry-After in ms', async () => {
    const { url } = await listen(() => ({ status: 429, headers: { 'retry-after': '7' } }));
    const err = await (await start(url)).send(batchOf(1), never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBe(7000);
  });

  it('a split batch failing on a later request retries only the unsent remainder', async () => {
    const { url, seen } = await listen((_, i) => (i === 1 ? { status: 503, headers: { 'retry-after': '2' } } : { status: 202 }));
    const err = await (await start(url)).send(batchOf(2500), never).catch((e: unknown) => e);
    expect(seen).toHaveLength(2);
    expect(err).toBeInstanceOf(PartialSendError);
    const p = err as PartialSendError;
    expect(p.rejected).toBeUndefined();
    expect(p.retryAfterMs).toBe(2000);
    expect(p.retry!.recordCount).toBe(1500);
    expect(numbers(p.retry)).toEqual(Array.from({ length: 1500 }, (_, i) => 1000 + i));
  });

  it('a permanent failure of one request rejects its records and retries the rest', async () => {
    const { url, seen } = await listen((_, i) => (i === 1 ? { status: 400 } : { status: 202 }));
    const err = await (await start(url)).send(batchOf(2500), never).catch((e: unknown) => e);
    expect(seen).toHaveLength(2);
    const p = err as PartialSendError;
    expect(p).toBeInstanceOf(PartialSendError);
    expect(numbers(p.rejected)).toEqual(Array.from({ length: 1000 }, (_, i) => 1000 + i));
    expect(numbers(p.retry)).toEqual(Array.from({ length: 500 }, (_, i) => 2000 + i));
  });

  it('honours the abort signal (a hung intake becomes a retryable error)', async () => {
    const { url } = await listen(() => ({ status: 202, delayMs: 5_000 }));
    const ac = new AbortController();
    const p = (await start(url)).send(batchOf(1), ac.signal).catch((e: unknown) => e);
    setTimeout(() => ac.abort(new Error('timeout')), 50);
    const err = await p;
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(/aborted/);
  });

  it('fail_on_invalid_key: a 403 from /api/v1/validate fails start without showing the key', async () => {
    const { url, seen } = await listen((s) => (s.url === '/api/v1/validate' ? { status: 403, body: `{"errors":["Forbidden ${KEY}"]}` } : { status: 202 }));
    const config = datadogExporterConfigSchema.parse({ api: { key: KEY, fail_on_invalid_key: true }, logs: { endpoint: url } });
    exporter = new DatadogExporter(settings(), config);
    const err = await exporter.start().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/API key is invalid/);
    expect((err as Error).message).not.toContain(KEY);
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.headers['dd-api-key']).toBe(KEY);
  });
});
