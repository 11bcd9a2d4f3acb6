/**
 * Process-level tests of the `splunk_hec` exporter: the built collector receives OTLP/HTTP and sends to a
 * local endpoint standing in for Splunk HEC. Checks path, `Authorization: Splunk <token>` (and the
 * per-resource token), gzip, the concatenated event format, routing per index/token, the retention index
 * mapping, splitting a ~10 MB burst at max_content_length_logs, HEC's 429/503 + Retry-After, 500 retried
 * with only the unsent remainder resent, 400 permanent, empty bodies dead-lettered, and that the token
 * never shows in stderr or /metrics.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { startRecordingServer, type Answer, type RecordedRequest, type RecordingServer } from './support/recording-server.js';

const TOKEN = 'a1b2c3d4-SECRET-HEC-TOKEN-0000feedbeef';
const TENANT_TOKEN = 'tenant-SECRET-token-77';

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

async function hec(plan: (i: number, req: RecordedRequest) => Answer = () => ({ status: 200 })): Promise<{ attempts: Attempt[] }> {
  const attempts: Attempt[] = [];
  server = await startRecordingServer((req) => {
    const a = plan(attempts.length, req);
    attempts.push({ at: Date.now(), status: a.status, req });
    return { headers: { 'content-type': 'application/json' }, body: a.status === 200 ? '{"text":"Success","code":0}' : '{"text":"Error","code":8}', ...a };
  });
  return { attempts };
}

async function run(extra = ''): Promise<{ httpPort: number; metricsPort: number }> {
  const [httpPort, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
exporters:
  splunk_hec:
    token: "\${env:TEST_HEC_TOKEN}"
    endpoint: ${server!.url}/services/collector
    index: main
    sourcetype: otel
    index_by_retention_class: { audit: audit_forever }
    dead_letter: { path: ./dead.jsonl }
    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms, randomization_factor: 0 }
    sending_queue: { num_consumers: 1 }
${extra}
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} }, metrics: { endpoint: 127.0.0.1:${metricsPort} } }
service:
  extensions: [health_check, metrics]
  pipelines: { logs: { receivers: [otlp], exporters: [splunk_hec] } }
`, { healthPort, env: { TEST_HEC_TOKEN: TOKEN } });
  return { httpPort, metricsPort };
}

async function post(port: number, body: unknown): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

const str = (s: string) => ({ stringValue: s });
type Attr = { key: string; value: unknown };

function otlp(resources: { attrs?: Attr[]; records: { n: number; body: string; attrs?: Attr[] }[] }[]) {
  return {
    resourceLogs: resources.map((r) => ({
      resource: { attributes: [{ key: 'host.name', value: str('web-1') }, { key: 'service.name', value: str('checkout') }, ...(r.attrs ?? [])] },
      scopeLogs: [{
        scope: { name: 'test' },
        logRecords: r.records.map((x) => ({
          timeUnixNano: String(1_700_000_000_123_456_789n + BigInt(x.n) * 1_000_000n), severityNumber: 17, severityText: 'ERROR',
          traceId: '437ab4d83468c540bb0f3398a39faa59', spanId: '2e26da881214cd7c',
          body: str(x.body), attributes: [{ key: 'n', value: { intValue: String(x.n) } }, ...(x.attrs ?? [])],
        })),
      }],
    })),
  };
}

/** Splits a body of concatenated JSON objects (HEC's format: no array, no separator). */
function splitEvents(body: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let depth = 0, start = 0, inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') { if (depth++ === 0) start = i; }
    else if (c === '}' && --depth === 0) out.push(JSON.parse(body.slice(start, i + 1)) as Record<string, unknown>);
  }
  return out;
}

const events = (a: Attempt) => splitEvents(a.req.body.toString('utf8'));
const ok = (attempts: Attempt[]) => attempts.filter((a) => a.status === 200);
const n = (e: Record<string, unknown>) => (e['fields'] as { n: number }).n;

