/** The `attributes` processor (upstream attributesprocessor): insert, update, upsert, delete, hash, extract, convert. */
import type { ProcessorFactory } from '../../component.js';
import { AttributesProcessor } from './attributes-processor.js';
import { attributesConfigSchema, type AttributesConfig } from './config.js';

export { attributesConfigSchema, type AttributesConfig } from './config.js';
export { AttributesProcessor } from './attributes-processor.js';
export { AttributeActions, actionSchema, type ActionConfig } from './actions.js';

export const attributesProcessorFactory: ProcessorFactory<AttributesConfig> = {
  kind: 'processor',
  type: 'attributes',
  stability: 'beta',
  configSchema: attributesConfigSchema,
  create: (settings, config, next) => new AttributesProcessor(settings, config, next),
};
