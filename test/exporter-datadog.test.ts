/**
 * Process-level tests of the `datadog` exporter: the built collector receives OTLP/HTTP and sends to a local
 * endpoint standing in for the Datadog v2 logs intake (`logs.endpoint`). Checks path, auth header, gzip,
 * item format, the 5 MB / 1000-item limits on a ~10 MB burst, routing per ddtags, retention tags, retry
 * classes (429 + Retry-After, 500, 400) and that the API key never shows in stderr or /metrics.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { startRecordingServer, type Answer, type RecordedRequest, type RecordingServer } from './support/recording-server.js';

const API_KEY = 'dd0123456789abcdefSECRETkey4242';

let collector: RunningCollector | undefined;
let server: RecordingServer | undefined;

afterEach(async () => {
  await collector?.stop('SIGKILL');
  if (collector) fs.rmSync(collector.dir, { recursive: true, force: true });
  collector = undefined;
  await server?.close();
  server = undefined;
});

interface Attempt { at: number; status: number; req: RecordedRequest }

/** A fake intake: records every attempt (with the answer given) and answers via `plan` (default 202). */
async function intake(plan: (i: number) => Answer = () => ({ status: 202, body: '{}' })): Promise<{ attempts: Attempt[] }> {
  const attempts: Attempt[] = [];
  server = await startRecordingServer((req) => {
    // The recording server's own index counts only accepted requests: number every attempt here.
    const a = plan(attempts.length);
    attempts.push({ at: Date.now(), status: a.status, req });
    return a;
  });
  return { attempts };
}

async function run(extra = '', processors = ''): Promise<{ httpPort: number; metricsPort: number }> {
  const [httpPort, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
${processors}
exporters:
  datadog:
    api: { key: "\${env:TEST_DD_API_KEY}" }
    logs: { endpoint: ${server!.url} }
    hostname: collector-host
    retention_tags: { audit: "retention:forever" }
    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms, randomization_factor: 0 }
    sending_queue: { num_consumers: 1 }
${extra}
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} }, metrics: { endpoint: 127.0.0.1:${metricsPort} } }
service:
  extensions: [health_check, metrics]
  pipelines: { logs: { receivers: [otlp], ${processors ? 'processors: [batch], ' : ''}exporters: [datadog] } }
