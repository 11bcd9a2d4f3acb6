/**
 * The queue part of the exporter helper's sender chain (`sending_queue`): a bounded queue drained by
 * `num_consumers` workers through the retry sender, or — with the queue disabled — the caller waits for
 * the send. Back-pressure when full (ThrottledError with Retry-After) unless `drop_oldest`. A persistent
 * queue (`storage`) keeps what was not acknowledged for the next start.
 */
import type { CreateSettings, Host, LogsBatch } from '../../component.js';
import { errorMessage, PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { Metrics } from '../../telemetry/metric-names.js';
import type { BatchQueue, QueuedBatch } from '../batch-queue.js';
import type { QueueStorage } from '../disk-queue-storage.js';
import type { SendingQueueConfig } from '../exporter-helper-config.js';
import { MemoryBatchQueue } from '../memory-queue.js';
import type { ExporterAccounting } from './accounting.js';
import type { RetrySender } from './retry-sender.js';

/** The Retry-After suggested to clients when the queue is full. */
export const QUEUE_FULL_RETRY_AFTER_MS = 1000;

/** True for a queue whose unacknowledged batches survive a restart (the disk queue). */
export function isPersistent(q: BatchQueue | undefined): boolean {
  return q !== undefined && (q as { readonly persistent?: boolean }).persistent === true;
}

export class QueueSender {
  private queue: BatchQueue | undefined;
  /** Records taken from the queue and not yet acknowledged (being sent or retried). */
  private inFlightRecordCount = 0;
  /** Records taken from a persistent queue and left there unacknowledged at shutdown (still queued, on disk). */
  private keptOnDisk = 0;
  /** Synchronous (queue disabled) sends in progress, awaited by drain(). */
  private readonly syncSends = new Set<Promise<unknown>>();
  private workers: Promise<void>[] = [];
  private readonly logger: CreateSettings['logger'];

  constructor(
    settings: CreateSettings,
    private readonly config: SendingQueueConfig,
    private readonly next: RetrySender,
    private readonly accounting: ExporterAccounting,
    /** Aborted when the exporter gives up on everything (shutdown timeout). */
    private readonly signal: AbortSignal,
    queue: BatchQueue | undefined,
  ) {
    this.logger = settings.logger;
    if (!config.enabled) return;
    // A persistent queue (sending_queue.storage) is opened in start(), when the host's extensions exist.
    if (queue) this.queue = queue;
    else if (config.storage === undefined) this.queue = this.memoryQueue();
    const t = settings.telemetry;
    const labels = { exporter: settings.id.id };
    t.gauge(Metrics.exporterQueueSize).track(labels, () => this.queue?.size ?? 0);
    t.gauge(Metrics.exporterQueueCapacity).track(labels, () => this.capacity);
    t.gauge(Metrics.exporterQueueRecords).track(labels, () => this.queuedRecords);
    t.gauge(Metrics.exporterInFlight).track(labels, () => this.inFlightRecordCount);
  }

  private memoryQueue(): BatchQueue {
    return new MemoryBatchQueue({
      capacity: this.config.queue_size,
      dropOldest: this.config.drop_oldest,
      onDrop: (b) => this.accounting.drop(b, 'queue_full', undefined),
    });
  }

  get size(): number {
    return this.queue?.size ?? 0;
  }

  get queuedRecords(): number {
    return (this.queue?.records ?? 0) + this.keptOnDisk;
  }

  get capacity(): number {
    return this.queue?.capacity ?? (this.config.enabled ? this.config.queue_size : 0);
  }

  get inFlightRecords(): number {
    return this.inFlightRecordCount;
  }

  get persistent(): boolean {
    return isPersistent(this.queue);
  }

  /** Opens a persistent queue when configured; then `startWorkers()`. */
  async open(host: Host): Promise<void> {
    if (this.config.enabled && this.queue === undefined) this.queue = await this.openPersistentQueue(host);
  }

  startWorkers(): void {
    const queue = this.queue;
    if (queue) for (let i = 0; i < this.config.num_consumers; i++) this.workers.push(this.work(queue));
  }

  /** Opens the queue from the storage extension named by `sending_queue.storage`. */
  private async openPersistentQueue(host: Host): Promise<BatchQueue> {
    const storageId = this.config.storage ?? '';
    const ext = host.getExtension(storageId) as Partial<QueueStorage> | undefined;
    if (ext === undefined) {
      throw new Error(`sending_queue.storage: extension "${storageId}" is not configured in service.extensions`);
    }
    if (typeof ext.openQueue !== 'function') throw new Error(`sending_queue.storage: extension "${storageId}" is not a storage extension`);
    return ext.openQueue(this.accounting.id, {
      capacity: this.config.queue_size,
      dropOldest: this.config.drop_oldest,
      onDrop: (b) => this.accounting.drop(b, 'queue_full', undefined),
      logger: this.logger,
    });
  }

  consume(batch: LogsBatch): Promise<void> {
    return this.queue ? this.enqueue(this.queue, batch) : this.sendNow(batch);
  }

  /** Stops taking new batches from outside; the workers drain what is queued. */
  async close(): Promise<void> {
    await this.queue?.close();
  }

  /** Waits for the workers and the synchronous sends, then releases a persistent queue. */
  async drain(): Promise<void> {
    await Promise.all(this.workers);
    await Promise.all(this.syncSends);
    await (this.queue as { release?: () => Promise<void> } | undefined)?.release?.();
  }

  private async enqueue(queue: BatchQueue, batch: LogsBatch): Promise<void> {
    if (await queue.offer(batch)) {
      this.accounting.enqueued(batch.recordCount);
      return;
    }
    this.accounting.enqueueFailed(batch.recordCount);
    throw new ThrottledError(`exporter ${this.accounting.id}: sending queue is full (${queue.capacity} batches)`, {
      retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS,
    });
  }

  private async sendNow(batch: LogsBatch): Promise<void> {
    const id = this.accounting.id;
    this.accounting.enqueued(batch.recordCount);
    const p = this.next.send(batch, false);
    this.syncSends.add(p);
    try {
      const [outcome, err] = await p;
      switch (outcome) {
        case 'sent':
          return;
        case 'permanent':
          if (err instanceof PermanentError) throw err;
          if (err instanceof PartialSendError) {
            throw new PermanentError(`exporter ${id}: ${err.message}`, { rejected: err.rejected?.recordCount, cause: err });
          }
          throw new PermanentError(`exporter ${id}: ${errorMessage(err)}`, { cause: err });
        case 'shutdown':
          throw new RetryableError(`exporter ${id}: shutting down`, { cause: err });
        default:
          throw err instanceof RetryableError || err instanceof ThrottledError
            ? err
            : new RetryableError(`exporter ${id}: ${errorMessage(err)}`, { cause: err });
      }
    } finally {
      this.syncSends.delete(p);
    }
  }

  private async work(queue: BatchQueue): Promise<void> {
    const signal = this.signal;
    const persistent = isPersistent(queue);
    for (;;) {
      // Aborted with a disk queue: what is left stays on disk; no point reading it back.
      if (persistent && signal.aborted) return;
      const item: QueuedBatch | undefined = await queue.take();
      if (item === undefined) return;
      const n = item.batch.recordCount;
      this.inFlightRecordCount += n;
      let outcome: string;
      if (signal.aborted) {
        outcome = 'shutdown';
        if (!persistent) await this.accounting.giveUp(item.batch, 'shutdown', signal.reason);
      } else {
        [outcome] = await this.next.send(item.batch, persistent);
      }
      this.inFlightRecordCount -= n;
      // Interrupted by shutdown with a disk queue: leave the batch on disk, it is sent after the restart.
      if (outcome === 'shutdown' && persistent) {
        this.keptOnDisk += n;
        continue;
      }
      try {
        await queue.ack(item);
      } catch (err) {
        this.accounting.warn('ack_failed', 'exporter queue ack failed', { exporter: this.accounting.id, error: errorMessage(err) });
      }
    }
  }
}
