/** Config of the `resource` processor: upstream resourceprocessor `attributes` (the same actions as the attributes processor). */
import { z } from 'zod';
import { actionSchema } from '../attributes/actions.js';

export const resourceConfigSchema = z.strictObject({
  attributes: z.array(actionSchema).min(1),
});

export type ResourceConfig = z.output<typeof resourceConfigSchema>;
