/** Config of the `clickhouse` exporter: upstream clickhouseexporter keys (HTTP interface) plus Tributary additions. */
import { z } from 'zod';
import { duration, section } from '../../config/schema-helpers.js';
import { compressionSchema, httpClientSettingsShape, httpUrl } from '../../config/http-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

export const clickHouseExporterConfigSchema = z.strictObject({
  /** The HTTP interface, e.g. `http://127.0.0.1:8123`. */
  endpoint: httpUrl('must be an http:// or https:// URL (the ClickHouse HTTP interface, e.g. http://127.0.0.1:8123)'),
  database: z.string().min(1).default('default'),
  logs_table_name: z.string().min(1).default('otel_logs'),
  /** Create the database and the logs table (IF NOT EXISTS) before the first insert. */
  create_schema: z.boolean().default(true),
  /** Table TTL for rows without a `retention.days` tag (0 = none). */
  ttl: duration().prefault('0s'),
  username: z.string().default('default'),
  /** Secret: never logged. */
  password: z.string().default(''),
  /** `ON CLUSTER <name>` for the CREATE statements when set. */
  cluster_name: z.string().default(''),
  table_engine: section({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be an engine name such as MergeTree or ReplicatedMergeTree').default('MergeTree'),
    /** The engine's parameters as written between the parentheses (e.g. `'/clickhouse/tables/{shard}/otel_logs', '{replica}'`). */
    params: z.string().default(''),
  }),
  /** Tributary: table layout. `auto` asks `SELECT version()`: ≥ 21.8 → `modern`, older → `legacy` (see README). */
  schema: z.enum(['auto', 'modern', 'legacy']).default('auto'),
  /** Tributary: compress the INSERT body. */
  compression: compressionSchema('gzip'),
  ...httpClientSettingsShape,
  ...exporterHelperShape,
});

export type ClickHouseExporterConfig = z.output<typeof clickHouseExporterConfigSchema>;
