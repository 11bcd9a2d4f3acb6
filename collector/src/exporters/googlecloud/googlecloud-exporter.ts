/**
 * The `googlecloud` exporter: `convertToCloudLogging` + `POST {endpoint}/v2/entries:write` with
 * `partialSuccess: true`. Auth: google-auth-library (Application Default Credentials or a service-account
 * key file); service-account keys sign a self-signed JWT access token (no token exchange), other credential
 * types (user, metadata server, workload identity federation) get OAuth tokens from the library.
 */
// Loaded in start(): only configs that use this exporter pay for the auth library.
import type { GoogleAuth } from 'google-auth-library';
import { nowNanos } from '@tributary/otlp';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { compressBody, errorForHttpStatus, openHttpClient, type HttpClient, type StatusPolicy } from '../../config/http-client.js';
import { errorMessage, PermanentError, RetryableError, retryAfterOf } from '../../errors.js';
import { RateLimitedLog } from '../../telemetry/logger.js';
import { USER_AGENT, USER_AGENT_VERSION } from '../common/user-agent.js';
import { SplitSendOutcome, type RecordRef } from '../common/partial-delivery.js';
import type { GoogleCloudExporterConfig } from './config.js';
import { convertToCloudLogging, type EntriesWriteRequest, type GoogleCloudConvertOptions } from './convert.js';

export const LOGGING_WRITE_SCOPE = 'https://www.googleapis.com/auth/logging.write';
const MAX_ANSWER_BYTES = 256 * 1024;
/** gRPC codes (in `google.rpc.Status.code` / per-entry errors) worth retrying. */
const RETRYABLE_CODES = new Set([1, 4, 8, 10, 11, 14, 15]);
const RETRYABLE_STATUS = new Set([408, 500, 502, 503, 504]);
/** A retryable google.rpc code makes any status (but 429, throttled) retryable. */
const RETRY_ALL: StatusPolicy = { throttled: (s) => s === 429, retryable: () => true };
const CLOUD_LOGGING_STATUS: StatusPolicy = { throttled: (s) => s === 429, retryable: (s) => RETRYABLE_STATUS.has(s) };

interface RpcStatus {
  code?: number;
  message?: string;
  status?: string;
  details?: { '@type'?: string; retryDelay?: string; logEntryErrors?: Record<string, { code?: number; message?: string }> }[];
}

function retryDelayMs(status: RpcStatus | undefined): number | undefined {
  for (const d of status?.details ?? []) {
    if (d['@type']?.endsWith('google.rpc.RetryInfo') && typeof d.retryDelay === 'string') {
      const s = Number(d.retryDelay.replace(/s$/, ''));
      if (Number.isFinite(s)) return Math.round(s * 1000);
    }
  }
  return undefined;
}

export class GoogleCloudExporter implements LogsSender {
  private readonly url: URL;
  private readonly path: string;
  private readonly where: string;
  private readonly log: RateLimitedLog;
  private options: GoogleCloudConvertOptions;
  private auth: GoogleAuth | undefined;
  private client: HttpClient | undefined;

  private readonly userAgent: string;

  constructor(private readonly settings: CreateSettings, private readonly config: GoogleCloudExporterConfig) {
    this.userAgent = config.user_agent?.replaceAll('{{version}}', USER_AGENT_VERSION) ?? USER_AGENT;
    const base = config.log.endpoint.endsWith('/') ? config.log.endpoint.slice(0, -1) : config.log.endpoint;
    this.url = new URL(`${base}/v2/entries:write`);
    this.path = this.url.pathname + this.url.search;
    this.where = `exporter ${settings.id.id}: POST ${this.url.origin}${this.url.pathname}`;
    this.log = new RateLimitedLog(settings.logger);
    this.options = {
      project: config.project,
      defaultLogName: config.log.default_log_name,
      serviceResourceLabels: config.log.service_resource_labels,
      errorReportingType: config.log.error_reporting_type,
      retentionRouting: config.log.retention_routing,
    };
  }

  async start(host?: Host): Promise<void> {
    const { GoogleAuth } = await import('google-auth-library');
    this.auth = new GoogleAuth({
      scopes: [LOGGING_WRITE_SCOPE],
      ...(this.config.credentials_file ? { keyFilename: this.config.credentials_file } : {}),
      ...(this.config.project ? { projectId: this.config.project } : {}),
    });
    // Service-account keys: sign the access token ourselves (a self-signed JWT with the scope) instead of
    // exchanging it at Google's token endpoint, as Google's own client libraries do.
    this.auth.useJWTAccessWithScope = true;
    if (!this.options.project) {
      try {
        this.options = { ...this.options, project: await this.auth.getProjectId() };
      } catch (err) {
        throw new Error(`exporter ${this.settings.id.id}: project is not set and the credentials name none (${errorMessage(err)})`);
      }
    }
    this.client = await openHttpClient({ name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host }, this.url, this.config, this.where);
  }

