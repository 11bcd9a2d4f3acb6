/**
 * The `elasticsearch` exporter: POSTs `_bulk` NDJSON (from convert.ts) over keep-alive undici Pools, one
 * per node, and classifies the answers: request level (429 / 5xx / 4xx) and item level (`errors: true`).
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import fs from 'node:fs/promises';
import { Pool, type Dispatcher } from 'undici';
import { nowNanos } from '@tributary/otlp';
import type { CreateSettings, LogsBatch, LogsSender } from '../../component.js';
import { errorMessage, parseRetryAfter, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { USER_AGENT } from '../common/user-agent.js';
import { bulkUrls, type ElasticsearchExporterConfig } from './config.js';
import { BulkConverter, esConvertOptions, type BulkRequest } from './convert.js';
import { SplitSendOutcome } from '../common/partial-delivery.js';

const gzip = promisify(gzipCb);

const RESERVED_HEADERS = new Set(['content-type', 'content-encoding', 'content-length', 'host', 'transfer-encoding', 'connection']);

/** A bulk answer lists every item; 10k items are ~1 MB. Read at most this much. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Only what classification needs (smaller answers). */
const BULK_QUERY = '?filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason';

interface BulkItemResult {
  status?: number;
  error?: { type?: string; reason?: string } | string;
}

interface BulkResponse {
  errors?: boolean;
  items?: Record<string, BulkItemResult>[];
}

