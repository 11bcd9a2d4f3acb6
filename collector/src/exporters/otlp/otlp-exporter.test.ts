import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeExportRequestJson,
  encodeRetryInfo,
  encodeRpcStatus,
  idFromHex,
  idToHex,
  nanosFromDecimal,
  nanosToDecimal,
  type ExportLogsServiceRequest,
  type ExportLogsServiceResponse,
  type ResourceLogs,
} from '@tributary/otlp';
import type { CreateSettings, LogsBatch } from '../../component.js';
import { PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { Telemetry, type Counter } from '../../telemetry/metrics.js';
import { logsServiceDefinition, otlpExporterConfigSchema, otlpExporterFactory, OtlpExporter, parseGrpcEndpoint, PARTIAL_REJECTED_METRIC } from './index.js';
import { USER_AGENT } from '../common/user-agent.js';
import { pdataLogsOTLP, PDATA_LOGS_JSON } from '../testdata/pdata-logs.js';

const SECRET = 'sk-grpc-secret-token';

function sampleResourceLogs(): ResourceLogs[] {
  return [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }], droppedAttributesCount: 0 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
      scopeLogs: [
        {
          scope: { name: 'pino', version: '9.0.0', attributes: [], droppedAttributesCount: 0 },
          schemaUrl: '',
          logRecords: [
            {
              timeUnixNano: nanosFromDecimal('1700000000123456789'),
              observedTimeUnixNano: nanosFromDecimal('1700000000200000000'),
              severityNumber: 17,
              severityText: 'ERROR',
              body: { stringValue: 'payment failed' },
              attributes: [
                { key: 'http.status', value: { intValue: 502 } },
                { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { doubleValue: 1.5 }] } } },
              ],
              droppedAttributesCount: 1,
              flags: 1,
              traceId: idFromHex('5b8efff798038103d269b633813fc60c', 16),
              spanId: idFromHex('eee19b7ec3c1b174', 8),
              eventName: 'payment.failed',
            },
          ],
        },
      ],
    },
  ];
}

const batch = (): LogsBatch => ({ resourceLogs: sampleResourceLogs(), recordCount: 1, receivedAt: performance.now() });
const never = new AbortController().signal;

interface RecordedCall {
  request: ExportLogsServiceRequest;
  metadata: Metadata;
}

type Handler = (call: ServerUnaryCall<ExportLogsServiceRequest, ExportLogsServiceResponse>, cb: sendUnaryData<ExportLogsServiceResponse>) => void;
const ok: Handler = (_call, cb) => cb(null, {});

function statusMetadata(code: number, message: string, retryDelayMs?: number): Metadata {
  const md = new Metadata();
  const details = retryDelayMs === undefined ? [] : [encodeRetryInfo(retryDelayMs)];
  md.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus({ code, message, details })));
  return md;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the send to fail');
}

describe('otlp exporter config', () => {
  it('fills upstream defaults and requires endpoint', () => {
    const c = otlpExporterConfigSchema.parse({ endpoint: 'collector:4317' });
    expect(c.compression).toBe('gzip');
    expect(c.tls.insecure).toBe(false);
    expect(c.tls.insecure_skip_verify).toBe(false);
    expect(c.headers).toEqual({});
    expect(c.timeout).toBe(5000);
    const r = otlpExporterConfigSchema.safeParse({});
    expect(r.error!.issues[0]!.path).toEqual(['endpoint']);
  });

  it('rejects unknown keys and bad endpoints; accepts the configgrpc client keys', () => {
    expect(otlpExporterConfigSchema.safeParse({ endpoint: 'h:4317', balancer: 'round_robin' }).success).toBe(false);
    expect(otlpExporterConfigSchema.safeParse({ endpoint: 'h:4317', balancer_name: 'round_robin', authority: 'a', wait_for_ready: true, keepalive: { time: '10s' } }).success).toBe(true);
    expect(otlpExporterConfigSchema.safeParse({ endpoint: 'h:4317', balancer_name: 'random' }).success).toBe(false);
    expect(otlpExporterConfigSchema.safeParse({ endpoint: 'h:4317', headers: { 'User-Agent': 'x' } }).success).toBe(false);
    for (const ep of ['collector', 'ftp://h:1', 'h:99999', 'http://h:4317/path']) {
      const r = otlpExporterConfigSchema.safeParse({ endpoint: ep });
      expect(r.success, ep).toBe(false);
      expect(r.error!.issues[0]!.path).toEqual(['endpoint']);
    }
  });

  it('parses endpoint forms; http:// implies plaintext like upstream', () => {
    expect(parseGrpcEndpoint('h:4317')).toEqual({ target: 'h:4317', schemeInsecure: undefined });
    expect(parseGrpcEndpoint('[::1]:4317')).toEqual({ target: '[::1]:4317', schemeInsecure: undefined });
    expect(parseGrpcEndpoint('http://h:4317')).toEqual({ target: 'h:4317', schemeInsecure: true });
    expect(parseGrpcEndpoint('https://h')).toEqual({ target: 'h:443', schemeInsecure: false });
  });

  it('is the factory builtins registers', () => {
    expect(otlpExporterFactory.type).toBe('otlp');
  });
});

