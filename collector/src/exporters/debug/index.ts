/** `debug` exporter (upstream debugexporter): writes batches to stderr as text, for troubleshooting. */
import { z } from 'zod';
import type { ExporterFactory } from '../../component.js';
import { section } from '../../config/schema-helpers.js';
import { exporterHelperShape, sendingQueueSchema } from '../../pipeline/exporter-helper-config.js';
import { DebugSender } from './debug-sender.js';

export { DebugSender } from './debug-sender.js';
export type { DebugSenderOptions, Verbosity } from './debug-sender.js';
export { formatDetailed, formatNormal, formatSummary, typedValue } from './format.js';

export const debugExporterConfigSchema = z.strictObject({
  verbosity: z.enum(['basic', 'normal', 'detailed']).default('basic'),
  sampling_initial: z.number().int().min(0).default(2),
  sampling_thereafter: z.number().int().min(0).default(1),
  ...exporterHelperShape,
  // Upstream debug exporter sends synchronously by default (no queue).
  sending_queue: section({ ...sendingQueueSchema.unwrap().shape, enabled: z.boolean().default(false) }),
});

export type DebugExporterConfig = z.output<typeof debugExporterConfigSchema>;

export const debugExporterFactory: ExporterFactory<DebugExporterConfig> = {
  kind: 'exporter',
  type: 'debug',
  stability: 'stable',
  configSchema: debugExporterConfigSchema,
  create(settings, config) {
    return new DebugSender({
      name: settings.id.id,
      verbosity: config.verbosity,
      samplingInitial: config.sampling_initial,
      samplingThereafter: config.sampling_thereafter,
    });
  },
};
