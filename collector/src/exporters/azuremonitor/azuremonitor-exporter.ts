/**
 * The `azuremonitor` exporter: rows to the Azure Monitor Logs Ingestion API
 * (`POST {endpoint}/dataCollectionRules/{rule_id}/streams/{stream}?api-version=2023-01-01`) with an Entra
 * bearer token from @azure/identity (its own retries disabled), gzip, ≤ 1 MB per call, over the shared
 * HTTP client. It never retries: failures are classified, and when some calls of a split batch succeeded
 * it throws a PartialSendError with only the records still to send.
 */
import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { nowNanos } from '@tributary/otlp';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { compressBody, errorForHttpStatus, openHttpClient, type HttpClient, type StatusPolicy } from '../../config/http-client.js';
import { errorMessage, PermanentError, RetryableError } from '../../errors.js';
import { compileColumns, type CompiledColumn } from './columns.js';
import { resolveAuthType, type AzureMonitorExporterConfig } from './config.js';
import { SplitSendOutcome } from '../common/partial-delivery.js';
import { convertToIngestionRequests, type IngestionRequest, type RecordRef } from './convert.js';

/** Builds the configured @azure/identity credential (loaded on first use: it is large). */
export async function createCredential(config: AzureMonitorExporterConfig): Promise<TokenCredential> {
  const identity = await import('@azure/identity');
  const a = config.auth;
  const common = {
    ...(a.authority_host ? { authorityHost: a.authority_host, disableInstanceDiscovery: true } : {}),
    // The exporter helper is the only place that retries.
    retryOptions: { maxRetries: 0 },
  };
  const type = resolveAuthType(a);
  if (type === 'client_secret') {
    return new identity.ClientSecretCredential(
      a.tenant_id || process.env['AZURE_TENANT_ID']!,
      a.client_id || process.env['AZURE_CLIENT_ID']!,
      a.client_secret || process.env['AZURE_CLIENT_SECRET']!,
      common,
    );
  }
  if (type === 'workload_identity') {
    return new identity.WorkloadIdentityCredential({
      ...common,
      tenantId: a.tenant_id || process.env['AZURE_TENANT_ID']!,
      clientId: a.client_id || process.env['AZURE_CLIENT_ID']!,
      tokenFilePath: a.federated_token_file || process.env['AZURE_FEDERATED_TOKEN_FILE']!,
    });
  }
  return a.client_id ? new identity.ManagedIdentityCredential({ ...common, clientId: a.client_id }) : new identity.ManagedIdentityCredential(common);
}

const INGESTION_STATUS: StatusPolicy = {
  throttled: (s) => s === 429,
  retryable: (s) => s >= 500 || s === 408 || s === 401,
};

/** Maps an answer of the ingestion API to a typed error (429 throttled; 5xx/408/401 retryable; other 4xx permanent). */
export function ingestionError(where: string, status: number, retryAfter: string | string[] | undefined, body: string): Error {
  let detail = body.trim();
  try {
    const parsed = JSON.parse(detail) as { error?: { code?: string; message?: string } };
    if (parsed.error) detail = `${parsed.error.code ?? ''}${parsed.error.code && parsed.error.message ? ': ' : ''}${parsed.error.message ?? ''}`;
  } catch {
    // plain text
  }
  if (detail.length > 300) detail = `${detail.slice(0, 300)}…`;
  return errorForHttpStatus(where, status, detail, retryAfter, INGESTION_STATUS);
}

/** OAuth errors that no retry can fix: bad secret or assertion, unknown app or tenant, bad scope. */
const REFUSED_CLIENT = /^(invalid_client|unauthorized_client|invalid_scope|invalid_grant|invalid_request)\b|AADSTS(7000215|7000222|700016|90002|70011|700027)\b/;

/** A token failure: a refused client (bad secret, unknown app) is permanent, anything else retryable. */
export function tokenError(where: string, err: unknown, signal: AbortSignal): Error {
  const msg = `${where}: getting an Entra token failed: ${errorMessage(err).split('\n')[0]}`;
  if (signal.aborted) return new RetryableError(`${where}: token request aborted`, { cause: err });
  const e = err as { name?: string; statusCode?: number };
  if (e.name === 'AuthenticationError' && (e.statusCode === 400 || e.statusCode === 401)) return new PermanentError(msg);
  // MSAL's refusals surface as `<oauth error>: … AADSTS…` (e.g. an AuthenticationRequiredError for a bad secret).
  if (REFUSED_CLIENT.test(errorMessage(err))) return new PermanentError(msg);
  return new RetryableError(msg);
}

