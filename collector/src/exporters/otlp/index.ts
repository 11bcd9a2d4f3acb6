// Placeholder: replaced by the real component.
import { z } from 'zod';
import type { ExporterFactory } from '../../component.js';

export const otlpExporterFactory: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'otlp',
  configSchema: z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
  create() {
    throw new Error('exporter otlp is not implemented yet');
  },
};
