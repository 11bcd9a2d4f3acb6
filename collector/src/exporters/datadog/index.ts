/** The `datadog` exporter (upstream datadogexporter, logs): Datadog v2 logs intake. */
import type { ExporterFactory } from '../../component.js';
import { datadogExporterConfigSchema, type DatadogExporterConfig } from './config.js';
import { DatadogExporter } from './datadog-exporter.js';

export { datadogExporterConfigSchema, datadogLogsUrl, type DatadogExporterConfig } from './config.js';
export { convertToDatadog, convertToDatadogItems, type DatadogConversion, type DatadogRequest } from './convert.js';
export { DatadogExporter, datadogErrorForStatus } from './datadog-exporter.js';

export const datadogExporterFactory: ExporterFactory<DatadogExporterConfig> = {
  kind: 'exporter',
  type: 'datadog',
  stability: 'alpha',
  configSchema: datadogExporterConfigSchema,
  create: (settings, config) => new DatadogExporter(settings, config),
};
