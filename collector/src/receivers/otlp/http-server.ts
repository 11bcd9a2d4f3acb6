/** OTLP/HTTP logs endpoint (node:http / node:https): protobuf and JSON, gzip/deflate, answers as upstream. */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  decodeExportRequest,
  decodeExportRequestJson,
  encodeExportResponse,
  encodeExportResponseJson,
  encodeRpcStatus,
  invalidUtf8Replacements,
  type ExportLogsServiceRequest,
} from '@tributary/otlp';
import { createConfiguredServer, DEFAULT_TIMEOUTS_MS, discardRequestBody, DISCARD_MAX_MS, InFlightBudget, listenOn, memoryAllows } from '../../config/http-server.js';
import type { RequestAuth } from './auth.js';
import { BodyError, ClientAbortedError, parseContentEncoding, readBody } from './body.js';
import type { HttpProtocolConfig } from './config.js';
import { CorsPolicy } from './cors.js';
import type { Ingest, IngestOutcome, RefuseReason, RequestMetadata } from './ingest.js';
import { listenError, type BoundAddress } from './listen.js';
import type { Signal } from '../../pipeline/signal-router.js';
import { jsonToProto } from '../../signals/otlp-signals.js';

type BodyType = 'proto' | 'json';

const CT_PROTO = 'application/x-protobuf';
const CT_JSON = 'application/json';
const CT_TEXT = 'text/plain; charset=utf-8';

// gRPC status codes used in google.rpc.Status bodies.
const Code = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

// Full-success bodies depend on nothing but the encoding: built once.
const OK_PROTO = Buffer.from(encodeExportResponse({}));
const OK_JSON = Buffer.from(encodeExportResponseJson({}));

/** Reservation for a body of unknown length (chunked); it grows as the body arrives. */
const CHUNKED_RESERVATION = 64 * 1024;

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
  private readonly budget: InFlightBudget;

  constructor(private readonly config: HttpProtocolConfig, private readonly ingest: Ingest, private readonly receiverId: string) {
    this.logsPath = config.logs_url_path;
    this.tracesPath = config.traces_url_path ?? '/v1/traces';
    this.metricsPath = config.metrics_url_path ?? '/v1/metrics';
    this.limit = config.max_request_body_size;
    this.budget = new InFlightBudget(config.max_request_bytes_in_flight ?? 64 * 1024 * 1024);
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
    const server = await createConfiguredServer({ ...DEFAULT_TIMEOUTS_MS, ...this.config }, handler, `otlp receiver ${this.receiverId}: http`);
    // `Expect: 100-continue`: the checks run first, so a request about to be refused gets the refusal, never 100.
    server.on('checkContinue', handler);
    const addr = await listenOn(server, this.config.endpoint, (err) => listenError(this.receiverId, 'http', this.config.endpoint, err));
    this.server = server;
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
        : this.ingest.accepts('logs') ? `logs are accepted at ${this.logsPath}` : 'unknown path';
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

    // The budget of body bytes in flight, reserved before reading: the declared length, or a first slice
    // of a chunked body that grows as it arrives.
    let reserved = declared !== undefined ? Math.max(0, Number(declared) || 0) : Math.min(this.limit, CHUNKED_RESERVATION);
    if (!memoryAllows(reserved)) {
      res.setHeader('Retry-After', '1');
      this.refuse(req, res, type, 'unavailable', 503, Code.UNAVAILABLE, 'memory limit: no room for this request now (memory_limiter); retry later');
      return;
    }
    if (!this.budget.admit(reserved)) {
      res.setHeader('Retry-After', '1');
      this.refuse(req, res, type, 'unavailable', 503, Code.UNAVAILABLE, `too many request bytes in flight (max_request_bytes_in_flight ${this.budget.limit} bytes); retry later`);
      return;
    }
    let body: Buffer;
    try {
      if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
      body = await readBody(req, encoding, this.limit, (total) => {
        if (total <= reserved) return true;
        if (!this.budget.grow(total - reserved)) return false;
        reserved = total;
        return true;
      });
    } catch (err) {
      this.budget.release(reserved);
      reserved = 0;
      if (err instanceof BodyError) {
        if (err.status === 503) res.setHeader('Retry-After', '1');
        const reason: RefuseReason = err.status === 413 ? 'too_large' : err.status === 503 ? 'unavailable' : 'malformed';
        const code = err.status === 413 ? Code.RESOURCE_EXHAUSTED : err.status === 503 ? Code.UNAVAILABLE : Code.INVALID_ARGUMENT;
        this.refuse(req, res, type, reason, err.status, code, err.message);
      } else if (!(err instanceof ClientAbortedError)) throw err;
      return;
    }
    try {
      await this.decodeAndIngest(req, res, signal, type, body, receivedAt);
    } finally {
      this.budget.release(reserved);
    }
  }

  private async decodeAndIngest(req: IncomingMessage, res: ServerResponse, signal: Signal, type: BodyType, body: Buffer, receivedAt: number): Promise<void> {
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
    const replacedBefore = invalidUtf8Replacements();
    try {
      request = type === 'proto' ? decodeExportRequest(body) : decodeExportRequestJson(body);
      this.ingest.invalidUtf8('http', invalidUtf8Replacements() - replacedBefore);
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
    this.sendStatus(res, type, status, code, message);
    // Read and discard the rest of the body (bounded) so a client that writes it all first reads the answer.
    discardRequestBody(req, { maxBytes: 2 * this.limit, maxMs: DISCARD_MAX_MS });
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
