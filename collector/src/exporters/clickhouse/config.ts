/** Config of the `clickhouse` exporter: upstream clickhouseexporter keys (HTTP interface) plus Tributary additions. */
import { z } from 'zod';
import { duration, section } from '../../config/schema-helpers.js';
import { compressionSchema, httpClientSettingsShape, httpUrl } from '../../config/http-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

/** Native-protocol port → the HTTP interface's port on a default ClickHouse server (plain and TLS). */
const NATIVE_TO_HTTP: Record<string, { port: string; tls: boolean }> = { '9000': { port: '8123', tls: false }, '9440': { port: '8443', tls: true } };

/**
 * `tcp://` and `clickhouse://` endpoints (upstream's clickhouse-go DSN, native protocol) on the default
 * native ports are mapped to the HTTP interface Tributary speaks; another port cannot be guessed.
 */
export function mapNativeEndpoint(v: string, ctx: z.RefinementCtx): string {
  const m = /^(tcp|clickhouse):\/\/(.*)$/i.exec(v);
  if (!m || !URL.canParse(`http://${m[2]}`)) return v;
  const u = new URL(`http://${m[2]}`);
  const secure = /^(true|1)$/i.test(u.searchParams.get('secure') ?? '');
  const port = u.port || (secure ? '9440' : '9000');
  const mapped = NATIVE_TO_HTTP[port];
  if (!mapped) {
    ctx.addIssue({
      code: 'custom',
      message: `${m[1]}:// is ClickHouse's native protocol (here on port ${port}); Tributary uses the HTTP interface: use http://${u.hostname}:8123 (https://${u.hostname}:8443 with TLS), or your server's http_port`,
    });
    return z.NEVER;
  }
  return `${mapped.tls || secure ? 'https' : 'http'}://${u.host.replace(/:\d+$/, '')}:${mapped.tls || secure ? '8443' : mapped.port}`;
}

export const clickHouseExporterConfigSchema = z.strictObject({
  /** The HTTP interface, e.g. `http://127.0.0.1:8123`; `tcp://host:9000` / `clickhouse://host:9000` map to it. */
  endpoint: z.string().transform(mapNativeEndpoint).pipe(httpUrl('must be an http:// or https:// URL (the ClickHouse HTTP interface, e.g. http://127.0.0.1:8123)')),
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
