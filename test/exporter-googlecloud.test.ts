/**
 * Process-level tests of the `googlecloud` exporter: the built collector receives OTLP/HTTP and writes to a
 * local endpoint standing in for Cloud Logging (`log.endpoint`). Credentials are a service-account key made
 * here (a fresh RSA pair); the exporter sends a self-signed JWT access token, which the test verifies with
 * the key's public half.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { startRecordingServer, type Answer, type RecordedRequest, type RecordingServer } from './support/recording-server.js';

const EMAIL = 'tributary-test@my-proj.iam.gserviceaccount.com';
const KEY_ID = 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed';
const SCOPE = 'https://www.googleapis.com/auth/logging.write';

let keyDir: string;
let keyPath: string;
let publicKey: crypto.KeyObject;
let privatePem: string;
let tokenServer: RecordingServer;

beforeAll(async () => {
  const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  publicKey = pair.publicKey;
  privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  tokenServer = await startRecordingServer(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ access_token: 'exchanged-token', expires_in: 3600, token_type: 'Bearer' }) }));
  keyDir = tempDir('trib-gcp-key-');
  keyPath = path.join(keyDir, 'sa.json');
  fs.writeFileSync(keyPath, JSON.stringify({
    type: 'service_account', project_id: 'my-proj', private_key_id: KEY_ID, private_key: privatePem, client_email: EMAIL,
    client_id: '1234567890', auth_uri: 'https://accounts.google.com/o/oauth2/auth', token_uri: `${tokenServer.url}/token`,
  }));
  return async () => {
    await tokenServer.close();
    fs.rmSync(keyDir, { recursive: true, force: true });
  };
});

let collector: RunningCollector | undefined;
let logging: RecordingServer | undefined;
let seen: RecordedRequest[] = [];

afterEach(async () => {
  await collector?.stop('SIGKILL');
  if (collector) fs.rmSync(collector.dir, { recursive: true, force: true });
  collector = undefined;
  await logging?.close();
  logging = undefined;
  seen = [];
});

async function start(respond: (req: RecordedRequest, i: number) => Answer, extra = ''): Promise<{ httpPort: number; metricsPort: number }> {
  logging = await startRecordingServer((req, i) => {
    seen.push(req);
    return respond(req, i);
  });
  const [httpPort, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
exporters:
  googlecloud:
    project: my-proj
    log: { default_log_name: app, endpoint: "${logging.url}" }
    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms }
${extra}
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} }, metrics: { endpoint: 127.0.0.1:${metricsPort} } }
service:
  extensions: [health_check, metrics]
  pipelines: { logs: { receivers: [otlp], exporters: [googlecloud] } }
`, { healthPort, env: { GOOGLE_APPLICATION_CREDENTIALS: keyPath, METADATA_SERVER_DETECTION: 'none', GCE_METADATA_HOST: '127.0.0.1:9', GOOGLE_CLOUD_PROJECT: '' } });
  return { httpPort, metricsPort };
}

async function post(port: number, records: unknown[]): Promise<void> {
  const body = JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'service.instance.id', value: { stringValue: 'pod-7' } }] },
      scopeLogs: [{ scope: { name: 'pino', version: '9.0.0' }, logRecords: records }],
    }],
  });
  const res = await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
}

const ok = (): Answer => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' });
const b64url = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
const entriesOf = (r: RecordedRequest) => (JSON.parse(r.body.toString('utf8')) as { entries: Record<string, unknown>[]; partialSuccess: boolean }).entries;

describe('googlecloud exporter (process level)', () => {
  it('POSTs entries:write with a self-signed service-account JWT that verifies with the public key', async () => {
    const { httpPort, metricsPort } = await start(ok);
    await post(httpPort, [
      { timeUnixNano: '1705314600123456789', severityNumber: 17, severityText: 'ERROR', body: { stringValue: 'payment failed' }, traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', flags: 1,
        attributes: [{ key: 'gcp.http_request', value: { stringValue: '{"requestMethod":"POST","status":502,"latency":"0.25s"}' } }, { key: 'retention.class', value: { stringValue: 'error' } }] },
      { timeUnixNano: '1705314600200000000', severityNumber: 9, body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'ok' } }] } } },
    ]);
    await waitFor('entries:write', () => (logging!.requests.length > 0 ? true : undefined));
    const req = logging!.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v2/entries:write');
    expect(req.headers['content-type']).toBe('application/json');

    // Authorization: Bearer <header>.<payload>.<signature>, RS256 with the key's private half.
    const auth = String(req.headers.authorization);
    expect(auth).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const [h, p, s] = auth.slice('Bearer '.length).split('.');
    expect(b64url(h!)).toEqual({ alg: 'RS256', typ: 'JWT', kid: KEY_ID });
    const claims = b64url(p!);
    expect(claims).toMatchObject({ iss: EMAIL, sub: EMAIL, scope: SCOPE });
    expect(Number(claims.exp) - Number(claims.iat)).toBeGreaterThan(0);
    expect(Math.abs(Number(claims.iat) - Date.now() / 1000)).toBeLessThan(600);
    expect(crypto.verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s!, 'base64url'))).toBe(true);
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(crypto.verify('sha256', Buffer.from(`${h}.${p}`), other, Buffer.from(s!, 'base64url'))).toBe(false);
    expect(tokenServer.requests).toHaveLength(0); // no token exchange: self-signed

    const body = JSON.parse(req.body.toString('utf8')) as { entries: Record<string, unknown>[]; partialSuccess: boolean };
    expect(body.partialSuccess).toBe(true);
    expect(body.entries).toEqual([
      {
        logName: 'projects/my-proj/logs/app',
        resource: { type: 'generic_task', labels: { location: 'global', namespace: '', job: 'checkout', task_id: 'pod-7' } },
        timestamp: '2024-01-15T10:30:00.123456789Z',
        severity: 'ERROR',
        trace: 'projects/my-proj/traces/5b8efff798038103d269b633813fc60c',
        spanId: 'eee19b7ec3c1b174',
        traceSampled: true,
        labels: { instrumentation_source: 'pino', instrumentation_version: '9.0.0', 'service.name': 'checkout', 'service.instance.id': 'pod-7', 'retention.class': 'error' },
        httpRequest: { requestMethod: 'POST', status: 502, latency: '0.25s' },
        textPayload: 'payment failed',
      },
      {
        logName: 'projects/my-proj/logs/app',
        resource: { type: 'generic_task', labels: { location: 'global', namespace: '', job: 'checkout', task_id: 'pod-7' } },
        timestamp: '2024-01-15T10:30:00.200000000Z',
        severity: 'INFO',
        labels: { instrumentation_source: 'pino', instrumentation_version: '9.0.0', 'service.name': 'checkout', 'service.instance.id': 'pod-7' },
        jsonPayload: { msg: 'ok' },
      },
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const token = auth.slice('Bearer '.length);
    for (const secret of [token, privatePem.split('\n')[1]!]) {
      expect(collector!.stderr()).not.toContain(secret);
      expect(metrics).not.toContain(secret);
    }
  });

  it('partialSuccess: retries only the entries that failed retryably, dead-letters the refused one, never resends the written one', async () => {
    const deadLetter = path.join(tempDir('trib-gcp-dl-'), 'dead.jsonl');
    const { httpPort } = await start(() => {
      if (seen.length > 1) return ok(); // `seen` counts every request, answered or not
      return {
        status: 400, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: 400, status: 'INVALID_ARGUMENT', message: 'Log entry with index 2 is invalid', details: [{
          '@type': 'type.googleapis.com/google.logging.v2.WriteLogEntriesPartialErrors',
          logEntryErrors: { 1: { code: 14, message: 'backend unavailable' }, 2: { code: 3, message: 'bad label' } },
        }] } }),
      };
    }, `    dead_letter: { path: "${deadLetter}" }`);
    const rec = (n: number) => ({ timeUnixNano: `170531460000000000${n}`, severityNumber: 9, body: { stringValue: `record ${n}` }, attributes: [{ key: 'n', value: { intValue: String(n) } }] });
    await post(httpPort, [rec(0), rec(1), rec(2)]);
    await waitFor('the retry', () => (seen.length >= 2 ? true : undefined));
    await waitFor('the dead-letter line', () => (fs.existsSync(deadLetter) && fs.readFileSync(deadLetter, 'utf8').includes('\n') ? true : undefined));
    expect(entriesOf(seen[0]!).map((e) => e.textPayload)).toEqual(['record 0', 'record 1', 'record 2']);
    expect(entriesOf(seen[1]!).map((e) => e.textPayload)).toEqual(['record 1']);
    const line = JSON.parse(fs.readFileSync(deadLetter, 'utf8').trim()) as { exporter: string; resourceLogs: { scopeLogs: { logRecords: { body: { stringValue: string } }[] }[] }[] };
    expect(line.exporter).toBe('googlecloud');
    expect(line.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.body.stringValue)))).toEqual(['record 2']);
    // Settled: nothing more is sent.
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toHaveLength(2);
    fs.rmSync(path.dirname(deadLetter), { recursive: true, force: true });
  });

  it('429 with Retry-After is retried after the wait; the error names the status and no secret', async () => {
    const { httpPort } = await start(() => (seen.length === 1
      ? { status: 429, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: JSON.stringify({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'quota' } }) }
      : ok()));
    await post(httpPort, [{ timeUnixNano: '1705314600000000000', severityNumber: 13, body: { stringValue: 'throttled once' } }]);
    await waitFor('the retry', () => (seen.length >= 2 ? true : undefined));
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
    expect(entriesOf(seen[1]!)[0]!.textPayload).toBe('throttled once');
    expect(collector!.stderr()).not.toContain(privatePem.split('\n')[1]!);
  });
});
