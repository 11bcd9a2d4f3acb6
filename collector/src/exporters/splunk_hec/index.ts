/** The `splunk_hec` exporter (upstream splunkhecexporter, logs): Splunk HTTP Event Collector. */
import type { ExporterFactory } from '../../component.js';
import { splunkHecExporterConfigSchema, type SplunkHecExporterConfig } from './config.js';
import { SplunkHecExporter } from './splunk-hec-exporter.js';

export { hecUrl, splunkHecExporterConfigSchema, type SplunkHecExporterConfig } from './config.js';
export { convertToHec, convertToHecEvents, type HecConversion, type HecEvent, type HecRequest } from './convert.js';
export { hecErrorForStatus, SplunkHecExporter } from './splunk-hec-exporter.js';

export const splunkHecExporterFactory: ExporterFactory<SplunkHecExporterConfig> = {
  kind: 'exporter',
  type: 'splunk_hec',
  stability: 'alpha',
  configSchema: splunkHecExporterConfigSchema,
  create: (settings, config) => new SplunkHecExporter(settings, config),
};
