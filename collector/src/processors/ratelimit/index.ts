/** The `ratelimit` processor (Tributary's own): token buckets keyed by attributes, in memory or shared in Redis. */
import type { ProcessorFactory } from '../../component.js';
import { rateLimitConfigSchema, type RateLimitConfig } from './config.js';
import { RateLimitProcessor } from './ratelimit-processor.js';

export { rateLimitConfigSchema, type RateLimitConfig } from './config.js';
export { RateLimitProcessor, STORE_ERRORS_METRIC } from './ratelimit-processor.js';
export { MemoryBucketStore, type BucketStore, type BucketRequest, type TakeResult } from './bucket-store.js';
export { RedisBucketStore } from './redis-store.js';

export const rateLimitProcessorFactory: ProcessorFactory<RateLimitConfig> = {
  kind: 'processor',
  type: 'ratelimit',
  stability: 'beta',
  configSchema: rateLimitConfigSchema,
  create: (settings, config, next) => new RateLimitProcessor(settings, config, next),
};
