/** OTLP/gRPC logs service (`opentelemetry.proto.collector.logs.v1.LogsService/Export`) on @grpc/grpc-js. */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  Metadata,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type MethodDefinition,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  decodeExportRequest,
  invalidUtf8Replacements,
  decodeExportResponse,
  encodeExportRequest,
  encodeExportResponse,
  encodeRetryInfo,
  encodeRpcStatus,
  type ExportLogsServiceRequest,
  type ExportLogsServiceResponse,
} from '@tributary/otlp';
import { splitEndpoint } from '../../config/schema-helpers.js';
import type { RequestAuth } from './auth.js';
import type { GrpcProtocolConfig } from './config.js';
import type { Ingest, IngestOutcome, RequestMetadata } from './ingest.js';
import { listenError, type BoundAddress } from './listen.js';
import { SIGNAL_PATHS } from '../../signals/otlp-signals.js';

export const LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** The LogsService definition with the OTLP codecs; usable for clients (`makeGenericClientConstructor`). */
export const logsServiceDefinition: ServiceDefinition<{ Export: MethodDefinition<ExportLogsServiceRequest, ExportLogsServiceResponse> }> = {
  Export: {
    path: LOGS_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    originalName: 'export',
    requestSerialize: (req: ExportLogsServiceRequest) => toBuffer(encodeExportRequest(req)),
    requestDeserialize: (buf: Buffer) => decodeExportRequest(buf),
    responseSerialize: (res: ExportLogsServiceResponse) => toBuffer(encodeExportResponse(res)),
    responseDeserialize: (buf: Buffer) => decodeExportResponse(buf),
  },
};

/** What the server-side deserializer hands the handler: grpc-js would answer INTERNAL for a throw. */
type DecodedRequest = { request: ExportLogsServiceRequest; invalidUtf8: number; error?: undefined } | { request?: undefined; error: Error };

const serverDefinition: ServiceDefinition<{ Export: MethodDefinition<DecodedRequest, ExportLogsServiceResponse> }> = {
  Export: {
    ...logsServiceDefinition.Export,
    requestSerialize: () => {
      throw new Error('server-side definition');
    },
    requestDeserialize: (buf: Buffer): DecodedRequest => {
      try {
        const before = invalidUtf8Replacements();
        const request = decodeExportRequest(buf);
        return { request, invalidUtf8: invalidUtf8Replacements() - before };
      } catch (err) {
        return { error: err instanceof Error ? err : new Error(String(err)) };
      }
    },
  },
};

function grpcError(code: GrpcStatus, message: string, retryAfterMs?: number): ServerErrorResponse {
  const err = new Error(message) as ServerErrorResponse;
  err.code = code;
  err.details = message;
  if (retryAfterMs !== undefined) {
    // OTLP clients retry RESOURCE_EXHAUSTED only when a RetryInfo detail is present.
    const md = new Metadata();
    md.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus({ code, message, details: [encodeRetryInfo(retryAfterMs)] })));
    err.metadata = md;
  }
  return err;
}

function metadataOf(md: Metadata): RequestMetadata {
  const out: Record<string, string | string[]> = {};
  const all = md.toJSON();
  for (const k of Object.keys(all)) {
    if (k === 'authorization') continue;
    const vals = all[k]!;
    const strs = vals.map((v) => (typeof v === 'string' ? v : v.toString('base64')));
    out[k] = strs.length === 1 ? strs[0]! : strs;
  }
  return out;
}