describe('splunk_hec exporter (process)', () => {
  it('sends HEC events with the token and gzip, routes per index/token, maps retention to an index, splits a ~10 MB burst, dead-letters empty bodies, never shows the token', async () => {
    const { attempts } = await hec();
    const { httpPort, metricsPort } = await run();

    expect(await post(httpPort, otlp([
      { records: [
        { n: 0, body: 'payment failed' },
        { n: 1, body: 'audit trail', attrs: [{ key: 'retention.class', value: str('audit') }, { key: 'retention.days', value: { intValue: '-1' } }] },
        { n: 2, body: 'to security', attrs: [{ key: 'com.splunk.index', value: str('security') }, { key: 'com.splunk.source', value: str('auth') }] },
        { n: 3, body: '' },
      ] },
      { attrs: [{ key: 'com.splunk.hec.access_token', value: str(TENANT_TOKEN) }], records: [{ n: 4, body: 'tenant record' }] },
    ]))).toBe(200);
    await waitFor('4 routed requests', () => (ok(attempts).length >= 4 ? true : undefined));
    const first = ok(attempts).slice(0, 4);
    for (const a of first) {
      expect(a.req.method).toBe('POST');
      expect(a.req.url).toBe('/services/collector');
      expect(a.req.headers['content-type']).toBe('application/json');
      expect(a.req.headers['content-encoding']).toBe('gzip');
      expect(a.req.headers['__splunk_app_name']).toBe('Tributary');
    }
    const byN = new Map(first.flatMap((a) => events(a).map((e) => [n(e), { e, auth: a.req.headers['authorization'] }] as const)));
    expect(byN.get(0)).toEqual({
      auth: `Splunk ${TOKEN}`,
      e: {
        time: 1700000000.123, host: 'web-1', sourcetype: 'otel', index: 'main', event: 'payment failed',
        fields: { 'service.name': 'checkout', n: 0, trace_id: '437ab4d83468c540bb0f3398a39faa59', span_id: '2e26da881214cd7c', 'otel.log.severity.text': 'ERROR', 'otel.log.severity.number': 17 },
      },
    });
    expect(byN.get(1)!.e).toMatchObject({ index: 'audit_forever', fields: { 'retention.class': 'audit', 'retention.days': -1 } });
    expect(byN.get(2)!.e).toMatchObject({ index: 'security', source: 'auth', time: 1700000000.125 });
    expect(byN.get(4)).toMatchObject({ auth: `Splunk ${TENANT_TOKEN}`, e: { event: 'tenant record' } });
    expect(byN.has(3)).toBe(false);
    for (const a of first) expect(events(a)).toHaveLength(1);
    const dead = `${collector!.dir}/dead.jsonl`;
    await waitFor('dead-lettered empty body', () => (fs.existsSync(dead) && fs.readFileSync(dead, 'utf8').includes('empty body') ? true : undefined));

    // A ~10 MB burst in one OTLP request: 2,000 records of 5,000 characters → bodies of at most 2 MiB.
    const before = ok(attempts).length;
    const big = Array.from({ length: 2000 }, (_, i) => ({ n: 100 + i, body: `${i}:`.padEnd(5000, 'x') }));
    expect(await post(httpPort, otlp([{ records: big }]))).toBe(200);
    const got = await waitFor('2000 bulk records', () => {
      const ns = ok(attempts).slice(before).flatMap((a) => events(a).map(n));
      return ns.length >= 2000 ? ns : undefined;
    }, 25_000);
    expect(got.sort((x, y) => x - y)).toEqual(big.map((b) => b.n));
    const bulk = ok(attempts).slice(before);
    expect(bulk.length).toBeGreaterThanOrEqual(5);
    for (const a of bulk) expect(a.req.body.length).toBeLessThanOrEqual(2 * 1024 * 1024);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/tributary_exporter_dead_lettered_log_records_total\{exporter="splunk_hec",reason="permanent"\} 1/);
    for (const secret of [TOKEN, TENANT_TOKEN]) {
      expect(metrics).not.toContain(secret);
      expect(collector!.stderr()).not.toContain(secret);
      expect(fs.readFileSync(dead, 'utf8')).not.toContain(secret);
    }
  });

  it('a split batch: 429 honours Retry-After, 500 is retried, and only the unsent remainder is resent (no duplicates)', async () => {
    const { attempts } = await hec((i) => (i === 1 ? { status: 429, headers: { 'retry-after': '1' } } : i === 2 ? { status: 500 } : { status: 200 }));
    const { httpPort } = await run('    max_content_length_logs: 64KiB');
    const recs = Array.from({ length: 300 }, (_, i) => ({ n: i, body: `${i}:`.padEnd(1000, 'y') }));
    expect(await post(httpPort, otlp([{ records: recs }]))).toBe(200);
    const got = await waitFor('300 records', () => {
      const ns = ok(attempts).flatMap((a) => events(a).map(n));
      return ns.length >= 300 ? ns : undefined;
    }, 25_000);
    expect(attempts.slice(0, 3).map((a) => a.status)).toEqual([200, 429, 500]);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(950);
    expect(got).toHaveLength(300);
    expect(new Set(got).size).toBe(300);
    for (const a of attempts) expect(a.req.body.length).toBeLessThanOrEqual(64 * 1024);
  });

  it('400 is permanent: the batch is not retried and goes to the dead-letter file', async () => {
    const { attempts } = await hec(() => ({ status: 400, body: '{"text":"Invalid data format","code":6}' }));
    const { httpPort } = await run();
    expect(await post(httpPort, otlp([{ records: [{ n: 9, body: 'rejected by hec' }] }]))).toBe(200);
    const dead = `${collector!.dir}/dead.jsonl`;
    await waitFor('dead-letter file', () => (fs.existsSync(dead) && fs.readFileSync(dead, 'utf8').includes('rejected by hec') ? true : undefined));
    expect(attempts).toHaveLength(1);
    expect(fs.readFileSync(dead, 'utf8')).toContain('HTTP 400');
    expect(collector!.stderr()).not.toContain(TOKEN);
  });
});
