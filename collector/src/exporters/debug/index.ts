// Placeholder: replaced by the real component.
import { z } from 'zod';
import type { ExporterFactory } from '../../component.js';

export const debugExporterFactory: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'debug',
  configSchema: z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
  create() {
    throw new Error('exporter debug is not implemented yet');
  },
};
