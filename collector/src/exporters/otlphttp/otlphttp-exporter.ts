/** The `otlphttp` exporter: POSTs OTLP/HTTP (protobuf or JSON, optionally gzip) over a keep-alive undici Pool. */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Pool, type Dispatcher } from 'undici';
import { encodeExportRequest, encodeExportRequestJson } from '@tributary/otlp';
import type { ClientAuthenticator } from '../../auth.js';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { resolveClientAuth } from '../common/client-auth.js';
import { errorMessage, PermanentError, RetryableError } from '../../errors.js';
import { concatRequests, requestsToJson } from '../../signals/otlp-signals.js';
import { PartialSuccessHandler } from '../common/partial-success.js';
import { loadTlsMaterial } from '../common/tls-files.js';
import { USER_AGENT } from '../common/user-agent.js';
import { logsUrl, signalUrl, type OtlpHttpExporterConfig } from './config.js';
import { bodyKind, decodeSuccessBody, errorForStatus, readBounded, type BodyKind } from '../common/response.js';

const gzip = promisify(gzipCb);

/** Headers this exporter owns; a user header of the same name is ignored so the body stays decodable. */
const RESERVED_HEADERS = new Set(['content-type', 'content-encoding', 'content-length', 'host', 'transfer-encoding', 'connection']);

export class OtlpHttpExporter implements LogsSender {
  private readonly url: URL;
  /** `POST <url without credentials or query>` for errors and logs. */
  private readonly where: string;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly kind: BodyKind;
  private readonly partial: PartialSuccessHandler;
  private pool: Pool | undefined;
  /** Pools for traces / metrics URLs on another origin than the logs URL. */
  private readonly extraPools = new Map<string, Pool>();
  private connect: Pool.Options['connect'];
  private auth: ClientAuthenticator | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: OtlpHttpExporterConfig) {
    this.url = logsUrl(config);
    this.where = `exporter ${settings.id.id}: POST ${this.url.origin}${this.url.pathname}`;
    this.path = this.url.pathname + this.url.search;
    this.kind = config.encoding === 'json' ? 'json' : 'proto';
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    for (const [name, value] of Object.entries(config.headers)) {
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) {
        settings.logger.warn('ignoring reserved header in headers', { header: lower });
        continue;
      }
      headers[lower] = value;
    }
    headers['content-type'] = config.encoding === 'json' ? 'application/json' : 'application/x-protobuf';
    if (config.compression === 'gzip') headers['content-encoding'] = 'gzip';
    this.headers = headers;
    this.partial = new PartialSuccessHandler(settings.id.id, settings.logger, settings.telemetry);
  }

  async start(host?: Host): Promise<void> {
    this.auth = resolveClientAuth(this.config.auth, host, `exporters.${this.settings.id.id}`);
    let connect: Pool.Options['connect'];
    if (this.url.protocol === 'https:') {
      const tls = await loadTlsMaterial(`exporter ${this.settings.id.id}`, this.config.tls);
      connect = { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !this.config.tls.insecure_skip_verify };
    }
    this.connect = connect;
    // One pool per exporter, kept for its lifetime, so connections are reused across sends.
    this.pool = new Pool(this.url.origin, { connect, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
  }

  /** Traces / metrics: the concatenated requests as one (protobuf, or converted to OTLP/JSON), to the signal's URL. */
  private async sendOpaque(batch: LogsBatch, opaque: NonNullable<LogsBatch['opaque']>, signal: AbortSignal): Promise<void> {
    const url = signalUrl(this.config, opaque.signal);
    if (url === undefined) throw new PermanentError(`exporter ${this.settings.id.id}: no endpoint or ${opaque.signal}_endpoint for ${opaque.signal}`);
    const where = `exporter ${this.settings.id.id}: POST ${url.origin}${url.pathname}`;
    const pool = this.poolFor(url.origin);
    const encoded = this.kind === 'json' ? Buffer.from(requestsToJson(opaque.signal, opaque.requests), 'utf8') : concatRequests(opaque.requests);
    const body = this.config.compression === 'gzip' ? await gzip(encoded) : encoded;
    let res: Dispatcher.ResponseData;
    try {
      res = await pool.request({ method: 'POST', path: url.pathname + url.search, headers: await this.requestHeaders(batch), body, signal });
    } catch (err) {
      throw this.transportError(err, signal);
    }
    let answer: Buffer;
    try {
      answer = await readBounded(res.body);
    } catch (err) {
      throw this.transportError(err, signal);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    throw errorForStatus(where, res.statusCode, res.headers['retry-after'], answer, bodyKind(res.headers['content-type'], this.kind));
  }

  private poolFor(origin: string): Pool {
    if (this.pool !== undefined && origin === this.url.origin) return this.pool;
    let p = this.extraPools.get(origin);
    if (p === undefined) {
      p = new Pool(origin, { connect: this.connect, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
      this.extraPools.set(origin, p);
    }
    return p;
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const pool = this.pool;
    if (pool === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    if (batch.opaque !== undefined) return this.sendOpaque(batch, batch.opaque, signal);
    const req = { resourceLogs: batch.resourceLogs };
    const encoded = this.kind === 'json' ? Buffer.from(encodeExportRequestJson(req), 'utf8') : encodeExportRequest(req);
    const body = this.config.compression === 'gzip' ? await gzip(encoded) : encoded;

    let res: Dispatcher.ResponseData;
    try {
      res = await pool.request({ method: 'POST', path: this.path, headers: await this.requestHeaders(batch), body, signal });
    } catch (err) {
      throw this.transportError(err, signal);
    }
    let answer: Buffer;
    try {
      answer = await readBounded(res.body);
    } catch (err) {
      throw this.transportError(err, signal);
    }
    const kind = bodyKind(res.headers['content-type'], this.kind);
    if (res.statusCode >= 200 && res.statusCode < 300) {
      this.partial.handle(decodeSuccessBody(answer, kind));
      return;
    }
    throw errorForStatus(this.where, res.statusCode, res.headers['retry-after'], answer, kind);
  }

  /** The fixed headers plus the authenticator's (which cannot replace the body's own headers). */
  private async requestHeaders(batch: LogsBatch): Promise<Record<string, string>> {
    if (this.auth === undefined) return this.headers;
    let extra: Record<string, string>;
    try {
      extra = await this.auth.clientHeaders(batch.metadata);
    } catch (err) {
      throw new RetryableError(`${this.where}: authenticator failed: ${errorMessage(err)}`, { cause: err });
    }
    const out = { ...this.headers };
    for (const [k, v] of Object.entries(extra)) {
      const lower = k.toLowerCase();
      if (!RESERVED_HEADERS.has(lower)) out[lower] = v;
    }
    return out;
  }

  async shutdown(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    const extra = [...this.extraPools.values()];
    this.extraPools.clear();
    await Promise.all([pool?.close(), ...extra.map((p) => p.close())]);
  }

  /** No answer (refused, reset, timeout, aborted): the spec says retry with back-off. */
  private transportError(err: unknown, signal: AbortSignal): RetryableError {
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
      return new RetryableError(`${this.where}: request aborted (${why})`, { cause: err });
    }
    const code = (err as { code?: unknown }).code;
    return new RetryableError(`${this.where}: ${typeof code === 'string' ? `${code}: ` : ''}${errorMessage(err)}`, { cause: err });
  }
}
