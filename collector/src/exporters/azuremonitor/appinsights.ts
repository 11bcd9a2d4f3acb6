/**
 * Application Insights mode of the `azuremonitor` exporter, as upstream's azuremonitorexporter: chosen
 * when the config has `connection_string` or `instrumentation_key`. Each log record becomes one envelope
 * (MessageData; ExceptionData with `exception_events_enabled` and `exception.*` attributes; EventData with
 * `custom_events_enabled` and a custom-event attribute), sent as gzipped JSON lines to
 * `{IngestionEndpoint}/v2.1/track`.
 *
 * The mapping follows upstream's exporter/azuremonitorexporter/log_to_envelope.go (contrib 5952a526),
 * contracts_utils.go (aa7c81f9) and connection_string_parser.go (e9872306): read, not copied.
 */
import { anyValueAsString, findAttribute, idToHex, isZeroNanos, nanosToDecimal, type InstrumentationScope, type KeyValue, type LogRecord, type Resource } from '@tributary/otlp';
import { z } from 'zod';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { duration } from '../../config/schema-helpers.js';
import { parseRetryAfter, PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';
import { answerText, compressBody, headerOf, openHttpClient, type HttpClient } from '../../config/http-client.js';
import { batchFromRefs, type RecordRef } from '../common/partial-delivery.js';
import { USER_AGENT_VERSION } from '../common/user-agent.js';

export const DEFAULT_INGESTION_ENDPOINT = 'https://dc.services.visualstudio.com/';
const CUSTOM_EVENT_NAME = 'microsoft.custom_event.name';
const EVENT_MARKER = 'APPLICATION_INSIGHTS_EVENT_MARKER_ATTRIBUTE';

export const appInsightsConfigSchema = z
  .strictObject({
    /** `InstrumentationKey=…;IngestionEndpoint=https://…` (APPLICATIONINSIGHTS_CONNECTION_STRING wins, as upstream). */
    connection_string: z.string().optional(),
    /** Older form: the key alone (with `endpoint`, default https://dc.services.visualstudio.com/). */
    instrumentation_key: z.string().optional(),
    endpoint: z.string().optional(),
    /** Upstream's own batching keys: Tributary's queue and batch processor do that job (accepted, no effect). */
    maxbatchsize: z.number().int().optional(),
    maxbatchinterval: duration().optional(),
    spaneventsenabled: z.boolean().optional(),
    shutdown_timeout: duration().optional(),
    custom_events_enabled: z.boolean().default(false),
    exception_events_enabled: z.boolean().default(false),
    ...exporterHelperShape,
  })
  .superRefine((c, ctx) => {
    const env = process.env['APPLICATIONINSIGHTS_CONNECTION_STRING'];
    const parsed = parseConnection(c, env);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', path: [c.connection_string !== undefined ? 'connection_string' : 'instrumentation_key'], message: parsed });
  });

export type AppInsightsConfig = z.output<typeof appInsightsConfigSchema>;

/** The instrumentation key and the track URL, or why they cannot be had. */
export function parseConnection(
  c: Pick<AppInsightsConfig, 'connection_string' | 'instrumentation_key' | 'endpoint'>,
  envConnectionString: string | undefined,
): { iKey: string; url: string } | string {
  const cs = envConnectionString || c.connection_string || '';
  if (cs === '' && !c.instrumentation_key) return 'connection_string and instrumentation_key cannot both be empty';
  if (cs.length > 4096) return 'connection_string is longer than 4096 characters';
  if (cs === '') return { iKey: c.instrumentation_key!, url: trackUrl(c.endpoint || DEFAULT_INGESTION_ENDPOINT) };
  const values = new Map<string, string>();
  for (const pair of cs.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) return `invalid format for connection string: ${pair.trim() === '' ? '(empty part)' : 'a part without "="'}`;
    const k = pair.slice(0, eq).trim();
    if (k === '') return 'connection string: key cannot be empty';
    values.set(k, pair.slice(eq + 1).trim());
  }
  const iKey = values.get('InstrumentationKey');
  if (!iKey) return 'connection string: InstrumentationKey is required';
  return { iKey, url: trackUrl(values.get('IngestionEndpoint') || DEFAULT_INGESTION_ENDPOINT) };
}

