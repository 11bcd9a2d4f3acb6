// Placeholder: replaced by the real component.
import { z } from 'zod';
import type { ExporterFactory } from '../../component.js';

export const otlpHttpExporterFactory: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'otlphttp',
  configSchema: z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
  create() {
    throw new Error('exporter otlphttp is not implemented yet');
  },
};
