import { join, resolve } from 'node:path';
import type { CreateSettings, Extension } from '../../component.js';
import type { BatchQueue } from '../../pipeline/batch-queue.js';
import { DiskBatchQueue } from '../../pipeline/disk-queue.js';
import type { PersistentQueueOptions, QueueStorage } from '../../pipeline/disk-queue-storage.js';
import type { FileStorageConfig } from './index.js';

export const QUEUE_CORRUPT_METRIC = 'tributary_exporter_queue_corrupt_records_total';
export const QUEUE_LOST_METRIC = 'tributary_exporter_queue_lost_log_records_total';
export const QUEUE_RECOVERED_METRIC = 'tributary_exporter_queue_recovered_log_records_total';

/** Exporter ids contain `/`; keep each queue in one flat, reversible directory name. */
export function queueDirName(owner: string): string {
  return encodeURIComponent(owner);
}

export class FileStorageExtension implements Extension, QueueStorage {
  private readonly queues = new Map<string, DiskBatchQueue>();

  constructor(private readonly settings: CreateSettings, private readonly config: FileStorageConfig) {}

  get directory(): string {
    return resolve(this.config.directory);
  }

  async start(): Promise<void> {
    // Directories are created per queue on open; nothing to hold here.
  }

  async openQueue(owner: string, options: PersistentQueueOptions): Promise<BatchQueue> {
    if (this.queues.has(owner)) throw new Error(`file_storage ${this.settings.id.id}: queue for ${owner} is already open`);
    const t = this.settings.telemetry;
    const labels = { exporter: owner };
    const q = await DiskBatchQueue.open({
      directory: join(this.directory, queueDirName(owner)),
      capacity: options.capacity,
      maxBytes: this.config.max_queue_bytes,
      segmentBytes: this.config.segment_size,
      fsync: this.config.fsync,
      compactOnStart: this.config.compaction.on_start,
      compactOnRebound: this.config.compaction.on_rebound,
      dropOldest: options.dropOldest,
      onDrop: options.onDrop,
      logger: options.logger,
      corruptRecords: t.counter(QUEUE_CORRUPT_METRIC, 'Damaged batches found in a disk queue (torn tail or bad checksum); their records are lost.').bind(labels),
      lostRecords: t.counter(QUEUE_LOST_METRIC, 'Log records lost to damage in a disk queue (exact where intact frames follow; at least, for a damaged tail).').bind(labels),
      recoveredRecords: t.counter(QUEUE_RECOVERED_METRIC, 'Log records found in a disk queue at start, left by a previous run.').bind(labels),
    });
    t.gauge('tributary_exporter_queue_bytes', 'Unacknowledged bytes in the disk queue.').track(labels, () => q.bytes);
    this.queues.set(owner, q);
    return q;
  }

  async shutdown(): Promise<void> {
    // Exporters release their queues when they stop (before extensions); this catches any left open.
    for (const q of this.queues.values()) await q.release();
    this.queues.clear();
  }
}