`, { healthPort, env: { TEST_DD_API_KEY: API_KEY } });
  return { httpPort, metricsPort };
}

async function post(port: number, body: unknown): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

const str = (s: string) => ({ stringValue: s });

function otlp(resources: { service: string; records: { n: number; body: string; attrs?: { key: string; value: unknown }[] }[] }[]) {
  return {
    resourceLogs: resources.map((r) => ({
      resource: { attributes: [{ key: 'service.name', value: str(r.service) }, { key: 'deployment.environment', value: str('test') }] },
      scopeLogs: [{
        scope: { name: 'test' },
        logRecords: r.records.map((x) => ({
          timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(x.n)), severityNumber: 13, severityText: 'WARN',
          traceId: '437ab4d83468c540bb0f3398a39faa59', spanId: '2e26da881214cd7c',
          body: str(x.body), attributes: [{ key: 'n', value: { intValue: String(x.n) } }, ...(x.attrs ?? [])],
        })),
      }],
    })),
  };
}

type Item = Record<string, unknown>;
const items = (a: Attempt): Item[] => JSON.parse(a.req.body.toString('utf8')) as Item[];
const ok = (attempts: Attempt[]) => attempts.filter((a) => a.status >= 200 && a.status < 300);

describe('datadog exporter (process)', () => {
  it('sends the documented items with DD-API-KEY and gzip, splits a ~10 MB burst within 5 MB / 1000 items, routes per ddtags, never shows the key', async () => {
    const { attempts } = await intake();
    const { httpPort, metricsPort } = await run();

    // Routing: two services and a retention class → three ddtags groups.
    expect(await post(httpPort, otlp([
      { service: 'api', records: [{ n: 0, body: 'a0' }, { n: 1, body: 'a1', attrs: [{ key: 'retention.class', value: str('audit') }] }] },
      { service: 'web', records: [{ n: 2, body: 'w2' }] },
    ]))).toBe(200);
    await waitFor('3 routed requests', () => (ok(attempts).length >= 3 ? true : undefined));
    const first = ok(attempts).slice(0, 3);
    for (const a of first) {
      expect(a.req.method).toBe('POST');
      expect(a.req.url.startsWith('/api/v2/logs?ddtags=')).toBe(true);
      expect(a.req.headers['dd-api-key']).toBe(API_KEY);
      expect(a.req.headers['content-type']).toBe('application/json');
      expect(a.req.headers['content-encoding']).toBe('gzip');
    }
    const tags = first.map((a) => decodeURIComponent(a.req.url.split('ddtags=')[1]!)).sort();
    expect(tags).toEqual([
      'service:api,env:test,otel_source:datadog_exporter',
      'service:api,env:test,otel_source:datadog_exporter,retention:forever',
      'service:web,env:test,otel_source:datadog_exporter',
    ]);
    const a0 = first.flatMap(items).find((i) => i['message'] === 'a0')!;
    expect(a0).toMatchObject({
      ddsource: 'otlp_log_ingestion', ddtags: 'service:api,env:test,otel_source:datadog_exporter', hostname: 'collector-host', service: 'api',
      status: 'WARN', 'otel.severity_text': 'WARN', 'otel.severity_number': '13', 'dd.trace_id': '13479048940416379481', 'dd.span_id': '3325585652813450620',
      'otel.trace_id': '437ab4d83468c540bb0f3398a39faa59', 'otel.timestamp': '1700000000000000000', '@timestamp': '2023-11-14T22:13:20.000Z', n: 0,
    });

    // A ~10 MB burst in one OTLP request: 2,000 records of 5,000 characters.
    const before = ok(attempts).length;
    const big = Array.from({ length: 2000 }, (_, i) => ({ n: 100 + i, body: `${i}:`.padEnd(5000, 'x') }));
    expect(await post(httpPort, otlp([{ service: 'bulk', records: big }]))).toBe(200);
    const got = await waitFor('2000 bulk records', () => {
      const ns = ok(attempts).slice(before).flatMap((a) => items(a).map((i) => i['n'] as number));
      return ns.length >= 2000 ? ns : undefined;
    }, 25_000);
    expect(got.sort((x, y) => x - y)).toEqual(big.map((b) => b.n));
    const bulk = ok(attempts).slice(before);
    expect(bulk.length).toBeGreaterThanOrEqual(3);
    for (const a of bulk) {
      expect(a.req.body.length).toBeLessThanOrEqual(5_000_000);
      expect(items(a).length).toBeLessThanOrEqual(1000);
    }

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/tributary_exporter_sent_log_records_total\{[^}]*exporter="datadog"[^}]*\} 2003/);
    expect(metrics).not.toContain(API_KEY);
    expect(collector!.stderr()).not.toContain(API_KEY);
  });

  it('429 waits for Retry-After, 500 is retried, then the records arrive once', async () => {
    const { attempts } = await intake((i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : i === 1 ? { status: 500, body: `{"errors":["boom ${API_KEY}"]}` } : { status: 202 }));
    const { httpPort } = await run();
    expect(await post(httpPort, otlp([{ service: 'api', records: [{ n: 1, body: 'one' }, { n: 2, body: 'two' }] }]))).toBe(200);
    await waitFor('a successful attempt', () => (ok(attempts).length ? true : undefined));
    expect(attempts.map((a) => a.status)).toEqual([429, 500, 202]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(items(attempts[2]!).map((i) => i['message'])).toEqual(['one', 'two']);
    expect(collector!.stderr()).not.toContain(API_KEY);
  });

  it('400 is permanent: not retried, counted and written to the dead-letter file', async () => {
    const { attempts } = await intake(() => ({ status: 400, body: '{"errors":["bad payload"]}' }));
    const { httpPort, metricsPort } = await run('    dead_letter: { path: ./dead.jsonl }');
    expect(await post(httpPort, otlp([{ service: 'api', records: [{ n: 7, body: 'never' }] }]))).toBe(200);
    const dead = `${collector!.dir}/dead.jsonl`;
    await waitFor('dead-letter file', () => (fs.existsSync(dead) && fs.readFileSync(dead, 'utf8').includes('never') ? true : undefined));
    // The counter moves once the dead-letter write has completed, a moment after the file shows the line.
    const counted = /tributary_exporter_dead_lettered_log_records_total\{exporter="datadog",reason="permanent"\} 1/;
    const metrics = await waitFor('dead-letter counter', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return counted.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(counted);
    expect(attempts).toHaveLength(1);
    expect(fs.readFileSync(dead, 'utf8')).toContain('HTTP 400');
  });
});
