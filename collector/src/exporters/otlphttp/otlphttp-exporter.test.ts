import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeExportRequest,
  decodeExportRequestJson,
  encodeExportRequestJson,
  encodeExportResponse,
  encodeRetryInfo,
  encodeRpcStatus,
  idFromHex,
  idToHex,
  nanosFromDecimal,
  nanosFromMillis,
  nanosToDecimal,
  type ResourceLogs,
} from '@tributary/otlp';
import type { CreateSettings, LogsBatch } from '../../component.js';
import { PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { Telemetry, type Counter } from '../../telemetry/metrics.js';
import { PARTIAL_REJECTED_METRIC } from '../common/partial-success.js';
import { USER_AGENT } from '../common/user-agent.js';
import { pdataLogsOTLP, PDATA_LOGS_JSON } from '../testdata/pdata-logs.js';
import { logsUrl, otlpHttpExporterConfigSchema, otlpHttpExporterFactory, OtlpHttpExporter } from './index.js';

const SECRET = 'sk-very-secret-api-key';

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
              observedTimeUnixNano: nanosFromMillis(1_700_000_000_200),
              severityNumber: 17,
              severityText: 'ERROR',
              body: { stringValue: 'payment failed' },
              attributes: [
                { key: 'http.status', value: { intValue: 502 } },
                { key: 'retry', value: { boolValue: true } },
                { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { doubleValue: 1.5 }] } } },
              ],
              droppedAttributesCount: 1,
              flags: 1,
              traceId: idFromHex('5b8efff798038103d269b633813fc60c', 16),
              spanId: idFromHex('eee19b7ec3c1b174', 8),
              eventName: 'payment.failed',
            },
            {
              timeUnixNano: nanosFromMillis(1_700_000_001_000),
              observedTimeUnixNano: nanosFromMillis(1_700_000_001_000),
              severityNumber: 9,
              severityText: 'INFO',
              body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'ok' } }] } },
              attributes: [],
              droppedAttributesCount: 0,
              flags: 0,
              traceId: new Uint8Array(0),
              spanId: new Uint8Array(0),
              eventName: '',
            },
          ],
        },
      ],
    },
  ];
}

function sampleBatch(): LogsBatch {
  const resourceLogs = sampleResourceLogs();
  return { resourceLogs, recordCount: 2, receivedAt: performance.now() };
}

interface Recorded {
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Responder = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

class RecordingServer {
  readonly requests: Recorded[] = [];
  readonly sockets = new Set<Socket>();
  connections = 0;
  respond: Responder = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end();
  };
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        this.requests.push({ url: req.url ?? '', headers: req.headers, body });
        this.respond(req, res, body);
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function settings(lines: string[] = []): CreateSettings & { telemetry: Telemetry } {
  return {
    id: { type: 'otlphttp', name: 'test', id: 'otlphttp/test' },
    logger: createLogger({ write: (l) => lines.push(l), level: 'debug' }),
    telemetry: new Telemetry(),
  };
}

function makeExporter(endpoint: string, extra: Record<string, unknown> = {}, lines: string[] = []) {
  const s = settings(lines);
  const config = otlpHttpExporterConfigSchema.parse({ endpoint, ...extra });
  return { exporter: new OtlpHttpExporter(s, config), settings: s };
}

const never = new AbortController().signal;

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the send to fail');
}

