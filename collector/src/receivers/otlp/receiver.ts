/** The `otlp` receiver: OTLP logs over gRPC and HTTP into the pipeline. */
import type { CreateSettings, Host, LogsConsumer, Receiver } from '../../component.js';
import { resolveAuth } from './auth.js';
import type { OtlpReceiverConfig } from './config.js';
import type { OtlpGrpcServer } from './grpc-server.js';
import { OtlpHttpServer } from './http-server.js';
import { Ingest } from './ingest.js';
import type { BoundAddress } from './listen.js';

/** How long shutdown waits for in-flight requests before cutting connections. */
export const SHUTDOWN_GRACE_MS = 5_000;

export class OtlpReceiver implements Receiver {
  private readonly http: OtlpHttpServer | undefined;
  private grpc: OtlpGrpcServer | undefined;
  private readonly settings: CreateSettings;
  private readonly config: OtlpReceiverConfig;
  private readonly ingest: Ingest;

  constructor(settings: CreateSettings, config: OtlpReceiverConfig, next: LogsConsumer) {
    this.settings = settings;
    this.config = config;
    const ingest = new Ingest(settings.id, settings.telemetry, next, settings.logger);
    this.ingest = ingest;
    const { http } = config.protocols;
    this.http = http ? new OtlpHttpServer(http, ingest, settings.id.id) : undefined;
  }

  async start(host: Host): Promise<void> {
    const where = `receivers.${this.settings.id.id}.protocols`;
    const grpc = this.config.protocols.grpc;
    // grpc-js (~13 MiB) loads only when gRPC is configured.
    if (grpc && !this.grpc) this.grpc = new (await import('./grpc-server.js')).OtlpGrpcServer(grpc, this.ingest, this.settings.id.id);
    this.grpc?.setAuth(resolveAuth(this.config.protocols.grpc?.auth, host, `${where}.grpc`));
    this.http?.setAuth(resolveAuth(this.config.protocols.http?.auth, host, `${where}.http`));
    try {
      if (this.grpc) {
        const a = await this.grpc.listen();
        this.settings.logger.info('otlp grpc receiver listening', { host: a.host, port: a.port });
      }
      if (this.http) {
        const a = await this.http.listen();
        this.settings.logger.info('otlp http receiver listening', { host: a.host, port: a.port });
      }
    } catch (err) {
      // Do not leave one server bound when the other failed.
      await this.shutdown();
      throw err;
    }
  }

  async shutdown(): Promise<void> {
    await Promise.all([this.grpc?.close(SHUTDOWN_GRACE_MS), this.http?.close(SHUTDOWN_GRACE_MS)]);
  }

  /** Address the HTTP server is bound to (after start; the real port when the endpoint used port 0). */
  httpAddress(): BoundAddress | undefined {
    return this.http?.address();
  }

  /** Address the gRPC server is bound to (after start; the real port when the endpoint used port 0). */
  grpcAddress(): BoundAddress | undefined {
    return this.grpc?.address();
  }
}
