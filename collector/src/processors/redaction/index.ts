/** The `redaction` processor (upstream redactionprocessor): allow-list keys, mask blocked keys and values. */
import type { ProcessorFactory } from '../../component.js';
import { redactionConfigSchema, type RedactionConfig } from './config.js';
import { RedactionProcessor } from './redaction-processor.js';

export { redactionConfigSchema, type RedactionConfig, DEFAULT_BLOCKED_KEYS } from './config.js';
export { RedactionProcessor, MASKED_VALUES_METRIC, REMOVED_KEYS_METRIC } from './redaction-processor.js';
export { MASK, luhnValid } from './patterns.js';

export const redactionProcessorFactory: ProcessorFactory<RedactionConfig> = {
  kind: 'processor',
  type: 'redaction',
  stability: 'beta',
  configSchema: redactionConfigSchema,
  create: (settings, config, next) => new RedactionProcessor(settings, config, next),
};
