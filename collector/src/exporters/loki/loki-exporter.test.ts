/** Unit tests of the loki sender against a local HTTP server: snappy protobuf, JSON, tenants, answers → error classes. */
import type { IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import snappy from 'snappyjs';
import { afterEach, describe, expect, it } from 'vitest';
import { closeRecordingServers, serveMapped } from '../../../../test/kit/index.js';
import Long from 'long';
import { nanosFromDecimal, type LogRecord } from '@tributary/otlp';
import type { CreateSettings, LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { lokiExporterConfigSchema, lokiExporterFactory, LokiExporter, PushRequestType } from './index.js';

const SECRET = 'glc_secret_token_123';
interface Seen { url: string; headers: IncomingHttpHeaders; raw: Buffer }
interface Reply { status: number; body?: string; headers?: Record<string, string> }

let exporter: LokiExporter | undefined;
const serve = (reply: (seen: Seen, i: number) => Reply) => serveMapped<Seen>((req) => ({ url: req.url, headers: req.headers, raw: req.raw }), reply);

afterEach(async () => {
  await exporter?.shutdown();
  exporter = undefined;
  await closeRecordingServers();
});

function settings(lines: string[] = []): CreateSettings {
  return { id: { type: 'loki', name: '', id: 'loki' }, logger: createLogger({ write: (l) => lines.push(l), level: 'debug' }), telemetry: new Telemetry() };
}
async function make(cfg: Record<string, unknown>, lines: string[] = []): Promise<LokiExporter> {
  exporter = lokiExporterFactory.create(settings(lines), lokiExporterConfigSchema.parse(cfg)) as LokiExporter;
  await exporter.start();
  return exporter;
}
function rec(n: number, org: string): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal('1705314600000000007'), observedTimeUnixNano: Long.UZERO, severityNumber: 13, severityText: 'WARN',
    body: { stringValue: `record ${n}` }, attributes: [{ key: 'n', value: { intValue: n } }, { key: 'org', value: { stringValue: org } }],
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  };
}
function batch(orgs: string[]): LogsBatch {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }, { key: 'loki.tenant', value: { stringValue: 'org' } }], droppedAttributesCount: 0 },
      schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: orgs.map((o, n) => rec(n, o)) }],
    }],
    recordCount: orgs.length, receivedAt: 0,
  };
}
function numbers(b: LogsBatch | undefined): number[] {
  const out: number[] = [];
  for (const rl of b?.resourceLogs ?? []) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) out.push(Number(lr.attributes[0]!.value!.intValue));
  return out;
}
const never = new AbortController().signal;

describe('loki sender', () => {
  it('protobuf + snappy to the push path, one request per tenant with X-Scope-OrgID, auth header passed through', async () => {
    const { url, seen } = await serve(() => ({ status: 204 }));
    const e = await make({ endpoint: `${url}/loki/api/v1/push`, headers: { Authorization: `Bearer ${SECRET}` } });
    await e.send(batch(['t1', 't2', 't1']), never);
    expect(seen.map((s) => s.headers['x-scope-orgid'])).toEqual(['t1', 't2']);
    for (const s of seen) {
      expect(s.url).toBe('/loki/api/v1/push');
      expect(s.headers['content-type']).toBe('application/x-protobuf');
      expect(s.headers['content-encoding']).toBeUndefined();
      expect(s.headers['authorization']).toBe(`Bearer ${SECRET}`);
    }
    const decoded = PushRequestType.toObject(PushRequestType.decode(snappy.uncompress(seen[0]!.raw)), { longs: String }) as {
      streams: { labels: string; entries: { timestamp: { seconds: string; nanos: number }; line: string }[] }[];
    };
    expect(decoded.streams).toHaveLength(1);
    expect(decoded.streams[0]!.labels).toBe('{exporter="OTLP", job="api", level="WARN"}');
    expect(decoded.streams[0]!.entries.map((x) => x.timestamp)).toEqual([{ seconds: '1705314600', nanos: 7 }, { seconds: '1705314600', nanos: 7 }]);
    expect(decoded.streams[0]!.entries.map((x) => JSON.parse(x.line).body)).toEqual(['record 0', 'record 2']);
  });

  it('json encoding with gzip', async () => {
    const { url, seen } = await serve(() => ({ status: 204 }));
    const e = await make({ endpoint: `${url}/loki/api/v1/push`, encoding: 'json', compression: 'gzip', line_format: 'raw' });
    await e.send(batch(['x']), never);
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(seen[0]!.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(seen[0]!.raw).toString())).toEqual({
      streams: [{ stream: { exporter: 'OTLP', job: 'api', level: 'WARN' }, values: [['1705314600000000007', 'record 0']] }],
    });
  });

  it('429 → ThrottledError with Retry-After; 500 → RetryableError; 400 → PermanentError', async () => {
    let status = 429;
    const { url } = await serve(() => ({ status, headers: status === 429 ? { 'retry-after': '3' } : {}, body: 'entry too far behind' }));
    const e = await make({ endpoint: `${url}/loki/api/v1/push` });
    const t = await e.send(batch(['a']), never).catch((x: unknown) => x);
    expect(t).toBeInstanceOf(ThrottledError);
    expect((t as ThrottledError).retryAfterMs).toBe(3000);
    status = 500;
    await expect(e.send(batch(['a']), never)).rejects.toBeInstanceOf(RetryableError);
    status = 400;
    const p = await e.send(batch(['a']), never).catch((x: unknown) => x);
    expect(p).toBeInstanceOf(PermanentError);
    expect((p as Error).message).toMatch(/HTTP 400: entry too far behind/);
  });

  it('tenants fail independently: a throttled tenant is retried, a 400 tenant rejected, the rest accepted', async () => {
    const { url } = await serve((s) => {
      const t = s.headers['x-scope-orgid'];
      if (t === 'slow') return { status: 429, headers: { 'retry-after': '1' } };
      if (t === 'bad') return { status: 400, body: 'invalid labels' };
      return { status: 204 };
    });
    const e = await make({ endpoint: `${url}/loki/api/v1/push` });
    const err = await e.send(batch(['ok', 'slow', 'bad', 'ok', 'slow']), never).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(PartialSendError);
    const p = err as PartialSendError;
    expect(numbers(p.retry)).toEqual([1, 4]);
    expect(numbers(p.rejected)).toEqual([2]);
    expect(p.retryAfterMs).toBe(1000);
  });

  it('unreachable: RetryableError for the whole batch; secret headers never in errors or logs', async () => {
    const lines: string[] = [];
    const e = await make({ endpoint: 'http://127.0.0.1:9/loki/api/v1/push', headers: { authorization: `Basic ${SECRET}` } }, lines);
    const err = await e.send(batch(['a', 'b']), never).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('config defaults and validation', () => {
    const c = lokiExporterConfigSchema.parse({ endpoint: 'http://loki:3100/loki/api/v1/push' });
    expect(c.encoding).toBe('protobuf');
    expect(c.default_labels_enabled).toEqual({ exporter: true, job: true, instance: true, level: true });
    expect(c.max_line_size).toBe(262144);
    expect(lokiExporterConfigSchema.safeParse({}).success).toBe(false);
    expect(lokiExporterConfigSchema.safeParse({ endpoint: 'http://x', retention: { label: 'bad-name' } }).success).toBe(false);
    expect(lokiExporterConfigSchema.safeParse({ endpoint: 'http://x', nope: 1 }).success).toBe(false);
  });
});
