/** The `otlp` exporter (upstream otlpexporter): OTLP over gRPC to `endpoint`. */
import type { ExporterFactory } from '../../component.js';
import { otlpExporterConfigSchema, type OtlpExporterConfig } from './config.js';
import { OtlpExporter } from './otlp-exporter.js';

export { otlpExporterConfigSchema, parseGrpcEndpoint, type OtlpExporterConfig } from './config.js';
export { OtlpExporter } from './otlp-exporter.js';
export { logsServiceDefinition, LOGS_EXPORT_PATH } from './logs-service.js';
export { PARTIAL_REJECTED_METRIC } from '../common/partial-success.js';

export const otlpExporterFactory: ExporterFactory<OtlpExporterConfig> = {
  kind: 'exporter',
  type: 'otlp',
  stability: 'stable',
  configSchema: otlpExporterConfigSchema,
  create: (settings, config) => new OtlpExporter(settings, config),
};
