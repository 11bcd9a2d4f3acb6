/** Unit tests of the elasticsearch sender against a local HTTP server: auth, headers, answers → error classes. */
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeRecordingServers, serveMapped } from '../../../../test/kit/index.js';
import Long from 'long';
import { nanosFromDecimal, type LogRecord } from '@tributary/otlp';
import type { CreateSettings, LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { elasticsearchExporterConfigSchema, elasticsearchExporterFactory, ElasticsearchExporter } from './index.js';

const SECRET = 'c2VjcmV0LWlkOnNlY3JldC1rZXk=';

interface Seen { url: string; headers: IncomingHttpHeaders; body: string }
interface Reply { status: number; body?: unknown; headers?: Record<string, string> }

let exporter: ElasticsearchExporter | undefined;
const serve = (reply: (seen: Seen, i: number) => Reply) =>
  serveMapped<Seen>((req) => ({ url: req.url, headers: req.headers, body: req.body.toString('utf8') }), (s, i) => {
    const r = reply(s, i);
    return { status: r.status, headers: { 'content-type': 'application/json', ...r.headers }, body: r.body === undefined ? '' : JSON.stringify(r.body) };
  });

afterEach(async () => {
  await exporter?.shutdown();
  exporter = undefined;
  await closeRecordingServers();
});

function settings(lines: string[] = []): CreateSettings {
  return { id: { type: 'elasticsearch', name: '', id: 'elasticsearch' }, logger: createLogger({ write: (l) => lines.push(l), level: 'debug' }), telemetry: new Telemetry() };
}

async function make(cfg: Record<string, unknown>, lines: string[] = []): Promise<ElasticsearchExporter> {
  exporter = elasticsearchExporterFactory.create(settings(lines), elasticsearchExporterConfigSchema.parse(cfg)) as ElasticsearchExporter;
  await exporter.start();
  return exporter;
}

function rec(n: number, pad = ''): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal('1705314600123456789'), observedTimeUnixNano: Long.UZERO, severityNumber: 9, severityText: 'INFO',
    body: { stringValue: `record ${n}${pad}` }, attributes: [{ key: 'n', value: { intValue: n } }],
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  };
}
function batch(count: number, pad = ''): LogsBatch {
  const records = Array.from({ length: count }, (_, n) => rec(n, pad));
  return { resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records }] }], recordCount: count, receivedAt: 0 };
}
function numbers(b: LogsBatch | undefined): number[] {
  const out: number[] = [];
  for (const rl of b?.resourceLogs ?? []) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) out.push(Number(lr.attributes[0]!.value!.intValue));
  return out;
}
const never = new AbortController().signal;
const ok = (items: number): Reply => ({ status: 200, body: { errors: false, items: Array.from({ length: items }, () => ({ create: { status: 201 } })) } });

