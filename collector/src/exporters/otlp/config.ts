/** Config of the `otlp` (gRPC) exporter: upstream otlpexporter keys and defaults. */
import { z } from 'zod';
import { section } from '../../config/schema-helpers.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';
import { clientAuthSchema } from '../common/client-auth.js';

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

export const otlpGrpcTlsSchema = section({
  /** Plaintext (no TLS). An `http://` endpoint implies it. */
  insecure: z.boolean().default(false),
  /** Accept any server certificate (testing only). */
  insecure_skip_verify: z.boolean().default(false),
  ca_file: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
});

export const otlpExporterConfigSchema = z
  .strictObject({
    /** `host:port`, `http://host:port` (plaintext) or `https://host:port`. */
    endpoint: z.string().refine((v) => parseGrpcEndpoint(v) !== undefined, {
      message: 'must be host:port, http://host:port or https://host:port',
    }),
    tls: otlpGrpcTlsSchema,
    /** gRPC metadata sent with every call (values may be secrets: never logged). */
    headers: z.record(z.string(), z.string()).default({}),
    compression: z.enum(['gzip', 'none']).default('gzip'),
    /** A client authenticator extension (bearertokenauth, basicauth, headers_setter). */
    auth: clientAuthSchema.optional(),
    ...exporterHelperShape,
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.tls.cert_file) !== Boolean(c.tls.key_file)) {
      ctx.addIssue({ code: 'custom', path: ['tls', c.tls.cert_file ? 'key_file' : 'cert_file'], message: 'tls.cert_file and tls.key_file must be set together' });
    }
  });

export type OtlpExporterConfig = z.output<typeof otlpExporterConfigSchema>;