describe('otlphttp config', () => {
  it('fills upstream defaults', () => {
    const c = otlpHttpExporterConfigSchema.parse({ endpoint: 'http://collector:4318' });
    expect(c.encoding).toBe('proto');
    expect(c.compression).toBe('gzip');
    expect(c.headers).toEqual({});
    expect(c.tls.insecure_skip_verify).toBe(false);
    expect(c.timeout).toBe(5000);
    expect(c.sending_queue.enabled).toBe(true);
    expect(c.retry_on_failure.initial_interval).toBe(5000);
  });

  it('requires endpoint or logs_endpoint, naming the path', () => {
    const r = otlpHttpExporterConfigSchema.safeParse({});
    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([expect.objectContaining({ path: ['endpoint'], message: 'one of endpoint or logs_endpoint is required' })]);
  });

  it('rejects unknown keys, bad URLs and bad enums', () => {
    expect(otlpHttpExporterConfigSchema.safeParse({ endpoint: 'http://x', bogus: 1 }).success).toBe(false);
    const bad = otlpHttpExporterConfigSchema.safeParse({ endpoint: 'collector:4318' });
    expect(bad.error!.issues[0]!.path).toEqual(['endpoint']);
    expect(otlpHttpExporterConfigSchema.safeParse({ endpoint: 'http://x', encoding: 'xml' }).success).toBe(false);
    expect(otlpHttpExporterConfigSchema.safeParse({ endpoint: 'http://x', compression: 'zstd' }).success).toBe(false);
    const tls = otlpHttpExporterConfigSchema.safeParse({ endpoint: 'https://x', tls: { cert_file: '/c.pem' } });
    expect(tls.error!.issues[0]!.path).toEqual(['tls', 'key_file']);
  });

  it('composes the logs URL like upstream', () => {
    expect(logsUrl({ endpoint: 'http://h:4318' }).href).toBe('http://h:4318/v1/logs');
    expect(logsUrl({ endpoint: 'http://h:4318/' }).href).toBe('http://h:4318/v1/logs');
    expect(logsUrl({ endpoint: 'https://h/prefix' }).href).toBe('https://h/prefix/v1/logs');
    expect(logsUrl({ endpoint: 'http://h:4318', logs_endpoint: 'http://other/custom/logs' }).href).toBe('http://other/custom/logs');
  });

  it('is the factory builtins registers', () => {
    expect(otlpHttpExporterFactory.type).toBe('otlphttp');
    expect(otlpHttpExporterFactory.kind).toBe('exporter');
  });
});

