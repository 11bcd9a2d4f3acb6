/** Config of the `otlphttp` exporter: upstream otlphttpexporter keys and defaults. */
import { z } from 'zod';
import { section } from '../../config/schema-helpers.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';
import { clientAuthSchema } from '../common/client-auth.js';

const httpUrl = () =>
  z.string().refine(
    (v) => {
      if (!URL.canParse(v)) return false;
      const p = new URL(v).protocol;
      return p === 'http:' || p === 'https:';
    },
    { message: 'must be an http:// or https:// URL' },
  );

export const otlpHttpTlsSchema = section({
  /** Accept any server certificate (testing only). */
  insecure_skip_verify: z.boolean().default(false),
  ca_file: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
});

export const otlpHttpExporterConfigSchema = z
  .strictObject({
    /** Base URL; logs are sent to `<endpoint>/v1/logs`. */
    endpoint: httpUrl().optional(),
    /** Full URL for logs; overrides `endpoint`. */
    logs_endpoint: httpUrl().optional(),
    /** Full URL for traces (traces pipelines); overrides `<endpoint>/v1/traces`. */
    traces_endpoint: httpUrl().optional(),
    /** Full URL for metrics (metrics pipelines); overrides `<endpoint>/v1/metrics`. */
    metrics_endpoint: httpUrl().optional(),
    encoding: z.enum(['proto', 'json']).default('proto'),
    compression: z.enum(['gzip', 'none']).default('gzip'),
    /** Extra request headers (values may be secrets: never logged). */
    headers: z.record(z.string(), z.string()).default({}),
    tls: otlpHttpTlsSchema,
    /** A client authenticator extension (bearertokenauth, basicauth, headers_setter). */
    auth: clientAuthSchema.optional(),
    ...exporterHelperShape,
  })
  .superRefine((c, ctx) => {
    if (!c.endpoint && !c.logs_endpoint && !c.traces_endpoint && !c.metrics_endpoint) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'one of endpoint or logs_endpoint is required' });
    }
    if (Boolean(c.tls.cert_file) !== Boolean(c.tls.key_file)) {
      ctx.addIssue({ code: 'custom', path: ['tls', c.tls.cert_file ? 'key_file' : 'cert_file'], message: 'tls.cert_file and tls.key_file must be set together' });
    }
  });

export type OtlpHttpExporterConfig = z.output<typeof otlpHttpExporterConfigSchema>;

/** The URL logs are POSTed to: `logs_endpoint`, else `<endpoint>/v1/logs`. */
export function logsUrl(config: Pick<OtlpHttpExporterConfig, 'endpoint' | 'logs_endpoint'>): URL {
  if (config.logs_endpoint) return new URL(config.logs_endpoint);
  const base = config.endpoint ?? 'http://localhost:4318';
  return new URL(base.endsWith('/') ? `${base}v1/logs` : `${base}/v1/logs`);
}

/** The URL a signal is POSTed to: its `<signal>_endpoint`, else `<endpoint>/v1/<signal>`; undefined when neither is set. */
export function signalUrl(config: Pick<OtlpHttpExporterConfig, 'endpoint' | 'logs_endpoint' | 'traces_endpoint' | 'metrics_endpoint'>, signal: 'logs' | 'traces' | 'metrics'): URL | undefined {
  const specific = signal === 'logs' ? config.logs_endpoint : signal === 'traces' ? config.traces_endpoint : config.metrics_endpoint;
  if (specific) return new URL(specific);
  const base = config.endpoint;
  if (!base) return undefined;
  return new URL(base.endsWith('/') ? `${base}v1/${signal}` : `${base}/v1/${signal}`);
}
