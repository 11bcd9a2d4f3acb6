// Placeholder: replaced by the real component.
import { z } from 'zod';
import type { ReceiverFactory } from '../../component.js';

export const otlpReceiverFactory: ReceiverFactory<Record<string, never>> = {
  kind: 'receiver',
  type: 'otlp',
  configSchema: z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
  create() {
    throw new Error('receiver otlp is not implemented yet');
  },
};
