/**
 * Auth extensions wired as upstream: `auth: { authenticator: … }` on the otlp receiver (HTTP 401 / gRPC
 * UNAUTHENTICATED) and on the otlp / otlphttp exporters, for bearertokenauth, basicauth and headers_setter.
 * Two in-process collectors: A's exporter authenticates to B's receiver.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Metadata, credentials, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createDefaultRegistry } from '../collector/src/builtins.js';
import { loadConfigText } from '../collector/src/config/load.js';
import { md5Crypt, verifyHtpasswd } from '../collector/src/extensions/basicauth/htpasswd.js';
import { Service } from '../collector/src/pipeline/service.js';
import { logsServiceDefinition } from '../collector/src/receivers/otlp/grpc-server.js';
import { silentLogger } from '../collector/src/telemetry/logger.js';
import { decodeExportRequestJson } from '@tributary/otlp';
import { freePort, tempDir, waitFor } from './support/collector-process.js';
import { numberedRequestJson, postOtlpJson, receivedNumbers, startRecordingServer, type RecordingServer } from './support/recording-server.js';

const running: Service[] = [];
const servers: RecordingServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.shutdown()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<Service> {
  const svc = new Service(loadConfigText(yaml, createDefaultRegistry(), { env }), { registry: createDefaultRegistry(), logger: silentLogger });
  running.push(svc);
  await svc.start();
  return svc;
}

const LogsClient = makeGenericClientConstructor(logsServiceDefinition, 'LogsService');

function grpcExport(port: number, md: Metadata): Promise<ServiceError | null> {
  const client = new LogsClient(`127.0.0.1:${port}`, credentials.createInsecure()) as Client & {
    Export(req: unknown, md: Metadata, cb: (err: ServiceError | null) => void): void;
  };
  const req = decodeExportRequestJson(numberedRequestJson(1, 2));
  return new Promise((resolve) => client.Export(req, md, (err) => {
    client.close();
    resolve(err);
  }));
}

const post = (port: number, headers: Record<string, string>): Promise<Response> =>
  fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: numberedRequestJson(1, 3) });

/** A collector B: otlp receiver (HTTP + gRPC) with `authExt` as authenticator → file exporter. */
async function receiverSide(extensions: string, authId: string, dir: string): Promise<{ http: number; grpc: number; out: string }> {
  const [http, grpc] = [await freePort(), await freePort()];
  const out = path.join(dir, 'b.jsonl');
  await start(`
extensions:
${extensions}
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:${http}, auth: { authenticator: ${authId} } }
      grpc: { endpoint: 127.0.0.1:${grpc}, auth: { authenticator: ${authId} } }
exporters:
  file: { path: ${out}, flush_interval: 10ms }
service:
  extensions: [${authId}]
  pipelines: { logs: { receivers: [otlp], exporters: [file] } }
`);
  return { http, grpc, out };
}

function fileNumbers(file: string): number[] {
  if (!fs.existsSync(file)) return [];
  const out: number[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const req = decodeExportRequestJson(line);
    for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) {
      const n = r.attributes.find((a) => a.key === 'n');
      const v = n?.value.intValue;
      if (v != null) out.push(typeof v === 'number' ? v : v.toNumber());
    }
  }
  return out.sort((a, b) => a - b);
}

describe('bearertokenauth', () => {
  it('server: right token accepted, wrong or missing → 401 / UNAUTHENTICATED (token, tokens, filename)', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'token'), 'from-file-token\n');
    const b = await receiverSide(`
  bearertokenauth/in: { tokens: [s3cret, other], scheme: Bearer }
  bearertokenauth/file: { filename: ${path.join(dir, 'token')} }`, 'bearertokenauth/in', dir);
    expect((await post(b.http, { authorization: 'Bearer s3cret' })).status).toBe(200);
    expect((await post(b.http, { authorization: 'Bearer other' })).status).toBe(200);
    const wrong = await post(b.http, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post(b.http, {})).status).toBe(401);
    const ok = new Metadata();
    ok.set('authorization', 'Bearer s3cret');
    expect(await grpcExport(b.grpc, ok)).toBeNull();
    const bad = new Metadata();
    bad.set('authorization', 'Bearer nope');
    expect((await grpcExport(b.grpc, bad))?.code).toBe(16); // UNAUTHENTICATED
    expect((await grpcExport(b.grpc, new Metadata()))?.code).toBe(16);
    // 2 accepted HTTP requests of records 1-2 and one gRPC request of record 1.
    expect(await waitFor('records in b', () => (fileNumbers(b.out).length >= 5 ? fileNumbers(b.out) : undefined))).toEqual([1, 1, 1, 2, 2]);
  });

  it('client: an otlphttp exporter (otlp_http alias) and an otlp exporter send the token; a wrong one is refused', async () => {
    const dir = tempDir();
    const b = await receiverSide('  bearertokenauth/in: { token: s3cret }', 'bearertokenauth/in', dir);
    const [aHttp] = [await freePort()];
    await start(`
extensions:
  bearertokenauth/out: { token: "\${TOKEN}" }
  bearertokenauth/bad: { token: wrong }
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${aHttp} } } } }
exporters:
  otlp_http/b: { endpoint: http://127.0.0.1:${b.http}, auth: { authenticator: bearertokenauth/out } }
  otlp/b: { endpoint: 127.0.0.1:${b.grpc}, tls: { insecure: true }, auth: { authenticator: bearertokenauth/out } }
  otlphttp/bad: { endpoint: http://127.0.0.1:${b.http}, auth: { authenticator: bearertokenauth/bad }, retry_on_failure: { enabled: false } }
service:
  extensions: [bearertokenauth/out, bearertokenauth/bad]
  pipelines: { logs: { receivers: [otlp], exporters: [otlp_http/b, otlp/b, otlphttp/bad] } }
`, { TOKEN: 's3cret' });
    expect((await postOtlpJson(aHttp, numberedRequestJson(1, 5))).status).toBe(200);
    // Each record arrives twice (HTTP and gRPC exporter); the wrong-token exporter's copy never does.
    const got = await waitFor('records in b', () => (fileNumbers(b.out).length >= 8 ? fileNumbers(b.out) : undefined));
    expect(got).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });
});

