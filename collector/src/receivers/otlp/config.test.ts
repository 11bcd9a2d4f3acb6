import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeExportRequest } from '@tributary/otlp';
import { issuesFromZod } from '../../config/schema-helpers.js';
import { logsServiceDefinition } from './grpc-server.js';
import { otlpReceiverConfigSchema, otlpReceiverFactory } from './index.js';
import { sampleRequest, startReceiver } from './test-support.js';

function issues(input: unknown): string[] {
  const r = otlpReceiverConfigSchema.safeParse(input);
  return r.success ? [] : issuesFromZod(r.error, ['receivers', 'otlp']).map((i) => `${i.path}: ${i.message}`);
}

describe('otlp receiver config', () => {
  it('is registered as type otlp with a strict schema', () => {
    expect(otlpReceiverFactory.kind).toBe('receiver');
    expect(otlpReceiverFactory.type).toBe('otlp');
  });

  it('enables both protocols with upstream defaults when protocols is absent or null', () => {
    for (const input of [undefined, null, {}, { protocols: null }]) {
      expect(otlpReceiverConfigSchema.parse(input)).toEqual({
        protocols: {
          grpc: { endpoint: '127.0.0.1:4317', max_recv_msg_size_mib: 4, include_metadata: false },
          http: { endpoint: '127.0.0.1:4318', logs_url_path: '/v1/logs', max_request_body_size: 20 * 1024 * 1024, max_request_bytes_in_flight: 64 * 1024 * 1024, include_metadata: false, read_header_timeout: 60_000, read_timeout: 60_000, idle_timeout: 60_000 },
        },
      });
    }
  });

  it('enables only the protocols present; a null protocol value means defaults', () => {
    const c = otlpReceiverConfigSchema.parse({ protocols: { http: null } });
    expect(c.protocols.grpc).toBeUndefined();
    expect(c.protocols.http?.endpoint).toBe('127.0.0.1:4318');
    const g = otlpReceiverConfigSchema.parse({ protocols: { grpc: {} } });
    expect(g.protocols.http).toBeUndefined();
    expect(g.protocols.grpc?.max_recv_msg_size_mib).toBe(4);
  });

  it('parses sizes and normalises logs_url_path', () => {
    const c = otlpReceiverConfigSchema.parse({ protocols: { http: { max_request_body_size: '512KiB', logs_url_path: 'logs' } } });
    expect(c.protocols.http?.max_request_body_size).toBe(512 * 1024);
    expect(c.protocols.http?.logs_url_path).toBe('/logs');
  });

  it('rejects unknown keys, bad values and half-set TLS with exact paths', () => {
    expect(issues({ protocols: { http: { endpont: 'x:1' } } })).toEqual(['receivers.otlp.protocols.http.endpont: unknown key']);
    expect(issues({ protocols: { grpc: { endpoint: 'nope' } } })).toEqual(['receivers.otlp.protocols.grpc.endpoint: must be host:port']);
    expect(issues({ protocols: {} })).toEqual(['receivers.otlp.protocols: must enable at least one protocol (grpc or http)']);
    expect(issues({ protocols: { http: { tls: { cert_file: 'a.pem' } } } })).toEqual([
      'receivers.otlp.protocols.http.tls: cert_file and key_file must be set together',
    ]);
    expect(issues({ protocols: { grpc: { auth: { bearer_tokens: [] } } } })).toEqual([
      'receivers.otlp.protocols.grpc.auth.bearer_tokens: needs at least one token',
    ]);
    expect(issues({ protocols: { http: { max_request_body_size: 'lots' } } })[0]).toMatch(/max_request_body_size: invalid size/);
  });
});

describe('otlp receiver TLS', () => {
  let dir: string;
  let cert: string;
  let key: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'otlp-receiver-tls-'));
    cert = join(dir, 'cert.pem');
    key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves HTTPS and gRPC over TLS from cert_file/key_file', async () => {
    const tls = { cert_file: cert, key_file: key };
    const s = await startReceiver({ http: { tls }, grpc: { tls } });
    try {
      const ca = readFileSync(cert);
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          `https://127.0.0.1:${s.receiver.httpAddress()!.port}/v1/logs`,
          { method: 'POST', ca, headers: { 'content-type': 'application/x-protobuf' }, agent: false },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(Buffer.from(encodeExportRequest(sampleRequest())));
      });
      expect(status).toBe(200);

      const Ctor = makeGenericClientConstructor(logsServiceDefinition, 'LogsService');
      const client = new Ctor(s.grpcTarget, credentials.createSsl(ca), { 'grpc.ssl_target_name_override': 'localhost' }) as unknown as Client & {
        Export: (r: unknown, md: Metadata, cb: (err: ServiceError | null) => void) => void;
      };
      const err = await new Promise<ServiceError | null>((resolve) => client.Export(sampleRequest(), new Metadata(), resolve));
      client.close();
      expect(err).toBeNull();
      expect(s.next.batches).toHaveLength(2);
    } finally {
      await s.receiver.shutdown();
    }
  });

  it('names the missing file when a TLS file cannot be read', async () => {
    await expect(startReceiver({ http: { tls: { cert_file: join(dir, 'missing.pem'), key_file: key } } })).rejects.toThrow(
      /otlp receiver otlp: http tls.cert_file .*missing\.pem: ENOENT/,
    );
  });
});
