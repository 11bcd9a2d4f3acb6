/** Config of the `attributes` processor: upstream attributesprocessor `actions` (include/exclude not supported). */
import { z } from 'zod';
import { actionSchema } from './actions.js';

export const attributesConfigSchema = z.strictObject({
  actions: z.array(actionSchema).min(1),
});

export type AttributesConfig = z.output<typeof attributesConfigSchema>;
