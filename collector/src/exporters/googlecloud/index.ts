/** The `googlecloud` exporter (upstream googlecloudexporter, logs): Cloud Logging REST `entries:write`. */
import type { ExporterFactory } from '../../component.js';
import { googleCloudExporterConfigSchema, type GoogleCloudExporterConfig } from './config.js';
import { GoogleCloudExporter } from './googlecloud-exporter.js';

export { googleCloudExporterConfigSchema, type GoogleCloudExporterConfig } from './config.js';
export { GoogleCloudExporter, LOGGING_WRITE_SCOPE } from './googlecloud-exporter.js';
export { convertToCloudLogging, cloudLoggingSeverity, monitoredResource, type EntriesWriteRequest, type GoogleCloudConversion } from './convert.js';

export const googleCloudExporterFactory: ExporterFactory<GoogleCloudExporterConfig> = {
  kind: 'exporter',
  type: 'googlecloud',
  stability: 'alpha',
  configSchema: googleCloudExporterConfigSchema,
  create: (settings, config) => new GoogleCloudExporter(settings, config),
};
