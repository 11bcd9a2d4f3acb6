/**
 * nats exporter → nats receiver with auth, against private `nats-server -js` instances started with
 * `--user/--pass` and `--auth <token>`: the right credentials deliver, wrong ones are refused with a clear
 * log line that never shows the secret.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { nkeys } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { runLoad } from './support/delivery.js';
import { cleanUpNatsTest, fileNumbers, NATS_SERVER_BIN, PrivateNats, uniqueName } from './support/nats.js';

const inCi = process.env.CI === 'true';
let collectors: RunningCollector[] = [];
let server: PrivateNats | undefined;
afterEach(async () => {
  await cleanUpNatsTest(collectors, server);
  collectors = [];
  server = undefined;
});

async function roundTrip(url: string, auth: string): Promise<{ agent: RunningCollector; out: string; http: number }> {
  const stream = uniqueName('TRIB_AUTH');
  const subject = uniqueName('trib_auth');
  const [http, ah, gh] = await Promise.all([freePort(), freePort(), freePort()]);
  const agent = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${http} } } } }
exporters: { nats: { servers: [${url}], auth: ${auth}, subject: ${subject}, stream: { name: ${stream} }, retry_on_failure: { initial_interval: 100ms } } }
extensions: { health_check: { endpoint: 127.0.0.1:${ah} } }
service: { extensions: [health_check], pipelines: { logs: { receivers: [otlp], exporters: [nats] } } }
`, { healthPort: ah });
  collectors.push(agent);
  const gwDir = tempDir('trib-gw-');
  const gw = await startCollector(`
receivers: { nats: { servers: [${url}], auth: ${auth}, stream: ${stream} } }
exporters: { file: { path: ./out.jsonl } }
extensions: { health_check: { endpoint: 127.0.0.1:${gh} } }
service: { extensions: [health_check], pipelines: { logs: { receivers: [nats], exporters: [file] } } }
`, { healthPort: gh, dir: gwDir });
  collectors.push(gw);
  return { agent, out: path.join(gwDir, 'out.jsonl'), http };
}

/**
 * An operator-mode server config (what `nsc` sets up): an operator, a system account and one account with
 * JetStream, all JWTs preloaded in a memory resolver, plus a `.creds` file for a user of that account and
 * one for a user of an account the server does not know.
 */
async function operatorSetup(dir: string): Promise<{ conf: string; creds: string; strangerCreds: string; userSeed: string }> {
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const user = createUser();
  const unlimited = { subs: -1, conn: -1, leaf: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true };
  const operatorJwt = await encodeOperator('trib-op', operator, { system_account: system.getPublicKey() });
  const systemJwt = await encodeAccount('SYS', system, { limits: unlimited }, { signer: operator });
  const accountJwt = await encodeAccount('trib', account, { limits: { ...unlimited, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } }, { signer: operator });
  const creds = path.join(dir, 'user.creds');
  fs.writeFileSync(creds, fmtCreds(await encodeUser('agent', user, account), user), { mode: 0o600 });
  const stranger = createUser();
  const strangerCreds = path.join(dir, 'stranger.creds');
  fs.writeFileSync(strangerCreds, fmtCreds(await encodeUser('stranger', stranger, createAccount()), stranger), { mode: 0o600 });
  const conf = path.join(dir, 'server.conf');
  fs.writeFileSync(conf, `operator: ${operatorJwt}\nsystem_account: ${system.getPublicKey()}\nresolver: MEMORY\nresolver_preload: {\n  ${account.getPublicKey()}: ${accountJwt}\n  ${system.getPublicKey()}: ${systemJwt}\n}\n`);
  return { conf, creds, strangerCreds, userSeed: new TextDecoder().decode(user.getSeed()) };
}

