/** The `otlphttp` exporter: POSTs OTLP/HTTP (protobuf or JSON, optionally gzip) over the shared HTTP client. */
import { encodeExportRequest, encodeExportRequestJson } from '@tributary/otlp';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { compressBody, openHttpClient, userHeaders, type HttpClient } from '../../config/http-client.js';
import { PermanentError, RetryableError } from '../../errors.js';
import { concatRequests, requestsToJson } from '../../signals/otlp-signals.js';
import { PartialSuccessHandler } from '../common/partial-success.js';
import { USER_AGENT } from '../common/user-agent.js';
import { logsUrl, signalUrl, type OtlpHttpExporterConfig } from './config.js';
import { bodyKind, decodeSuccessBody, errorForStatus, type BodyKind } from '../common/response.js';

export class OtlpHttpExporter implements LogsSender {
  private readonly url: URL;
  /** `POST <url without credentials or query>` for errors and logs. */
  private readonly where: string;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly kind: BodyKind;
  private readonly partial: PartialSuccessHandler;
  private client: HttpClient | undefined;
  /** Clients for traces / metrics URLs on another origin than the logs URL. */
  private readonly extraClients = new Map<string, Promise<HttpClient>>();
  private host: Host | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: OtlpHttpExporterConfig) {
    this.url = logsUrl(config);
    this.where = `exporter ${settings.id.id}: POST ${this.url.origin}${this.url.pathname}`;
    this.path = this.url.pathname + this.url.search;
    this.kind = config.encoding === 'json' ? 'json' : 'proto';
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...userHeaders(config.headers) };
    headers['content-type'] = config.encoding === 'json' ? 'application/json' : 'application/x-protobuf';
    if (config.compression === 'gzip') headers['content-encoding'] = 'gzip';
    this.headers = headers;
    this.partial = new PartialSuccessHandler(settings.id.id, settings.logger, settings.telemetry);
  }

  async start(host?: Host): Promise<void> {
    this.host = host;
    this.client = await openHttpClient({ name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host }, this.url, this.config, this.where);
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const client = this.client;
    if (client === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    if (batch.opaque !== undefined) return this.sendOpaque(client, batch, batch.opaque, signal);
    const req = { resourceLogs: batch.resourceLogs };
    const encoded = this.kind === 'json' ? Buffer.from(encodeExportRequestJson(req), 'utf8') : encodeExportRequest(req);
    const body = await compressBody(encoded, this.config.compression === 'gzip', this.config.compression_params.level);
    const res = await client.request({ path: this.path, headers: this.headers, body, signal, metadata: batch.metadata });
    const answer = res.body;
    const kind = bodyKind(res.headers['content-type'], this.kind);
    if (res.status >= 200 && res.status < 300) {
      this.partial.handle(decodeSuccessBody(answer, kind));
      return;
    }
    throw errorForStatus(this.where, res.status, res.headers['retry-after'], answer, kind);
  }

  /** Traces / metrics: the concatenated requests as one (protobuf, or converted to OTLP/JSON), to the signal's URL. */
  private async sendOpaque(logsClient: HttpClient, batch: LogsBatch, opaque: NonNullable<LogsBatch['opaque']>, signal: AbortSignal): Promise<void> {
    const url = signalUrl(this.config, opaque.signal);
    if (url === undefined) throw new PermanentError(`exporter ${this.settings.id.id}: no endpoint or ${opaque.signal}_endpoint for ${opaque.signal}`);
    const where = `exporter ${this.settings.id.id}: POST ${url.origin}${url.pathname}`;
    const client = url.origin === this.url.origin ? logsClient : await this.clientFor(url, where);
    const encoded = this.kind === 'json' ? Buffer.from(requestsToJson(opaque.signal, opaque.requests), 'utf8') : concatRequests(opaque.requests);
    const body = await compressBody(encoded, this.config.compression === 'gzip', this.config.compression_params.level);
    const res = await client.request({ path: url.pathname + url.search, headers: this.headers, body, signal, metadata: batch.metadata });
    if (res.status >= 200 && res.status < 300) return;
    throw errorForStatus(where, res.status, res.headers['retry-after'], res.body, bodyKind(res.headers['content-type'], this.kind));
  }

  private clientFor(url: URL, where: string): Promise<HttpClient> {
    let c = this.extraClients.get(url.origin);
    if (c === undefined) {
      c = openHttpClient({ name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host: this.host }, url, this.config, where);
      this.extraClients.set(url.origin, c);
    }
    return c;
  }

  async shutdown(): Promise<void> {
    const extra = [...this.extraClients.values()];
    this.extraClients.clear();
    await Promise.all(extra.map(async (p) => (await p).close()));
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }
}