  async shutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const client = this.client;
    const auth = this.auth;
    if (client === undefined || auth === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    const conv = convertToCloudLogging(batch.resourceLogs, this.options, nowNanos());
    const rejected: RecordRef[] = conv.rejected.map((r) => r.ref);
    if (conv.rejected.length > 0) this.log.warn('log records Cloud Logging cannot accept', { rejected: conv.rejected.length, reason: conv.rejected[0]!.reason });

    const retry: RecordRef[] = [];
    let sentRequests = 0;
    let lastError: Error | undefined;
    let retryAfterMs: number | undefined;
    for (let i = 0; i < conv.requests.length; i++) {
      const req = conv.requests[i]!;
      const failure = await this.write(client, auth, req, signal, batch);
      if (failure === undefined) { sentRequests++; continue; }
      lastError = failure.error;
      rejected.push(...failure.rejected);
      retry.push(...failure.retry);
      if (failure.entriesWritten) sentRequests++;
      if (failure.error instanceof PermanentError || failure.retry.length === 0) continue; // the rest may still go
      retryAfterMs = retryAfterOf(failure.error);
      // Stop at a retryable failure: the rest of the batch is retried with it.
      for (let j = i + 1; j < conv.requests.length; j++) retry.push(...conv.requests[j]!.records);
      break;
    }
    if (lastError === undefined && rejected.length === 0) return;
    if (lastError !== undefined && sentRequests === 0 && conv.rejected.length === 0 && conv.requests.length === 1 && (retry.length === 0 || rejected.length === 0)) {
      throw lastError; // one request, nothing written: the plain error says it all
    }
    const reason = lastError?.message ?? `${this.where}: ${conv.rejected.length} records refused: ${conv.rejected[0]!.reason}`;
    const outcome = new SplitSendOutcome(this.where, batch.recordCount);
    outcome.addPending(retry);
    outcome.addRejected(rejected, 'rejected');
    if (retryAfterMs !== undefined && lastError !== undefined) outcome.noteRetryError(lastError);
    throw outcome.error(reason, batch);
  }

  /** One entries:write call; undefined on success, else what to retry and what is refused for good. */
  private async write(client: HttpClient, auth: GoogleAuth, req: EntriesWriteRequest, signal: AbortSignal, batch: LogsBatch): Promise<{ error: Error; retry: RecordRef[]; rejected: RecordRef[]; entriesWritten: boolean } | undefined> {
    const all = { retry: req.records, rejected: [] as RecordRef[], entriesWritten: false };
    let headers: Record<string, string>;
    try {
      headers = await this.headers(auth);
    } catch (err) {
      return { ...all, error: new RetryableError(`${this.where}: getting credentials failed: ${errorMessage(err).slice(0, 256)}`, { cause: err }) };
    }
    const body = await compressBody(req.bodyBytes, this.config.log.compression === 'gzip', this.config.compression_params.level);
    let res;
    try {
      res = await client.request({ path: this.path, headers, body, signal, metadata: batch.metadata, maxAnswerBytes: MAX_ANSWER_BYTES });
    } catch (err) {
      return { ...all, error: err as Error };
    }
    const answer = res.body.toString('utf8');
    if (res.status >= 200 && res.status < 300) return undefined;

    let status: RpcStatus | undefined;
    try {
      status = (JSON.parse(answer) as { error?: RpcStatus }).error;
    } catch {
      status = undefined;
    }
    const what = `HTTP ${res.status}${status?.status ? ` ${status.status}` : ''}: ${(status?.message ?? answer).slice(0, 256)}`;
    const partial = status?.details?.find((d) => d['@type']?.endsWith('google.logging.v2.WriteLogEntriesPartialErrors'))?.logEntryErrors;
    if (partial !== undefined && Object.keys(partial).some((i) => req.records[Number(i)] !== undefined)) {
      // partialSuccess: entries not listed were written; listed ones failed, each with its own code.
      const retry = new Set<RecordRef>();
      const rejected = new Set<RecordRef>();
      for (const [index, e] of Object.entries(partial)) {
        const ref = req.records[Number(index)];
        if (ref === undefined) continue;
        (RETRYABLE_CODES.has(e.code ?? 0) ? retry : rejected).add(ref);
      }
      for (const r of retry) rejected.delete(r);
      const n = Object.keys(partial).length;
      const error = retry.size > 0 ? new RetryableError(`${this.where}: ${n} of ${req.records.length} entries failed: ${what}`) : new PermanentError(`${this.where}: ${n} of ${req.records.length} entries refused: ${what}`);
      return { error, retry: [...retry], rejected: [...rejected], entriesWritten: n < req.records.length };
    }
    const policy = RETRYABLE_CODES.has(status?.code ?? -1) ? RETRY_ALL : CLOUD_LOGGING_STATUS;
    const error = errorForHttpStatus(this.where, res.status, (status?.message ?? answer).slice(0, 256), res.headers['retry-after'], policy, retryDelayMs(status), status?.status);
    if (error instanceof PermanentError) return { retry: [], rejected: req.records, entriesWritten: false, error };
    return { ...all, error };
  }

  private async headers(auth: GoogleAuth): Promise<Record<string, string>> {
    const out: Record<string, string> = { 'user-agent': this.userAgent, 'content-type': 'application/json' };
    const h = (await auth.getRequestHeaders(this.url.href)) as unknown;
    if (h instanceof Headers) h.forEach((v, k) => { out[k.toLowerCase()] = v; });
    else for (const [k, v] of Object.entries(h as Record<string, string>)) out[k.toLowerCase()] = v;
    out['content-type'] = 'application/json';
    if (this.config.log.compression === 'gzip') out['content-encoding'] = 'gzip';
    if (this.config.destination_project_quota) out['x-goog-user-project'] = this.options.project;
    return out;
  }
}
