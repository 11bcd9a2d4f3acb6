/** The `datadog` exporter (logs): convertToDatadog → POST each body to the v2 logs intake over a keep-alive Pool. */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { Pool } from 'undici';
import type { CreateSettings, LogsBatch, LogsSender } from '../../component.js';
import { parseRetryAfter, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { USER_AGENT } from '../common/user-agent.js';
import { datadogLogsUrl, datadogValidateUrl, type DatadogExporterConfig } from './config.js';
import { convertToDatadog, type DatadogConvertOptions, type DatadogRequest } from './convert.js';
import { answerText, createPool, headerOf, postOnce, type HttpAnswer } from '../common/http.js';
import { sendInOrder } from '../common/partial-delivery.js';

const gzip = promisify(gzipCb);

/**
 * Datadog's retry classes (logs-agent destination): 2xx accepted; 400/401/403/413 never acceptable;
 * 429 throttled (Retry-After honoured); any other status retryable.
 */
export function datadogErrorForStatus(where: string, answer: HttpAnswer, secrets: readonly string[]): Error | undefined {
  const { status } = answer;
  if (status >= 200 && status < 300) return undefined;
  const text = answerText(answer.body, secrets);
  const message = `${where}: HTTP ${status}${text ? `: ${text}` : ''}`;
  const retryAfterMs = parseRetryAfter(headerOf(answer.headers, 'retry-after'));
  if (status === 400 || status === 401 || status === 403 || status === 413) return new PermanentError(message);
  if (status === 429) return new ThrottledError(message, { retryAfterMs });
  return new RetryableError(message, { retryAfterMs });
}

export class DatadogExporter implements LogsSender {
  private readonly url: URL;
  private readonly where: string;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly options: DatadogConvertOptions;
  private readonly secrets: readonly string[];
  private pool: Pool | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: DatadogExporterConfig) {
    this.url = datadogLogsUrl(config);
    this.where = `exporter ${settings.id.id}: POST ${this.url.origin}${this.url.pathname}`;
    this.path = this.url.pathname + this.url.search;
    this.secrets = [config.api.key];
    this.headers = {
      'user-agent': USER_AGENT,
      'content-type': 'application/json',
      'dd-api-key': config.api.key,
      ...(config.logs.use_compression ? { 'content-encoding': 'gzip' } : {}),
    };
    this.options = { hostname: config.hostname, retentionTags: config.retention_tags };
  }

  async start(): Promise<void> {
    this.pool = createPool(this.url, { rejectUnauthorized: true });
    if (this.config.api.fail_on_invalid_key) await this.validateKey();
  }

  /** `GET /api/v1/validate`: 403 → the key is invalid and start fails (the message never holds the key). */
  private async validateKey(): Promise<void> {
    const url = datadogValidateUrl(this.config);
    const where = `exporter ${this.settings.id.id}: GET ${url.origin}${url.pathname}`;
    const pool = url.origin === this.url.origin ? this.pool! : createPool(url, { rejectUnauthorized: true });
    try {
      const answer = await postOnce(where, pool, url.pathname, { 'dd-api-key': this.config.api.key, 'user-agent': USER_AGENT }, '', AbortSignal.timeout(this.config.timeout || 10_000), 'GET');
      if (answer.status === 403 || answer.status === 401) throw new Error(`${where}: API key is invalid (HTTP ${answer.status}); check api.key and api.site`);
      if (answer.status < 200 || answer.status >= 300) throw new Error(`${where}: API key could not be validated (HTTP ${answer.status})`);
    } finally {
      if (pool !== this.pool) await pool.close();
    }
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const pool = this.pool;
    if (pool === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    const { requests, rejected } = convertToDatadog(batch.resourceLogs, this.options);
    await sendInOrder(this.where, batch, requests, rejected, (req) => this.post(pool, req, signal));
  }

  private async post(pool: Pool, req: DatadogRequest, signal: AbortSignal): Promise<void> {
    const raw = Buffer.from(req.body, 'utf8');
    const body = this.config.logs.use_compression ? await gzip(raw, { level: this.config.logs.compression_level }) : raw;
    // As upstream's SubmitLog: the request's tags are also passed as the `ddtags` query parameter.
    const sep = this.path.includes('?') ? '&' : '?';
    const path = `${this.path}${sep}ddtags=${encodeURIComponent(req.ddtags)}`;
    const answer = await postOnce(this.where, pool, path, this.headers, body, signal);
    const err = datadogErrorForStatus(this.where, answer, this.secrets);
    if (err) throw err;
  }

  async shutdown(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }
}
