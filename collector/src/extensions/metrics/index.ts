// Placeholder: replaced by the real component.
import { z } from 'zod';
import type { ExtensionFactory } from '../../component.js';

export const metricsExtensionFactory: ExtensionFactory<Record<string, never>> = {
  kind: 'extension',
  type: 'metrics',
  configSchema: z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
  create() {
    throw new Error('extension metrics is not implemented yet');
  },
};
