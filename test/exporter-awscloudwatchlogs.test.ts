/**
 * Process-level tests of the `awscloudwatchlogs` exporter: the built collector receives OTLP/HTTP and sends
 * to a local endpoint standing in for CloudWatch Logs (given as the SDK `endpoint`). The endpoint plays the
 * AWS JSON 1.1 protocol (X-Amz-Target, x-amz-json-1.1 bodies, `__type` errors) and every request's SigV4
 * signature is recomputed independently with `aws4` from the static test credentials.
 */
import fs from 'node:fs';
import aws4 from 'aws4';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { postOtlpJson, startRecordingServer, type RecordedRequest, type RecordingServer } from './support/recording-server.js';

const ACCESS_KEY = 'AKIDTRIBUTARYTEST01';
const SECRET_KEY = 'tributary/secret+KEY/never-logged-0123456789';
const REGION = 'us-east-1';
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_REGION: '', AWS_PROFILE: '',
  AWS_CONFIG_FILE: '/nonexistent/aws-config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials', AWS_EC2_METADATA_DISABLED: 'true',
};

interface CwCall { target: string; body: Record<string, unknown>; req: RecordedRequest; at: number }

/** A minimal CloudWatch Logs: groups and streams must exist; `hook` may answer first (e.g. throttle). */
class FakeCloudWatch {
  calls: CwCall[] = [];
  groups = new Set<string>();
  streams = new Set<string>();
  hook: ((c: CwCall) => { status: number; type: string } | undefined) | undefined;
  server!: RecordingServer;

  async start(): Promise<void> {
    this.server = await startRecordingServer((req) => this.answer(req));
  }

  private answer(req: RecordedRequest) {
    const target = String(req.headers['x-amz-target'] ?? '');
    const body = req.body.length ? JSON.parse(req.body.toString('utf8')) as Record<string, unknown> : {};
    const call: CwCall = { target, body, req, at: Date.now() };
    this.calls.push(call);
    const ok = (out: unknown = {}) => ({ status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(out) });
    const err = (status: number, type: string) => ({
      status, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type },
      body: JSON.stringify({ __type: type, message: `${type} from the fake` }),
    });
    const hooked = this.hook?.(call);
    if (hooked) return err(hooked.status, hooked.type);
    const group = String(body.logGroupName);
    const stream = `${group}|${String(body.logStreamName)}`;
    switch (target) {
      case 'Logs_20140328.PutLogEvents':
        if (!this.streams.has(stream)) return err(400, 'ResourceNotFoundException');
        return ok({ nextSequenceToken: '1' });
      case 'Logs_20140328.CreateLogStream':
        if (!this.groups.has(group)) return err(400, 'ResourceNotFoundException');
        if (this.streams.has(stream)) return err(400, 'ResourceAlreadyExistsException');
        this.streams.add(stream);
        return ok();
      case 'Logs_20140328.CreateLogGroup':
        if (this.groups.has(group)) return err(400, 'ResourceAlreadyExistsException');
        this.groups.add(group);
        return ok();
      case 'Logs_20140328.PutRetentionPolicy':
        return ok();
      default:
        return err(400, 'UnknownOperationException');
    }
  }

  puts(): CwCall[] {
    return this.calls.filter((c) => c.target === 'Logs_20140328.PutLogEvents' && this.server.requests.includes(c.req));
  }

  events(): { group: string; stream: string; timestamp: number; message: string }[] {
    return this.puts().flatMap((c) => (c.body.logEvents as { timestamp: number; message: string }[]).map((e) => ({ group: String(c.body.logGroupName), stream: String(c.body.logStreamName), ...e })));
  }
}

/** Recomputes the SigV4 signature of a recorded request with aws4 from the signed headers it carries. */
function expectValidSigV4(req: RecordedRequest): void {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  expect(m, `Authorization header: ${auth}`).not.toBeNull();
  const [, keyId, date, region, service, signedHeaders] = m!;
  expect(keyId).toBe(ACCESS_KEY);
  expect(region).toBe(REGION);
  expect(service).toBe('logs');
  const names = signedHeaders!.split(';');
  for (const must of ['host', 'x-amz-date', 'x-amz-target', 'content-type']) expect(names).toContain(must);
  expect(String(req.headers['x-amz-date']).slice(0, 8)).toBe(date);
  const headers: Record<string, string> = {};
  for (const n of names) headers[n] = String(req.headers[n]);
  const signed = aws4.sign(
    { host: headers.host, method: req.method, path: req.url, headers, body: req.body.toString('utf8'), service: 'logs', region: REGION },
    { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  );
  expect(signed.headers!.Authorization ?? signed.headers!.authorization).toBe(auth);
}

let collector: RunningCollector | undefined;
let fake: FakeCloudWatch | undefined;

afterEach(async () => {
  await collector?.stop('SIGKILL');
  if (collector) fs.rmSync(collector.dir, { recursive: true, force: true });
  collector = undefined;
  await fake?.server.close();
  fake = undefined;
});

async function start(exporterYaml: string, processors = ''): Promise<{ httpPort: number; metricsPort: number }> {
  fake = new FakeCloudWatch();
  await fake.start();
  const [httpPort, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
${processors ? `processors: { ${processors} }` : ''}
exporters:
  awscloudwatchlogs:
    region: ${REGION}
    endpoint: ${fake.server.url}
${exporterYaml}
    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms, randomization_factor: 0 }
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} }, metrics: { endpoint: 127.0.0.1:${metricsPort} } }
service:
  extensions: [health_check, metrics]
  pipelines: { logs: { receivers: [otlp], ${processors ? 'processors: [batch], ' : ''}exporters: [awscloudwatchlogs] } }
