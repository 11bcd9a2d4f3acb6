/** Config schema of the `otlp` receiver: the upstream otlpreceiver keys (protocols.grpc / protocols.http). */
import { z } from 'zod';
import { corsSchema, httpServerFields, includeMetadataField, requestBodyFields, tlsServerSchema } from '../../config/http-server.js';
import { byteSize, duration, endpoint } from '../../config/schema-helpers.js';

/** `cert_file` + `key_file` (PEM), `client_ca_file` (mTLS), `min_version` / `max_version` (config/http-server.ts). */
const tlsSchema = tlsServerSchema;

/**
 * `authenticator`: an auth extension id (bearertokenauth, basicauth), as upstream. `bearer_tokens`:
 * Tributary's shorthand, static bearer tokens (fill them from ${env:…} / ${file:…}).
 */
const authSchema = z
  .strictObject({
    authenticator: z.string().min(1).optional(),
    bearer_tokens: z.array(z.string().min(1, 'must not be empty')).min(1, 'needs at least one token').optional(),
  })
  .refine((a) => (a.authenticator === undefined) !== (a.bearer_tokens === undefined), { message: 'needs exactly one of authenticator or bearer_tokens' });

const keepaliveSchema = z.strictObject({
  server_parameters: z.strictObject({
    max_connection_idle: duration().optional(),
    max_connection_age: duration().optional(),
    max_connection_age_grace: duration().optional(),
    time: duration().optional(),
    timeout: duration().optional(),
  }).optional(),
  enforcement_policy: z.strictObject({
    min_time: duration().optional(),
    permit_without_stream: z.boolean().optional(),
  }).optional(),
});

export const grpcProtocolSchema = z.strictObject({
  endpoint: endpoint('127.0.0.1:4317'),
  max_recv_msg_size_mib: z.number().positive().default(4),
  include_metadata: z.boolean().default(false),
  tls: tlsSchema.optional(),
  auth: authSchema.optional(),
  /** Upstream configgrpc server keys: honoured through grpc-js channel options. */
  max_concurrent_streams: z.number().int().min(0).optional(),
  keepalive: keepaliveSchema.optional(),
  /** Accepted without effect (grpc-js sizes its own buffers; the transport is TCP). */
  read_buffer_size: byteSize().optional(),
  write_buffer_size: byteSize().optional(),
  transport: z.enum(['tcp', 'tcp4', 'tcp6']).optional(),
});

export const httpProtocolSchema = z.strictObject({
  // endpoint, tls, read_header_timeout, read_timeout, idle_timeout (config/http-server.ts)
  ...httpServerFields('127.0.0.1:4318'),
  logs_url_path: z
    .string()
    .default('/v1/logs')
    // Upstream prefixes a missing leading slash.
    .transform((p) => (p.startsWith('/') ? p : `/${p}`)),
  /** Path for traces (a traces pipeline must name this receiver). Default /v1/traces. */
  traces_url_path: z.string().transform((p) => (p.startsWith('/') ? p : `/${p}`)).optional(),
  /** Path for metrics (a metrics pipeline must name this receiver). Default /v1/metrics. */
  metrics_url_path: z.string().transform((p) => (p.startsWith('/') ? p : `/${p}`)).optional(),
  // max_request_body_size, max_request_bytes_in_flight, include_metadata
  ...requestBodyFields(),
  ...includeMetadataField(),
  /** Upstream confighttp server key: headers added to every response. */
  response_headers: z.record(z.string(), z.string()).optional(),
  /** Accepted without effect (Node has no per-write timeout; gzip, deflate and identity are accepted). */
  write_timeout: duration().optional(),
  compression_algorithms: z.array(z.string()).optional(),
  cors: corsSchema.optional(),
  auth: authSchema.optional(),
});

// A protocol key with a null value (`http:` in YAML) means "enabled with defaults".
const nullToEmpty = (v: unknown): unknown => (v === null ? {} : v);

const protocolsSchema = z
  .strictObject({
    grpc: z.preprocess(nullToEmpty, grpcProtocolSchema.optional()),
    http: z.preprocess(nullToEmpty, httpProtocolSchema.optional()),
  })
  .refine((p) => p.grpc !== undefined || p.http !== undefined, {
    message: 'must enable at least one protocol (grpc or http)',
  });

export const otlpReceiverConfigSchema = z.preprocess(
  (v) => (v === null || v === undefined ? {} : v),
  z.strictObject({
    // Absent (or null) `protocols` enables both with defaults.
    protocols: z.preprocess((v) => (v === null || v === undefined ? { grpc: {}, http: {} } : v), protocolsSchema),
  }),
);

export type GrpcProtocolConfig = z.output<typeof grpcProtocolSchema>;
export type HttpProtocolConfig = z.output<typeof httpProtocolSchema>;
export type TlsConfig = z.output<typeof tlsSchema>;
export type AuthConfig = z.output<typeof authSchema>;
export type CorsConfig = z.output<typeof corsSchema>;

export interface OtlpReceiverConfig {
  protocols: {
    grpc?: GrpcProtocolConfig | undefined;
    http?: HttpProtocolConfig | undefined;
  };
}
