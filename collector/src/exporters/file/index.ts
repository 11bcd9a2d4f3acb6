/** `file` exporter (upstream fileexporter): OTLP/JSON lines in a local file, with rotation. */
import { z } from 'zod';
import type { ExporterFactory } from '../../component.js';
import { duration } from '../../config/schema-helpers.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';
import { FileExporter } from './file-exporter.js';

export { FileExporter } from './file-exporter.js';
export type { FileExporterOptions } from './file-exporter.js';
export { FileWriteError, RotatingFileWriter } from './rotating-writer.js';
export type { RotatingWriterOptions } from './rotating-writer.js';

/** Upstream `rotation` (lumberjack); present = rotation on, with these defaults. */
export const fileRotationSchema = z.strictObject({
  max_megabytes: z.number().positive().default(100),
  max_days: z.number().int().min(0).default(0),
  max_backups: z.number().int().min(0).default(100),
  localtime: z.boolean().default(false),
  /** Tributary addition: also rotate when the date changes. */
  daily: z.boolean().default(false),
});

export const fileExporterConfigSchema = z.strictObject({
  path: z.string().min(1),
  format: z.literal('json').default('json'),
  append: z.boolean().default(false),
  rotation: fileRotationSchema.optional(),
  /** Tributary addition: gzip rotated backups in the background. */
  compress: z.enum(['none', 'gzip']).default('none'),
  flush_interval: duration().prefault('1s'),
  ...exporterHelperShape,
  // No per-send timeout by default: a timed-out write still lands later, so retrying it would
  // duplicate lines; a stalled disk is better answered by back-pressure from the full queue.
  timeout: duration().prefault('0s'),
});

export type FileExporterConfig = z.output<typeof fileExporterConfigSchema>;

export const fileExporterFactory: ExporterFactory<FileExporterConfig> = {
  kind: 'exporter',
  type: 'file',
  stability: 'stable',
  configSchema: fileExporterConfigSchema,
  create(settings, config) {
    return new FileExporter(settings, config);
  },
};
