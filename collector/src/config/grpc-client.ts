/**
 * The gRPC client config (the OpenTelemetry Collector's configgrpc ClientConfig keys and meanings) and
 * what grpc-js needs from it: target, channel credentials, channel options, call metadata, the
 * `auth.authenticator` extension, and upstream's mapping of status codes to retry decisions.
 */
import { compressionAlgorithms, credentials, Metadata, status as GrpcStatus, type ChannelCredentials, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import { decodeRpcStatus, retryDelayFromStatus } from '@tributary/otlp';
import { z } from 'zod';
import type { ClientAuthenticator } from '../auth.js';
import { PermanentError, RetryableError, ThrottledError } from '../errors.js';
import { clientAuthSchema, clientHeaders, compressionSchema, resolveClientAuth, type HttpClientContext } from './http-client.js';
import { byteSize, duration, section } from './schema-helpers.js';
import { loadTlsClient, tlsClientSchema, type TlsClientConfig } from './tls-client.js';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:\s/[\]]+):(\d{1,5})$/;

export interface GrpcTarget {
  /** `host:port` as grpc-js takes it. */
  target: string;
  /** From the scheme: `http://` → true, `https://` → false, none → undefined (tls.insecure decides). */
  schemeInsecure: boolean | undefined;
}

/** Parses `host:port`, `http://host:port` or `https://host[:port]`; undefined when invalid. */
export function parseGrpcEndpoint(endpoint: string): GrpcTarget | undefined {
  const schemeEnd = endpoint.indexOf('://');
  if (schemeEnd < 0) {
    const m = HOST_PORT.exec(endpoint);
    return m && Number(m[2]) <= 65535 ? { target: endpoint, schemeInsecure: undefined } : undefined;
  }
  if (!URL.canParse(endpoint)) return undefined;
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.hostname === '' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.username) return undefined;
  const insecure = url.protocol === 'http:';
  const port = url.port || (insecure ? '80' : '443');
  return { target: `${url.hostname}:${port}`, schemeInsecure: insecure };
}

/** Metadata keys grpc-js or HTTP/2 own; user headers of these names are refused. */
export const RESERVED_METADATA: ReadonlySet<string> = new Set(['content-type', 'te', 'user-agent', 'grpc-encoding', 'grpc-accept-encoding', 'grpc-timeout', 'host', ':authority']);

export const grpcEndpoint = () =>
  z.string().refine((v) => parseGrpcEndpoint(v) !== undefined, { message: 'must be host:port, http://host:port or https://host:port' });

export const grpcClientShape = {
  /** `host:port`, `http://host:port` (plaintext) or `https://host:port`. */
  endpoint: grpcEndpoint(),
  tls: tlsClientSchema,
  /** gRPC metadata sent with every call (values may be secrets: never logged). */
  headers: clientHeaders(RESERVED_METADATA).refine((h) => Object.keys(h).every((k) => !k.toLowerCase().endsWith('-bin')), {
    message: 'binary (-bin) metadata keys are not supported',
  }),
  compression: compressionSchema('gzip'),
  /** `pick_first` (grpc-js default) or `round_robin` over the addresses the name resolves to. */
  balancer_name: z.enum(['pick_first', 'round_robin']).optional(),
  /** The `:authority` pseudo-header (virtual host) instead of the endpoint's host. */
  authority: z.string().min(1).optional(),
  keepalive: section({
    /** Ping the server after this long without activity (0 = grpc-js default: no pings). */
    time: duration().prefault('0s'),
    /** Close the connection when a ping is not answered within this. */
    timeout: duration().prefault('20s'),
    permit_without_stream: z.boolean().default(false),
  }),
  /** Wait for the channel to become ready instead of failing fast while it connects. */
  wait_for_ready: z.boolean().default(false),
  /** Accepted and ignored (grpc-js sizes its HTTP/2 buffers itself). */
  read_buffer_size: byteSize().optional(),
  write_buffer_size: byteSize().optional(),
  auth: clientAuthSchema,
};

export interface GrpcClientConfig {
  endpoint: string;
  tls: TlsClientConfig;
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  balancer_name?: 'pick_first' | 'round_robin' | undefined;
  authority?: string | undefined;
  keepalive: { time: number; timeout: number; permit_without_stream: boolean };
  wait_for_ready: boolean;
  read_buffer_size?: number | undefined;
  write_buffer_size?: number | undefined;
  auth?: { authenticator: string } | undefined;
}


