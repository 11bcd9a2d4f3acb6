/** The `otlphttp` exporter (upstream otlphttpexporter): OTLP/HTTP protobuf or JSON to `<endpoint>/v1/logs`. */
import type { ExporterFactory } from '../../component.js';
import { otlpHttpExporterConfigSchema, type OtlpHttpExporterConfig } from './config.js';
import { OtlpHttpExporter } from './otlphttp-exporter.js';

export { otlpHttpExporterConfigSchema, logsUrl, type OtlpHttpExporterConfig } from './config.js';
export { OtlpHttpExporter } from './otlphttp-exporter.js';

export const otlpHttpExporterFactory: ExporterFactory<OtlpHttpExporterConfig> = {
  kind: 'exporter',
  type: 'otlphttp',
  stability: 'stable',
  configSchema: otlpHttpExporterConfigSchema,
  create: (settings, config) => new OtlpHttpExporter(settings, config),
};
