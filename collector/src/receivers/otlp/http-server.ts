/** OTLP/HTTP logs endpoint (node:http / node:https): protobuf and JSON, gzip/deflate, answers as upstream. */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  decodeExportRequest,
  decodeExportRequestJson,
  encodeExportResponse,
  encodeExportResponseJson,
  encodeRpcStatus,
  type ExportLogsServiceRequest,
} from '@tributary/otlp';
import { splitEndpoint } from '../../config/schema-helpers.js';
import type { RequestAuth } from './auth.js';
import { BodyError, ClientAbortedError, parseContentEncoding, readBody } from './body.js';
import type { HttpProtocolConfig } from './config.js';
import { CorsPolicy } from './cors.js';
import type { Ingest, IngestOutcome, RefuseReason, RequestMetadata } from './ingest.js';
import { listenError, type BoundAddress } from './listen.js';
import type { Signal } from '../../pipeline/signal-router.js';
import { jsonToProto } from '../../signals/otlp-signals.js';

type BodyType = 'proto' | 'json';

/** Upstream's tls min/max_version → Node's. */
export const TLS_VERSIONS = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' } as const;

const CT_PROTO = 'application/x-protobuf';
const CT_JSON = 'application/json';
const CT_TEXT = 'text/plain; charset=utf-8';

// gRPC status codes used in google.rpc.Status bodies.
const Code = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

// Full-success bodies depend on nothing but the encoding: built once.
const OK_PROTO = Buffer.from(encodeExportResponse({}));
const OK_JSON = Buffer.from(encodeExportResponseJson({}));

