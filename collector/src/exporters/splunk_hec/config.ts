/** Config of the `splunk_hec` exporter (logs): upstream splunkhecexporter keys and defaults, plus `index_by_retention_class`. */
import { createRequire } from 'node:module';
import { z } from 'zod';
import { byteSize, duration, section } from '../../config/schema-helpers.js';
import { httpClientSettingsShape, httpUrl } from '../../config/http-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

const require = createRequire(import.meta.url);
const pkg = require('../../../package.json') as { version?: string };

/** Attribute names that carry HEC metadata (each key optional: unset keys take the default). */
const metadataKeysSchema = z
  .strictObject({
    source: z.string().min(1).optional(),
    sourcetype: z.string().min(1).optional(),
    index: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
  })
  .optional();

/** Upstream's limit on `max_content_length_logs`. */
export const MAX_CONTENT_LENGTH_LIMIT = 838_860_800;

export const splunkHecExporterConfigSchema = z.strictObject({
  /** HEC token (a secret: never logged). Sent as `Authorization: Splunk <token>`. */
  token: z.string().min(1, { message: 'required' }),
  /** HEC URL, e.g. `https://splunk:8088/services/collector`. A URL without a path gets `/services/collector`. */
  endpoint: httpUrl(),
  /** Defaults for events without the corresponding attribute. */
  source: z.string().default(''),
  sourcetype: z.string().default(''),
  index: z.string().default(''),
  /** Largest request body (uncompressed); 0 = unlimited. */
  max_content_length_logs: byteSize().prefault(2 * 1024 * 1024).refine((n) => n <= MAX_CONTENT_LENGTH_LIMIT, { message: `must be at most ${MAX_CONTENT_LENGTH_LIMIT}` }),
  /** Largest single event (uncompressed); larger events are rejected. 0 = no limit of its own. */
  max_event_size: byteSize().prefault(5 * 1024 * 1024),
  disable_compression: z.boolean().default(false),
  /** Send `body.AsString()` lines to the raw endpoint instead of JSON events. */
  export_raw: z.boolean().default(false),
  /** Deprecated upstream name of `otel_attrs_to_hec_metadata` (used for keys the newer one does not set). */
  hec_metadata_to_otel_attrs: metadataKeysSchema,
  otel_attrs_to_hec_metadata: metadataKeysSchema,
  otel_to_hec_fields: section({
    severity_text: z.string().min(1).default('otel.log.severity.text'),
    severity_number: z.string().min(1).default('otel.log.severity.number'),
  }),
  ...httpClientSettingsShape,
  splunk_app_name: z.string().default('Tributary'),
  splunk_app_version: z.string().default(pkg.version ?? '0.0.0'),
  /** Checked at start when `health_check_enabled` (GET <endpoint origin><health_path>). */
  health_path: z.string().startsWith('/').default('/services/collector/health'),
  health_check_enabled: z.boolean().default(false),
  /** `retention.class` value → Splunk index (e.g. `audit: audit_7y`); an explicit index attribute still wins. */
  index_by_retention_class: z.record(z.string(), z.string().min(1)).default({}),
  /** false: log data is not sent (accepted and counted as sent), as upstream. */
  log_data_enabled: z.boolean().optional(),
  /** Accepted for upstream configs; Tributary exports logs only. */
  profiling_data_enabled: z.boolean().optional(),
  /** Heartbeat events (sourcetype `heartbeat`, index `_internal`) every `interval` (0 = off), and one at start with `startup`. */
  heartbeat: z.strictObject({ interval: duration().prefault('0s'), startup: z.boolean().default(false) }).optional(),
  /** Upstream's own-metrics switch for heartbeats; Tributary counts heartbeats in its metrics always (accepted, no effect). */
  telemetry: z.strictObject({
    enabled: z.boolean().default(false),
    override_metrics_names: z.record(z.string(), z.string()).default({}),
    extra_attributes: z.record(z.string(), z.string()).default({}),
  }).optional(),
  ...exporterHelperShape,
});

export type SplunkHecExporterConfig = z.output<typeof splunkHecExporterConfigSchema>;

export interface HecMetadataKeys {
  source: string;
  sourcetype: string;
  index: string;
  host: string;
}

export const DEFAULT_METADATA_KEYS: HecMetadataKeys = {
  source: 'com.splunk.source',
  sourcetype: 'com.splunk.sourcetype',
  index: 'com.splunk.index',
  host: 'host.name',
};

export function metadataKeys(config: Pick<SplunkHecExporterConfig, 'otel_attrs_to_hec_metadata' | 'hec_metadata_to_otel_attrs'>): HecMetadataKeys {
  const a = config.otel_attrs_to_hec_metadata ?? {};
  const b = config.hec_metadata_to_otel_attrs ?? {};
  return {
    source: a.source ?? b.source ?? DEFAULT_METADATA_KEYS.source,
    sourcetype: a.sourcetype ?? b.sourcetype ?? DEFAULT_METADATA_KEYS.sourcetype,
    index: a.index ?? b.index ?? DEFAULT_METADATA_KEYS.index,
    host: a.host ?? b.host ?? DEFAULT_METADATA_KEYS.host,
  };
}

/**
 * The URL events are POSTed to. A bare origin gets `/services/collector`; with `export_raw`, an endpoint
 * ending in `/services/collector` or `/services/collector/event` is switched to `/services/collector/raw`.
 */
export function hecUrl(config: Pick<SplunkHecExporterConfig, 'endpoint' | 'export_raw'>): URL {
  const url = new URL(config.endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/services/collector';
  if (config.export_raw) url.pathname = url.pathname.replace(/\/services\/collector(\/event)?\/?$/, '/services/collector/raw');
  return url;
}