/** grpc-js server options from the upstream configgrpc keys Tributary honours. */
function serverOptions(c: GrpcProtocolConfig): Record<string, number> {
  const o: Record<string, number> = { 'grpc.max_receive_message_length': Math.floor(c.max_recv_msg_size_mib * 1024 * 1024) };
  if (c.max_concurrent_streams !== undefined && c.max_concurrent_streams > 0) o['grpc.max_concurrent_streams'] = c.max_concurrent_streams;
  const sp = c.keepalive?.server_parameters;
  if (sp?.max_connection_idle !== undefined) o['grpc.max_connection_idle_ms'] = sp.max_connection_idle;
  if (sp?.max_connection_age !== undefined) o['grpc.max_connection_age_ms'] = sp.max_connection_age;
  if (sp?.max_connection_age_grace !== undefined) o['grpc.max_connection_age_grace_ms'] = sp.max_connection_age_grace;
  if (sp?.time !== undefined) o['grpc.keepalive_time_ms'] = sp.time;
  if (sp?.timeout !== undefined) o['grpc.keepalive_timeout_ms'] = sp.timeout;
  const ep = c.keepalive?.enforcement_policy;
  if (ep?.permit_without_stream !== undefined) o['grpc.keepalive_permit_without_calls'] = ep.permit_without_stream ? 1 : 0;
  if (ep?.min_time !== undefined) o['grpc.http2.min_ping_interval_without_data_ms'] = ep.min_time;
  return o;
}

/** Every metadata key (authorization included) as request headers, for authenticators. */
export function headersOf(md: Metadata): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const all = md.toJSON();
  for (const k of Object.keys(all)) {
    const strs = all[k]!.map((v) => (typeof v === 'string' ? v : v.toString('base64')));
    out[k] = strs.length === 1 ? strs[0]! : strs;
  }
  return out;
}

const OK: ExportLogsServiceResponse = {};
/** A full-success Export{Trace,Metrics}ServiceResponse: the empty message. */
const EMPTY = Buffer.alloc(0);

