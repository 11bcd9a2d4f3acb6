/** The `filter` processor (upstream filterprocessor, logs): drops records by OTTL conditions or match properties. */
import type { ProcessorFactory } from '../../component.js';
import { filterProcessorConfigSchema, type FilterProcessorConfig } from './config.js';
import { FilterProcessor } from './filter-processor.js';

export { filterProcessorConfigSchema, matchPropertiesSchema, type FilterProcessorConfig, type MatchProperties } from './config.js';
export { FilterProcessor, compileFilter, removeMatching } from './filter-processor.js';
export { compileMatchProperties } from './match-properties.js';

export const filterProcessorFactory: ProcessorFactory<FilterProcessorConfig> = {
  kind: 'processor',
  type: 'filter',
  stability: 'beta',
  configSchema: filterProcessorConfigSchema,
  create: (settings, config, next) => new FilterProcessor(settings, config, next),
};
