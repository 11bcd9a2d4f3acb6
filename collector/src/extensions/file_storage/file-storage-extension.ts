import { join, resolve } from 'node:path';
import type { CreateSettings, Extension } from '../../component.js';
import type { BatchQueue } from '../../pipeline/batch-queue.js';
import { DiskBatchQueue } from '../../pipeline/disk-queue.js';
import type { PersistentQueueOptions, QueueStorage } from '../../pipeline/disk-queue-storage.js';
import type { FileStorageConfig } from './index.js';
import { Metrics } from '../../telemetry/metric-names.js';

export const QUEUE_CORRUPT_METRIC = Metrics.exporterQueueCorrupt.name;
export const QUEUE_LOST_METRIC = Metrics.exporterQueueLost.name;
export const QUEUE_RECOVERED_METRIC = Metrics.exporterQueueRecovered.name;

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

  /** Receivers' checkpoints (receivers/common/checkpoint-store.ts) follow the same `fsync` setting. */
  get fsyncWrites(): boolean {
    return this.config.fsync;
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
      corruptRecords: t.counter(Metrics.exporterQueueCorrupt).bind(labels),
      lostRecords: t.counter(Metrics.exporterQueueLost).bind(labels),
      recoveredRecords: t.counter(Metrics.exporterQueueRecovered).bind(labels),
    });
    t.gauge(Metrics.exporterQueueBytes).track(labels, () => q.bytes);
    this.queues.set(owner, q);
    return q;
  }

  async shutdown(): Promise<void> {
    // Exporters release their queues when they stop (before extensions); this catches any left open.
    for (const q of this.queues.values()) await q.release();
    this.queues.clear();
  }
}
