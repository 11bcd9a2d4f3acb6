/** The splunk_hec sender against a local HTTP endpoint: path, auth, encoding, HEC status classes, partial retries, secrets. */
import { afterEach, describe, expect, it } from 'vitest';
import { closeRecordingServers, serveAttempts } from '../../../../test/kit/index.js';
import { nanosFromDecimal, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import type { CreateSettings, LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { hecUrl, splunkHecExporterConfigSchema, SplunkHecExporter } from './index.js';

const TOKEN = '11111111-2222-3333-4444-555555555555';

let exporter: SplunkHecExporter | undefined;
const listen = serveAttempts;

afterEach(async () => {
  await exporter?.shutdown();
  exporter = undefined;
  await closeRecordingServers();
});

function settings(): CreateSettings {
  return { id: { type: 'splunk_hec', name: '', id: 'splunk_hec' }, logger: createLogger({ write: () => undefined, level: 'debug' }), telemetry: new Telemetry() };
}

async function start(endpoint: string, extra: Record<string, unknown> = {}): Promise<SplunkHecExporter> {
  exporter = new SplunkHecExporter(settings(), splunkHecExporterConfigSchema.parse({ token: TOKEN, endpoint, ...extra }));
  await exporter.start();
  return exporter;
}

function batchOf(n: number, resource: KeyValue[] = [], bodySize = 10): LogsBatch {
  const logRecords: LogRecord[] = [];
  for (let i = 0; i < n; i++) {
    logRecords.push({
      timeUnixNano: nanosFromDecimal('1700000000000000000'), observedTimeUnixNano: nanosFromDecimal('0'), severityNumber: 9, severityText: 'INFO',
      body: { stringValue: `r${i}`.padEnd(bodySize, '.') }, attributes: [{ key: 'n', value: { intValue: i } }], droppedAttributesCount: 0, flags: 0,
      traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
    });
  }
  const rl: ResourceLogs = { resource: { attributes: resource, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords }] };
  return { resourceLogs: [rl], recordCount: n, receivedAt: 0 };
}

function numbers(b: LogsBatch | undefined): number[] {
  return (b?.resourceLogs ?? []).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.attributes[0]!.value!.intValue as number)));
}

const events = (body: Buffer): Record<string, unknown>[] => JSON.parse(`[${body.toString().replaceAll('}{"time"', '},{"time"')}]`) as Record<string, unknown>[];
const never = new AbortController().signal;

