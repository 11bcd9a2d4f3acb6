/** The `splunk_hec` exporter (logs): convertToHec → POST each body to HEC over the shared HTTP client. */
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { answerText, compressBody, errorForAnswer, openHttpClient, type HttpAnswer, type HttpClient, type StatusPolicy } from '../../config/http-client.js';
import { RetryableError } from '../../errors.js';
import { sendInOrder } from '../common/partial-delivery.js';
import { USER_AGENT } from '../common/user-agent.js';
import { hostname } from 'node:os';
import { nanosFromMillis } from '@tributary/otlp';
import { USER_AGENT_VERSION } from '../common/user-agent.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import { hecUrl, metadataKeys, type SplunkHecExporterConfig } from './config.js';
import { convertToHec, type HecConvertOptions, type HecRequest } from './convert.js';

/**
 * HEC status classes (internal/splunk/httprequest.go): any 2xx accepted; 429 and 503 throttled, honouring
 * `Retry-After`; 400/401/403 permanent; anything else retryable.
 */
const HEC_STATUS: StatusPolicy = {
  throttled: (s) => s === 429 || s === 503,
  retryable: (s) => s !== 400 && s !== 401 && s !== 403,
};

export function hecErrorForStatus(where: string, answer: HttpAnswer, secrets: readonly string[]): Error | undefined {
  return errorForAnswer(where, answer, HEC_STATUS, secrets);
}

export class SplunkHecExporter implements LogsSender {
  private readonly url: URL;
  private readonly where: string;
  private readonly baseHeaders: Record<string, string>;
  private readonly authHeader: string;
  private readonly options: HecConvertOptions;
  private readonly secrets: string[];
  private client: HttpClient | undefined;

  private readonly heartbeats: BoundCounter;
  private readonly heartbeatsFailed: BoundCounter;

  constructor(private readonly settings: CreateSettings, private readonly config: SplunkHecExporterConfig) {
    const hb = settings.telemetry.counter('tributary_exporter_splunkhec_heartbeats_total', 'Splunk HEC heartbeats, by outcome.');
    this.heartbeats = hb.bind({ exporter: settings.id.id, outcome: 'sent' });
    this.heartbeatsFailed = hb.bind({ exporter: settings.id.id, outcome: 'failed' });
    this.url = hecUrl(config);
    this.where = `exporter ${settings.id.id}: POST ${this.url.origin}${this.url.pathname}`;
    this.secrets = [config.token];
    this.authHeader = `Splunk ${config.token}`;
    this.baseHeaders = {
      'user-agent': USER_AGENT,
      'content-type': config.export_raw ? 'text/plain' : 'application/json',
      connection: 'keep-alive',
      __splunk_app_name: config.splunk_app_name,
      __splunk_app_version: config.splunk_app_version,
      ...(config.disable_compression ? {} : { 'content-encoding': 'gzip' }),
    };
    this.options = {
      source: config.source,
      sourcetype: config.sourcetype,
      index: config.index,
      keys: metadataKeys(config),
      severityTextKey: config.otel_to_hec_fields.severity_text,
      severityNumberKey: config.otel_to_hec_fields.severity_number,
      raw: config.export_raw,
      maxContentLength: config.max_content_length_logs,
      maxEventSize: config.max_event_size,
      indexByRetentionClass: config.index_by_retention_class,
    };
  }

  async start(host?: Host): Promise<void> {
    this.client = await openHttpClient({ name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host }, this.url, this.config, this.where);
    if (this.config.health_check_enabled) await this.checkHealth(this.client);
    if (this.config.log_data_enabled === false) this.settings.logger.warn('log_data_enabled is false: log records are accepted but not sent to Splunk');
    const hb = this.config.heartbeat;
    if (hb && hb.interval > 0) {
      this.heartbeatTimer = setInterval(() => void this.sendHeartbeat(), hb.interval);
      this.heartbeatTimer.unref();
    }
    if (hb?.startup) await this.sendHeartbeat();
  }

