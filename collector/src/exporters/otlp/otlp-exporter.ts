/** The `otlp` exporter: OTLP/gRPC LogsService/Export over one long-lived @grpc/grpc-js channel. */
import { Client, credentials, Metadata, status as GrpcStatus, type ChannelCredentials, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import { decodeRpcStatus, retryDelayFromStatus, type ExportLogsServiceResponse } from '@tributary/otlp';
import type { ClientAuthenticator } from '../../auth.js';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { errorMessage, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { resolveClientAuth } from '../common/client-auth.js';
import { concatRequests, SIGNAL_PATHS } from '../../signals/otlp-signals.js';
import { parseGrpcEndpoint, type OtlpExporterConfig } from './config.js';
import { deserializeExportResponse, LOGS_EXPORT_PATH, serializeExportRequest } from './logs-service.js';
import { PartialSuccessHandler, truncate } from '../common/partial-success.js';
import { loadTlsMaterial } from '../common/tls-files.js';
import { USER_AGENT } from '../common/user-agent.js';

/** grpc-js CompressionAlgorithms: 0 identity, 2 gzip. */
const GZIP = 2;

/** Upstream otlpexporter's retryable codes (RESOURCE_EXHAUSTED is handled apart: only with RetryInfo). */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.CANCELLED,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

/** Metadata keys grpc-js or HTTP/2 own; user headers of these names are ignored. */
const RESERVED_METADATA = new Set(['content-type', 'te', 'user-agent', 'grpc-encoding', 'grpc-accept-encoding', 'grpc-timeout', 'host', ':authority']);

function retryDelayFromMetadata(err: ServiceError): number | undefined {
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  if (!(raw instanceof Buffer)) return undefined;
  try {
    return retryDelayFromStatus(decodeRpcStatus(raw));
  } catch {
    return undefined;
  }
}

export class OtlpExporter implements LogsSender {
  private readonly target: string;
  private readonly insecure: boolean;
  private readonly where: string;
  private readonly metadata: Metadata;
  private readonly channelOptions: ChannelOptions;
  private readonly partial: PartialSuccessHandler;
  private client: Client | undefined;
  private auth: ClientAuthenticator | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: OtlpExporterConfig) {
    const parsed = parseGrpcEndpoint(config.endpoint);
    if (!parsed) throw new Error(`exporter ${settings.id.id}: endpoint: invalid ${JSON.stringify(config.endpoint)}`);
    this.target = parsed.target;
    this.insecure = parsed.schemeInsecure ?? config.tls.insecure;
    this.where = `exporter ${settings.id.id}: Export to ${this.target}`;
    this.metadata = new Metadata();
    for (const [name, value] of Object.entries(config.headers)) {
      const lower = name.toLowerCase();
      if (RESERVED_METADATA.has(lower) || lower.endsWith('-bin')) {
        settings.logger.warn('ignoring reserved or binary metadata key in headers', { header: lower });
        continue;
      }
      this.metadata.set(lower, value);
    }
    this.channelOptions = {
      'grpc.primary_user_agent': USER_AGENT,
      'grpc.default_compression_algorithm': config.compression === 'gzip' ? GZIP : 0,
    };
    this.partial = new PartialSuccessHandler(settings.id.id, settings.logger, settings.telemetry);
  }

  async start(host?: Host): Promise<void> {
    this.auth = resolveClientAuth(this.config.auth, host, `exporters.${this.settings.id.id}`);
    let creds: ChannelCredentials;
    if (this.insecure) {
      creds = credentials.createInsecure();
    } else {
      const tls = await loadTlsMaterial(`exporter ${this.settings.id.id}`, this.config.tls);
      const skip = this.config.tls.insecure_skip_verify;
      creds = credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null, skip ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {});
    }
    this.client = new Client(this.target, creds, this.channelOptions);
  }

  /** Per-call metadata: the fixed headers plus the authenticator's. grpc-js adds its own keys to it, so each call gets a copy. */
  private async callMetadata(batch: LogsBatch): Promise<Metadata> {
    const md = this.metadata.clone();
    if (this.auth === undefined) return md;
    let extra: Record<string, string>;
    try {
      extra = await this.auth.clientHeaders(batch.metadata);
    } catch (err) {
      throw new RetryableError(`${this.where}: authenticator failed: ${errorMessage(err)}`, { cause: err });
    }
    for (const [k, v] of Object.entries(extra)) {
      const lower = k.toLowerCase();
      if (!RESERVED_METADATA.has(lower) && !lower.endsWith('-bin')) md.set(lower, v);
    }
    return md;
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const client = this.client;
    if (client === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    if (signal.aborted) throw this.abortedError(signal);
    const metadata = await this.callMetadata(batch);
    if (batch.opaque !== undefined) return this.sendOpaque(client, batch.opaque, metadata, signal);
    return new Promise<void>((resolve, reject) => {
      const timeout = this.config.timeout;
      const call = client.makeUnaryRequest<{ resourceLogs: LogsBatch['resourceLogs'] }, ExportLogsServiceResponse>(
        LOGS_EXPORT_PATH,
        serializeExportRequest,
        deserializeExportResponse,
        { resourceLogs: batch.resourceLogs },
        metadata,
        timeout > 0 ? { deadline: Date.now() + timeout } : {},
        (err, response) => {
          signal.removeEventListener('abort', onAbort);
          if (err) reject(this.errorFor(err, signal));
          else {
            this.partial.handle(response);
            resolve();
          }
        },
      );
      const onAbort = (): void => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** TraceService / MetricsService Export with the concatenated requests as they arrived. */
  private sendOpaque(client: Client, opaque: NonNullable<LogsBatch['opaque']>, metadata: Metadata, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timeout = this.config.timeout;
      const call = client.makeUnaryRequest<Uint8Array, Buffer>(
        SIGNAL_PATHS[opaque.signal].grpc,
        (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        (b: Buffer) => b,
        concatRequests(opaque.requests),
        metadata,
        timeout > 0 ? { deadline: Date.now() + timeout } : {},
        (err) => {
          signal.removeEventListener('abort', onAbort);
          if (err) reject(this.errorFor(err, signal));
          else resolve();
        },
      );
      const onAbort = (): void => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async shutdown(): Promise<void> {
    this.client?.close();
    this.client = undefined;
  }

  private abortedError(signal: AbortSignal): RetryableError {
    const reason: unknown = signal.reason;
    const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
    return new RetryableError(`${this.where}: request aborted (${why})`, { cause: reason });
  }

  /** Upstream otlpexporter's mapping of gRPC status codes to retry decisions. */
  private errorFor(err: ServiceError, signal: AbortSignal): Error {
    if (signal.aborted) return this.abortedError(signal);
    const name = GrpcStatus[err.code] ?? String(err.code);
    const message = `${this.where}: ${name}${err.details ? `: ${truncate(err.details)}` : ''}`;
    if (RETRYABLE_CODES.has(err.code)) return new RetryableError(message, { retryAfterMs: retryDelayFromMetadata(err), cause: err });
    if (err.code === GrpcStatus.RESOURCE_EXHAUSTED) {
      // Upstream retries RESOURCE_EXHAUSTED only when the server says when (RetryInfo).
      const retryAfterMs = retryDelayFromMetadata(err);
      if (retryAfterMs !== undefined) return new ThrottledError(message, { retryAfterMs, cause: err });
    }
    return new PermanentError(message, { cause: err });
  }
}