async function readAll(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      throw new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function clip(s: string, n = 300): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** Item-level statuses that may succeed later (upstream `retry_on_status` [429] plus server-side failures). */
export function isRetryableItemStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export class ElasticsearchExporter implements LogsSender {
  private readonly urls: URL[];
  private readonly headers: Record<string, string>;
  private readonly converter: BulkConverter;
  private pools: Pool[] = [];
  private next = 0;

  constructor(private readonly settings: CreateSettings, private readonly config: ElasticsearchExporterConfig) {
    this.urls = bulkUrls(config);
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    for (const [name, value] of Object.entries(config.headers)) {
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) {
        settings.logger.warn('ignoring reserved header in headers', { header: lower });
        continue;
      }
      headers[lower] = value;
    }
    if (config.api_key !== undefined) headers['authorization'] = `ApiKey ${config.api_key}`;
    else if (config.user !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${config.user}:${config.password ?? ''}`).toString('base64')}`;
    headers['content-type'] = 'application/x-ndjson';
    if (config.compression === 'gzip') headers['content-encoding'] = 'gzip';
    this.headers = headers;
    this.converter = new BulkConverter(esConvertOptions(config));
  }

  async start(): Promise<void> {
    let ca: Buffer | undefined;
    let cert: Buffer | undefined;
    let key: Buffer | undefined;
    const tls = this.config.tls;
    try {
      if (tls.ca_file) ca = await fs.readFile(tls.ca_file);
      if (tls.cert_file) cert = await fs.readFile(tls.cert_file);
      if (tls.key_file) key = await fs.readFile(tls.key_file);
    } catch (err) {
      throw new Error(`exporter ${this.settings.id.id}: reading TLS files: ${errorMessage(err)}`);
    }
    this.pools = this.urls.map((u) => new Pool(u.origin, {
      connect: u.protocol === 'https:' ? { ca, cert, key, rejectUnauthorized: !tls.insecure_skip_verify } : undefined,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
    }));
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    if (this.pools.length === 0) throw new RetryableError(`exporter ${this.settings.id.id}: exporter is not started`);
    // "now" (for records without any timestamp) is passed in: the converter itself stays pure.
    const { requests, rejected } = this.converter.convert(batch.resourceLogs, nowNanos());
    const pick = this.next++ % this.pools.length;
    const url = this.urls[pick]!;
    const where = `exporter ${this.settings.id.id}: POST ${url.origin}${url.pathname}`;
    const outcome = new SplitSendOutcome(where, batch.recordCount);
    for (const r of rejected) outcome.addRejectedOne(r.ref, r.reason);
    for (let i = 0; i < requests.length; i++) {
      const req = requests[i]!;
      let err: Error | undefined;
      try {
        err = await this.sendOne(this.pools[pick]!, url, where, req, outcome, signal);
      } catch (e) {
        err = e as Error;
      }
      if (err === undefined) continue;
      if (err instanceof PermanentError) {
        outcome.addRejected(req.records, err.message.slice(where.length + 2));
        continue;
      }
      // Not sent (retryable): this request and every later one are retried; nothing after it is tried now.
      outcome.addRetry(req.records, err);
      for (let j = i + 1; j < requests.length; j++) outcome.addRetry(requests[j]!.records, err);
      break;
    }
    outcome.finish(batch);
  }

  /** Sends one bulk request; item failures go into `outcome`. Returns (not throws) a request-level error. */
  private async sendOne(pool: Pool, url: URL, where: string, req: BulkRequest, outcome: SplitSendOutcome, signal: AbortSignal): Promise<Error | undefined> {
    const body = this.config.compression === 'gzip' ? await gzip(req.body) : req.body;
    let res: Dispatcher.ResponseData;
    let answer: Buffer;
    try {
      res = await pool.request({ method: 'POST', path: url.pathname + BULK_QUERY, headers: this.headers, body, signal });
      answer = await readAll(res.body);
    } catch (err) {
      return this.transportError(where, err, signal);
    }
    const status = res.statusCode;
    if (status < 200 || status >= 300) {
      const header = res.headers['retry-after'];
      const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header);
      const message = `${where}: HTTP ${status}${describeError(answer)}`;
      if (status === 429) return new ThrottledError(message, { retryAfterMs });
      if (status >= 500 || status === 408) return new RetryableError(message, { retryAfterMs });
      return new PermanentError(message);
    }
    let parsed: BulkResponse;
    try {
      parsed = JSON.parse(answer.toString('utf8')) as BulkResponse;
    } catch {
      // 2xx with an unreadable body: the request was accepted.
      return undefined;
    }
    if (!parsed.errors) return undefined;
    const items = parsed.items ?? [];
    for (let i = 0; i < req.records.length; i++) {
      const item = items[i];
      const result = item === undefined ? undefined : item['create'] ?? item['index'] ?? Object.values(item)[0];
      if (result === undefined) {
        outcome.addRetryOne(req.records[i]!, 'bulk answer has no item for a document');
        continue;
      }
      const st = result.status ?? 0;
      if (st >= 200 && st < 300) continue;
      const e = result.error;
      const reason = typeof e === 'string' ? e : `${e?.type ?? 'error'}${e?.reason ? `: ${clip(e.reason, 200)}` : ''}`;
      if (isRetryableItemStatus(st)) outcome.addRetryOne(req.records[i]!, `item status ${st} (${reason})`);
      else outcome.addRejectedOne(req.records[i]!, `item status ${st} ${reason}`);
    }
    return undefined;
  }

  async shutdown(): Promise<void> {
    const pools = this.pools;
    this.pools = [];
    await Promise.all(pools.map((p) => p.close()));
  }

  private transportError(where: string, err: unknown, signal: AbortSignal): RetryableError {
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
      return new RetryableError(`${where}: request aborted (${why})`, { cause: err });
    }
    const code = (err as { code?: unknown }).code;
    return new RetryableError(`${where}: ${typeof code === 'string' ? `${code}: ` : ''}${errorMessage(err)}`, { cause: err });
  }
}

/** `: <type>: <reason>` from an Elasticsearch error body, else a clipped text. */
function describeError(body: Buffer): string {
  if (body.length === 0) return '';
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { error?: { type?: string; reason?: string } | string };
    const e = parsed.error;
    if (typeof e === 'string') return `: ${clip(e)}`;
    if (e && typeof e === 'object') return `: ${e.type ?? 'error'}${e.reason ? `: ${clip(e.reason)}` : ''}`;
  } catch {
    // not JSON
  }
  return `: ${clip(text.trim())}`;
}
