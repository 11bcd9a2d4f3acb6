/** The `probabilistic_sampler` processor (upstream probabilisticsamplerprocessor): hash-based, trace-consistent sampling. */
import type { ProcessorFactory } from '../../component.js';
import { probabilisticSamplerConfigSchema, type ProbabilisticSamplerConfig } from './config.js';
import { ProbabilisticSamplerProcessor } from './sampler-processor.js';

export { probabilisticSamplerConfigSchema, type ProbabilisticSamplerConfig } from './config.js';
export { ProbabilisticSamplerProcessor, thresholdFor } from './sampler-processor.js';

export const probabilisticSamplerProcessorFactory: ProcessorFactory<ProbabilisticSamplerConfig> = {
  kind: 'processor',
  type: 'probabilistic_sampler',
  stability: 'beta',
  configSchema: probabilisticSamplerConfigSchema,
  create: (settings, config, next) => new ProbabilisticSamplerProcessor(settings, config, next),
};