describe('otlp exporter against a real gRPC server', () => {
  const calls: RecordedCall[] = [];
  let handler: Handler = ok;
  let server: Server;
  let port = 0;
  // A TCP relay in front of the server, to count connections.
  let relay: TcpServer;
  let relayPort = 0;
  let relayConnections = 0;
  let relayBytesIn = 0;
  const relaySockets = new Set<Socket>();
  let exporters: OtlpExporter[] = [];

  beforeAll(async () => {
    server = new Server();
    server.addService(logsServiceDefinition, {
      Export: (call: ServerUnaryCall<ExportLogsServiceRequest, ExportLogsServiceResponse>, cb: sendUnaryData<ExportLogsServiceResponse>) => {
        calls.push({ request: call.request, metadata: call.metadata });
        handler(call, cb);
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    relay = createTcpServer((client) => {
      relayConnections++;
      const upstream = connect(port, '127.0.0.1');
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      relaySockets.add(client).add(upstream);
      client.on('data', (c: Buffer) => (relayBytesIn += c.length));
      client.pipe(upstream).pipe(client);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    relayPort = (relay.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of relaySockets) s.destroy();
    await new Promise<void>((r) => relay.close(() => r()));
    server.forceShutdown();
  });

  afterEach(async () => {
    await Promise.all(exporters.map((e) => e.shutdown()));
    exporters = [];
    calls.length = 0;
    handler = ok;
  });

  async function started(extra: Record<string, unknown> = {}, lines: string[] = [], viaRelay = false) {
    const s: CreateSettings & { telemetry: Telemetry } = {
      id: { type: 'otlp', name: 'test', id: 'otlp/test' },
      logger: createLogger({ write: (l) => lines.push(l), level: 'debug' }),
      telemetry: new Telemetry(),
    };
    const config = otlpExporterConfigSchema.parse({ endpoint: `127.0.0.1:${viaRelay ? relayPort : port}`, tls: { insecure: true }, ...extra });
    const exporter = new OtlpExporter(s, config);
    await exporter.start();
    exporters.push(exporter);
    return { exporter, settings: s };
  }

  // pdata's pinned logsOTLP / logsJSON (../testdata/pdata-logs.ts): upstream forwards the request unchanged.
  it('upstream golden: the server receives the pdata logsJSON request, field for field', async () => {
    const { exporter } = await started();
    await exporter.send({ resourceLogs: pdataLogsOTLP(), recordCount: 1, receivedAt: performance.now() }, never);
    expect(calls).toHaveLength(1);
    expect(encodeExportRequestJson(calls[0]!.request)).toBe(PDATA_LOGS_JSON);
  });

  for (const compression of ['gzip', 'none'] as const) {
    it(`sends with compression ${compression}: the request decodes back field for field, metadata and user agent sent`, async () => {
      const { exporter } = await started({ compression, headers: { 'X-Scope-OrgID': 'tenant-1', authorization: `Bearer ${SECRET}` } });
      await exporter.send(batch(), never);
      expect(calls).toHaveLength(1);
      const { request, metadata } = calls[0]!;
      expect(encodeExportRequestJson(request)).toBe(encodeExportRequestJson({ resourceLogs: sampleResourceLogs() }));
      const rec = request.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
      expect(nanosToDecimal(rec.timeUnixNano)).toBe('1700000000123456789');
      expect(idToHex(rec.traceId)).toBe('5b8efff798038103d269b633813fc60c');
      expect(metadata.get('x-scope-orgid')).toEqual(['tenant-1']);
      expect(metadata.get('authorization')).toEqual([`Bearer ${SECRET}`]);
      expect(String(metadata.get('user-agent')[0])).toContain(USER_AGENT);
    });
  }

  it('gzip compresses the message on the wire (bytes counted by the relay)', async () => {
    const big = (): LogsBatch => {
      const rl = sampleResourceLogs();
      rl[0]!.scopeLogs[0]!.logRecords[0]!.body = { stringValue: 'x'.repeat(200_000) };
      return { resourceLogs: rl, recordCount: 1, receivedAt: 0 };
    };
    const sent: Record<string, number> = {};
    for (const compression of ['gzip', 'none'] as const) {
      const { exporter } = await started({ compression }, [], true);
      await exporter.send(big(), never); // the first call sets up the connection
      const before = relayBytesIn;
      await exporter.send(big(), never);
      sent[compression] = relayBytesIn - before;
    }
    expect(calls.at(-1)!.request.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body!.stringValue).toHaveLength(200_000);
    expect(sent['none']!).toBeGreaterThan(200_000);
    expect(sent['gzip']!).toBeLessThan(20_000);
  });

  it('an http:// endpoint implies plaintext even without tls.insecure', async () => {
    const s: CreateSettings = { id: { type: 'otlp', name: '', id: 'otlp' }, logger: createLogger({ write: () => {} }), telemetry: new Telemetry() };
    const exporter = new OtlpExporter(s, otlpExporterConfigSchema.parse({ endpoint: `http://127.0.0.1:${port}` }));
    await exporter.start();
    exporters.push(exporter);
    await exporter.send(batch(), never);
    expect(calls).toHaveLength(1);
  });

  it('reuses one connection across sends', async () => {
    const before = relayConnections;
    const { exporter } = await started({}, [], true);
    for (let i = 0; i < 5; i++) await exporter.send(batch(), never);
    expect(calls).toHaveLength(5);
    expect(relayConnections - before).toBe(1);
  });

  it('partial success resolves, counts and logs the rejected records without secrets', async () => {
    handler = (_call, cb) => cb(null, { partialSuccess: { rejectedLogRecords: 3, errorMessage: 'too old' } });
    const lines: string[] = [];
    const { exporter, settings } = await started({ headers: { authorization: SECRET } }, lines);
    await exporter.send(batch(), never);
    expect((settings.telemetry.find(PARTIAL_REJECTED_METRIC) as Counter).total({ exporter: 'otlp/test' })).toBe(3);
    expect(lines.some((l) => l.includes('too old'))).toBe(true);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  const retryable = [status.CANCELLED, status.DEADLINE_EXCEEDED, status.ABORTED, status.OUT_OF_RANGE, status.UNAVAILABLE, status.DATA_LOSS];
  for (const code of retryable) {
    it(`${status[code]} → RetryableError with the RetryInfo delay`, async () => {
      handler = (_call, cb) => cb({ code, details: 'try later', metadata: statusMetadata(code, 'try later', 1250) });
      const { exporter } = await started();
      const err = await rejection(exporter.send(batch(), never));
      expect(err).toBeInstanceOf(RetryableError);
      expect((err as RetryableError).retryAfterMs).toBe(1250);
      expect(err.message).toContain(status[code]);
      expect(err.message).toContain('try later');
    });
  }

  it('UNAVAILABLE without details → RetryableError with no delay', async () => {
    handler = (_call, cb) => cb({ code: status.UNAVAILABLE, details: 'down' });
    const { exporter } = await started();
    const err = await rejection(exporter.send(batch(), never));
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).retryAfterMs).toBeUndefined();
  });

  it('RESOURCE_EXHAUSTED with RetryInfo → ThrottledError with the delay', async () => {
    handler = (_call, cb) => cb({ code: status.RESOURCE_EXHAUSTED, details: 'quota', metadata: statusMetadata(8, 'quota', 3000) });
    const { exporter } = await started();
    const err = await rejection(exporter.send(batch(), never));
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBe(3000);
  });

  it('RESOURCE_EXHAUSTED without RetryInfo → PermanentError (upstream)', async () => {
    handler = (_call, cb) => cb({ code: status.RESOURCE_EXHAUSTED, details: 'message too large' });
    const { exporter } = await started();
    const err = await rejection(exporter.send(batch(), never));
    expect(err).toBeInstanceOf(PermanentError);
  });

  for (const code of [status.INVALID_ARGUMENT, status.UNAUTHENTICATED, status.PERMISSION_DENIED, status.UNIMPLEMENTED, status.INTERNAL, status.UNKNOWN]) {
    it(`${status[code]} → PermanentError with the status and message`, async () => {
      handler = (_call, cb) => cb({ code, details: `nope ${'y'.repeat(1000)}` });
      const { exporter } = await started({ headers: { authorization: SECRET } });
      const err = await rejection(exporter.send(batch(), never));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.message).toContain(`${status[code]}: nope`);
      expect(err.message.length).toBeLessThan(500);
      expect(err.message).not.toContain(SECRET);
    });
  }

  it('aborting the signal cancels a hanging call (the server sees the cancel)', async () => {
    let arrived!: () => void;
    const callArrived = new Promise<void>((r) => (arrived = r));
    let cancelled!: () => void;
    const serverSawCancel = new Promise<void>((r) => (cancelled = r));
    handler = (call) => {
      call.on('cancelled', () => cancelled());
      arrived(); // never answers
    };
    const { exporter } = await started({ timeout: '30s' });
    const ac = new AbortController();
    const sending = rejection(exporter.send(batch(), ac.signal));
    await callArrived;
    ac.abort(new Error('shutdown'));
    const err = await sending;
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toContain('aborted (shutdown)');
    await serverSawCancel;
  });

  it('the config timeout becomes the call deadline → RetryableError', async () => {
    handler = () => {}; // never answers
    const { exporter } = await started({ timeout: '100ms' });
    const err = await rejection(exporter.send(batch(), never));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toContain('DEADLINE_EXCEEDED');
  });

  it('an unreachable endpoint → RetryableError (UNAVAILABLE)', async () => {
    const tmp = createTcpServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    const deadPort = (tmp.address() as AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    const s: CreateSettings = { id: { type: 'otlp', name: '', id: 'otlp' }, logger: createLogger({ write: () => {} }), telemetry: new Telemetry() };
    const exporter = new OtlpExporter(s, otlpExporterConfigSchema.parse({ endpoint: `http://127.0.0.1:${deadPort}`, timeout: '2s' }));
    await exporter.start();
    exporters.push(exporter);
    const err = await rejection(exporter.send(batch(), never));
    expect(err).toBeInstanceOf(RetryableError);
  });
});

describe('otlp exporter over TLS', () => {
  let dir = '';
  let server: Server;
  let port = 0;
  let received = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otlp-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = new Server();
    server.addService(logsServiceDefinition, {
      Export: (_call: ServerUnaryCall<ExportLogsServiceRequest, ExportLogsServiceResponse>, cb: sendUnaryData<ExportLogsServiceResponse>) => {
        received++;
        cb(null, {});
      },
    });
    const creds = ServerCredentials.createSsl(null, [{ private_key: readFileSync(join(dir, 'key.pem')), cert_chain: readFileSync(join(dir, 'cert.pem')) }]);
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  });
  afterAll(() => {
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  async function sendWith(endpoint: string, tls: Record<string, unknown>): Promise<void> {
    const s: CreateSettings = { id: { type: 'otlp', name: '', id: 'otlp' }, logger: createLogger({ write: () => {} }), telemetry: new Telemetry() };
    const exporter = new OtlpExporter(s, otlpExporterConfigSchema.parse({ endpoint, tls, timeout: '5s' }));
    await exporter.start();
    try {
      await exporter.send(batch(), never);
    } finally {
      await exporter.shutdown();
    }
  }

  it('verifies the server with ca_file (also with an https:// endpoint)', async () => {
    const before = received;
    await sendWith(`127.0.0.1:${port}`, { ca_file: join(dir, 'cert.pem') });
    await sendWith(`https://127.0.0.1:${port}`, { ca_file: join(dir, 'cert.pem') });
    expect(received).toBe(before + 2);
  });

  it('refuses an unknown certificate unless insecure_skip_verify', async () => {
    const err = await rejection(sendWith(`127.0.0.1:${port}`, {}));
    expect(err).toBeInstanceOf(RetryableError);
    const before = received;
    await sendWith(`127.0.0.1:${port}`, { insecure_skip_verify: true });
    expect(received).toBe(before + 1);
  });
});
