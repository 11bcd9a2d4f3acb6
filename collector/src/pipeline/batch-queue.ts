/**
 * The exporter queue interface. The in-memory queue implements it here; a disk-backed one
 * implements the same contract so the exporter helper does not change.
 */
import type { LogsBatch } from '../component.js';

export interface QueuedBatch {
  batch: LogsBatch;
  /** Opaque handle the queue uses to delete the item once `ack` is called (disk queues). */
  readonly ackToken?: unknown;
}

export interface BatchQueue {
  /** Adds a batch. Returns false when full (caller refuses with back-pressure), unless drop_oldest evicts. */
  offer(batch: LogsBatch): Promise<boolean>;
  /** Waits for the next batch; resolves undefined once closed and empty. */
  take(): Promise<QueuedBatch | undefined>;
  /** The batch has been sent or given up on; a persistent queue deletes it now. */
  ack(item: QueuedBatch): Promise<void>;
  /** Batches currently queued (not counting those handed out by take()). */
  readonly size: number;
  /** Records currently queued. */
  readonly records: number;
  readonly capacity: number;
  /** Stop accepting; take() keeps returning what is left, then undefined. */
  close(): Promise<void>;
}
