import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Host } from '../component.js';
import { PermanentError, RetryableError, ThrottledError } from '../errors.js';
import { silentLogger } from '../telemetry/logger.js';
import { errorForGrpcStatus, grpcClientShape, parseGrpcEndpoint } from './grpc-client.js';
import { errorForHttpStatus, httpClientShape, openHttpClient, SERVER_ERROR_STATUS, transportError } from './http-client.js';

const schema = z.strictObject(httpClientShape({ compression: 'gzip' }));
const logger = silentLogger;
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function listen(server: Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function hostWith(extensions: Record<string, unknown>): Host {
  return { getExtension: (id: string) => extensions[id] } as unknown as Host;
}

describe('HTTP client config', () => {
  it('has the confighttp keys with defaults, and checks the endpoint scheme', () => {
    const c = schema.parse({ endpoint: 'https://h:1' });
    expect(c).toMatchObject({ compression: 'gzip', headers: {}, idle_conn_timeout: 30_000, disable_keep_alives: false, compression_params: {} });
    expect(c.tls).toMatchObject({ insecure: false, insecure_skip_verify: false });
    expect(schema.safeParse({ endpoint: 'ftp://h:1' }).error?.issues[0]?.message).toBe('must be an http:// or https:// URL');
    const full = schema.parse({
      endpoint: 'http://h:1',
      proxy_url: 'http://proxy:3128',
      max_idle_conns: 10,
      max_idle_conns_per_host: 2,
      max_conns_per_host: 4,
      idle_conn_timeout: '90s',
      read_buffer_size: '64KiB',
      write_buffer_size: 1024,
      compression_params: { level: 9 },
      auth: { authenticator: 'bearertokenauth' },
      tls: { ca_pem: 'x', server_name_override: 'name', min_version: '1.2', max_version: '1.3', reload_interval: '1h' },
    });
    expect(full.idle_conn_timeout).toBe(90_000);
    expect(full.read_buffer_size).toBe(65536);
  });

  it('refuses reserved header names, unpaired cert/key, file and PEM together, and unknown keys', () => {
    const issue = (v: unknown): string | undefined => {
      const r = schema.safeParse(v);
      return r.success ? undefined : `${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`;
    };
    expect(issue({ endpoint: 'http://h:1', headers: { 'Content-Type': 'x' } })).toBe('headers.Content-Type: "Content-Type" is set by the exporter itself and cannot be overridden');
    expect(issue({ endpoint: 'http://h:1', tls: { cert_file: 'a' } })).toBe('tls.key_file: tls.cert_file and tls.key_file must be set together');
    expect(issue({ endpoint: 'http://h:1', tls: { ca_file: 'a', ca_pem: 'b' } })).toBe('tls.ca_pem: set ca_file or ca_pem, not both');
    expect(issue({ endpoint: 'http://h:1', tls: { min_version: '1.3', max_version: '1.2' } })).toBe('tls.max_version: must not be below min_version');
    expect(issue({ endpoint: 'http://h:1', proxy: 'x' })).toMatch(/^: /);
  });

  it('gRPC: configgrpc keys, endpoint forms, reserved and binary metadata refused', () => {
    const g = z.strictObject(grpcClientShape);
    expect(g.parse({ endpoint: 'h:4317' })).toMatchObject({ compression: 'gzip', wait_for_ready: false, keepalive: { time: 0, timeout: 20_000, permit_without_stream: false } });
    expect(g.safeParse({ endpoint: 'h:4317', headers: { 'x-bin': 'a' } }).success).toBe(false);
    expect(g.safeParse({ endpoint: 'h:4317', headers: { te: 'a' } }).success).toBe(false);
    expect(parseGrpcEndpoint('https://h')).toEqual({ target: 'h:443', schemeInsecure: false });
  });
});

describe('error mapping', () => {
  it('statuses: 429 throttled with Retry-After, policy retryable, else permanent', () => {
    const t = errorForHttpStatus('w', 429, 'slow', '3');
    expect(t).toBeInstanceOf(ThrottledError);
    expect((t as ThrottledError).retryAfterMs).toBe(3000);
    expect(t.message).toBe('w: HTTP 429: slow');
    expect(errorForHttpStatus('w', 503, '', undefined)).toBeInstanceOf(RetryableError);
    expect(errorForHttpStatus('w', 500, '', undefined)).toBeInstanceOf(PermanentError); // OTLP: 500 is not retryable
    expect(errorForHttpStatus('w', 500, '', undefined, SERVER_ERROR_STATUS)).toBeInstanceOf(RetryableError);
    expect(errorForHttpStatus('w', 408, '', undefined, SERVER_ERROR_STATUS, 250)).toMatchObject({ retryAfterMs: 250 });
    expect(errorForHttpStatus('w', 401, 'bad token', undefined, SERVER_ERROR_STATUS, undefined, 'UNAUTHENTICATED').message).toBe('w: HTTP 401 UNAUTHENTICATED: bad token');
  });

  it('transport errors are retryable and name only where and the code', () => {
    const e = transportError('w', Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' }), undefined);
    expect(e).toBeInstanceOf(RetryableError);
    expect(e.message).toBe('w: ECONNREFUSED: connect refused');
    const ac = new AbortController();
    ac.abort(new Error('timed out'));
    expect(transportError('w', new Error('x'), ac.signal).message).toBe('w: request aborted (timed out)');
  });

  it('gRPC statuses as upstream otlpexporter', () => {
    const err = (code: number) => Object.assign(new Error('x'), { code, details: 'd', metadata: undefined }) as never;
    expect(errorForGrpcStatus('w', err(14), 'd')).toBeInstanceOf(RetryableError);
    expect(errorForGrpcStatus('w', err(8), 'd')).toBeInstanceOf(PermanentError); // RESOURCE_EXHAUSTED without RetryInfo
    expect(errorForGrpcStatus('w', err(3), 'd').message).toBe('w: INVALID_ARGUMENT: d');
  });
});

describe('openHttpClient', () => {
  it('sends through the pool, reads the answer, adds the authenticator headers and closes idempotently', async () => {
    const seen: IncomingMessage['headers'][] = [];
    const url = await listen(createHttpServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(202, { 'retry-after': '1' }).end('ok');
    }));
    const auth = { clientHeaders: (md?: Record<string, unknown>) => Promise.resolve({ authorization: `Bearer t-${String(md?.['x-tenant'] ?? 'none')}` }) };
    const client = await openHttpClient({ name: 'exporter x', logger, host: hostWith({ bearer: auth }) }, new URL(url), { ...schema.parse({ endpoint: url, auth: { authenticator: 'bearer' } }) }, 'exporter x: POST');
    const a = await client.request({ path: '/p', headers: { 'x-a': '1' }, body: 'b', metadata: { 'x-tenant': 'acme' } });
    expect(a.status).toBe(202);
    expect(a.body.toString()).toBe('ok');
    expect(seen[0]).toMatchObject({ 'x-a': '1', authorization: 'Bearer t-acme' });
    await client.close();
    await client.close();
  });

  it('auth.authenticator: a clear start error when the extension is missing or not a client authenticator', async () => {
    const cfg = schema.parse({ endpoint: 'http://127.0.0.1:1', auth: { authenticator: 'nope' } });
    await expect(openHttpClient({ name: 'exporter x', logger, host: hostWith({}) }, new URL(cfg.endpoint), cfg, 'w')).rejects.toThrow(
      'exporter x: auth.authenticator: extension "nope" is not configured in service.extensions',
    );
    await expect(openHttpClient({ name: 'exporter x', logger, host: hostWith({ nope: { start: () => undefined } }) }, new URL(cfg.endpoint), cfg, 'w')).rejects.toThrow(
      'extension "nope" is not a client authenticator',
    );
  });

  it('a transport failure is a RetryableError; disable_keep_alives closes each connection', async () => {
    let connections = 0;
    const server = createHttpServer((_req, res) => res.end('x'));
    server.on('connection', () => connections++);
    const url = await listen(server);
    const client = await openHttpClient({ name: 'x', logger }, new URL(url), schema.parse({ endpoint: url, disable_keep_alives: true }), 'w');
    await client.request({ path: '/', headers: {} });
    await client.request({ path: '/', headers: {} });
    expect(connections).toBe(2);
    await client.close();
    const dead = await openHttpClient({ name: 'x', logger }, new URL('http://127.0.0.1:1'), schema.parse({ endpoint: 'http://127.0.0.1:1' }), 'w');
    await expect(dead.request({ path: '/', headers: {} })).rejects.toBeInstanceOf(RetryableError);
    await dead.close();
  });

  it('proxy_url: requests go through the proxy (CONNECT)', async () => {
    const target = await listen(createHttpServer((_req, res) => res.end('via proxy')));
    const tunnels: string[] = [];
    const proxy = createHttpServer();
    proxy.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = netConnect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    const proxyUrl = await listen(proxy);
    const client = await openHttpClient({ name: 'x', logger }, new URL(target), schema.parse({ endpoint: target, proxy_url: proxyUrl }), 'w');
    const a = await client.request({ method: 'GET', path: '/', headers: {} });
    expect(a.body.toString()).toBe('via proxy');
    expect(tunnels).toEqual([new URL(target).host]);
    await client.close();
  });
});
