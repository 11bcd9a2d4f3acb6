/** Config of the `otlphttp` exporter: upstream otlphttpexporter keys and defaults. */
import { z } from 'zod';
import { clientHeaders, compressionSchema, httpClientSettingsShape, httpUrl } from '../../config/http-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

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
    compression: compressionSchema('gzip'),
    /** Extra request headers (values may be secrets: never logged). */
    headers: clientHeaders(),
    ...httpClientSettingsShape,
    ...exporterHelperShape,
  })
  .superRefine((c, ctx) => {
    if (!c.endpoint && !c.logs_endpoint && !c.traces_endpoint && !c.metrics_endpoint) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'one of endpoint or logs_endpoint is required' });
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
