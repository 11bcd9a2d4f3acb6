/**
 * What the exporter helper needs of a storage extension (`sending_queue.storage: file_storage`): a
 * persistent BatchQueue per exporter id. The `file_storage` extension implements it.
 */
import type { LogsBatch } from '../component.js';
import type { Logger } from '../telemetry/logger.js';
import type { BatchQueue } from './batch-queue.js';

export interface PersistentQueueOptions {
  /** Maximum number of batches held (`sending_queue.queue_size`). */
  capacity: number;
  /** When full, evict the oldest batch instead of refusing the new one. */
  dropOldest: boolean;
  /** Called with each batch evicted by drop_oldest (counted as dropped by the caller). */
  onDrop: (batch: LogsBatch) => void;
  logger: Logger;
}

export interface QueueStorage {
  /** Opens (or recovers) the queue of one exporter. Resolves once what survived the last run is readable. */
  openQueue(owner: string, options: PersistentQueueOptions): Promise<BatchQueue>;
}
