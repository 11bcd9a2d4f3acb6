/** The `batch` processor (upstream batchprocessor): groups records into larger batches by size or time. */
import type { ProcessorFactory } from '../../component.js';
import { BatchProcessor } from './batch-processor.js';
import { MetadataBatchProcessor } from './metadata-batcher.js';
import { batchProcessorConfigSchema, type BatchProcessorConfig } from './config.js';

export { batchProcessorConfigSchema, type BatchProcessorConfig } from './config.js';
export { BatchProcessor, BATCH_SEND_SIZE_METRIC } from './batch-processor.js';
export { splitResourceLogs } from './split.js';

export const batchProcessorFactory: ProcessorFactory<BatchProcessorConfig> = {
  kind: 'processor',
  type: 'batch',
  stability: 'stable',
  configSchema: batchProcessorConfigSchema,
  create: (settings, config, next) =>
    config.metadata_keys?.length ? new MetadataBatchProcessor(settings, config, next) : new BatchProcessor(settings, config, next),
};
