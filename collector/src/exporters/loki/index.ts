/** The `loki` exporter (upstream lokiexporter): Loki push API, protobuf + snappy or JSON, streams per label set. */
import type { ExporterFactory } from '../../component.js';
import { lokiExporterConfigSchema, type LokiExporterConfig } from './config.js';
import { LokiExporter } from './loki-exporter.js';

export { lokiExporterConfigSchema, type LokiExporterConfig } from './config.js';
export { LokiExporter } from './loki-exporter.js';
export { convertToLokiPush, lokiConvertOptions, type LokiConvertOptions, type LokiPushRequest } from './convert.js';
export { encodePushRequest, encodePushRequestJson, PushRequestType, logprotoRoot } from './logproto.js';

export const lokiExporterFactory: ExporterFactory<LokiExporterConfig> = {
  kind: 'exporter',
  type: 'loki',
  stability: 'alpha',
  configSchema: lokiExporterConfigSchema,
  create: (settings, config) => new LokiExporter(settings, config),
};
