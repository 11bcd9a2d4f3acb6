/**
 * The `loki` exporter: POSTs push requests (convert.ts) to Loki's push API over a keep-alive undici Pool:
 * protobuf + snappy (default) or JSON (optionally gzip), one request per tenant (`X-Scope-OrgID`) and size
 * chunk. Answers: 2xx ok; 429 → ThrottledError; 5xx/408 → RetryableError (both with Retry-After);
 * other 4xx → the request's records are rejected.
 */
import snappy from 'snappyjs';
import { nowNanos } from '@tributary/otlp';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { compressBody, errorForHttpStatus, openHttpClient, SERVER_ERROR_STATUS, userHeaders, type HttpClient } from '../../config/http-client.js';
import { PermanentError, RetryableError } from '../../errors.js';
import { USER_AGENT } from '../common/user-agent.js';
import { SplitSendOutcome } from '../common/partial-delivery.js';
import type { LokiExporterConfig } from './config.js';
import { convertToLokiPush, lokiConvertOptions, type LokiConvertOptions, type LokiPushRequest } from './convert.js';

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
  private client: HttpClient | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: LokiExporterConfig) {
    this.url = new URL(config.endpoint);
    this.where = `exporter ${settings.id.id}: POST ${this.url.origin}${this.url.pathname}`;
    this.path = this.url.pathname + this.url.search;
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...userHeaders(config.headers) };
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

  async start(host?: Host): Promise<void> {
    this.client = await openHttpClient({ name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host }, this.url, this.config, this.where);
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const client = this.client;
    if (client === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
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
      const err = await this.sendOne(client, req, signal, batch);
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

  private async sendOne(client: HttpClient, req: LokiPushRequest, signal: AbortSignal, batch: LogsBatch): Promise<Error | undefined> {
    // Loki reads application/x-protobuf bodies as snappy block-compressed logproto.PushRequest.
    const body = this.config.encoding === 'json'
      ? await compressBody(req.body, this.config.compression === 'gzip', this.config.compression_params.level)
      : snappy.compress(req.body);
    const headers = req.tenant !== undefined ? { ...this.headers, [TENANT_HEADER]: req.tenant } : this.headers;
    let res;
    try {
      res = await client.request({ path: this.path, headers, body, signal, metadata: batch.metadata });
    } catch (err) {
      (err as { noAnswer?: boolean }).noAnswer = true;
      return err as Error;
    }
    if (res.status >= 200 && res.status < 300) return undefined;
    return errorForHttpStatus(this.where, res.status, clip(res.body.toString('utf8').trim()), res.headers['retry-after'], SERVER_ERROR_STATUS);
  }

  async shutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }
}
