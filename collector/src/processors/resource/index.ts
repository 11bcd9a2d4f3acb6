/** The `resource` processor (upstream resourceprocessor): insert, update, upsert, delete, hash, extract, convert on resource attributes. */
import type { ProcessorFactory } from '../../component.js';
import { resourceConfigSchema, type ResourceConfig } from './config.js';
import { ResourceProcessor } from './resource-processor.js';

export { resourceConfigSchema, type ResourceConfig } from './config.js';
export { ResourceProcessor } from './resource-processor.js';

export const resourceProcessorFactory: ProcessorFactory<ResourceConfig> = {
  kind: 'processor',
  type: 'resource',
  stability: 'beta',
  configSchema: resourceConfigSchema,
  create: (settings, config, next) => new ResourceProcessor(settings, config, next),
};
