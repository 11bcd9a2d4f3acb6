/**
 * Process-level tests of the `loki` exporter (and of Loki's native OTLP endpoint through `otlphttp`): the
 * built collector receives OTLP/JSON and pushes to a local recording endpoint standing in for Loki.
 * Protobuf bodies are snappy-decompressed and decoded here with a reflection type from the logproto schema.
 */
import fs from 'node:fs';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { postOtlpJson, recordsRequestJson, startRecordingServer, type Answer, type RecordedRequest, type RecordingServer, type TestRecord } from './support/recording-server.js';

const TOKEN = 'glc_eyJvIjoiMTIzIiwibiI6InRlc3QifQ-loki-secret';

// logproto.PushRequest, written from grafana/loki pkg/push/push.proto (independent of the exporter's copy).
const root = protobuf.Root.fromJSON({
  nested: {
    logproto: {
      nested: {
        PushRequest: { fields: { streams: { rule: 'repeated', type: 'StreamAdapter', id: 1 } } },
        StreamAdapter: { fields: { labels: { type: 'string', id: 1 }, entries: { rule: 'repeated', type: 'EntryAdapter', id: 2 }, hash: { type: 'uint64', id: 3 } } },
        EntryAdapter: { fields: { timestamp: { type: 'Timestamp', id: 1 }, line: { type: 'string', id: 2 } } },
        Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
      },
    },
  },
});
const PushRequest = root.lookupType('logproto.PushRequest');
interface Stream { labels: string; entries: { timestamp: { seconds: string; nanos: number }; line: string }[] }
function decodePush(r: RecordedRequest): Stream[] {
  const raw = snappy.uncompress(r.body);
  return (PushRequest.toObject(PushRequest.decode(raw), { longs: String, defaults: true }) as { streams: Stream[] }).streams;
}

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

type Rec = TestRecord;
const otlpJson = (records: Rec[], resource: Record<string, string> = { 'service.name': 'checkout', 'service.namespace': 'shop' }): string => recordsRequestJson(records, resource);
const post = async (port: number, body: string): Promise<number> => (await postOtlpJson(port, body)).status;
const lineN = (line: string) => (JSON.parse(line) as { attributes: { n: number } }).attributes.n;

async function start(exportersYaml: string, exporterIds: string, respond: (r: RecordedRequest, attempt: number) => Answer, env: NodeJS.ProcessEnv = {}) {
  const attempts: RecordedRequest[] = [];
  server = await startRecordingServer((r) => { attempts.push(r); return respond(r, attempts.length - 1); });
  const [httpPort, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const dir = tempDir('trib-loki-');
  dirs.push(dir);
  collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
exporters:
${exportersYaml.replaceAll('URL', server.url)}
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} }, metrics: { endpoint: 127.0.0.1:${metricsPort} } }
service:
  extensions: [health_check, metrics]
  pipelines: { logs: { receivers: [otlp], exporters: [${exporterIds}] } }