`, { healthPort, env: AWS_ENV });
  return { httpPort, metricsPort };
}

type Attr = { key: string; value: Record<string, unknown> };
interface Rec { ms: number; body: string; attrs?: Attr[]; severity?: number }

function otlp(service: string, records: Rec[]): string {
  return JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeLogs: [{
        scope: { name: 'test-scope' },
        logRecords: records.map((r) => ({
          timeUnixNano: `${r.ms}000000`, severityNumber: r.severity ?? 9, severityText: 'INFO', body: { stringValue: r.body }, attributes: r.attrs ?? [],
          traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174',
        })),
      }],
    }],
  });
}

async function post(port: number, body: string): Promise<void> {
  expect((await postOtlpJson(port, body)).status).toBe(200);
}

const str = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): Attr => ({ key, value: { intValue: String(v) } });

describe('awscloudwatchlogs exporter (process level)', () => {
  it('creates group (tags, retention from retention.days) and stream on ResourceNotFound, then puts signed, well-formed events', async () => {
    const { httpPort, metricsPort } = await start(`
    log_group_name: "/app/{service.name}/{retention.class}"
    log_stream_name: main
    tags: { team: core }`);
    const now = Date.now();
    await post(httpPort, otlp('checkout', [
      { ms: now - 10, body: 'payment failed', severity: 17, attrs: [str('retention.class', 'error'), int('retention.days', 100)] },
      { ms: now - 20, body: 'user login', attrs: [str('retention.class', 'audit'), int('retention.days', -1)] },
      { ms: now - 30, body: 'earlier error', severity: 17, attrs: [str('retention.class', 'error'), int('retention.days', 100)] },
      { ms: now - 15 * 86_400_000, body: 'fifteen days old', attrs: [str('retention.class', 'error'), int('retention.days', 100)] },
    ]));
    await waitFor('both groups written', () => (fake!.events().length === 3 ? true : undefined));

    const seq = (group: string) => fake!.calls.filter((c) => c.body.logGroupName === group).map((c) => c.target.replace('Logs_20140328.', ''));
    expect(seq('/app/checkout/error')).toEqual(['PutLogEvents', 'CreateLogStream', 'CreateLogGroup', 'PutRetentionPolicy', 'CreateLogStream', 'PutLogEvents']);
    // retention.days -1 (forever) → no retention policy.
    expect(seq('/app/checkout/audit')).toEqual(['PutLogEvents', 'CreateLogStream', 'CreateLogGroup', 'CreateLogStream', 'PutLogEvents']);
    const createGroup = fake!.calls.find((c) => c.target.endsWith('CreateLogGroup') && c.body.logGroupName === '/app/checkout/error')!;
    expect(createGroup.body).toEqual({ logGroupName: '/app/checkout/error', tags: { team: 'core' } });
    const retention = fake!.calls.find((c) => c.target.endsWith('PutRetentionPolicy'))!;
    expect(retention.body).toEqual({ logGroupName: '/app/checkout/error', retentionInDays: 90 }); // 100 → nearest allowed

    const put = fake!.puts().find((c) => c.body.logGroupName === '/app/checkout/error')!;
    expect(put.req.method).toBe('POST');
    expect(put.req.url).toBe('/');
    expect(put.req.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(put.req.headers['x-amz-target']).toBe('Logs_20140328.PutLogEvents');
    // Sorted by timestamp, integer ms, the upstream JSON envelope as message; the 15-day-old record is dropped.
    expect(put.body.logStreamName).toBe('main');
    const events = put.body.logEvents as { timestamp: number; message: string }[];
    expect(events.map((e) => e.timestamp)).toEqual([now - 30, now - 10]);
    expect(JSON.parse(events[1]!.message)).toEqual({
      body: 'payment failed', severity_number: 17, severity_text: 'INFO',
      trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174',
      attributes: { 'retention.class': 'error', 'retention.days': 100 },
      scope: { name: 'test-scope' }, resource: { 'service.name': 'checkout' },
    });
    for (const c of fake!.calls) expectValidSigV4(c.req);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/tributary_exporter_cloudwatch_dropped_log_events_total\{[^}]*reason="too_old"[^}]*\} 1/);
    expect(metrics).not.toContain(SECRET_KEY);
    expect(collector!.stderr()).not.toContain(SECRET_KEY);
  });

  it('splits a burst into compliant PutLogEvents calls (≤10,000 events, ≤1,048,576 bytes with 26 B per event, sorted)', async () => {
    const { httpPort } = await start(`
    log_group_name: /burst
    log_stream_name: "{shard}"
    raw_log: true`);
    fake!.groups.add('/burst');
    const now = Date.now();
    // 12,000 small events on stream a (count limit), 600 × 4 KiB on stream b (byte limit), shuffled times.
    const small: Rec[] = Array.from({ length: 12_000 }, (_, i) => ({ ms: now - ((i * 7919) % 12_000), body: `small ${i}`, attrs: [str('shard', 'a')] }));
    const big: Rec[] = Array.from({ length: 600 }, (_, i) => ({ ms: now - i, body: `big ${i} ${'x'.repeat(4096)}`, attrs: [str('shard', 'b')] }));
    await post(httpPort, otlp('burst', small));
    await post(httpPort, otlp('burst', big));
    await waitFor('12,600 events', () => (fake!.events().length >= 12_600 ? true : undefined), 20_000);

    const puts = fake!.puts();
    for (const p of puts) {
      const evs = p.body.logEvents as { timestamp: number; message: string }[];
      expect(evs.length).toBeLessThanOrEqual(10_000);
      expect(evs.reduce((n, e) => n + Buffer.byteLength(e.message) + 26, 0)).toBeLessThanOrEqual(1_048_576);
      const ts = evs.map((e) => e.timestamp);
      expect(ts).toEqual([...ts].sort((x, y) => x - y));
    }
    const perStream = (s: string) => puts.filter((p) => p.body.logStreamName === s).map((p) => (p.body.logEvents as unknown[]).length);
    expect(perStream('a')).toEqual([10_000, 2_000]);
    expect(perStream('b').length).toBe(3); // 600 × (~4.1 KB + 26) ≈ 2.5 MB
    const messages = fake!.events().map((e) => e.message);
    expect(new Set(messages).size).toBe(12_600);
    expect(messages).toContain('small 11999');
    for (const p of puts.slice(0, 3)) expectValidSigV4(p.req);
  });

  it('a ThrottlingException on one stream delays only that stream; the other is sent once, at once', async () => {
    const { httpPort, metricsPort } = await start(`
    log_group_name: /throttle
    log_stream_name: "{stream}"
    raw_log: true`);
    fake!.groups.add('/throttle');
    fake!.streams.add('/throttle|hot').add('/throttle|cold');
    let throttles = 0;
    fake!.hook = (c) => {
      if (c.target.endsWith('PutLogEvents') && c.body.logStreamName === 'hot' && throttles < 2) {
        throttles++;
        return { status: 400, type: 'ThrottlingException' };
      }
      return undefined;
    };
    const now = Date.now();
    await post(httpPort, otlp('svc', [
      { ms: now, body: 'hot 1', attrs: [str('stream', 'hot')] }, { ms: now, body: 'cold 1', attrs: [str('stream', 'cold')] },
      { ms: now + 1, body: 'hot 2', attrs: [str('stream', 'hot')] }, { ms: now + 1, body: 'cold 2', attrs: [str('stream', 'cold')] },
    ]));
    await waitFor('hot stream delivered', () => (fake!.events().some((e) => e.stream === 'hot') ? true : undefined), 15_000);

    const cold = fake!.puts().filter((p) => p.body.logStreamName === 'cold');
    const hot = fake!.puts().filter((p) => p.body.logStreamName === 'hot');
    // Cold went through once, right away, and was never resent with the throttled stream's retries.
    expect(cold).toHaveLength(1);
    expect(hot).toHaveLength(1);
    expect((hot[0]!.body.logEvents as { message: string }[]).map((e) => e.message)).toEqual(['hot 1', 'hot 2']);
    // Per-stream back-off: 1 s after the first throttle, 2 s after the second.
    const hotAttempts = fake!.calls.filter((c) => c.target.endsWith('PutLogEvents') && c.body.logStreamName === 'hot');
    expect(hotAttempts).toHaveLength(3);
    expect(hotAttempts[1]!.at - hotAttempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(hotAttempts[2]!.at - hotAttempts[1]!.at).toBeGreaterThanOrEqual(1950);
    // The cold stream went out with the first attempt, not held back by the hot stream's back-off.
    expect(cold[0]!.at).toBeLessThan(hotAttempts[1]!.at);
    expect(fake!.events().map((e) => e.message).sort()).toEqual(['cold 1', 'cold 2', 'hot 1', 'hot 2']);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).not.toContain(SECRET_KEY);
    expect(collector!.stderr()).not.toContain(SECRET_KEY);
  });
});