  private heartbeatTimer: NodeJS.Timeout | undefined;

  /** Upstream's heartbeat: one event to index `_internal`, source `otelcol`, sourcetype `heartbeat`. */
  private async sendHeartbeat(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    const k = metadataKeys(this.config);
    const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
    const batch: LogsBatch = {
      resourceLogs: [{
        resource: { attributes: [str(k.index, '_internal'), str(k.source, 'otelcol'), str(k.sourcetype, 'heartbeat'), str(k.host, hostname())], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeLogs: [{
          scope: null,
          schemaUrl: '',
          logRecords: [{
            timeUnixNano: nanosFromMillis(Date.now()), observedTimeUnixNano: nanosFromMillis(Date.now()), severityNumber: 0, severityText: '',
            body: { stringValue: `HeartbeatInfo version=${USER_AGENT_VERSION} description=Tributary os=${process.platform} arch=${process.arch}` },
            attributes: [], droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
          }],
        }],
      }],
      recordCount: 1,
      receivedAt: 0,
    };
    try {
      const { requests } = convertToHec(batch.resourceLogs, this.options);
      for (const req of requests) await this.post(client, req, AbortSignal.timeout(this.config.timeout || 10_000), this.secrets, batch);
      this.heartbeats.add(1);
    } catch (err) {
      this.heartbeatsFailed.add(1);
      this.settings.logger.warn('splunk_hec heartbeat failed', { error: (err as Error).message });
    }
  }

  private async checkHealth(client: HttpClient): Promise<void> {
    const where = `exporter ${this.settings.id.id}: GET ${this.url.origin}${this.config.health_path}`;
    const answer = await client.request({ method: 'GET', path: this.config.health_path, headers: { 'user-agent': USER_AGENT, authorization: this.authHeader }, signal: AbortSignal.timeout(this.config.timeout || 10_000), where });
    if (answer.status < 200 || answer.status >= 300) throw new Error(`${where}: HEC is not healthy (HTTP ${answer.status}${answer.body.length ? `: ${answerText(answer.body, this.secrets)}` : ''})`);
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const client = this.client;
    if (client === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    if (this.config.log_data_enabled === false) return;
    const { requests, rejected } = convertToHec(batch.resourceLogs, this.options);
    const secrets = this.secretsOf(requests);
    await sendInOrder(this.where, batch, requests, rejected, (req) => this.post(client, req, signal, secrets, batch));
  }

  /** The configured token plus any per-resource tokens of this batch: none may appear in an error. */
  private secretsOf(requests: readonly HecRequest[]): readonly string[] {
    let out: string[] | undefined;
    for (const r of requests) if (r.token !== undefined && r.token !== this.config.token) (out ??= [...this.secrets]).push(r.token);
    return out ?? this.secrets;
  }

  private async post(client: HttpClient, req: HecRequest, signal: AbortSignal, secrets: readonly string[], batch: LogsBatch): Promise<void> {
    const body = await compressBody(req.bodyBytes, !this.config.disable_compression, this.config.compression_params.level);
    const headers = { ...this.baseHeaders, authorization: req.token === undefined ? this.authHeader : `Splunk ${req.token}` };
    const answer = await client.request({ path: this.pathFor(req), headers, body, signal, metadata: batch.metadata });
    const err = hecErrorForStatus(this.where, answer, secrets);
    if (err) throw err;
  }

  /** Raw mode has no per-event metadata in the body: index/source/sourcetype/host go in the query. */
  private pathFor(req: HecRequest): string {
    const base = this.url.pathname + this.url.search;
    if (!this.config.export_raw) return base;
    const q = new URLSearchParams(this.url.search);
    if (req.index) q.set('index', req.index);
    if (req.source) q.set('source', req.source);
    if (req.sourcetype) q.set('sourcetype', req.sourcetype);
    if (req.host) q.set('host', req.host);
    const qs = q.toString();
    return qs ? `${this.url.pathname}?${qs}` : this.url.pathname;
  }

  async shutdown(): Promise<void> {
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }
}
