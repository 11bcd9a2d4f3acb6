/** Config of the `datadog` exporter (logs): upstream datadogexporter keys and defaults, plus `retention_tags`. */
import { z } from 'zod';
import { section } from '../../config/schema-helpers.js';
import { httpClientSettingsShape, httpUrl } from '../../config/http-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

export const datadogExporterConfigSchema = z.strictObject({
  api: section({
    /** Datadog API key (a secret: never logged). */
    key: z.string().min(1, { message: 'required' }),
    /** Datadog site: logs go to `https://http-intake.logs.<site>/api/v2/logs`. */
    site: z.string().min(1).regex(/^[a-z0-9.-]+$/i, { message: 'must be a host name such as datadoghq.com or datadoghq.eu' }).default('datadoghq.com'),
    /** Check the key at start (`GET https://api.<site>/api/v1/validate`) and fail start when it is invalid. */
    fail_on_invalid_key: z.boolean().default(false),
  }),
  logs: section({
    /** Full intake URL override (a relay, a proxy, or a local endpoint in tests). Path `/api/v2/logs` is used when the URL has none. */
    endpoint: httpUrl().optional(),
    use_compression: z.boolean().default(true),
    compression_level: z.number().int().min(0).max(9).default(6),
    /** Upstream logs-agent batching wait, seconds. Accepted for compatibility; batching is the `batch` processor's job here. */
    batch_wait: z.number().int().min(1).max(60).default(5),
  }),
  /** Host name used when neither the resource nor the record names one. */
  hostname: z.string().default(''),
  /** `retention.class` value → tag(s) appended to `ddtags` (e.g. `audit: "retention:15mo"`), for Datadog index filters. */
  retention_tags: z.record(z.string(), z.string().min(1)).default({}),
  /**
   * Upstream sections for the other signals: accepted so an existing datadog exporter config loads, and
   * ignored (this exporter sends logs only).
   */
  metrics: z.record(z.string(), z.unknown()).optional(),
  traces: z.record(z.string(), z.unknown()).optional(),
  host_metadata: z.record(z.string(), z.unknown()).optional(),
  only_metadata: z.boolean().optional(),
  ...httpClientSettingsShape,
  ...exporterHelperShape,
});

export type DatadogExporterConfig = z.output<typeof datadogExporterConfigSchema>;

/** The logs intake URL for a config: `logs.endpoint` (path defaulted), else `https://http-intake.logs.<site>/api/v2/logs`. */
export function datadogLogsUrl(config: Pick<DatadogExporterConfig, 'api' | 'logs'>): URL {
  if (config.logs.endpoint) {
    const url = new URL(config.logs.endpoint);
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/api/v2/logs';
    return url;
  }
  return new URL(`https://http-intake.logs.${config.api.site}/api/v2/logs`);
}

/** Where the API key is validated: `https://api.<site>/api/v1/validate`, or the `logs.endpoint` origin when overridden. */
export function datadogValidateUrl(config: Pick<DatadogExporterConfig, 'api' | 'logs'>): URL {
  if (config.logs.endpoint) return new URL('/api/v1/validate', new URL(config.logs.endpoint).origin);
  return new URL(`https://api.${config.api.site}/api/v1/validate`);
}
