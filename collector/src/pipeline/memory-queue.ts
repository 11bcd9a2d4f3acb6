/**
 * The in-memory exporter queue: a ring buffer bounded by batch count (`sending_queue.queue_size`), O(1)
 * offer and take, optional drop-oldest eviction. Waiting consumers are handed batches directly.
 */
import { compactWireRecords } from '@tributary/otlp';
import type { LogsBatch } from '../component.js';
import type { BatchQueue, QueuedBatch } from './batch-queue.js';

export interface MemoryBatchQueueOptions {
  /** Maximum number of batches held. */
  capacity: number;
  /** When full, evict the oldest batch instead of refusing the new one. */
  dropOldest?: boolean;
  /** Called with each batch evicted by drop_oldest (the caller counts it as dropped). */
  onDrop?: (batch: LogsBatch) => void;
}

type Waiter = (item: QueuedBatch | undefined) => void;

export class MemoryBatchQueue implements BatchQueue {
  readonly capacity: number;
  private readonly ring: (QueuedBatch | undefined)[];
  private head = 0;
  private count = 0;
  private recordCount = 0;
  private closed = false;
  // At most num_consumers waiters exist, so a plain array is fine here.
  private readonly waiters: Waiter[] = [];
  private readonly dropOldest: boolean;
  private readonly onDrop: ((batch: LogsBatch) => void) | undefined;

  constructor(options: MemoryBatchQueueOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new Error(`memory queue: capacity must be a positive integer, got ${options.capacity}`);
    }
    this.capacity = options.capacity;
    this.ring = new Array<QueuedBatch | undefined>(options.capacity);
    this.dropOldest = options.dropOldest ?? false;
    this.onDrop = options.onDrop;
  }

  get size(): number {
    return this.count;
  }

  get records(): number {
    return this.recordCount;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  offer(batch: LogsBatch): Promise<boolean> {
    return Promise.resolve(this.offerSync(batch));
  }

  /** Synchronous offer (the memory queue never waits). */
  offerSync(batch: LogsBatch): boolean {
    if (this.closed) return false;
    const item: QueuedBatch = { batch };
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter(item);
      return true;
    }
    if (this.count === this.capacity) {
      if (!this.dropOldest) return false;
      const evicted = this.pop()!;
      this.onDrop?.(evicted.batch);
    }
    // Waiting in the queue: don't hold whole requests for the few records of each that are left.
    compactWireRecords(batch.resourceLogs);
    this.ring[(this.head + this.count) % this.capacity] = item;
    this.count++;
    this.recordCount += batch.recordCount;
    return true;
  }

  take(): Promise<QueuedBatch | undefined> {
    const item = this.pop();
    if (item !== undefined || this.closed) return Promise.resolve(item);
    return new Promise<QueuedBatch | undefined>((resolve) => this.waiters.push(resolve));
  }

  /** Removes and returns the oldest batch without waiting. */
  poll(): QueuedBatch | undefined {
    return this.pop();
  }

  ack(_item: QueuedBatch): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    // Waiters exist only while the queue is empty: release them all.
    const waiting = this.waiters.splice(0);
    for (const w of waiting) w(undefined);
    return Promise.resolve();
  }

  private pop(): QueuedBatch | undefined {
    if (this.count === 0) return undefined;
    const item = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    this.recordCount -= item.batch.recordCount;
    return item;
  }
}
