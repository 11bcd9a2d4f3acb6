/** The `clickhouse` exporter (upstream clickhouseexporter, HTTP interface). */
import type { ExporterFactory } from '../../component.js';
import { ClickHouseExporter } from './clickhouse-exporter.js';
import { clickHouseExporterConfigSchema, type ClickHouseExporterConfig } from './config.js';

export { clickHouseExporterConfigSchema, type ClickHouseExporterConfig } from './config.js';
export { ClickHouseExporter, clickHouseError } from './clickhouse-exporter.js';
export { convertToClickHouseRows, dateTime64Text, retentionDaysOf, type ClickHouseLayout } from './convert.js';
export { createDatabaseSql, createTableSql, createModernTableSql, createLegacyTableSql, insertSql, layoutForVersion, ttlClause, ttlInterval, quoteIdentifier } from './schema.js';

export const clickHouseExporterFactory: ExporterFactory<ClickHouseExporterConfig> = {
  kind: 'exporter',
  type: 'clickhouse',
  stability: 'beta',
  configSchema: clickHouseExporterConfigSchema,
  create: (settings, config) => new ClickHouseExporter(settings, config),
};
