/** The `azuremonitor` exporter: Azure Monitor Logs Ingestion API (DCR streams) with @azure/identity. */
import type { ExporterFactory } from '../../component.js';
import { AzureMonitorExporter } from './azuremonitor-exporter.js';
import { z } from 'zod';
import { AppInsightsSender, appInsightsConfigSchema, type AppInsightsConfig } from './appinsights.js';
import { azureMonitorExporterConfigSchema, type AzureMonitorExporterConfig } from './config.js';

export { azureMonitorExporterConfigSchema, MAX_REQUEST_BYTES, resolveAuthType, type AzureMonitorExporterConfig } from './config.js';
export { AzureMonitorExporter, createCredential, ingestionError, tokenError } from './azuremonitor-exporter.js';
export { anyValueJsonText, anyValueToJson, azureTime, compileColumns, DEFAULT_COLUMNS, parseColumnSource } from './columns.js';
export { convertToIngestionRequests, rowJson, selectRecords, sharedColumnsJson, type IngestionRequest, type RecordRef } from './convert.js';

export { AppInsightsSender, appInsightsConfigSchema, recordToEnvelope, parseConnection, type AppInsightsConfig } from './appinsights.js';

export type AzureMonitorAnyConfig = AzureMonitorExporterConfig | (AppInsightsConfig & { mode: 'appinsights' });

/** Application Insights when `connection_string` or `instrumentation_key` is present (as upstream), else the Logs Ingestion API (DCR). */
export const azureMonitorAnyConfigSchema: z.ZodType<AzureMonitorAnyConfig> = z.unknown().transform((v, ctx) => {
  const ai = v !== null && typeof v === 'object' && ('connection_string' in v || 'instrumentation_key' in v);
  const r = ai ? appInsightsConfigSchema.safeParse(v) : azureMonitorExporterConfigSchema.safeParse(v);
  if (!r.success) {
    for (const issue of r.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  }
  return ai ? { ...(r.data as AppInsightsConfig), mode: 'appinsights' as const } : (r.data as AzureMonitorExporterConfig);
});

export const azureMonitorExporterFactory: ExporterFactory<AzureMonitorAnyConfig> = {
  kind: 'exporter',
  type: 'azuremonitor',
  stability: 'alpha',
  configSchema: azureMonitorAnyConfigSchema,
  create: (settings, config) =>
    'mode' in config ? new AppInsightsSender(settings, config) : new AzureMonitorExporter(settings, config),
};