function bodyTypeOf(contentType: string | undefined): BodyType | undefined {
  if (contentType === undefined) return undefined;
  const semi = contentType.indexOf(';');
  const media = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (media === CT_PROTO) return 'proto';
  if (media === CT_JSON) return 'json';
  return undefined;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function retryAfterSeconds(ms: number | undefined): string {
  return ms === undefined ? '1' : String(Math.ceil(ms / 1000));
}

function metadataOf(headers: IncomingHttpHeaders): RequestMetadata {
  const out: Record<string, string | string[] | undefined> = {};
  for (const k of Object.keys(headers)) if (k !== 'authorization') out[k] = headers[k];
  return out;
}

export class OtlpHttpServer {
  private server: Server | undefined;
  private bound: BoundAddress | undefined;
  private closing = false;
  private readonly logsPath: string;
  private readonly tracesPath: string;
  private readonly metricsPath: string;
  private readonly limit: number;
  private readonly cors: CorsPolicy | undefined;
  private auth: RequestAuth | undefined;
  private readonly includeMetadata: boolean;

  constructor(private readonly config: HttpProtocolConfig, private readonly ingest: Ingest, private readonly receiverId: string) {
    this.logsPath = config.logs_url_path;
    this.tracesPath = config.traces_url_path ?? '/v1/traces';
    this.metricsPath = config.metrics_url_path ?? '/v1/metrics';
    this.limit = config.max_request_body_size;
    const cors = config.cors ? new CorsPolicy(config.cors) : undefined;
    this.cors = cors?.enabled ? cors : undefined;
    this.includeMetadata = config.include_metadata;
  }

  /** Sets the request authenticator (resolved at start, when extensions are running). */
  setAuth(auth: RequestAuth | undefined): void {
    this.auth = auth;
  }

  address(): BoundAddress | undefined {
    return this.bound;
  }

  async listen(): Promise<BoundAddress> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => this.internalError(res, err));
    };
    const tls = this.config.tls;
    let server: Server;
    if (tls && tls.cert_file !== '') {
      const [cert, key] = await Promise.all([
        readFile(tls.cert_file).catch((e: unknown) => {
          throw new Error(`otlp receiver ${this.receiverId}: http tls.cert_file ${tls.cert_file}: ${(e as Error).message}`);
        }),
        readFile(tls.key_file).catch((e: unknown) => {
          throw new Error(`otlp receiver ${this.receiverId}: http tls.key_file ${tls.key_file}: ${(e as Error).message}`);
        }),
      ]);
      const ca = tls.client_ca_file === undefined ? undefined : await readFile(tls.client_ca_file).catch((e: unknown) => {
        throw new Error(`otlp receiver ${this.receiverId}: http tls.client_ca_file ${tls.client_ca_file}: ${(e as Error).message}`);
      });
      server = createHttpsServer({
        cert, key, ca,
        requestCert: ca !== undefined,
        rejectUnauthorized: ca !== undefined,
        minVersion: tls.min_version === undefined ? undefined : TLS_VERSIONS[tls.min_version],
        maxVersion: tls.max_version === undefined ? undefined : TLS_VERSIONS[tls.max_version],
      }, handler) as unknown as Server;
    } else {
      server = createHttpServer(handler);
    }
    if (this.config.read_header_timeout !== undefined) server.headersTimeout = this.config.read_header_timeout;
    if (this.config.read_timeout !== undefined) server.requestTimeout = this.config.read_timeout;
    if (this.config.idle_timeout !== undefined) server.keepAliveTimeout = this.config.idle_timeout;
    const { host, port } = splitEndpoint(this.config.endpoint);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(listenError(this.receiverId, 'http', this.config.endpoint, err));
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.bound = { host: addr.address, port: addr.port };
    return this.bound;
  }

  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is left. */
  async close(graceMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.closing = true;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      timer.unref();
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const extra = this.config.response_headers;
    if (extra !== undefined) for (const k of Object.keys(extra)) res.setHeader(k, extra[k]!);
    // Connections answered while shutting down are not kept alive.
    if (this.closing) res.setHeader('Connection', 'close');
    if (this.cors !== undefined) {
      if (this.cors.handlePreflight(req, res)) return;
      this.cors.applyActual(req, res);
    }
    const type = bodyTypeOf(req.headers['content-type']);
    if (this.auth !== undefined) {
      try {
        await this.auth.authenticate(req.headers);
      } catch (err) {
        // Any authenticator failure is a 401, as upstream; its message says why without echoing credentials.
        res.setHeader('WWW-Authenticate', this.auth.challenge);
        this.refuse(req, res, type, 'unauthenticated', 401, Code.UNAUTHENTICATED, err instanceof Error ? err.message : 'unauthenticated');
        return;
      }
    }
    const path = pathOf(req.url);
    let signal: Signal | undefined;
    if (path === this.logsPath && this.ingest.accepts('logs')) signal = 'logs';
    else if (path === this.tracesPath && this.ingest.accepts('traces')) signal = 'traces';
    else if (path === this.metricsPath && this.ingest.accepts('metrics')) signal = 'metrics';
    if (signal === undefined) {
      const missing = path === this.tracesPath ? 'traces' : path === this.metricsPath ? 'metrics' : path === this.logsPath ? 'logs' : undefined;
      const why = missing !== undefined
        ? `no ${missing} pipeline takes data from receiver ${this.receiverId}`
        : `${this.ingest.accepts('logs') ? `logs are accepted at ${this.logsPath}` : 'unknown path'}`;
      this.refuse(req, res, type, 'malformed', 404, Code.NOT_FOUND, `404 page not found: ${why}`);
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      this.refuse(req, res, type, 'malformed', 405, Code.UNIMPLEMENTED, `405 method not allowed, supported: [POST]`);
      return;
    }
    if (type === undefined) {
      const got = req.headers['content-type'] ?? '(none)';
      this.refuse(req, res, type, 'malformed', 415, Code.INVALID_ARGUMENT, `415 unsupported media type ${JSON.stringify(got)}, supported: [${CT_JSON}, ${CT_PROTO}]`);
      return;
    }
    const encoding = parseContentEncoding(req.headers['content-encoding']);
    if (encoding === undefined) {
      const got = req.headers['content-encoding'] ?? '';
      this.refuse(req, res, type, 'malformed', 415, Code.INVALID_ARGUMENT, `415 unsupported Content-Encoding ${JSON.stringify(got)}, supported: [gzip, deflate, identity]`);
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.limit) {
      this.refuse(req, res, type, 'too_large', 413, Code.RESOURCE_EXHAUSTED, `request body of ${declared} bytes is larger than max_request_body_size (${this.limit} bytes)`);
      return;
    }

    let body: Buffer;
    try {
      body = await readBody(req, encoding, this.limit);
    } catch (err) {
      if (err instanceof BodyError) {
        const reason: RefuseReason = err.status === 413 ? 'too_large' : 'malformed';
        this.refuse(req, res, type, reason, err.status, err.status === 413 ? Code.RESOURCE_EXHAUSTED : Code.INVALID_ARGUMENT, err.message);
      } else if (!(err instanceof ClientAbortedError)) throw err;
      return;
    }

    if (signal !== 'logs') {
      let proto: Uint8Array;
      try {
        proto = type === 'proto' ? body : jsonToProto(signal, body);
      } catch (err) {
        this.refuse(req, res, type, 'malformed', 400, Code.INVALID_ARGUMENT, `malformed OTLP/JSON ${signal} request: ${(err as Error).message}`);
        return;
      }
      const outcome = await this.ingest.ingestOpaque('http', signal, proto, receivedAt, this.includeMetadata ? metadataOf(req.headers) : undefined);
      this.answer(res, type, outcome);
      return;
    }

    let request: ExportLogsServiceRequest;
    try {
      request = type === 'proto' ? decodeExportRequest(body) : decodeExportRequestJson(body);
    } catch (err) {
      const what = type === 'proto' ? 'protobuf ExportLogsServiceRequest' : 'OTLP/JSON ExportLogsServiceRequest';
      this.refuse(req, res, type, 'malformed', 400, Code.INVALID_ARGUMENT, `malformed ${what}: ${(err as Error).message}`);
      return;
    }

    const outcome = await this.ingest.ingest('http', request.resourceLogs, receivedAt, this.includeMetadata ? metadataOf(req.headers) : undefined);
    this.answer(res, type, outcome);
  }

  private answer(res: ServerResponse, type: BodyType, o: IngestOutcome): void {
    switch (o.kind) {
      case 'accepted': {
        if (o.rejected === 0 && o.message === '') {
          this.send(res, 200, type === 'proto' ? CT_PROTO : CT_JSON, type === 'proto' ? OK_PROTO : OK_JSON);
          return;
        }
        const response = { partialSuccess: { rejectedLogRecords: o.rejected, errorMessage: o.message } };
        const body = type === 'proto' ? Buffer.from(encodeExportResponse(response)) : Buffer.from(encodeExportResponseJson(response));
        this.send(res, 200, type === 'proto' ? CT_PROTO : CT_JSON, body);
        return;
      }
      case 'throttled':
        res.setHeader('Retry-After', retryAfterSeconds(o.retryAfterMs));
        this.sendStatus(res, type, 429, Code.RESOURCE_EXHAUSTED, o.message);
        return;
      case 'unavailable':
        res.setHeader('Retry-After', retryAfterSeconds(o.retryAfterMs));
        this.sendStatus(res, type, 503, Code.UNAVAILABLE, o.message);
        return;
      case 'invalid':
        this.sendStatus(res, type, 400, Code.INVALID_ARGUMENT, o.message);
        return;
    }
  }

  /** Answers a request refused before it reached the pipeline; counts it. */
  private refuse(req: IncomingMessage, res: ServerResponse, type: BodyType | undefined, reason: RefuseReason, status: number, code: number, message: string): void {
    this.ingest.refuse('http', reason);
    // An unread body would have to be drained before the connection can be reused: close it instead.
    if (!req.complete) {
      res.setHeader('Connection', 'close');
      req.resume();
    }
    this.sendStatus(res, type, status, code, message);
  }

  private sendStatus(res: ServerResponse, type: BodyType | undefined, status: number, code: number, message: string): void {
    if (type === 'proto') this.send(res, status, CT_PROTO, Buffer.from(encodeRpcStatus({ code, message, details: [] })));
    else if (type === 'json') this.send(res, status, CT_JSON, Buffer.from(JSON.stringify({ code, message })));
    else this.send(res, status, CT_TEXT, Buffer.from(message));
  }

  private send(res: ServerResponse, status: number, contentType: string, body: Buffer): void {
    if (res.headersSent) return;
    res.statusCode = status;
    res.setHeader('Content-Type', contentType);
    res.setHeader('Content-Length', body.length);
    res.end(body);
  }

  private internalError(res: ServerResponse, err: unknown): void {
    this.ingest.log.error('otlp http request failed unexpectedly', { error: err instanceof Error ? err.message : String(err) });
    if (!res.headersSent) {
      res.setHeader('Connection', 'close');
      res.setHeader('Retry-After', '1');
      this.send(res, 500, CT_TEXT, Buffer.from('internal error'));
    }
  }
}
