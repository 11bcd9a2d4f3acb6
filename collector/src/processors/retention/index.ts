/** The `retention` processor: tags records with `retention.class` / `retention.days` from ordered policies. */
import type { ProcessorFactory } from '../../component.js';
import { retentionProcessorConfigSchema, type RetentionProcessorConfig } from './config.js';
import { RetentionProcessor } from './retention-processor.js';

export { retentionProcessorConfigSchema, retentionPolicySchema, BUILTIN_POLICIES, type RetentionProcessorConfig, type RetentionPolicy } from './config.js';
export {
  RetentionProcessor,
  compilePolicy,
  retentionClasses,
  RETENTION_CLASS_ATTRIBUTE,
  RETENTION_DAYS_ATTRIBUTE,
  RETENTION_TAGGED_METRIC,
  type RetentionClass,
} from './retention-processor.js';

export const retentionProcessorFactory: ProcessorFactory<RetentionProcessorConfig> = {
  kind: 'processor',
  type: 'retention',
  stability: 'beta',
  configSchema: retentionProcessorConfigSchema,
  create: (settings, config, next) => new RetentionProcessor(settings, config, next),
};
