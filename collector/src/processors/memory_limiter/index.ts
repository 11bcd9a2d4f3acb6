// Placeholder: replaced by the real component.
import { z } from 'zod';
import type { ProcessorFactory } from '../../component.js';

export const memoryLimiterProcessorFactory: ProcessorFactory<Record<string, never>> = {
  kind: 'processor',
  type: 'memory_limiter',
  configSchema: z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
  create() {
    throw new Error('processor memory_limiter is not implemented yet');
  },
};
