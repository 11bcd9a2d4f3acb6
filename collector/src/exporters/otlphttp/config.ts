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
    encoding: z.enum(['proto', 'json']).default('proto'),
    compression: compressionSchema('gzip'),
    /** Extra request headers (values may be secrets: never logged). */
    headers: clientHeaders(),
    ...httpClientSettingsShape,
    ...exporterHelperShape,
  })
  .superRefine((c, ctx) => {
    if (!c.endpoint && !c.logs_endpoint) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'one of endpoint or logs_endpoint is required' });
    }
  });

export type OtlpHttpExporterConfig = z.output<typeof otlpHttpExporterConfigSchema>;

/** The URL logs are POSTed to: `logs_endpoint`, else `<endpoint>/v1/logs`. */
export function logsUrl(config: Pick<OtlpHttpExporterConfig, 'endpoint' | 'logs_endpoint'>): URL {
  if (config.logs_endpoint) return new URL(config.logs_endpoint);
  const base = config.endpoint!;
  return new URL(base.endsWith('/') ? `${base}v1/logs` : `${base}/v1/logs`);
}