function opaqueDefinition(signal: 'traces' | 'metrics'): ServiceDefinition<{ Export: MethodDefinition<Buffer, Buffer> }> {
  return {
    Export: {
      path: SIGNAL_PATHS[signal].grpc,
      requestStream: false,
      responseStream: false,
      originalName: 'export',
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  };
}

export class OtlpGrpcServer {
  private server: Server | undefined;
  private bound: BoundAddress | undefined;
  private auth: RequestAuth | undefined;
  private readonly includeMetadata: boolean;

  constructor(private readonly config: GrpcProtocolConfig, private readonly ingest: Ingest, private readonly receiverId: string) {
    this.includeMetadata = config.include_metadata;
  }

  /** Sets the request authenticator (resolved at start, when extensions are running). */
  setAuth(auth: RequestAuth | undefined): void {
    this.auth = auth;
  }

  address(): BoundAddress | undefined {
    return this.bound;
  }

  async listen(): Promise<BoundAddress> {
    const tls = this.config.tls;
    let creds: ServerCredentials;
    if (tls && tls.cert_file !== '') {
      const [cert, key] = await Promise.all([
        readFile(tls.cert_file).catch((e: unknown) => {
          throw new Error(`otlp receiver ${this.receiverId}: grpc tls.cert_file ${tls.cert_file}: ${(e as Error).message}`);
        }),
        readFile(tls.key_file).catch((e: unknown) => {
          throw new Error(`otlp receiver ${this.receiverId}: grpc tls.key_file ${tls.key_file}: ${(e as Error).message}`);
        }),
      ]);
      const ca = tls.client_ca_file === undefined ? null : await readFile(tls.client_ca_file).catch((e: unknown) => {
        throw new Error(`otlp receiver ${this.receiverId}: grpc tls.client_ca_file ${tls.client_ca_file}: ${(e as Error).message}`);
      });
      creds = ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], ca !== null);
    } else {
      creds = ServerCredentials.createInsecure();
    }
    const server = new Server(serverOptions(this.config));
    if (this.ingest.accepts('logs')) server.addService(serverDefinition, { Export: this.export.bind(this) });
    for (const signal of ['traces', 'metrics'] as const) {
      if (this.ingest.accepts(signal)) server.addService(opaqueDefinition(signal), { Export: this.opaqueHandler(signal) });
    }
    const { host, port } = splitEndpoint(this.config.endpoint);
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, creds, (err, p) => {
        if (err) reject(listenError(this.receiverId, 'grpc', this.config.endpoint, err));
        else resolve(p);
      });
    });
    this.server = server;
    this.bound = { host, port: boundPort };
    return this.bound;
  }

  /** Stops accepting calls, waits up to `graceMs` for in-flight ones, then cancels what is left. */
  async close(graceMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private export(call: ServerUnaryCall<DecodedRequest, ExportLogsServiceResponse>, callback: sendUnaryData<ExportLogsServiceResponse>): void {
    const receivedAt = performance.now();
    if (this.auth !== undefined) {
      this.auth.authenticate(headersOf(call.metadata)).then(
        () => this.exportAuthenticated(call, callback, receivedAt),
        (err: unknown) => {
          this.ingest.refuse('grpc', 'unauthenticated');
          callback(grpcError(GrpcStatus.UNAUTHENTICATED, err instanceof Error ? err.message : 'unauthenticated'));
        },
      );
      return;
    }
    this.exportAuthenticated(call, callback, receivedAt);
  }

  private exportAuthenticated(call: ServerUnaryCall<DecodedRequest, ExportLogsServiceResponse>, callback: sendUnaryData<ExportLogsServiceResponse>, receivedAt: number): void {
    const decoded = call.request;
    if (decoded.error !== undefined) {
      this.ingest.refuse('grpc', 'malformed');
      callback(grpcError(GrpcStatus.INVALID_ARGUMENT, `malformed protobuf ExportLogsServiceRequest: ${decoded.error.message}`));
      return;
    }
    this.ingest.invalidUtf8('grpc', decoded.invalidUtf8);
    const metadata = this.includeMetadata ? metadataOf(call.metadata) : undefined;
    this.ingest.ingest('grpc', decoded.request.resourceLogs, receivedAt, metadata).then(
      (o) => this.answer(o, callback),
      (err: unknown) => callback(grpcError(GrpcStatus.INTERNAL, `internal error: ${err instanceof Error ? err.message : String(err)}`)),
    );
  }

  /** TraceService / MetricsService Export: the request bytes go down the pipeline as they came. */
  private opaqueHandler(signal: 'traces' | 'metrics'): (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => void {
    return (call, callback) => {
      const receivedAt = performance.now();
      const go = (): void => {
        const metadata = this.includeMetadata ? metadataOf(call.metadata) : undefined;
        this.ingest.ingestOpaque('grpc', signal, call.request, receivedAt, metadata).then(
          (o) => {
            if (o.kind === 'accepted') callback(null, EMPTY);
            else this.answer(o, (err) => callback(err));
          },
          (err: unknown) => callback(grpcError(GrpcStatus.INTERNAL, `internal error: ${err instanceof Error ? err.message : String(err)}`)),
        );
      };
      if (this.auth === undefined) {
        go();
        return;
      }
      this.auth.authenticate(headersOf(call.metadata)).then(go, (err: unknown) => {
        this.ingest.refuse('grpc', 'unauthenticated');
        callback(grpcError(GrpcStatus.UNAUTHENTICATED, err instanceof Error ? err.message : 'unauthenticated'));
      });
    };
  }

  private answer(o: IngestOutcome, callback: sendUnaryData<ExportLogsServiceResponse>): void {
    switch (o.kind) {
      case 'accepted':
        if (o.rejected === 0 && o.message === '') callback(null, OK);
        else callback(null, { partialSuccess: { rejectedLogRecords: o.rejected, errorMessage: o.message } });
        return;
      case 'throttled':
        callback(grpcError(GrpcStatus.RESOURCE_EXHAUSTED, o.message, o.retryAfterMs ?? 1000));
        return;
      case 'unavailable':
        callback(grpcError(GrpcStatus.UNAVAILABLE, o.message, o.retryAfterMs));
        return;
      case 'invalid':
        callback(grpcError(GrpcStatus.INVALID_ARGUMENT, o.message));
        return;
    }
  }
}