describe('basicauth', () => {
  it('htpasswd verification: bcrypt, {SHA}, MD5-crypt (apr1) and plain entries', () => {
    expect(md5Crypt('secret2', 'abcdefgh', '$apr1$')).toBe('$apr1$abcdefgh$0BLzMGKvq1uVE85SkPwLE0');
    expect(verifyHtpasswd(bcrypt.hashSync('pw', 4).replace('$2b$', '$2y$'), 'pw')).toBe(true);
    expect(verifyHtpasswd('{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', 'password')).toBe(true);
    expect(verifyHtpasswd('{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', 'Password')).toBe(false);
    expect(verifyHtpasswd('plain', 'plain')).toBe(true);
  });

  it('server (file + inline) and client (otlphttp and otlp exporters); wrong password → 401 / UNAUTHENTICATED', async () => {
    const dir = tempDir();
    const htpasswd = path.join(dir, '.htpasswd');
    fs.writeFileSync(htpasswd, `# users\nalice:${bcrypt.hashSync('wonderland', 4).replace('$2b$', '$2y$')}\nbob:${md5Crypt('builder', 'xyzxyzxy', '$apr1$')}\n`);
    const b = await receiverSide(`
  basicauth/in:
    htpasswd:
      file: ${htpasswd}
      inline: |
        carol:plainpass`, 'basicauth/in', dir);
    const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    expect((await post(b.http, { authorization: basic('alice', 'wonderland') })).status).toBe(200);
    expect((await post(b.http, { authorization: basic('carol', 'plainpass') })).status).toBe(200);
    const wrong = await post(b.http, { authorization: basic('alice', 'nope') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await post(b.http, { authorization: basic('mallory', 'x') })).status).toBe(401);
    const bad = new Metadata();
    bad.set('authorization', basic('bob', 'wrong'));
    expect((await grpcExport(b.grpc, bad))?.code).toBe(16);

    const aHttp = await freePort();
    await start(`
extensions:
  basicauth/out: { client_auth: { username: bob, password: builder } }
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${aHttp} } } } }
exporters:
  otlphttp/b: { endpoint: http://127.0.0.1:${b.http}, auth: { authenticator: basicauth/out } }
  otlp_grpc/b: { endpoint: 127.0.0.1:${b.grpc}, tls: { insecure: true }, auth: { authenticator: basicauth/out } }
service:
  extensions: [basicauth/out]
  pipelines: { logs: { receivers: [otlp], exporters: [otlphttp/b, otlp_grpc/b] } }
`);
    expect((await postOtlpJson(aHttp, numberedRequestJson(10, 12))).status).toBe(200);
    const got = await waitFor('records in b', () => (fileNumbers(b.out).filter((n) => n >= 10).length >= 4 ? fileNumbers(b.out).filter((n) => n >= 10) : undefined));
    expect(got).toEqual([10, 10, 11, 11]);
  });
});

describe('headers_setter', () => {
  it('sets headers on exports from the incoming request metadata, with a default and a fixed value', async () => {
    const dest = await startRecordingServer();
    servers.push(dest);
    const aHttp = await freePort();
    await start(`
extensions:
  headers_setter:
    headers:
      - { key: X-Scope-OrgID, from_context: x-tenant, default_value: anonymous }
      - { key: X-Fixed, value: yes }
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${aHttp}, include_metadata: true } } } }
exporters:
  otlphttp: { endpoint: ${dest.url}, encoding: json, compression: none, auth: { authenticator: headers_setter } }
service:
  extensions: [headers_setter]
  pipelines: { logs: { receivers: [otlp], exporters: [otlphttp] } }
`);
    const send = (headers: Record<string, string>, from: number): Promise<Response> =>
      fetch(`http://127.0.0.1:${aHttp}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: numberedRequestJson(from, from + 1) });
    expect((await send({ 'x-tenant': 'acme' }, 1)).status).toBe(200);
    expect((await send({}, 2)).status).toBe(200);
    await waitFor('two exports', () => (dest.requests.length >= 2 ? true : undefined));
    const byNumber = new Map(dest.requests.map((r) => [receivedNumbers({ ...dest, requests: [r] })[0], r.headers]));
    expect(byNumber.get(1)?.['x-scope-orgid']).toBe('acme');
    expect(byNumber.get(2)?.['x-scope-orgid']).toBe('anonymous');
    expect(byNumber.get(1)?.['x-fixed']).toBe('yes');
  });

  it('an authenticator that is not listed in service.extensions is a config error naming the path', () => {
    expect(() => loadConfigText(`
extensions: { bearertokenauth/in: { token: x } }
receivers: { otlp: { protocols: { http: { auth: { authenticator: bearertokenauth/in } } } } }
exporters: { debug: {} }
service: { pipelines: { logs: { receivers: [otlp], exporters: [debug] } } }
`, createDefaultRegistry(), { env: {} })).toThrow(/receivers\.otlp\.protocols\.http\.auth\.authenticator: extension "bearertokenauth\/in" is not listed in service\.extensions/);
  });
});