describe('otlphttp exporter against a real server', () => {
  const server = new RecordingServer();
  let exporters: OtlpHttpExporter[] = [];

  beforeAll(() => server.start());
  afterAll(() => server.stop());
  afterEach(async () => {
    await Promise.all(exporters.map((e) => e.shutdown()));
    exporters = [];
    server.requests.length = 0;
    server.respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    };
  });

  async function started(extra: Record<string, unknown> = {}, lines: string[] = []) {
    const made = makeExporter(server.url, extra, lines);
    await made.exporter.start();
    exporters.push(made.exporter);
    return made;
  }

  for (const encoding of ['proto', 'json'] as const) {
    for (const compression of ['gzip', 'none'] as const) {
      it(`sends ${encoding} with compression ${compression}; the body decodes back field for field`, async () => {
        const { exporter } = await started({ encoding, compression, headers: { 'X-Api-Key': SECRET } });
        const batch = sampleBatch();
        await exporter.send(batch, never);

        expect(server.requests).toHaveLength(1);
        const r = server.requests[0]!;
        expect(r.url).toBe('/v1/logs');
        expect(r.headers['content-type']).toBe(encoding === 'json' ? 'application/json' : 'application/x-protobuf');
        expect(r.headers['content-encoding']).toBe(compression === 'gzip' ? 'gzip' : undefined);
        expect(r.headers['user-agent']).toBe(USER_AGENT);
        expect(r.headers['x-api-key']).toBe(SECRET);

        const decoded = encoding === 'json' ? decodeExportRequestJson(r.body.toString('utf8')) : decodeExportRequest(r.body);
        // The JSON encoding covers every field, so equal JSON means equal trees.
        expect(encodeExportRequestJson(decoded)).toBe(encodeExportRequestJson({ resourceLogs: sampleResourceLogs() }));
        const rec = decoded.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
        expect(idToHex(rec.traceId)).toBe('5b8efff798038103d269b633813fc60c');
        expect(idToHex(rec.spanId)).toBe('eee19b7ec3c1b174');
        expect(nanosToDecimal(rec.timeUnixNano)).toBe('1700000000123456789');
        expect(rec.eventName).toBe('payment.failed');
        expect(decoded.resourceLogs[0]!.scopeLogs[0]!.logRecords).toHaveLength(2);
      });
    }
  }

  // pdata's pinned logsOTLP / logsJSON (../testdata/pdata-logs.ts): upstream sends the request unchanged, so a
  // JSON body is that document byte for byte and a protobuf body carries every one of its fields.
  it('upstream golden: the pdata logsJSON request, byte for byte in JSON, field for field in protobuf', async () => {
    const { exporter } = await started({ encoding: 'json', compression: 'none' });
    await exporter.send({ resourceLogs: pdataLogsOTLP(), recordCount: 1, receivedAt: performance.now() }, never);
    const { exporter: proto } = await started({ encoding: 'proto', compression: 'none' });
    await proto.send({ resourceLogs: pdataLogsOTLP(), recordCount: 1, receivedAt: performance.now() }, never);
    expect(server.requests.map((r) => r.url)).toEqual(['/v1/logs', '/v1/logs']);
    expect(server.requests[0]!.body.toString('utf8')).toBe(PDATA_LOGS_JSON);
    expect(encodeExportRequestJson(decodeExportRequest(server.requests[1]!.body))).toBe(PDATA_LOGS_JSON);
  });

  it('posts to logs_endpoint when set', async () => {
    const made = makeExporter('http://unused.invalid:1', { logs_endpoint: `${server.url}/custom/path?tenant=a` });
    await made.exporter.start();
    exporters.push(made.exporter);
    await made.exporter.send(sampleBatch(), never);
    expect(server.requests[0]!.url).toBe('/custom/path?tenant=a');
  });

  it('reuses one keep-alive connection across sends', async () => {
    const before = server.connections;
    const { exporter } = await started();
    for (let i = 0; i < 5; i++) await exporter.send(sampleBatch(), never);
    expect(server.requests).toHaveLength(5);
    expect(server.connections - before).toBe(1);
  });

  it('treats a partial success as success, counts and logs the rejected records', async () => {
    server.respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(encodeExportResponse({ partialSuccess: { rejectedLogRecords: 1, errorMessage: 'record too old' } }));
    };
    const lines: string[] = [];
    const { exporter, settings: s } = await started({ headers: { authorization: `Bearer ${SECRET}` } }, lines);
    await exporter.send(sampleBatch(), never);
    const counter = s.telemetry.find(PARTIAL_REJECTED_METRIC) as Counter;
    expect(counter.total({ exporter: 'otlphttp/test' })).toBe(1);
    expect(lines.some((l) => l.includes('partial success') && l.includes('record too old'))).toBe(true);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('reads a JSON partial success answer', async () => {
    server.respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"bad"}}');
    };
    const { exporter, settings: s } = await started({ encoding: 'json' });
    await exporter.send(sampleBatch(), never);
    expect((s.telemetry.find(PARTIAL_REJECTED_METRIC) as Counter).total()).toBe(2);
  });

  it('429 with Retry-After → ThrottledError with retryAfterMs', async () => {
    server.respond = (_req, res) => {
      res.writeHead(429, { 'retry-after': '7' });
      res.end();
    };
    const { exporter } = await started();
    const err = await rejection(exporter.send(sampleBatch(), never));
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBe(7000);
    expect(err.message).toContain('HTTP 429');
  });

  it('503 with a protobuf Status carrying RetryInfo → RetryableError with that delay', async () => {
    server.respond = (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/x-protobuf' });
      res.end(encodeRpcStatus({ code: 14, message: 'overloaded', details: [encodeRetryInfo(2500)] }));
    };
    const { exporter } = await started();
    const err = await rejection(exporter.send(sampleBatch(), never));
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).retryAfterMs).toBe(2500);
    expect(err.message).toContain('overloaded');
  });

  it('502 with a JSON Status carrying RetryInfo → RetryableError with that delay', async () => {
    server.respond = (_req, res) => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 14, message: 'upstream down', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }] }));
    };
    const { exporter } = await started({ encoding: 'json' });
    const err = await rejection(exporter.send(sampleBatch(), never));
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).retryAfterMs).toBe(1500);
  });

  it('504 without hints → RetryableError with no retryAfterMs', async () => {
    server.respond = (_req, res) => {
      res.writeHead(504);
      res.end();
    };
    const { exporter } = await started();
    const err = await rejection(exporter.send(sampleBatch(), never));
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).retryAfterMs).toBeUndefined();
  });

  for (const status of [400, 401, 404, 413, 500]) {
    it(`${status} → PermanentError with the status and the Status message, no secrets`, async () => {
      server.respond = (_req, res) => {
        res.writeHead(status, { 'content-type': 'application/x-protobuf' });
        res.end(encodeRpcStatus({ code: 3, message: `bad thing ${'x'.repeat(1000)}` }));
      };
      const { exporter } = await started({ headers: { authorization: `Bearer ${SECRET}` } });
      const err = await rejection(exporter.send(sampleBatch(), never));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.message).toContain(`HTTP ${status}: bad thing`);
      expect(err.message).toContain('otlphttp/test');
      expect(err.message.length).toBeLessThan(500); // truncated
      expect(err.message).not.toContain(SECRET);
    });
  }

  it('shows a plain-text failure body', async () => {
    server.respond = (_req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('missing tenant');
    };
    const { exporter } = await started();
    const err = await rejection(exporter.send(sampleBatch(), never));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toContain('missing tenant');
  });

  it('aborting the signal cancels a hanging request with a RetryableError', async () => {
    let arrived!: () => void;
    const requestArrived = new Promise<void>((r) => (arrived = r));
    let serverSawClose!: () => void;
    const closed = new Promise<void>((r) => (serverSawClose = r));
    server.respond = (_req, res) => {
      res.on('close', () => serverSawClose());
      arrived(); // never answers
    };
    const { exporter } = await started();
    const ac = new AbortController();
    const sending = rejection(exporter.send(sampleBatch(), ac.signal));
    await requestArrived;
    ac.abort(new Error('timeout after 5s'));
    const err = await sending;
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toContain('aborted');
    await closed; // the server saw the connection go away
  });

  it('an already aborted signal does not send', async () => {
    const { exporter } = await started();
    const err = await rejection(exporter.send(sampleBatch(), AbortSignal.abort()));
    expect(err).toBeInstanceOf(RetryableError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('otlphttp exporter without a server', () => {
  it('connection refused → RetryableError', async () => {
    const tmp = createServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    const port = (tmp.address() as AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    const { exporter } = makeExporter(`http://127.0.0.1:${port}`);
    await exporter.start();
    try {
      const err = await rejection(exporter.send(sampleBatch(), never));
      expect(err).toBeInstanceOf(RetryableError);
      expect(err.message).toContain('ECONNREFUSED');
    } finally {
      await exporter.shutdown();
    }
  });

  it('fails start with the key and file when a TLS file is missing', async () => {
    const { exporter } = makeExporter('https://127.0.0.1:1', { tls: { ca_file: '/nonexistent/ca.pem' } });
    await expect(exporter.start()).rejects.toThrow(/tls\.ca_file: cannot read \/nonexistent\/ca\.pem: ENOENT/);
  });
});

describe('otlphttp exporter over https', () => {
  let dir = '';
  let server: HttpsServer;
  let url = '';
  let received = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otlphttp-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function sendWith(tls: Record<string, unknown>): Promise<void> {
    const { exporter } = makeExporter(url, { tls });
    await exporter.start();
    try {
      await exporter.send(sampleBatch(), never);
    } finally {
      await exporter.shutdown();
    }
  }

  it('verifies the server with ca_file', async () => {
    const before = received;
    await sendWith({ ca_file: join(dir, 'cert.pem') });
    expect(received).toBe(before + 1);
  });

  it('refuses an unknown certificate (retryable transport error) unless insecure_skip_verify', async () => {
    const err = await rejection(sendWith({}));
    expect(err).toBeInstanceOf(RetryableError);
    const before = received;
    await sendWith({ insecure_skip_verify: true });
    expect(received).toBe(before + 1);
  });
});
