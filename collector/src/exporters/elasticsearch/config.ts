/** Config of the `elasticsearch` exporter: upstream elasticsearchexporter keys and defaults (see README.md). */
import { z } from 'zod';
import { byteSize, section } from '../../config/schema-helpers.js';
import { clientHeaders, compressionSchema, httpClientSettingsShape, httpUrl } from '../../config/http-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

export const MAPPING_MODES = ['otel', 'ecs', 'none', 'raw', 'bodymap'] as const;
export type MappingMode = (typeof MAPPING_MODES)[number];

/** Where records of one `retention.class` go: a fixed index, or the data stream's dataset/namespace. */
export const retentionTargetSchema = z
  .strictObject({
    index: z.string().min(1).optional(),
    dataset: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
  })
  .refine((t) => t.index !== undefined || t.dataset !== undefined || t.namespace !== undefined, {
    message: 'set index, dataset or namespace',
  });

export const elasticsearchExporterConfigSchema = z
  .strictObject({
    /** Base URL of the cluster; bulk requests go to `<endpoint>/_bulk`. */
    endpoint: httpUrl().optional(),
    /** Several nodes: requests are spread over them in turn. */
    endpoints: z.array(httpUrl()).default([]),
    /** Fixed index (or data stream) name. Unset = data stream routing `logs-<dataset>-<namespace>`. */
    logs_index: z.string().min(1).optional(),
    logs_dynamic_index: section({ enabled: z.boolean().default(false) }),
    logstash_format: section({
      enabled: z.boolean().default(false),
      prefix_separator: z.string().default('-'),
      date_format: z.string().default('%Y.%m.%d'),
    }),
    mapping: section({ mode: z.enum(MAPPING_MODES).default('otel') }),
    /** `Authorization: ApiKey <api_key>` (the base64 `id:key` form Elasticsearch hands out). */
    api_key: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    /** Extra request headers (values may be secrets: never logged). */
    headers: clientHeaders(),
    compression: compressionSchema('gzip'),
    flush: section({
      /** Upper bound of one bulk request body (uncompressed NDJSON). */
      bytes: byteSize().prefault(5_000_000),
    }),
    /** `retention.class` → index / data stream dataset or namespace (see README). */
    retention: section({
      classes: z.record(z.string(), retentionTargetSchema).default({}),
    }),
    ...httpClientSettingsShape,
    ...exporterHelperShape,
  })
  .superRefine((c, ctx) => {
    if (!c.endpoint && c.endpoints.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'one of endpoint or endpoints is required' });
    }
    if (c.api_key !== undefined && c.user !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['api_key'], message: 'api_key and user/password are mutually exclusive' });
    }
    if (c.password !== undefined && c.user === undefined) {
      ctx.addIssue({ code: 'custom', path: ['user'], message: 'required when password is set' });
    }
    if (c.flush.bytes < 1024) {
      ctx.addIssue({ code: 'custom', path: ['flush', 'bytes'], message: 'must be at least 1KiB' });
    }
    if (Boolean(c.tls.cert_file) !== Boolean(c.tls.key_file)) {
      ctx.addIssue({ code: 'custom', path: ['tls', c.tls.cert_file ? 'key_file' : 'cert_file'], message: 'tls.cert_file and tls.key_file must be set together' });
    }
  });

export type ElasticsearchExporterConfig = z.output<typeof elasticsearchExporterConfigSchema>;

/** The bulk URLs, one per configured node. */
export function bulkUrls(config: Pick<ElasticsearchExporterConfig, 'endpoint' | 'endpoints'>): URL[] {
  const bases = config.endpoints.length > 0 ? config.endpoints : [config.endpoint!];
  return bases.map((b) => new URL(b.endsWith('/') ? `${b}_bulk` : `${b}/_bulk`));
}
