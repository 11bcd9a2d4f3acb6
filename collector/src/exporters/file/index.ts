// Placeholder: replaced by the real component.
import { z } from 'zod';
import type { ExporterFactory } from '../../component.js';

export const fileExporterFactory: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'file',
  configSchema: z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
  create() {
    throw new Error('exporter file is not implemented yet');
  },
};