`, { healthPort, dir, env });
  const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return { attempts, httpPort, metrics };
}
const ok = (): Answer => ({ status: 204 });

describe('loki exporter (process)', () => {
  it('pushes snappy protobuf with streams per label set, label hints, tenants and the auth header; the token never leaks', async () => {
    const { httpPort, metrics } = await start(`
  loki:
    endpoint: URL/loki/api/v1/push
    headers: { Authorization: "Bearer \${env:LOKI_TOKEN}" }
    retention: { label: retention }`, 'loki', ok, { LOKI_TOKEN: TOKEN });
    expect(await post(httpPort, otlpJson([
      { n: 0, attrs: { org: 'team-a', 'http.route': '/pay', 'loki.attribute.labels': 'http.route' } },
      { n: 1, attrs: { org: 'team-b' }, sev: 17 },
      { n: 2, attrs: { org: 'team-a', 'http.route': '/pay', 'loki.attribute.labels': 'http.route', 'retention.class': 'audit' } },
      { n: 3, attrs: { org: 'team-a' } },
    ], { 'service.name': 'checkout', 'service.namespace': 'shop', 'k8s.namespace.name': 'prod', 'loki.resource.labels': 'k8s.namespace.name', 'loki.tenant': 'org' }))).toBe(200);
    await waitFor('two tenant pushes', () => (server!.requests.length >= 2 ? true : undefined));
    const byTenant = new Map(server!.requests.map((r) => [r.headers['x-scope-orgid'], r]));
    expect([...byTenant.keys()].sort()).toEqual(['team-a', 'team-b']);
    for (const r of server!.requests) {
      expect(r.url).toBe('/loki/api/v1/push');
      expect(r.headers['content-type']).toBe('application/x-protobuf');
      expect(r.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    }
    const a = decodePush(byTenant.get('team-a')!);
    expect(a.map((s) => [s.labels, s.entries.map((e) => lineN(e.line))])).toEqual([
      ['{exporter="OTLP", http_route="/pay", job="shop/checkout", k8s_namespace_name="prod", level="INFO"}', [0]],
      ['{exporter="OTLP", http_route="/pay", job="shop/checkout", k8s_namespace_name="prod", level="INFO", retention="audit"}', [2]],
      ['{exporter="OTLP", job="shop/checkout", k8s_namespace_name="prod", level="INFO"}', [3]],
    ]);
    expect(a[0]!.entries[0]!.timestamp).toEqual({ seconds: '1705314600', nanos: 0 });
    const line0 = JSON.parse(a[0]!.entries[0]!.line) as Record<string, unknown>;
    expect(line0).toEqual({ body: 'record 0', severity: 'INFO', attributes: { n: 0, org: 'team-a' }, resources: { 'service.name': 'checkout', 'service.namespace': 'shop' }, instrumentation_scope: { name: 'test' } });
    const b = decodePush(byTenant.get('team-b')!);
    expect(b.map((s) => s.labels)).toEqual(['{exporter="OTLP", job="shop/checkout", k8s_namespace_name="prod", level="ERROR"}']);
    expect((await metrics())).not.toContain(TOKEN);
    expect(collector!.stderr()).not.toContain(TOKEN);
  });

  it('a ~10 MB burst is split into pushes below max_request_bytes (4 MiB), nothing lost', async () => {
    const { httpPort } = await start(`
  loki:
    endpoint: URL/loki/api/v1/push
    line_format: raw`, 'loki', ok);
    const total = 10_000;
    const pad = 'z'.repeat(1000);
    expect(await post(httpPort, otlpJson(Array.from({ length: total }, (_, n) => ({ n, body: `${n} ${pad}` }))))).toBe(200);
    const ns = await waitFor('all entries', () => {
      const got = server!.requests.flatMap((r) => decodePush(r).flatMap((s) => s.entries.map((e) => Number(e.line.split(' ')[0]))));
      return got.length >= total ? got : undefined;
    });
    expect(server!.requests.length).toBeGreaterThanOrEqual(3);
    for (const r of server!.requests) expect(snappy.uncompress(r.body).length).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(ns.sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, n) => n));
  });

  it('429 honours Retry-After, 500 is retried, 400 is permanent (dead-lettered, not retried)', async () => {
    const plan: Answer[] = [{ status: 429, headers: { 'retry-after': '1' } }, { status: 500, body: 'ingester unavailable' }];
    const { attempts, httpPort, metrics } = await start(`
  loki:
    endpoint: URL/loki/api/v1/push
    retry_on_failure: { initial_interval: 50ms, max_interval: 100ms }
    dead_letter: { path: ./dead/loki.jsonl }`, 'loki', (r, i) => {
      if (decodePush(r).some((s) => s.entries.some((e) => lineN(e.line) === 100))) return { status: 400, body: 'entry for stream has timestamp too old' };
      return i < plan.length ? plan[i]! : ok();
    });
    expect(await post(httpPort, otlpJson([{ n: 0 }]))).toBe(200);
    await waitFor('delivery after 429 and 500', () => (server!.requests.length >= 1 ? true : undefined));
    expect(attempts).toHaveLength(3);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(attempts[2]!.at - attempts[1]!.at).toBeLessThan(900);
    expect(await post(httpPort, otlpJson([{ n: 100 }]))).toBe(200);
    await waitFor('dead-lettered', async () => (/tributary_exporter_dead_lettered_log_records_total\{[^}]*exporter="loki"[^}]*\} 1/.test(await metrics()) ? true : undefined));
    expect(attempts).toHaveLength(4);
    const dl = fs.readFileSync(`${collector!.dir}/dead/loki.jsonl`, 'utf8');
    expect(dl).toContain('timestamp too old');
  });

  it("Loki's native OTLP endpoint through otlphttp: POST <endpoint>/otlp/v1/logs with OTLP protobuf", async () => {
    const { httpPort } = await start(`
  otlphttp/loki:
    endpoint: URL/otlp
    headers: { X-Scope-OrgID: tenant-1 }`, 'otlphttp/loki', () => ({ status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.alloc(0) }));
    expect(await post(httpPort, otlpJson([{ n: 7 }]))).toBe(200);
    await waitFor('otlp push', () => (server!.requests.length >= 1 ? true : undefined));
    const r = server!.requests[0]!;
    expect(r.url).toBe('/otlp/v1/logs');
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(r.headers['x-scope-orgid']).toBe('tenant-1');
    const lr = r.otlp!.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(lr.body?.stringValue).toBe('record 7');
  });
});