export class AzureMonitorExporter implements LogsSender {
  private readonly url: URL;
  private readonly where: string;
  private readonly columns: CompiledColumn[];
  private readonly scope: string;
  private client: HttpClient | undefined;
  private credential: TokenCredential | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: AzureMonitorExporterConfig, credential?: TokenCredential) {
    this.url = new URL(config.endpoint);
    this.where = `exporter ${settings.id.id}: POST ${this.url.origin}`;
    this.columns = compileColumns(config.columns);
    this.scope = config.auth.scope;
    this.credential = credential;
  }

  async start(host?: Host): Promise<void> {
    this.credential ??= await createCredential(this.config);
    this.client = await openHttpClient({ name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host }, this.url, { ...this.config, auth: undefined }, this.where, { auth: false });
  }

  async shutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }

  pathFor(stream: string): string {
    const base = this.url.pathname.replace(/\/+$/, '');
    return `${base}/dataCollectionRules/${encodeURIComponent(this.config.rule_id)}/streams/${encodeURIComponent(stream)}?api-version=${encodeURIComponent(this.config.api_version)}`;
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const { requests, oversize } = convertToIngestionRequests(batch.resourceLogs, {
      columns: this.columns,
      streamName: this.config.stream_name,
      retentionStreams: this.config.retention_streams,
      maxRequestBytes: this.config.max_request_bytes,
      now: nowNanos(),
    });
    const client = this.client;
    const credential = this.credential;
    if (client === undefined || credential === undefined) throw new RetryableError(`${this.where}: exporter is not started`);

    const rejected: RecordRef[] = [...oversize];
    const reasons: string[] = oversize.length ? [`${oversize.length} record(s) larger than ${this.config.max_request_bytes} bytes as one row`] : [];
    let sent = 0;
    for (let i = 0; i < requests.length; i++) {
      const req = requests[i]!;
      let token: string;
      try {
        const t = await credential.getToken(this.scope, { abortSignal: signal });
        if (!t) throw new Error('no token returned');
        token = t.token;
      } catch (err) {
        throw this.failure(batch, requests, i, sent, rejected, reasons, tokenError(`exporter ${this.settings.id.id}`, err, signal));
      }
      const err = await this.post(client, req, token, signal, batch);
      if (err === undefined) {
        sent++;
        continue;
      }
      if (err instanceof PermanentError) {
        // This call's rows can never be accepted; the other calls are independent.
        rejected.push(...req.records);
        reasons.push(err.message);
        continue;
      }
      throw this.failure(batch, requests, i, sent, rejected, reasons, err);
    }
    if (rejected.length === 0) return;
    const message = `${this.where}: ${rejected.length} of ${batch.recordCount} record(s) rejected: ${reasons.join('; ')}`;
    if (sent === 0 && rejected.length === batch.recordCount && requests.length <= 1 && oversize.length === 0) throw new PermanentError(message);
    const outcome = new SplitSendOutcome(this.where, batch.recordCount);
    outcome.addRejected(rejected, 'rejected');
    throw outcome.error(message, batch);
  }

  /** A retryable failure at call `i`: the whole batch again when nothing was decided yet, else only calls i… */
  private failure(batch: LogsBatch, requests: IngestionRequest[], i: number, sent: number, rejected: RecordRef[], reasons: string[], err: Error): Error {
    if (err instanceof PermanentError && sent === 0 && rejected.length === 0 && requests.length === 1) return err;
    const outcome = new SplitSendOutcome(this.where, batch.recordCount);
    outcome.addRejected(rejected, 'rejected');
    const why = reasons.length ? `; ${reasons.join('; ')}` : '';
    if (err instanceof PermanentError) {
      // e.g. a refused credential: nothing more can be sent.
      for (let k = i; k < requests.length; k++) outcome.addRejected(requests[k]!.records, err.message);
      return outcome.error(`${err.message}${why}`, batch);
    }
    if (sent === 0 && rejected.length === 0) return err;
    for (let k = i; k < requests.length; k++) outcome.addPending(requests[k]!.records);
    outcome.noteRetryError(err);
    return outcome.error(`${err.message} (after ${sent} of ${requests.length} call(s) succeeded)${why}`, batch);
  }

  private async post(client: HttpClient, req: IngestionRequest, token: string, signal: AbortSignal, batch: LogsBatch): Promise<Error | undefined> {
    const gz = this.config.compression === 'gzip';
    const body = await compressBody(req.bodyBytes, gz, this.config.compression_params.level);
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-ms-client-request-id': randomUUID(),
    };
    if (gz) headers['content-encoding'] = 'gzip';
    const where = `${this.where}${this.url.pathname.replace(/\/+$/, '')}/dataCollectionRules/…/streams/${req.stream}`;
    let res;
    try {
      res = await client.request({ path: this.pathFor(req.stream), headers, body, signal, where, metadata: batch.metadata });
    } catch (err) {
      return err as Error;
    }
    if (res.status >= 200 && res.status < 300) return undefined;
    return ingestionError(where, res.status, res.headers['retry-after'], res.body.toString('utf8'));
  }
}