describe('elasticsearch sender', () => {
  it('POSTs gzip NDJSON to /_bulk with ApiKey auth, create actions and the configured headers', async () => {
    const { url, seen } = await serve(() => ok(3));
    const e = await make({ endpoint: url, api_key: SECRET, headers: { 'X-Team': 'a' } });
    await e.send(batch(3), never);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toMatch(/^\/_bulk\?filter_path=/);
    expect(seen[0]!.headers['authorization']).toBe(`ApiKey ${SECRET}`);
    expect(seen[0]!.headers['content-type']).toBe('application/x-ndjson');
    expect(seen[0]!.headers['content-encoding']).toBe('gzip');
    expect(seen[0]!.headers['x-team']).toBe('a');
    const lines = seen[0]!.body.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toEqual({ create: { _index: 'logs-generic.otel-default' } });
    expect((lines[1]!['body'] as { text: string }).text).toBe('record 0');
  });

  it('basic auth from user/password; compression none sends plain NDJSON', async () => {
    const { url, seen } = await serve(() => ok(1));
    const e = await make({ endpoint: url, user: 'elastic', password: 'pw', compression: 'none', logs_index: 'my-logs' });
    await e.send(batch(1), never);
    expect(seen[0]!.headers['authorization']).toBe(`Basic ${Buffer.from('elastic:pw').toString('base64')}`);
    expect(seen[0]!.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(seen[0]!.body.split('\n')[0]!)).toEqual({ create: { _index: 'my-logs' } });
  });

  it('bulk errors: 429/5xx items are retried, mapping errors rejected, accepted items neither', async () => {
    const { url } = await serve(() => ({
      status: 200,
      body: {
        errors: true,
        items: [
          { create: { status: 201 } },
          { create: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution' } } },
          { create: { status: 400, error: { type: 'document_parsing_exception', reason: '[1:2] failed to parse field [n] of type [long]' } } },
          { create: { status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' } } },
          { create: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse' } } },
        ],
      },
    }));
    const e = await make({ endpoint: url });
    const err = await e.send(batch(5), never).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(PartialSendError);
    const p = err as PartialSendError;
    expect(numbers(p.retry)).toEqual([1, 3]);
    expect(p.retry!.recordCount).toBe(2);
    expect(numbers(p.rejected)).toEqual([2, 4]);
    expect(p.message).toMatch(/document_parsing_exception/);
    expect(p.message).toMatch(/1 of 5 records accepted/);
  });

  it('every item rejected → PermanentError', async () => {
    const { url } = await serve(() => ({ status: 200, body: { errors: true, items: [{ create: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'x' } } }] } }));
    const e = await make({ endpoint: url });
    await expect(e.send(batch(1), never)).rejects.toBeInstanceOf(PermanentError);
  });

  it('request level: 429 → ThrottledError with Retry-After, 500 → RetryableError, 400 → PermanentError', async () => {
    let status = 429;
    const { url } = await serve(() => ({ status, headers: status === 429 ? { 'retry-after': '7' } : {}, body: { error: { type: 'x_exception', reason: 'nope' }, status } }));
    const e = await make({ endpoint: url });
    const t = await e.send(batch(2), never).catch((x: unknown) => x);
    expect(t).toBeInstanceOf(ThrottledError);
    expect((t as ThrottledError).retryAfterMs).toBe(7000);
    status = 500;
    const r = await e.send(batch(2), never).catch((x: unknown) => x);
    expect(r).toBeInstanceOf(RetryableError);
    expect((r as Error).message).toMatch(/HTTP 500: x_exception: nope/);
    status = 400;
    await expect(e.send(batch(2), never)).rejects.toBeInstanceOf(PermanentError);
  });

  it('a split batch that fails midway retries only the unsent remainder', async () => {
    const { url, seen } = await serve((s, i) => (i === 0 ? ok(s.body.trimEnd().split('\n').length / 2) : { status: 503, headers: { 'retry-after': '2' } }));
    const e = await make({ endpoint: url, flush: { bytes: 4096 }, compression: 'none' });
    const err = await e.send(batch(60, 'x'.repeat(100)), never).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(PartialSendError);
    const first = seen[0]!.body.trimEnd().split('\n').length / 2;
    expect(seen).toHaveLength(2); // nothing after the failed request is tried
    const p = err as PartialSendError;
    expect(numbers(p.retry)).toEqual(Array.from({ length: 60 - first }, (_, k) => first + k));
    expect(p.rejected).toBeUndefined();
    expect(p.retryAfterMs).toBe(2000);
    for (const s of seen) expect(Buffer.byteLength(s.body)).toBeLessThanOrEqual(4096);
  });

  it('transport failure and abort → RetryableError; the api key never appears in errors or logs', async () => {
    const lines: string[] = [];
    const e = await make({ endpoint: 'http://127.0.0.1:9', api_key: SECRET }, lines);
    const err = await e.send(batch(1), never).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).not.toContain(SECRET);
    await e.shutdown();
    const { url } = await serve(() => ({ status: 200, body: {} }));
    const e2 = await make({ endpoint: url, api_key: SECRET }, lines);
    const ac = new AbortController();
    ac.abort(new Error('timeout'));
    const aborted = await e2.send(batch(1), ac.signal).catch((x: unknown) => x);
    expect(aborted).toBeInstanceOf(RetryableError);
    expect((aborted as Error).message).toMatch(/aborted/);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('config: endpoint required, api_key and user exclusive, unknown keys rejected', () => {
    expect(elasticsearchExporterConfigSchema.safeParse({}).success).toBe(false);
    expect(elasticsearchExporterConfigSchema.safeParse({ endpoint: 'http://x:9200', api_key: 'k', user: 'u' }).success).toBe(false);
    expect(elasticsearchExporterConfigSchema.safeParse({ endpoint: 'http://x:9200', bogus: 1 }).success).toBe(false);
    const c = elasticsearchExporterConfigSchema.parse({ endpoint: 'http://x:9200' });
    expect(c.mapping.mode).toBe('otel');
    expect(c.flush.bytes).toBe(5_000_000);
    expect(c.compression).toBe('gzip');
    expect(c.logstash_format).toEqual({ enabled: false, prefix_separator: '-', date_format: '%Y.%m.%d' });
  });
});
