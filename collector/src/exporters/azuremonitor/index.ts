/** The `azuremonitor` exporter: Azure Monitor Logs Ingestion API (DCR streams) with @azure/identity. */
import type { ExporterFactory } from '../../component.js';
import { AzureMonitorExporter } from './azuremonitor-exporter.js';
import { azureMonitorExporterConfigSchema, type AzureMonitorExporterConfig } from './config.js';

export { azureMonitorExporterConfigSchema, MAX_REQUEST_BYTES, resolveAuthType, type AzureMonitorExporterConfig } from './config.js';
export { AzureMonitorExporter, createCredential, ingestionError, tokenError } from './azuremonitor-exporter.js';
export { anyValueJsonText, anyValueToJson, azureTime, compileColumns, DEFAULT_COLUMNS, parseColumnSource } from './columns.js';
export { convertToIngestionRequests, rowJson, selectRecords, sharedColumnsJson, type IngestionRequest, type RecordRef } from './convert.js';

export const azureMonitorExporterFactory: ExporterFactory<AzureMonitorExporterConfig> = {
  kind: 'exporter',
  type: 'azuremonitor',
  stability: 'alpha',
  configSchema: azureMonitorExporterConfigSchema,
  create: (settings, config) => new AzureMonitorExporter(settings, config),
};
