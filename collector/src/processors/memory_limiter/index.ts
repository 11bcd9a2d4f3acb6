/** The `memory_limiter` processor (upstream memorylimiterprocessor): refuses data while memory is too high. */
import type { ProcessorFactory } from '../../component.js';
import { memoryLimiterConfigSchema, type MemoryLimiterConfig } from './config.js';
import { MemoryLimiterProcessor } from './memory-limiter-processor.js';

export { memoryLimiterConfigSchema, type MemoryLimiterConfig } from './config.js';
export { liveMemory, MemoryLimiterProcessor, type MemoryLimiterOptions, type MemoryState } from './memory-limiter-processor.js';
export { computeLimits, parseCgroupLimit, totalMemoryBytes, type MemoryLimits } from './memory-limits.js';

export const memoryLimiterProcessorFactory: ProcessorFactory<MemoryLimiterConfig> = {
  kind: 'processor',
  type: 'memory_limiter',
  stability: 'stable',
  configSchema: memoryLimiterConfigSchema,
  create: (settings, config, next) => new MemoryLimiterProcessor(settings, config, next),
};
