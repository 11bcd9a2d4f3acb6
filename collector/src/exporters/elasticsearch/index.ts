/** The `elasticsearch` exporter (upstream elasticsearchexporter): `_bulk` NDJSON with `create` actions. */
import type { ExporterFactory } from '../../component.js';
import { elasticsearchExporterConfigSchema, type ElasticsearchExporterConfig } from './config.js';
import { ElasticsearchExporter } from './elasticsearch-exporter.js';

export { elasticsearchExporterConfigSchema, type ElasticsearchExporterConfig } from './config.js';
export { ElasticsearchExporter } from './elasticsearch-exporter.js';
export { convertToBulk, BulkConverter, esConvertOptions, type EsConvertOptions, type BulkRequest } from './convert.js';

export const elasticsearchExporterFactory: ExporterFactory<ElasticsearchExporterConfig> = {
  kind: 'exporter',
  type: 'elasticsearch',
  stability: 'alpha',
  configSchema: elasticsearchExporterConfigSchema,
  create: (settings, config) => new ElasticsearchExporter(settings, config),
};
