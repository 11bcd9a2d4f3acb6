/**
 * The azureloganalytics receiver in the built collector, authenticating with @azure/identity's client-secret
 * flow against a local HTTPS authority (self-signed cert made with openssl, trusted through
 * NODE_EXTRA_CA_CERTS), then querying a local Log Analytics query API with the bearer token it got.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';

const TENANT = '72f988bf-0000-4000-8000-000000000001';
const CLIENT = 'a1b2c3d4-0000-4000-8000-000000000002';
const SECRET = 'la-client-secret~never-logged';

let collector: RunningCollector | undefined;
let server: https.Server | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await collector?.stop('SIGKILL');
  collector = undefined;
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('azureloganalytics receiver (process, real @azure/identity flow)', () => {
  it('gets a token with the client secret for the query scope, queries with it, writes the rows', async () => {
    const dir = tempDir('trib-la-');
    dirs.push(dir);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const tokenForms: URLSearchParams[] = [];
    const queryAuth: string[] = [];
    let base = '';
    server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = req.url ?? '';
        const body = Buffer.concat(chunks).toString();
        const json = (status: number, v: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(v));
        };
        if (url.endsWith('/v2.0/.well-known/openid-configuration')) {
          const tenant = url.split('/')[1];
          return json(200, {
            token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`, issuer: `${base}/${tenant}/v2.0`,
            authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`, end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`, jwks_uri: `${base}/keys`,
          });
        }
        if (url.includes('/oauth2/v2.0/token')) {
          const form = new URLSearchParams(body);
          tokenForms.push(form);
          if (form.get('client_secret') !== SECRET) return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
          return json(200, { token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600, access_token: 'la-access-token' });
        }
        if (url === '/v1/workspaces/ws-9/query') {
          queryAuth.push(String(req.headers.authorization));
          if (req.headers.authorization !== 'Bearer la-access-token') return json(401, { error: { code: 'InvalidAuthenticationToken' } });
          return json(200, { tables: [{ name: 'PrimaryResult', columns: [{ name: 'TimeGenerated', type: 'datetime' }, { name: 'Message', type: 'string' }, { name: 'AppRoleName', type: 'string' }], rows: [['2024-06-01T00:00:01Z', 'from log analytics', 'checkout']] }] });
        }
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const health = await freePort();
    collector = await startCollector(`
receivers:
  azureloganalytics:
    workspace_id: ws-9
    query: AppTraces
    poll_interval: 200ms
    start_from: 2024-06-01T00:00:00Z
    endpoint: ${base}
    auth: { tenant_id: ${TENANT}, client_id: ${CLIENT}, client_secret: "\${env:LA_SECRET}", authority_host: "${base}" }
exporters:
  file: { path: ${dir}/out.jsonl, sending_queue: { enabled: false } }
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
service:
  extensions: [health_check]
  pipelines: { logs: { receivers: [azureloganalytics], exporters: [file] } }
`, { healthPort: health, dir, env: { NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem'), LA_SECRET: SECRET } });
    const out = path.join(dir, 'out.jsonl');
    await waitFor('the row in the output', () => (fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('from log analytics')) || undefined, 30_000);
    await new Promise((r) => setTimeout(r, 600));
    // Several polls, one row: the overlap window re-reads it and de-duplication drops it.
    expect(fs.readFileSync(out, 'utf8').split('from log analytics').length - 1).toBe(1);
    expect(queryAuth.length).toBeGreaterThan(1);
    const form = tokenForms.find((f) => f.get('client_secret') === SECRET)!;
    expect(form.get('client_id')).toBe(CLIENT);
    expect(form.get('scope')).toContain('https://api.loganalytics.io/.default');
    expect(collector.stderr()).not.toContain(SECRET);
  }, 60_000);
});
