/** The `nats` exporter: OTLP protobuf batches to NATS JetStream, counted sent after the publish ack. */
import type { ExporterFactory } from '../../component.js';
import { natsExporterConfigSchema, type NatsExporterConfig } from './config.js';
import { NatsExporter } from './nats-exporter.js';

export { natsExporterConfigSchema, type NatsExporterConfig } from './config.js';
export { NatsExporter, compileSubject, subjectFor, encodeMessages, msgIdOf } from './nats-exporter.js';

export const natsExporterFactory: ExporterFactory<NatsExporterConfig> = {
  kind: 'exporter',
  type: 'nats',
  configSchema: natsExporterConfigSchema,
  create: (settings, config) => new NatsExporter(settings, config),
};
