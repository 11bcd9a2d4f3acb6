/**
 * The `elasticsearch` exporter: POSTs `_bulk` NDJSON (from convert.ts) over keep-alive undici Pools, one
 * per node, and classifies the answers: request level (429 / 5xx / 4xx) and item level (`errors: true`).
 */
import { nowNanos } from '@tributary/otlp';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { compressBody, errorForHttpStatus, openHttpClient, SERVER_ERROR_STATUS, userHeaders, type HttpClient } from '../../config/http-client.js';
import { PermanentError, RetryableError } from '../../errors.js';
import { USER_AGENT } from '../common/user-agent.js';
import { bulkUrls, type ElasticsearchExporterConfig } from './config.js';
import { BulkConverter, esConvertOptions, type BulkRequest } from './convert.js';
import { SplitSendOutcome } from '../common/partial-delivery.js';

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
  private clients: HttpClient[] = [];
  private next = 0;

  constructor(private readonly settings: CreateSettings, private readonly config: ElasticsearchExporterConfig) {
    this.urls = bulkUrls(config);
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...userHeaders(config.headers) };
    if (config.api_key !== undefined) headers['authorization'] = `ApiKey ${config.api_key}`;
    else if (config.user !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${config.user}:${config.password ?? ''}`).toString('base64')}`;
    headers['content-type'] = 'application/x-ndjson';
    if (config.compression === 'gzip') headers['content-encoding'] = 'gzip';
    this.headers = headers;
    this.converter = new BulkConverter(esConvertOptions(config));
  }

  async start(host?: Host): Promise<void> {
    const ctx = { name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host };
    this.clients = await Promise.all(this.urls.map((u) => openHttpClient(ctx, u, this.config, `exporter ${this.settings.id.id}: POST ${u.origin}${u.pathname}`)));
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    if (this.clients.length === 0) throw new RetryableError(`exporter ${this.settings.id.id}: exporter is not started`);
    // "now" (for records without any timestamp) is passed in: the converter itself stays pure.
    const { requests, rejected } = this.converter.convert(batch.resourceLogs, nowNanos());
    const pick = this.next++ % this.clients.length;
    const url = this.urls[pick]!;
    const where = `exporter ${this.settings.id.id}: POST ${url.origin}${url.pathname}`;
    const outcome = new SplitSendOutcome(where, batch.recordCount);
    for (const r of rejected) outcome.addRejectedOne(r.ref, r.reason);
    for (let i = 0; i < requests.length; i++) {
      const req = requests[i]!;
      let err: Error | undefined;
      try {
        err = await this.sendOne(this.clients[pick]!, url, where, req, outcome, signal, batch);
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
  private async sendOne(client: HttpClient, url: URL, where: string, req: BulkRequest, outcome: SplitSendOutcome, signal: AbortSignal, batch: LogsBatch): Promise<Error | undefined> {
    const body = await compressBody(req.body, this.config.compression === 'gzip', this.config.compression_params.level);
    const res = await client.request({ path: url.pathname + BULK_QUERY, headers: this.headers, body, signal, where, metadata: batch.metadata, maxAnswerBytes: MAX_RESPONSE_BYTES, failAboveMax: true });
    const answer = res.body;
    const status = res.status;
    if (status < 200 || status >= 300) return errorForHttpStatus(where, status, describeError(answer), res.headers['retry-after'], SERVER_ERROR_STATUS);
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
    const clients = this.clients;
    this.clients = [];
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** `<type>: <reason>` from an Elasticsearch error body, else a clipped text. */
function describeError(body: Buffer): string {
  if (body.length === 0) return '';
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { error?: { type?: string; reason?: string } | string };
    const e = parsed.error;
    if (typeof e === 'string') return clip(e);
    if (e && typeof e === 'object') return `${e.type ?? 'error'}${e.reason ? `: ${clip(e.reason)}` : ''}`;
  } catch {
    // not JSON
  }
  return clip(text.trim());
}
