/**
 * Process-level: OTLP/HTTP in → `azuremonitor` exporter, with the real @azure/identity client-secret
 * chain against a local HTTPS authority host (self-signed cert made here with openssl, trusted by the
 * child through NODE_EXTRA_CA_CERTS; instance discovery disabled by `authority_host`) and a local HTTPS
 * Logs Ingestion endpoint. Checks the token request form, the bearer header, the body rows, the 1 MB
 * split, 429 + Retry-After, and that the client secret never shows in output or /metrics.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeExportRequestJson } from '@tributary/otlp';
import { goldenBatch, goldenRequest } from '../collector/src/exporters/testdata/golden-records.js';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';

const SECRET = 'azure-secret-~9Qx.e2e-value';
const WRONG_SECRET = 'azure-wrong-secret-77f0';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = 'a1b2c3d4-0000-4000-8000-0123456789ab';
const RULE = 'dcr-00000000000000000000000000000000';
const ONE_MB = 1024 * 1024;
const WI_ASSERTION = 'eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.sig';

interface Seen { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer; at: number }

describe('azuremonitor exporter end to end (real @azure/identity, local authority and ingestion endpoint)', () => {
  let dir = '';
  let server: https.Server;
  let base = '';
  const seen: Seen[] = [];
  /** The answer to the n-th call (from 0) to one stream; counted per stream, as three exporters post concurrently. */
  let ingestAnswer: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 204 });
  let collector: RunningCollector;
  let httpPort = 0;
  let metricsPort = 0;

  const tokenRequests = () => seen.filter((s) => s.url.includes('/oauth2/v2.0/token'));
  const ingestions = (stream = 'Custom-Logs') => seen.filter((s) => s.url.includes(`/streams/${stream}`));
  const rowsOf = (s: Seen) => JSON.parse((s.headers['content-encoding'] === 'gzip' ? gunzipSync(s.body) : s.body).toString('utf8')) as Record<string, unknown>[];

  beforeAll(async () => {
    dir = tempDir('trib-azure-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
        seen.push(s);
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (s.url.endsWith('/v2.0/.well-known/openid-configuration')) {
          const tenant = s.url.split('/')[1];
          return json(200, {
            token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`, issuer: `${base}/${tenant}/v2.0`,
            authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`, end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`, jwks_uri: `${base}/keys`,
          });
        }
        if (s.url.includes('/oauth2/v2.0/token')) {
          const form = new URLSearchParams(s.body.toString('utf8'));
          if (form.get('client_assertion') === WI_ASSERTION) {
            return json(200, { token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600, access_token: 'local-wi-token-2' });
          }
          if (form.get('client_secret') !== SECRET) {
            return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] });
          }
          return json(200, { token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600, access_token: 'local-access-token-1' });
        }
        if (s.url.startsWith(`/dce/dataCollectionRules/`)) {
          const a = ingestAnswer(seen.filter((x) => x.url === s.url).length - 1);
          res.writeHead(a.status, a.headers ?? {});
          return res.end();
        }
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fs.writeFileSync(path.join(dir, 'sa-token'), WI_ASSERTION);
    [httpPort, metricsPort] = [await freePort(), await freePort()];
    const healthPort = await freePort();
    collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort}, max_request_body_size: 16MiB } } } }
exporters:
  azuremonitor:
    endpoint: ${base}/dce
    rule_id: ${RULE}
    stream_name: Custom-Logs
    auth: { tenant_id: ${TENANT}, client_id: ${CLIENT}, client_secret: "\${env:AZURE_TEST_SECRET}", authority_host: "${base}" }
    retention_streams: { audit: Custom-Audit }
    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms }
  azuremonitor/badsecret:
    endpoint: ${base}/dce
    rule_id: ${RULE}
    stream_name: Custom-Other
    auth: { tenant_id: ${TENANT}, client_id: ${CLIENT}, client_secret: "\${env:AZURE_WRONG_SECRET}", authority_host: "${base}" }
  azuremonitor/wi:
    endpoint: ${base}/dce
    rule_id: ${RULE}
    stream_name: Custom-Wi
    auth: { type: workload_identity, tenant_id: ${TENANT}, client_id: ${CLIENT}, federated_token_file: ${path.join(dir, 'sa-token')}, authority_host: "${base}" }
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} }, metrics: { endpoint: 127.0.0.1:${metricsPort} } }
service:
  extensions: [health_check, metrics]
  shutdown_timeout: 2s
  pipelines: { logs: { receivers: [otlp], exporters: [azuremonitor, azuremonitor/badsecret, azuremonitor/wi] } }
`, { healthPort, dir, env: { NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem'), AZURE_TEST_SECRET: SECRET, AZURE_WRONG_SECRET: WRONG_SECRET } });
  }, 60_000);

  afterAll(async () => {
    await collector?.stop();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function post(body: string): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${httpPort}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  }

  it('gets a token with the client-secret form, then POSTs gzip rows with the bearer token; 429 + Retry-After is honoured', async () => {
    ingestAnswer = (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 });
    await post(encodeExportRequestJson(goldenRequest()));
    const calls = await waitFor('an accepted ingestion call', () => (ingestions().length >= 2 ? ingestions() : undefined), 60_000); // generous: token + 429 + retry on a loaded machine
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(900); // waited for Retry-After: 1

    const good = tokenRequests().find((t) => new URLSearchParams(t.body.toString()).get('client_secret') === SECRET)!;
    expect(good.url.startsWith(`/${TENANT}/oauth2/v2.0/token`)).toBe(true);
    expect(good.headers['content-type']).toContain('application/x-www-form-urlencoded');
    const form = new URLSearchParams(good.body.toString());
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('client_id')).toBe(CLIENT);
    expect(form.get('scope')).toBe('https://monitor.azure.com//.default');
    expect(seen.some((s) => s.url === `/${TENANT}/v2.0/.well-known/openid-configuration`)).toBe(true);
    expect(seen.some((s) => s.url.includes('discovery/instance'))).toBe(false);

    const ok = calls[1]!;
    expect(ok.method).toBe('POST');
    expect(ok.url).toBe(`/dce/dataCollectionRules/${RULE}/streams/Custom-Logs?api-version=2023-01-01`);
    expect(ok.headers['authorization']).toBe('Bearer local-access-token-1');
    expect(ok.headers['content-type']).toBe('application/json');
    expect(ok.headers['content-encoding']).toBe('gzip');
    const rows = rowsOf(ok);
    expect(rows).toHaveLength(goldenBatch().recordCount);
    expect(rows[0]).toMatchObject({
      TimeGenerated: '2024-01-15T10:30:00.1234567Z', SeverityText: 'ERROR', SeverityNumber: 17, Body: 'GET /checkout 500 in 12ms',
      TraceId: '437ab4d83468c540bb0f3398a39faa59', SpanId: '2e26da881214cd7c', ServiceName: 'checkout',
      Attributes: { 'golden.case': 'string-body', 'http.method': 'GET', 'http.status_code': 500, duration_ms: 12.5, 'cache.hit': false },
    });
  }, 90_000);

  it('splits a large batch into calls of at most 1 MB, every record once, in order; retention class routed to its stream', async () => {
    ingestAnswer = () => ({ status: 204 });
    const before = ingestions().length;
    const recs = [];
    for (let n = 0; n < 2500; n++) {
      recs.push({ timeUnixNano: String(1_705_314_600_000_000_000n + BigInt(n)), severityNumber: 9, body: { stringValue: `record ${n} ${'z'.repeat(1000)}` },
        attributes: [{ key: 'n', value: { intValue: String(n) } }, ...(n % 500 === 0 ? [{ key: 'retention.class', value: { stringValue: 'audit' } }] : [])] });
    }
    await post(JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'big' } }] }, scopeLogs: [{ logRecords: recs }] }] }));
    const got = await waitFor('2495 rows on Custom-Logs', () => {
      const calls = ingestions().slice(before);
      return calls.reduce((a, c) => a + rowsOf(c).length, 0) >= 2495 ? calls : undefined;
    }, 15_000);
    expect(got.length).toBeGreaterThanOrEqual(3);
    for (const c of got) expect(gunzipSync(c.body).length).toBeLessThanOrEqual(ONE_MB);
    const ns = got.flatMap((c) => rowsOf(c).map((r) => (r['Attributes'] as { n: number }).n));
    expect(ns).toEqual(Array.from({ length: 2500 }, (_, i) => i).filter((i) => i % 500 !== 0));
    const audit = await waitFor('audit rows', () => {
      const a = ingestions('Custom-Audit');
      return a.length ? a.flatMap(rowsOf) : undefined;
    });
    expect(audit.map((r) => (r['Attributes'] as { n: number }).n)).toEqual([0, 500, 1000, 1500, 2000]);
    expect(audit[0]!['RetentionClass']).toBe('audit');
  });

  it('workload identity: the federated token file is sent as a JWT client assertion', async () => {
    const calls = await waitFor('a Custom-Wi ingestion call', () => (ingestions('Custom-Wi').length ? ingestions('Custom-Wi') : undefined));
    expect(calls[0]!.headers['authorization']).toBe('Bearer local-wi-token-2');
    const wi = tokenRequests().map((t) => new URLSearchParams(t.body.toString())).find((f) => f.has('client_assertion'))!;
    expect(wi.get('client_assertion')).toBe(WI_ASSERTION);
    expect(wi.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(wi.get('client_id')).toBe(CLIENT);
    expect(wi.get('grant_type')).toBe('client_credentials');
  });

  it('a refused client secret is a permanent, secret-free error; no secret in output or /metrics', async () => {
    await post(encodeExportRequestJson(goldenRequest()));
    const out = await waitFor('the badsecret failure in the log', () => {
      const s = collector.stderr();
      return s.includes('azuremonitor/badsecret') && s.includes('AADSTS7000215') ? s : undefined;
    }, 10_000).catch((e: Error) => {
      console.log(collector.stderr());
      throw e;
    });
    expect(ingestions('Custom-Other')).toHaveLength(0);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('azuremonitor/badsecret');
    for (const secret of [SECRET, WRONG_SECRET]) {
      expect(out).not.toContain(secret);
      expect(metrics).not.toContain(secret);
    }
    expect(out).not.toContain('local-access-token-1');
  });
});
