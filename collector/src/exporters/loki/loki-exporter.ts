/**
 * The `loki` exporter: POSTs push requests (convert.ts) to Loki's push API over a keep-alive undici Pool:
 * protobuf + snappy (default) or JSON (optionally gzip), one request per tenant (`X-Scope-OrgID`) and size
 * chunk. Answers: 2xx ok; 429 → ThrottledError; 5xx/408 → RetryableError (both with Retry-After);
 * other 4xx → the request's records are rejected.
 */
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import snappy from 'snappyjs';
import { Pool, type Dispatcher } from 'undici';
import { nowNanos } from '@tributary/otlp';
import type { CreateSettings, LogsBatch, LogsSender } from '../../component.js';
import { errorMessage, parseRetryAfter, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { USER_AGENT } from '../common/user-agent.js';
import { readBounded } from '../common/response.js';
import { SplitSendOutcome } from '../common/partial-delivery.js';
import type { LokiExporterConfig } from './config.js';
import { convertToLokiPush, lokiConvertOptions, type LokiConvertOptions, type LokiPushRequest } from './convert.js';

const gzip = promisify(gzipCb);

const RESERVED_HEADERS = new Set(['content-type', 'content-encoding', 'content-length', 'host', 'transfer-encoding', 'connection']);
export const TENANT_HEADER = 'x-scope-orgid';

function clip(s: string, n = 300): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

export class LokiExporter implements LogsSender {
  private readonly url: URL;
  private readonly where: string;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly options: LokiConvertOptions;
  private pool: Pool | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: LokiExporterConfig) {
    this.url = new URL(config.endpoint);
    this.where = `exporter ${settings.id.id}: POST ${this.url.origin}${this.url.pathname}`;
    this.path = this.url.pathname + this.url.search;
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    for (const [name, value] of Object.entries(config.headers)) {
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) {
        settings.logger.warn('ignoring reserved header in headers', { header: lower });
        continue;
      }
      headers[lower] = value;
    }
    if (config.encoding === 'json') {
      headers['content-type'] = 'application/json';
      if (config.compression === 'gzip') headers['content-encoding'] = 'gzip';
    } else {
      // Loki reads application/x-protobuf bodies as snappy block-compressed logproto.PushRequest.
      headers['content-type'] = 'application/x-protobuf';
    }
    this.headers = headers;
    this.options = lokiConvertOptions(config);
  }

  async start(): Promise<void> {
    let connect: Pool.Options['connect'];
    if (this.url.protocol === 'https:') {
      const tls = this.config.tls;
      try {
        connect = {
          ca: tls.ca_file ? await fs.readFile(tls.ca_file) : undefined,
          cert: tls.cert_file ? await fs.readFile(tls.cert_file) : undefined,
          key: tls.key_file ? await fs.readFile(tls.key_file) : undefined,
          rejectUnauthorized: !tls.insecure_skip_verify,
        };
      } catch (err) {
        throw new Error(`exporter ${this.settings.id.id}: reading TLS files: ${errorMessage(err)}`);
      }
    }
    this.pool = new Pool(this.url.origin, { connect, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const pool = this.pool;
    if (pool === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    const { requests, rejected } = convertToLokiPush(batch.resourceLogs, this.options, nowNanos());
    const outcome = new SplitSendOutcome(this.where, batch.recordCount);
    for (const r of rejected) outcome.addRejectedOne(r.ref, r.reason);
    // A tenant whose request failed (retryable) gets no further requests now; other tenants still do,
    // unless the destination did not answer at all.
    const failedTenants = new Set<string | undefined>();
    let unreachable: Error | undefined;
    for (const req of requests) {
      if (unreachable !== undefined) { outcome.addRetry(req.records, unreachable); continue; }
      if (failedTenants.has(req.tenant)) { outcome.addRetry(req.records, new RetryableError(`${this.where}: an earlier request of this tenant failed`)); continue; }
      const err = await this.sendOne(pool, req, signal);
      if (err === undefined) continue;
      if (err instanceof PermanentError) {
        outcome.addRejected(req.records, err.message.slice(this.where.length + 2));
        continue;
      }
      outcome.addRetry(req.records, err);
      failedTenants.add(req.tenant);
      if ((err as { noAnswer?: boolean }).noAnswer) unreachable = err;
    }
    outcome.finish(batch);
  }

  private async sendOne(pool: Pool, req: LokiPushRequest, signal: AbortSignal): Promise<Error | undefined> {
    let body: Buffer;
    if (this.config.encoding === 'json') body = this.config.compression === 'gzip' ? await gzip(req.body) : req.body;
    else body = snappy.compress(req.body);
    const headers = req.tenant !== undefined ? { ...this.headers, [TENANT_HEADER]: req.tenant } : this.headers;
    let res: Dispatcher.ResponseData;
    let answer: Buffer;
    try {
      res = await pool.request({ method: 'POST', path: this.path, headers, body, signal });
      answer = await readBounded(res.body);
    } catch (err) {
      const e = this.transportError(err, signal);
      (e as { noAnswer?: boolean }).noAnswer = true;
      return e;
    }
    const status = res.statusCode;
    if (status >= 200 && status < 300) return undefined;
    const header = res.headers['retry-after'];
    const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header);
    const text = answer.toString('utf8').trim();
    const message = `${this.where}: HTTP ${status}${text ? `: ${clip(text)}` : ''}`;
    if (status === 429) return new ThrottledError(message, { retryAfterMs });
    if (status >= 500 || status === 408) return new RetryableError(message, { retryAfterMs });
    return new PermanentError(message);
  }

  async shutdown(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

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