describe('nats auth', () => {
  it.runIf(!NATS_SERVER_BIN && inCi)('nats-server must be installed when CI=true', () => {
    throw new Error('nats-server binary not found (CI=true)');
  });

  it.skipIf(!NATS_SERVER_BIN)('user/password: delivers; a wrong password is refused and never logged', async () => {
    server = new PrivateNats(['--user', 'trib', '--pass', 's3cret-pw']);
    await server.start();
    const ok = await roundTrip(server.url, '{ user: trib, password: s3cret-pw }');
    const s = await runLoad({ port: () => ok.http, total: 1_000, perRequest: 100, concurrency: 2 }).done;
    expect(s.acknowledged).toBe(1_000);
    await waitFor('records at the gateway', () => fileNumbers(ok.out).size >= 1_000 || undefined, 30_000, 100);
    const bad = await roundTrip(server.url, '{ user: trib, password: wrong-pw-123 }');
    await waitFor('an authorization error in the log', () => /cannot reach NATS yet/.test(bad.agent.stderr()) || undefined, 20_000, 100);
    expect(bad.agent.stderr()).toMatch(/Authorization|AUTHORIZATION|auth/i);
    for (const c of collectors) expect(c.stderr()).not.toMatch(/s3cret-pw|wrong-pw-123/);
  }, 120_000);

  it.skipIf(!NATS_SERVER_BIN)('token: delivers', async () => {
    server = new PrivateNats(['--auth', 'tok-abc-123']);
    await server.start();
    const ok = await roundTrip(server.url, '{ token: tok-abc-123 }');
    const s = await runLoad({ port: () => ok.http, total: 500, perRequest: 100, concurrency: 1 }).done;
    expect(s.acknowledged).toBe(500);
    await waitFor('records at the gateway', () => fileNumbers(ok.out).size >= 500 || undefined, 30_000, 100);
    for (const c of collectors) expect(c.stderr()).not.toContain('tok-abc-123');
  }, 120_000);

  it.skipIf(!NATS_SERVER_BIN)('NKey seed file: delivers, the seed never logged', async () => {
    const user = nkeys.createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    const dir = tempDir('trib-nkey-');
    const seedFile = path.join(dir, 'user.nk');
    fs.writeFileSync(seedFile, seed + '\n', { mode: 0o600 });
    const conf = path.join(dir, 'server.conf');
    fs.writeFileSync(conf, `authorization { users = [ { nkey: ${user.getPublicKey()} } ] }\n`);
    server = new PrivateNats(['-c', conf]);
    await server.start();
    const ok = await roundTrip(server.url, `{ nkey_file: ${JSON.stringify(seedFile)} }`);
    const s = await runLoad({ port: () => ok.http, total: 500, perRequest: 100, concurrency: 1 }).done;
    expect(s.acknowledged).toBe(500);
    await waitFor('records at the gateway', () => fileNumbers(ok.out).size >= 500 || undefined, 30_000, 100);
    for (const c of collectors) expect(c.stderr()).not.toContain(seed);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it.skipIf(!NATS_SERVER_BIN)('creds file (operator mode): delivers; a user of an unknown account and a broken file are refused clearly', async () => {
    const dir = tempDir('trib-creds-');
    const setup = await operatorSetup(dir);
    server = new PrivateNats(['-c', setup.conf]);
    await server.start();
    const ok = await roundTrip(server.url, `{ creds_file: ${JSON.stringify(setup.creds)} }`);
    const s = await runLoad({ port: () => ok.http, total: 500, perRequest: 100, concurrency: 1 }).done;
    expect(s.acknowledged).toBe(500);
    await waitFor('records at the gateway', () => fileNumbers(ok.out).size >= 500 || undefined, 30_000, 100);

    // Signed by an account the server does not trust: refused by the server, and said so.
    const stranger = await roundTrip(server.url, `{ creds_file: ${JSON.stringify(setup.strangerCreds)} }`);
    await waitFor('an authorization error in the log', () => /cannot reach NATS yet.*(Authorization|AUTHORIZATION)/i.test(stranger.agent.stderr()) || undefined, 20_000, 100);
    const lost = await runLoad({ port: () => stranger.http, total: 100, perRequest: 100, concurrency: 1 }).done;
    expect(lost.acknowledged).toBe(100); // queued: the agent keeps trying, nothing is lost meanwhile
    expect(fileNumbers(stranger.out).size).toBe(0);

    // Not a creds file at all: the collector does not start, and the error names the key.
    const broken = path.join(dir, 'broken.creds');
    fs.writeFileSync(broken, 'not a creds file\n');
    const bh = await freePort();
    await expect(startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${await freePort()} } } } }
exporters: { nats: { servers: [${server.url}], auth: { creds_file: ${JSON.stringify(broken)} }, subject: x } }
extensions: { health_check: { endpoint: 127.0.0.1:${bh} } }
service: { extensions: [health_check], pipelines: { logs: { receivers: [otlp], exporters: [nats] } } }
`, { healthPort: bh })).rejects.toThrow(/exited early[\s\S]*auth\.creds_file: .*broken\.creds is not a NATS creds file/);

    for (const c of collectors) {
      expect(c.stderr()).not.toContain(setup.userSeed);
      expect(c.stderr()).not.toMatch(/-----BEGIN (NATS USER JWT|USER NKEY SEED)-----/);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it.skipIf(!NATS_SERVER_BIN)('TLS with a CA file: delivers over tls://', async () => {
    const dir = tempDir('trib-tls-');
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    server = new PrivateNats(['--tls', '--tlscert', cert, '--tlskey', key]);
    await server.start();
    // `auth` is spliced into a YAML flow mapping: `auth: {}, tls: {…}`.
    const ok = await roundTrip(server.url.replace('nats://', 'tls://'), `{}, tls: { ca_file: ${JSON.stringify(cert)} }`);
    const s = await runLoad({ port: () => ok.http, total: 500, perRequest: 100, concurrency: 1 }).done;
    expect(s.acknowledged).toBe(500);
    await waitFor('records at the gateway', () => fileNumbers(ok.out).size >= 500 || undefined, 30_000, 100);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
