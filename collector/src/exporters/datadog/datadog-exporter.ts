/** The `datadog` exporter (logs): convertToDatadog → POST each body to the v2 logs intake over the shared HTTP client. */
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { compressBody, errorForAnswer, openHttpClient, type HttpAnswer, type HttpClient, type StatusPolicy } from '../../config/http-client.js';
import { RetryableError } from '../../errors.js';
import { USER_AGENT } from '../common/user-agent.js';
import { datadogLogsUrl, datadogValidateUrl, type DatadogExporterConfig } from './config.js';
import { convertToDatadog, type DatadogConvertOptions, type DatadogRequest } from './convert.js';
import { sendInOrder } from '../common/partial-delivery.js';

/**
 * Datadog's retry classes (logs-agent destination): 2xx accepted; 400/401/403/413 never acceptable;
 * 429 throttled (Retry-After honoured); any other status retryable.
 */
const DATADOG_STATUS: StatusPolicy = {
  throttled: (s) => s === 429,
  retryable: (s) => s !== 400 && s !== 401 && s !== 403 && s !== 413,
};

export function datadogErrorForStatus(where: string, answer: HttpAnswer, secrets: readonly string[]): Error | undefined {
  return errorForAnswer(where, answer, DATADOG_STATUS, secrets);
}

export class DatadogExporter implements LogsSender {
  private readonly url: URL;
  private readonly where: string;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly options: DatadogConvertOptions;
  private readonly secrets: readonly string[];
  private client: HttpClient | undefined;

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

  async start(host?: Host): Promise<void> {
    this.client = await openHttpClient(this.context(host), this.url, this.config, this.where);
    if (this.config.api.fail_on_invalid_key) await this.validateKey(host);
  }

  private context(host: Host | undefined): { name: string; logger: CreateSettings['logger']; host: Host | undefined } {
    return { name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host };
  }

  /** `GET /api/v1/validate`: 403 → the key is invalid and start fails (the message never holds the key). */
  private async validateKey(host: Host | undefined): Promise<void> {
    const url = datadogValidateUrl(this.config);
    const where = `exporter ${this.settings.id.id}: GET ${url.origin}${url.pathname}`;
    const client = url.origin === this.url.origin && this.client ? this.client : await openHttpClient(this.context(host), url, this.config, where);
    try {
      const answer = await client.request({ method: 'GET', path: url.pathname, headers: { 'dd-api-key': this.config.api.key, 'user-agent': USER_AGENT }, signal: AbortSignal.timeout(this.config.timeout || 10_000), where });
      if (answer.status === 403 || answer.status === 401) throw new Error(`${where}: API key is invalid (HTTP ${answer.status}); check api.key and api.site`);
      if (answer.status < 200 || answer.status >= 300) throw new Error(`${where}: API key could not be validated (HTTP ${answer.status})`);
    } finally {
      if (client !== this.client) await client.close();
    }
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const client = this.client;
    if (client === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    const { requests, rejected } = convertToDatadog(batch.resourceLogs, this.options);
    await sendInOrder(this.where, batch, requests, rejected, (req) => this.post(client, req, signal, batch));
  }

  private async post(client: HttpClient, req: DatadogRequest, signal: AbortSignal, batch: LogsBatch): Promise<void> {
    const body = await compressBody(req.bodyBytes, this.config.logs.use_compression, this.config.compression_params.level ?? this.config.logs.compression_level);
    // As upstream's SubmitLog: the request's tags are also passed as the `ddtags` query parameter.
    const sep = this.path.includes('?') ? '&' : '?';
    const path = `${this.path}${sep}ddtags=${encodeURIComponent(req.ddtags)}`;
    const answer = await client.request({ path, headers: this.headers, body, signal, metadata: batch.metadata });
    const err = datadogErrorForStatus(this.where, answer, this.secrets);
    if (err) throw err;
  }

  async shutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }
}
