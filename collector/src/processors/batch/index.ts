// Placeholder: replaced by the real component.
import { z } from 'zod';
import type { ProcessorFactory } from '../../component.js';

export const batchProcessorFactory: ProcessorFactory<Record<string, never>> = {
  kind: 'processor',
  type: 'batch',
  configSchema: z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
  create() {
    throw new Error('processor batch is not implemented yet');
  },
};
