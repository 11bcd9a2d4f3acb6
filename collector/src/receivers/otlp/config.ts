/** Config schema of the `otlp` receiver: the upstream otlpreceiver keys (protocols.grpc / protocols.http). */
import { z } from 'zod';
import { corsSchema, httpServerFields, includeMetadataField, requestBodyFields, tlsServerSchema } from '../../config/http-server.js';
import { endpoint } from '../../config/schema-helpers.js';

const tlsSchema = tlsServerSchema;

/** Tributary addition: static bearer tokens (fill them from ${env:…} / ${file:…}). */
const authSchema = z.strictObject({
  bearer_tokens: z.array(z.string().min(1, 'must not be empty')).min(1, 'needs at least one token'),
});

export const grpcProtocolSchema = z.strictObject({
  endpoint: endpoint('127.0.0.1:4317'),
  max_recv_msg_size_mib: z.number().positive().default(4),
  include_metadata: z.boolean().default(false),
  tls: tlsSchema.optional(),
  auth: authSchema.optional(),
});

export const httpProtocolSchema = z.strictObject({
  // endpoint, tls, read_header_timeout, read_timeout, idle_timeout (config/http-server.ts)
  ...httpServerFields('127.0.0.1:4318'),
  logs_url_path: z
    .string()
    .default('/v1/logs')
    // Upstream prefixes a missing leading slash.
    .transform((p) => (p.startsWith('/') ? p : `/${p}`)),
  // max_request_body_size, max_request_bytes_in_flight, include_metadata
  ...requestBodyFields(),
  ...includeMetadataField(),
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