function trackUrl(endpoint: string): string {
  const u = URL.canParse(endpoint) ? new URL(endpoint) : new URL(DEFAULT_INGESTION_ENDPOINT);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/v2.1/track`;
  return u.toString();
}

/** Go's time.RFC3339Nano of a UTC time: fraction without trailing zeros. */
export function rfc3339Nano(nanos: LogRecord['timeUnixNano']): string {
  const d = nanosToDecimal(nanos).padStart(10, '0');
  const secs = Number(d.slice(0, -9));
  const frac = d.slice(-9).replace(/0+$/, '');
  const iso = new Date(secs * 1000).toISOString().slice(0, 19);
  return `${iso}${frac ? `.${frac}` : ''}Z`;
}

/** Upstream's toAiSeverityLevel: Verbose 0, Information 1, Warning 2, Error 3, Critical 4. */
export function aiSeverityLevel(n: number): number {
  if (n >= 1 && n <= 8) return 0;
  if (n >= 9 && n <= 12) return 1;
  if (n >= 13 && n <= 16) return 2;
  if (n >= 17 && n <= 20) return 3;
  if (n >= 21 && n <= 24) return 4;
  return 1;
}

function str(kvs: readonly KeyValue[], key: string): string | undefined {
  const v = findAttribute(kvs, key);
  return v === undefined ? undefined : (v.stringValue ?? anyValueAsString(v));
}

export interface Envelope {
  ver: 1;
  name: string;
  time: string;
  sampleRate: 100;
  iKey: string;
  tags: Record<string, string>;
  data: { baseType: string; baseData: Record<string, unknown> };
}

const SDK_VERSION = `otelc-${USER_AGENT_VERSION}-${process.platform.slice(0, 3)}-${process.arch}`;

/** One log record as upstream's envelope. `now` is used when the record has no time at all. */
export function recordToEnvelope(
  lr: LogRecord,
  resource: Resource | null | undefined,
  scope: InstrumentationScope | null | undefined,
  iKey: string,
  options: { customEvents: boolean; exceptionEvents: boolean },
  now: () => number = Date.now,
): Envelope {
  const t = !isZeroNanos(lr.timeUnixNano) ? rfc3339Nano(lr.timeUnixNano)
    : !isZeroNanos(lr.observedTimeUnixNano) ? rfc3339Nano(lr.observedTimeUnixNano)
      : new Date(now()).toISOString().replace(/\.?0+Z$/, 'Z');
  const attrs = lr.attributes;
  const properties: Record<string, string> = {};
  const tags: Record<string, string> = {};
  const envelope = (name: string, baseType: string, baseData: Record<string, unknown>): Envelope => ({
    ver: 1, name, time: t, sampleRate: 100, iKey, tags, data: { baseType, baseData },
  });

  if (options.customEvents && (findAttribute(attrs, CUSTOM_EVENT_NAME) !== undefined || findAttribute(attrs, EVENT_MARKER) !== undefined)) {
    for (const kv of attrs) properties[kv.key] = anyValueAsString(kv.value);
    const name = str(attrs, CUSTOM_EVENT_NAME) ?? str(attrs, EVENT_MARKER) ?? '';
    return envelope('Microsoft.ApplicationInsights.Event', 'EventData', { ver: 2, name, properties });
  }

  const rattrs = resource?.attributes ?? [];
  // Resource attributes, then scope, then record attributes (a later one wins), as upstream.
  for (const kv of rattrs) properties[kv.key] = kv.value?.stringValue ?? '';
  if (scope?.name) properties['instrumentationlibrary.name'] = scope.name;
  if (scope?.version) properties['instrumentationlibrary.version'] = scope.version;
  tags['ai.operation.id'] = idToHex(lr.traceId);
  tags['ai.operation.parentId'] = idToHex(lr.spanId);
  const service = str(rattrs, 'service.name');
  if (service !== undefined) {
    const ns = str(rattrs, 'service.namespace');
    tags['ai.cloud.role'] = ns !== undefined ? `${ns}.${service}` : service;
  }
  const instance = str(rattrs, 'service.instance.id');
  if (instance !== undefined) tags['ai.cloud.roleInstance'] = instance;
  tags['ai.internal.sdkVersion'] = SDK_VERSION;
  for (const kv of attrs) properties[kv.key] = anyValueAsString(kv.value);

  const severityLevel = aiSeverityLevel(lr.severityNumber);
  if (options.exceptionEvents && (findAttribute(attrs, 'exception.type') !== undefined || findAttribute(attrs, 'exception.message') !== undefined)) {
    const details: Record<string, unknown> = { typeName: str(attrs, 'exception.type') ?? '', message: str(attrs, 'exception.message') ?? '', hasFullStack: false };
    const stack = str(attrs, 'exception.stacktrace');
    if (stack !== undefined) {
      details['hasFullStack'] = true;
      details['stack'] = stack;
    }
    return envelope('Microsoft.ApplicationInsights.Exception', 'ExceptionData', { ver: 2, exceptions: [details], severityLevel, problemId: lr.severityText, properties });
  }
  return envelope('Microsoft.ApplicationInsights.Message', 'MessageData', { ver: 2, message: anyValueAsString(lr.body), severityLevel, properties });
}

/** Upstream's transmitter retries items answered 408, 429, 500 or 503. */
const RETRYABLE_ITEM = new Set([408, 429, 500, 503]);

interface TrackResponse {
  itemsReceived?: number;
  itemsAccepted?: number;
  errors?: { index: number; statusCode: number; message?: string }[];
}

export class AppInsightsSender implements LogsSender {
  private readonly iKey: string;
  private readonly url: URL;
  private readonly where: string;
  private client: HttpClient | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: AppInsightsConfig) {
    const conn = parseConnection(config, process.env['APPLICATIONINSIGHTS_CONNECTION_STRING']);
    if (typeof conn === 'string') throw new Error(`exporter ${settings.id.id}: ${conn}`);
    this.iKey = conn.iKey;
    this.url = new URL(conn.url);
    this.where = `exporter ${settings.id.id}: POST ${this.url.origin}${this.url.pathname}`;
  }

  async start(host?: Host): Promise<void> {
    this.client = await openHttpClient({ name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host }, this.url, {}, this.where);
    const ignored = (['maxbatchsize', 'maxbatchinterval', 'spaneventsenabled', 'shutdown_timeout'] as const).filter((k) => this.config[k] !== undefined);
    if (ignored.length) this.settings.logger.info(`azuremonitor: ${ignored.join(', ')} accepted without effect (the exporter queue and the batch processor do that job)`);
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const client = this.client;
    if (client === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    const refs: RecordRef[] = [];
    const lines: string[] = [];
    const options = { customEvents: this.config.custom_events_enabled, exceptionEvents: this.config.exception_events_enabled };
    for (const rl of batch.resourceLogs) {
      for (const sl of rl.scopeLogs) {
        for (const lr of sl.logRecords) {
          refs.push({ rl, sl, lr });
          lines.push(JSON.stringify(recordToEnvelope(lr, rl.resource, sl.scope, this.iKey, options)));
        }
      }
    }
    if (lines.length === 0) return;
    const body = await compressBody(lines.join('\n'), true);
    const headers = { 'content-type': 'application/x-json-stream', 'content-encoding': 'gzip', 'accept-encoding': 'gzip, deflate' };
    const answer = await client.request({ path: this.url.pathname + this.url.search, headers, body, signal, metadata: batch.metadata });
    const retryAfter = parseRetryAfter(headerOf(answer.headers, 'retry-after'));
    if (answer.status === 200 || answer.status === 206) {
      let parsed: TrackResponse = {};
      try {
        parsed = JSON.parse(answer.body.toString('utf8')) as TrackResponse;
      } catch {
        // An unreadable success body: everything counts as accepted.
      }
      const errors = parsed.errors ?? [];
      if (errors.length === 0) return;
      const retry: RecordRef[] = [];
      const rejected: RecordRef[] = [];
      for (const e of errors) {
        const ref = refs[e.index];
        if (ref) (RETRYABLE_ITEM.has(e.statusCode) ? retry : rejected).push(ref);
      }
      const first = errors[0]!;
      throw new PartialSendError(`${this.where}: ${errors.length} of ${refs.length} items refused (first: ${first.statusCode} ${first.message ?? ''})`, {
        retry: batchFromRefs(retry, batch),
        rejected: batchFromRefs(rejected, batch),
        retryAfterMs: retryAfter,
      });
    }
    const text = answerText(answer.body, [this.iKey]);
    const msg = `${this.where}: HTTP ${answer.status}${text ? `: ${text}` : ''}`;
    if (answer.status === 429 || answer.status === 439) throw new ThrottledError(msg, { retryAfterMs: retryAfter });
    if (answer.status === 408 || answer.status >= 500) throw new RetryableError(msg, { retryAfterMs: retryAfter });
    throw new PermanentError(msg);
  }

  async shutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }
}
