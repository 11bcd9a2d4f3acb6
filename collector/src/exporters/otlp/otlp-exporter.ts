/** The `otlp` exporter: OTLP/gRPC LogsService/Export over one long-lived @grpc/grpc-js channel. */
import { Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { ExportLogsServiceResponse } from '@tributary/otlp';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { errorForGrpcStatus, openGrpcChannel, parseGrpcEndpoint, type GrpcChannel } from '../../config/grpc-client.js';
import { abortReason, errorMessage, RetryableError } from '../../errors.js';
import type { OtlpExporterConfig } from './config.js';
import { concatRequests, SIGNAL_PATHS } from '../../signals/otlp-signals.js';
import { deserializeExportResponse, LOGS_EXPORT_PATH, serializeExportRequest } from './logs-service.js';
import { PartialSuccessHandler, truncate } from '../common/partial-success.js';
import { USER_AGENT } from '../common/user-agent.js';

export class OtlpExporter implements LogsSender {
  private readonly where: string;
  private readonly partial: PartialSuccessHandler;
  private channel: GrpcChannel | undefined;
  private client: Client | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: OtlpExporterConfig) {
    const parsed = parseGrpcEndpoint(config.endpoint);
    if (!parsed) throw new Error(`exporter ${settings.id.id}: endpoint: invalid ${JSON.stringify(config.endpoint)}`);
    this.where = `exporter ${settings.id.id}: Export to ${parsed.target}`;
    this.partial = new PartialSuccessHandler(settings.id.id, settings.logger, settings.telemetry);
  }

  async start(host?: Host): Promise<void> {
    const channel = await openGrpcChannel({ name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host }, this.config, USER_AGENT);
    this.channel = channel;
    this.client = new Client(channel.target, channel.credentials, channel.options);
  }

  /** The call's metadata: a copy (grpc-js adds its own keys) plus the authenticator's headers. */
  private async callMetadata(channel: GrpcChannel, batch: LogsBatch): Promise<Metadata> {
    const md = channel.metadata.clone();
    if (channel.auth !== undefined) {
      try {
        for (const [k, v] of Object.entries(await channel.auth.clientHeaders(batch.metadata))) md.set(k.toLowerCase(), v);
      } catch (err) {
        throw new RetryableError(`${this.where}: authenticator failed: ${errorMessage(err)}`, { cause: err });
      }
    }
    return md;
  }

  send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const client = this.client;
    const channel = this.channel;
    if (client === undefined || channel === undefined) return Promise.reject(new RetryableError(`${this.where}: exporter is not started`));
    if (signal.aborted) return Promise.reject(this.abortedError(signal));
    // grpc-js adds its own keys to the call's metadata, so each call gets a copy.
    if (channel.auth === undefined) return this.call(client, batch, signal, channel.metadata.clone());
    return this.callMetadata(channel, batch).then((md) => (signal.aborted ? Promise.reject(this.abortedError(signal)) : this.call(client, batch, signal, md)));
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

  private call(client: Client, batch: LogsBatch, signal: AbortSignal, metadata: Metadata): Promise<void> {
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

  async shutdown(): Promise<void> {
    this.client?.close();
    this.client = undefined;
    this.channel = undefined;
  }

  private abortedError(signal: AbortSignal): RetryableError {
    const reason: unknown = signal.reason;
    return new RetryableError(`${this.where}: request aborted (${abortReason(reason)})`, { cause: reason });
  }

  private errorFor(err: ServiceError, signal: AbortSignal): Error {
    if (signal.aborted) return this.abortedError(signal);
    return errorForGrpcStatus(this.where, err, err.details ? truncate(err.details) : '');
  }
}
