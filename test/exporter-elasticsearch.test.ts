/**
 * Process-level tests of the `elasticsearch` exporter: the built collector receives OTLP/JSON and sends
 * `_bulk` requests to a local recording endpoint standing in for Elasticsearch.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { postOtlpJson, recordsRequestJson, startRecordingServer, type Answer, type RecordedRequest, type RecordingServer } from './support/recording-server.js';

const API_KEY = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw-es-secret';

let collector: RunningCollector | undefined;
let server: RecordingServer | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await collector?.stop('SIGKILL');
  collector = undefined;
  await server?.close();
  server = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});


const otlpJson = recordsRequestJson;

const post = async (port: number, body: string): Promise<number> => (await postOtlpJson(port, body)).status;

/** A bulk request's [action, document] pairs. */
function bulkPairs(r: RecordedRequest): [{ create: { _index: string } }, Record<string, unknown>][] {
  const text = r.body.toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as never);
  const out: [{ create: { _index: string } }, Record<string, unknown>][] = [];
  for (let i = 0; i < lines.length; i += 2) out.push([lines[i]!, lines[i + 1]!]);
  return out;
}
const nOf = (doc: Record<string, unknown>) => (doc['attributes'] as { n: number }).n;

function okAnswer(r: RecordedRequest): Answer {
  const items = bulkPairs(r).map(() => ({ create: { status: 201 } }));
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: false, items }) };
}

async function start(exporterYaml: string, respond: (r: RecordedRequest, attempt: number) => Answer, env: NodeJS.ProcessEnv = {}) {
  const attempts: RecordedRequest[] = [];
  server = await startRecordingServer((r) => { attempts.push(r); return respond(r, attempts.length - 1); });
  const [httpPort, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const dir = tempDir('trib-es-');
  dirs.push(dir);
  collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
exporters:
  elasticsearch:
    endpoint: ${server.url}
${exporterYaml}
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} }, metrics: { endpoint: 127.0.0.1:${metricsPort} } }
service:
  extensions: [health_check, metrics]
  pipelines: { logs: { receivers: [otlp], exporters: [elasticsearch] } }
