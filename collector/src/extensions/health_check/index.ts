// Placeholder: replaced by the real component.
import { z } from 'zod';
import type { ExtensionFactory } from '../../component.js';

export const healthCheckExtensionFactory: ExtensionFactory<Record<string, never>> = {
  kind: 'extension',
  type: 'health_check',
  configSchema: z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
  create() {
    throw new Error('extension health_check is not implemented yet');
  },
};
