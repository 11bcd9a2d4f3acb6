/**
 * Run-time sources through the api extension: JWT-authenticated CRUD, tenant confinement, credentials
 * encrypted at rest and never returned, start/stop, and sources coming back after a restart.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';

const JWT_SECRET = 'sources-test-jwt-secret-0123456789abcdef';
const SECRET_KEY = Buffer.alloc(32, 7).toString('base64');
const CREDENTIAL = 'sekret-credential-value-42';

let collector: RunningCollector | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await collector?.stop('SIGKILL');
  collector = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const token = (project: string | string[]): Promise<string> =>
  new SignJWT({ project }).setProtectedHeader({ alg: 'HS256' }).setSubject('tester').setExpirationTime('10m').sign(new TextEncoder().encode(JWT_SECRET));

function bodies(file: string): { body: string; tenant: string | undefined; attrs: Record<string, string> }[] {
  if (!fs.existsSync(file)) return [];
  const out: { body: string; tenant: string | undefined; attrs: Record<string, string> }[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const req = JSON.parse(line) as { resourceLogs: { resource?: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeLogs: { logRecords: { body?: { stringValue?: string }; attributes: { key: string; value: { stringValue?: string } }[] }[] }[] }[] };
    for (const rl of req.resourceLogs) {
      const tenant = rl.resource?.attributes.find((a) => a.key === 'project.id')?.value.stringValue;
      for (const sl of rl.scopeLogs) for (const r of sl.logRecords) out.push({ body: r.body?.stringValue ?? '', tenant, attrs: Object.fromEntries(r.attributes.map((a) => [a.key, a.value.stringValue ?? ''])) });
    }
  }
  return out;
}

async function send(port: number, text: string): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((res, rej) => { s.once('connect', () => res()); s.once('error', rej); });
  await new Promise<void>((res) => s.end(text, () => res()));
}

const canConnect = (port: number): Promise<boolean> => new Promise((res) => {
  const s = net.connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
  s.on('error', () => res(false));
});

describe('sources API', () => {
  it('CRUD with JWT and tenant confinement; credentials sealed at rest; start/stop; back after restart', async () => {
    const dir = tempDir('trib-sources-');
    dirs.push(dir);
    const [health, apiPort, srcPort] = [await freePort(), await freePort(), await freePort()];
    const yaml = `
receivers:
  sources: { file: ${dir}/store/sources.json, allowed_types: [tcplog, googlecloudlogging] }
exporters:
  file: { path: ${dir}/out.jsonl, append: true, sending_queue: { enabled: false } }
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
  api: { endpoint: 127.0.0.1:${apiPort}, auth: { jwt: { secret: "\${env:JWT_SECRET}" } } }
service:
  extensions: [health_check, api]
  pipelines: { logs: { receivers: [sources], exporters: [file] } }
`;
    const env = { JWT_SECRET, TRIBUTARY_SECRET_KEY: SECRET_KEY };
    collector = await startCollector(yaml, { healthPort: health, dir, env });
    const api = `http://127.0.0.1:${apiPort}/api/v1/sources`;
    const [a, b] = [await token('team-a'), await token('team-b')];
    const call = (method: string, url: string, tok: string | undefined, body?: unknown) =>
      fetch(url, { method, headers: { 'content-type': 'application/json', ...(tok ? { authorization: `Bearer ${tok}` } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

    expect((await call('GET', api, undefined)).status).toBe(401);
    const bad = await call('POST', api, a, { name: 'x', type: 'tcplog', config: { listen_address: 'nope' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('config.listen_address');
    expect((await call('POST', api, a, { name: 'x', type: 'filelog', config: {} })).status).toBe(400);

    const created = await call('POST', api, a, { name: 'edge syslog', type: 'tcplog', config: { listen_address: `127.0.0.1:${srcPort}` }, credentials: { attributes: { api_token: CREDENTIAL } } });
    expect(created.status).toBe(201);
    const src = await created.json() as { id: string; tenant: string; state: string; credentials: string[] };
    expect(src).toMatchObject({ tenant: 'team-a', state: 'running', credentials: ['attributes.api_token'] });
    await send(srcPort, 'hello from a source\n');
    const out = path.join(dir, 'out.jsonl');
    await waitFor('the source line in the output', () => bodies(out).some((x) => x.body === 'hello from a source') || undefined);
    const rec = bodies(out).find((x) => x.body === 'hello from a source')!;
    expect(rec.tenant).toBe('team-a');
    expect(rec.attrs['api_token']).toBe(CREDENTIAL); // credentials reach the receiver config in memory

    // Tenant confinement: team-b sees nothing and cannot touch team-a's source.
    expect(((await (await call('GET', api, b)).json()) as { sources: unknown[] }).sources).toEqual([]);
    expect((await call('GET', `${api}/${src.id}`, b)).status).toBe(404);
    expect((await call('DELETE', `${api}/${src.id}`, b)).status).toBe(404);
    expect((await call('POST', `${api}/${src.id}/stop`, b)).status).toBe(404);
    expect((await call('POST', api, b, { name: 'y', type: 'tcplog', tenant: 'team-a', config: {} })).status).toBe(403);

    // Never returned, never stored or logged in clear.
    const listed = await (await call('GET', api, a)).text();
    expect(listed).toContain(src.id);
    expect(listed).not.toContain(CREDENTIAL);
    const stored = fs.readFileSync(path.join(dir, 'store', 'sources.json'), 'utf8');
    expect(stored).not.toContain(CREDENTIAL);
    expect(stored).toContain('"tag"');
    expect((fs.statSync(path.join(dir, 'store', 'sources.json')).mode & 0o077)).toBe(0);

    expect(await (await call('POST', `${api}/${src.id}/test`, a)).json()).toEqual({ ok: true, state: 'running' });
    expect(((await (await call('POST', `${api}/${src.id}/stop`, a)).json()) as { state: string }).state).toBe('stopped');
    expect(await canConnect(srcPort)).toBe(false);
    expect(await (await call('POST', `${api}/${src.id}/test`, a)).json()).toEqual({ ok: true });
    expect(((await (await call('POST', `${api}/${src.id}/start`, a)).json()) as { state: string }).state).toBe('running');

    // Back after a restart, credentials decrypted from the file.
    expect(await collector.stop('SIGTERM')).toBe(0);
    expect(collector.stderr()).not.toContain(CREDENTIAL);
    collector = await startCollector(yaml, { healthPort: health, dir, env });
    await waitFor('the source listening again', () => canConnect(srcPort).then((ok) => ok || undefined));
    await send(srcPort, 'after restart\n');
    await waitFor('the line after restart', () => bodies(out).some((x) => x.body === 'after restart' && x.attrs['api_token'] === CREDENTIAL) || undefined);
    // A wrong key cannot open the credentials: the source reports an error instead of starting.
    expect(await collector.stop('SIGTERM')).toBe(0);
    collector = await startCollector(yaml, { healthPort: health, dir, env: { ...env, TRIBUTARY_SECRET_KEY: Buffer.alloc(32, 9).toString('base64') } });
    const afterWrongKey = await (await call('GET', `${api}/${src.id}`, a)).json() as { state: string; error?: string };
    expect(afterWrongKey.state).toBe('error');
    expect(collector.stderr()).not.toContain(CREDENTIAL);
    expect((await call('DELETE', `${api}/${src.id}`, a)).status).toBe(204);
    expect(fs.readFileSync(path.join(dir, 'store', 'sources.json'), 'utf8')).not.toContain(src.id);
  }, 120_000);
});