`, { healthPort, dir, env });
  const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return { attempts, httpPort, metrics, dir };
}

describe('elasticsearch exporter (process)', () => {
  it('sends gzip _bulk NDJSON with ApiKey auth, routes per record, maps retention classes; the key never leaks', async () => {
    const { attempts, httpPort, metrics } = await start(`
    api_key: \${env:ES_API_KEY}
    retention: { classes: { audit: { index: logs-audit-forever }, debug: { namespace: short } } }`, okAnswer, { ES_API_KEY: API_KEY });
    expect(await post(httpPort, otlpJson([
      { n: 0 },
      { n: 1, attrs: { 'elasticsearch.index': 'custom-index' } },
      { n: 2, attrs: { 'data_stream.dataset': 'nginx', 'data_stream.namespace': 'prod' } },
      { n: 3, attrs: { 'retention.class': 'audit' } },
      { n: 4, attrs: { 'retention.class': 'debug' } },
    ]))).toBe(200);
    await waitFor('one bulk request', () => (server!.requests.length >= 1 ? true : undefined));
    const r = server!.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url.split('?')[0]).toBe('/_bulk');
    expect(r.headers['authorization']).toBe(`ApiKey ${API_KEY}`);
    expect(r.headers['content-type']).toBe('application/x-ndjson');
    expect(r.headers['content-encoding']).toBe('gzip');
    const pairs = bulkPairs(r);
    expect(pairs.map(([a, d]) => [nOf(d), a.create._index])).toEqual([
      [0, 'logs-generic.otel-default'], [1, 'custom-index'], [2, 'logs-nginx.otel-prod'], [3, 'logs-audit-forever'], [4, 'logs-generic.otel-short'],
    ]);
    expect(pairs[2]![1]['data_stream']).toEqual({ type: 'logs', dataset: 'nginx.otel', namespace: 'prod' });
    expect(pairs[0]![1]).toMatchObject({ '@timestamp': '1705314600000.0', severity_number: 9, body: { text: 'record 0' }, resource: { attributes: { 'service.name': 'checkout' } }, scope: { name: 'test' } });
    expect(attempts).toHaveLength(1);
    const m = await metrics();
    expect(m).toMatch(/tributary_exporter_sent_log_records_total\{[^}]*exporter="elasticsearch"[^}]*\} 5/);
    expect(m).not.toContain(API_KEY);
    expect(collector!.stderr()).not.toContain(API_KEY);
  });

  it('a ~12 MB burst is split into bulk requests of at most flush.bytes (5 MB), nothing lost', async () => {
    const { httpPort } = await start('    compression: none', okAnswer);
    const pad = 'x'.repeat(1000);
    const total = 12_000;
    expect(await post(httpPort, otlpJson(Array.from({ length: total }, (_, n) => ({ n, body: `record ${n} ${pad}` }))))).toBe(200);
    const seen = await waitFor('all records', () => {
      const ns = server!.requests.flatMap((r) => bulkPairs(r).map(([, d]) => nOf(d)));
      return ns.length >= total ? ns : undefined;
    });
    expect(server!.requests.length).toBeGreaterThanOrEqual(3);
    for (const r of server!.requests) expect(r.body.length).toBeLessThanOrEqual(5_000_000);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, n) => n));
  });

  it('bulk item failures: only the 429 item is resent, the mapping error goes to the dead-letter file', async () => {
    let dlPath = '';
    const { attempts, httpPort, metrics, dir } = await start(`
    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms }
    dead_letter: { path: ./dead/es.jsonl }`, (r, i) => {
      if (i > 0) return okAnswer(r);
      const items = bulkPairs(r).map(([, d]) => {
        const n = nOf(d);
        if (n === 1) return { create: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } };
        if (n === 2) return { create: { status: 400, error: { type: 'document_parsing_exception', reason: '[1:50] failed to parse field [attributes.n] of type [long]' } } };
        return { create: { status: 201 } };
      });
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: true, items }) };
    });
    dlPath = path.join(dir, 'dead/es.jsonl');
    expect(await post(httpPort, otlpJson([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]))).toBe(200);
    await waitFor('the retry', () => (attempts.length >= 2 ? true : undefined));
    expect(bulkPairs(attempts[0]!).map(([, d]) => nOf(d))).toEqual([0, 1, 2, 3]);
    expect(bulkPairs(attempts[1]!).map(([, d]) => nOf(d))).toEqual([1]);
    const line = await waitFor('dead-letter line', () => (fs.existsSync(dlPath) && fs.readFileSync(dlPath, 'utf8').includes('\n') ? fs.readFileSync(dlPath, 'utf8') : undefined));
    const entries = line.trim().split('\n').map((l) => JSON.parse(l) as { reason: string; resourceLogs: { scopeLogs: { logRecords: { attributes: { key: string; value: { intValue: string } }[] }[] }[] }[] });
    expect(entries).toHaveLength(1);
    expect(entries[0]!.reason).toMatch(/document_parsing_exception/);
    const dlNumbers = entries[0]!.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((lr) => Number(lr.attributes.find((a) => a.key === 'n')!.value.intValue))));
    expect(dlNumbers).toEqual([2]);
    await waitFor('sent count 3', async () => (/tributary_exporter_sent_log_records_total\{[^}]*exporter="elasticsearch"[^}]*\} 3/.test(await metrics()) ? true : undefined));
    expect(await metrics()).toMatch(/tributary_exporter_dead_lettered_log_records_total\{[^}]*exporter="elasticsearch"[^}]*\} 1/);
    expect(attempts).toHaveLength(2);
  });

  it('request level: 429 honours Retry-After, 500 is retried, 400 is not retried', async () => {
    const plan: Answer[] = [
      { status: 429, headers: { 'retry-after': '1' }, body: '{"error":{"type":"too_many_requests"}}' },
      { status: 500, body: '{"error":{"type":"internal"}}' },
    ];
    const { attempts, httpPort, metrics } = await start(`
    retry_on_failure: { initial_interval: 50ms, max_interval: 100ms }`, (r, i) => {
      const n = nOf(bulkPairs(r)[0]![1]);
      if (n === 100) return { status: 400, body: '{"error":{"type":"illegal_argument_exception","reason":"bad"}}' };
      return i < plan.length ? plan[i]! : okAnswer(r);
    });
    expect(await post(httpPort, otlpJson([{ n: 0 }]))).toBe(200);
    await waitFor('delivery after 429 and 500', () => (server!.requests.length >= 1 ? true : undefined));
    expect(attempts.map((a) => bulkPairs(a).length)).toEqual([1, 1, 1]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(attempts[2]!.at - attempts[1]!.at).toBeLessThan(900);
    expect(await post(httpPort, otlpJson([{ n: 100 }]))).toBe(200);
    await waitFor('permanent failure counted', async () => (/tributary_exporter_send_failed_log_records_total\{[^}]*exporter="elasticsearch"[^}]*reason="permanent"[^}]*\} 1/.test(await metrics()) ? true : undefined));
    expect(attempts.filter((a) => nOf(bulkPairs(a)[0]![1]) === 100)).toHaveLength(1);
  });
});