describe('splunk_hec exporter send', () => {
  it('endpoint paths: bare origin → /services/collector; export_raw → /services/collector/raw', () => {
    expect(hecUrl({ endpoint: 'https://splunk:8088', export_raw: false }).pathname).toBe('/services/collector');
    expect(hecUrl({ endpoint: 'https://splunk:8088/services/collector', export_raw: true }).pathname).toBe('/services/collector/raw');
    expect(hecUrl({ endpoint: 'https://splunk:8088/services/collector/event', export_raw: true }).pathname).toBe('/services/collector/raw');
    expect(splunkHecExporterConfigSchema.safeParse({ endpoint: 'https://splunk:8088' }).success).toBe(false);
  });

  it('POSTs gzip concatenated events with Authorization: Splunk <token> and the app headers', async () => {
    const { url, seen } = await listen(() => ({ status: 200, body: '{"text":"Success","code":0}' }));
    await (await start(`${url}/services/collector`, { index: 'main' })).send(batchOf(3), never);
    expect(seen).toHaveLength(1);
    const r = seen[0]!;
    expect(r.url).toBe('/services/collector');
    expect(r.headers['authorization']).toBe(`Splunk ${TOKEN}`);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['__splunk_app_name']).toBe('Tributary');
    expect(r.headers['user-agent']).toMatch(/^Tributary\//);
    expect(events(r.body).map((e) => [e['event'], e['index']])).toEqual([['r0........', 'main'], ['r1........', 'main'], ['r2........', 'main']]);
  });

  it('a resource token overrides the configured one for its records (separate request)', async () => {
    const { url, seen } = await listen(() => ({ status: 200 }));
    const b = batchOf(2);
    b.resourceLogs.push(batchOf(1, [{ key: 'com.splunk.hec.access_token', value: { stringValue: 'tenant-token-xyz' } }]).resourceLogs[0]!);
    b.recordCount = 3;
    await (await start(url, { disable_compression: true })).send(b, never);
    expect(seen.map((s) => s.headers['authorization'])).toEqual([`Splunk ${TOKEN}`, 'Splunk tenant-token-xyz']);
    expect(seen[0]!.headers['content-encoding']).toBeUndefined();
    expect(seen[1]!.body.toString()).not.toContain('tenant-token-xyz');
  });

  it('export_raw sends body lines to /services/collector/raw with metadata in the query', async () => {
    const { url, seen } = await listen(() => ({ status: 200 }));
    await (await start(`${url}/services/collector`, { export_raw: true, index: 'main', sourcetype: 'app' })).send(batchOf(2, [{ key: 'host.name', value: { stringValue: 'web-1' } }], 2), never);
    expect(seen[0]!.url).toBe('/services/collector/raw?index=main&sourcetype=app&host=web-1');
    expect(seen[0]!.body.toString()).toBe('r0\nr1\n');
    expect(seen[0]!.headers['content-type']).toBe('text/plain');
  });

  it.each([
    [400, PermanentError], [401, PermanentError], [403, PermanentError],
    [404, RetryableError], [413, RetryableError], [500, RetryableError],
  ])('HTTP %i → %o', async (status, cls) => {
    const { url } = await listen(() => ({ status, body: `{"text":"Invalid token ${TOKEN}","code":4}` }));
    const err = await (await start(url)).send(batchOf(2), never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect((err as Error).message).toContain(`HTTP ${status}`);
    expect((err as Error).message).not.toContain(TOKEN);
  });

  it.each([429, 503])('HTTP %i is throttled with Retry-After in ms', async (status) => {
    const { url } = await listen(() => ({ status, headers: { 'retry-after': '3' } }));
    const err = await (await start(url)).send(batchOf(1), never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBe(3000);
  });

  it('split at max_content_length_logs: a failure on request 3 retries requests 3.. only; empty bodies and oversize events are rejected', async () => {
    const { url, seen } = await listen((_, i) => (i === 2 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
    const b = batchOf(40, [], 100);
    const recs = b.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    recs[5]!.body = { stringValue: '' };
    recs[6]!.body = { stringValue: 'x'.repeat(5000) };
    const err = await (await start(url, { max_content_length_logs: 1024, disable_compression: true })).send(b, never).catch((e: unknown) => e);
    expect(seen).toHaveLength(3);
    for (const s of seen) expect(s.body.length).toBeLessThanOrEqual(1024);
    const sent = seen.slice(0, 2).flatMap((s) => events(s.body).map((e) => (e['fields'] as { n: number }).n));
    const p = err as PartialSendError;
    expect(p).toBeInstanceOf(PartialSendError);
    expect(p.retryAfterMs).toBe(1000);
    expect(numbers(p.rejected)).toEqual([5, 6]);
    const retry = numbers(p.retry);
    expect([...sent, ...retry].sort((a, c) => a - c)).toEqual(Array.from({ length: 40 }, (_, i) => i).filter((n) => n !== 5 && n !== 6));
    expect(sent.some((n) => retry.includes(n))).toBe(false);
  });

  it('everything delivered but some records rejected → PartialSendError with only `rejected`', async () => {
    const { url } = await listen(() => ({ status: 200 }));
    const b = batchOf(3);
    b.resourceLogs[0]!.scopeLogs[0]!.logRecords[1]!.body = null;
    const err = await (await start(url)).send(b, never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialSendError);
    expect((err as PartialSendError).retry).toBeUndefined();
    expect(numbers((err as PartialSendError).rejected)).toEqual([1]);
    expect((err as Error).message).toMatch(/empty body/);
  });

  it('health_check_enabled: an unhealthy HEC fails start', async () => {
    const { url, seen } = await listen(() => ({ status: 503, body: '{"text":"HEC is unhealthy","code":17}' }));
    exporter = new SplunkHecExporter(settings(), splunkHecExporterConfigSchema.parse({ token: TOKEN, endpoint: url, health_check_enabled: true }));
    const err = await exporter.start().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/not healthy \(HTTP 503/);
    expect(seen[0]!.url).toBe('/services/collector/health');
  });
});

describe('splunk_hec upstream keys: log_data_enabled, heartbeat, telemetry', () => {
  it('heartbeat.startup sends upstream\'s heartbeat event; log_data_enabled: false sends no log data', async () => {
    const { url, seen } = await listen(() => ({ status: 200, body: '{"text":"Success","code":0}' }));
    const e = await start(url, { log_data_enabled: false, heartbeat: { interval: '1h', startup: true }, telemetry: { enabled: true, extra_attributes: { a: 'b' } } });
    expect(seen).toHaveLength(1);
    const hb = events(seen[0]!.body)[0]!;
    expect(hb).toMatchObject({ index: '_internal', source: 'otelcol', sourcetype: 'heartbeat' });
    expect(String(hb['event'])).toMatch(/^HeartbeatInfo version=\S+ description=Tributary os=\w+ arch=\w+$/);
    await e.send(batchOf(3), new AbortController().signal);
    expect(seen).toHaveLength(1);
  });
});