export interface GrpcChannel {
  readonly target: string;
  readonly credentials: ChannelCredentials;
  readonly options: ChannelOptions;
  /** Metadata for every call (copy it per call: grpc-js adds its own keys). */
  readonly metadata: Metadata;
  readonly waitForReady: boolean;
  readonly auth: ClientAuthenticator | undefined;
}

/** Everything grpc-js needs for a channel from a gRPC client config; files are read here (at start). */
export async function openGrpcChannel(ctx: HttpClientContext, config: GrpcClientConfig, userAgent: string): Promise<GrpcChannel> {
  const parsed = parseGrpcEndpoint(config.endpoint);
  if (!parsed) throw new Error(`${ctx.name}: endpoint: invalid ${JSON.stringify(config.endpoint)}`);
  const ignored: string[] = [];
  if (config.read_buffer_size !== undefined) ignored.push('read_buffer_size');
  if (config.write_buffer_size !== undefined) ignored.push('write_buffer_size');
  if (config.tls.reload_interval !== undefined) ignored.push('tls.reload_interval');
  if (config.tls.min_version !== undefined || config.tls.max_version !== undefined) ignored.push('tls.min_version/max_version');
  if (ignored.length > 0) ctx.logger.info('gRPC client settings accepted but not applied in Node', { component: ctx.name, keys: ignored.join(', ') });
  const auth = resolveClientAuth(ctx.name, ctx.host, config.auth);

  let creds: ChannelCredentials;
  if (parsed.schemeInsecure ?? config.tls.insecure) {
    creds = credentials.createInsecure();
  } else {
    const tls = await loadTlsClient(ctx.name, config.tls);
    const verify = tls.rejectUnauthorized ? {} : { rejectUnauthorized: false, checkServerIdentity: () => undefined };
    creds = credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null, verify);
  }
  const options: ChannelOptions = {
    'grpc.primary_user_agent': userAgent,
    'grpc.default_compression_algorithm': config.compression === 'gzip' ? compressionAlgorithms.gzip : compressionAlgorithms.identity,
  };
  if (config.tls.server_name_override !== undefined) options['grpc.ssl_target_name_override'] = config.tls.server_name_override;
  if (config.authority !== undefined) options['grpc.default_authority'] = config.authority;
  if (config.balancer_name !== undefined) options['grpc.service_config'] = JSON.stringify({ loadBalancingConfig: [{ [config.balancer_name]: {} }] });
  if (config.keepalive.time > 0) {
    options['grpc.keepalive_time_ms'] = config.keepalive.time;
    options['grpc.keepalive_timeout_ms'] = config.keepalive.timeout;
    options['grpc.keepalive_permit_without_calls'] = config.keepalive.permit_without_stream ? 1 : 0;
  }
  const metadata = new Metadata(config.wait_for_ready ? { waitForReady: true } : undefined);
  for (const [name, value] of Object.entries(config.headers)) metadata.set(name.toLowerCase(), value);
  return { target: parsed.target, credentials: creds, options, metadata, waitForReady: config.wait_for_ready, auth };
}

/** Upstream otlpexporter's retryable codes (RESOURCE_EXHAUSTED is handled apart: only with RetryInfo). */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.CANCELLED,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

function retryDelayFromMetadata(err: ServiceError): number | undefined {
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  if (!(raw instanceof Buffer)) return undefined;
  try {
    return retryDelayFromStatus(decodeRpcStatus(raw));
  } catch {
    return undefined;
  }
}

/** Upstream's mapping of a failed call's status to a typed error; `detail` is the clipped status details. */
export function errorForGrpcStatus(where: string, err: ServiceError, detail: string): Error {
  const name = GrpcStatus[err.code] ?? String(err.code);
  const message = `${where}: ${name}${detail ? `: ${detail}` : ''}`;
  if (RETRYABLE_CODES.has(err.code)) return new RetryableError(message, { retryAfterMs: retryDelayFromMetadata(err), cause: err });
  if (err.code === GrpcStatus.RESOURCE_EXHAUSTED) {
    // Upstream retries RESOURCE_EXHAUSTED only when the server says when (RetryInfo).
    const retryAfterMs = retryDelayFromMetadata(err);
    if (retryAfterMs !== undefined) return new ThrottledError(message, { retryAfterMs, cause: err });
  }
  return new PermanentError(message, { cause: err });
}
