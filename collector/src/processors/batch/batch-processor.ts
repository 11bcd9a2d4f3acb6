/**
 * The `batch` processor: merges incoming batches into larger ones (by size or after `timeout`) and splits
 * at `send_batch_max_size`.
 *
 * Two acknowledgement modes:
 * - default (as upstream): `consume()` resolves once the records are in the batch, so senders are not
 *   held for `timeout`. A batch the downstream refuses (a full exporter queue, the memory limiter) is
 *   held, not dropped, and sent again after the refusal's Retry-After; while anything is held, or more
 *   than `max_pending_records` wait, new data is refused with ThrottledError (429), so back-pressure
 *   still reaches the senders and nothing acknowledged is lost while the process runs. A batch larger
 *   than `max_pending_records` on its own is taken when nothing is held (what is pending is sent on
 *   first): it could never fit, and an OTLP sender must not be told to retry it forever.
 * - `wait_for_result: true`: `consume()` resolves only once every downstream call that carried its
 *   records was accepted, and rejects with the downstream error otherwise (used in front of a persistent
 *   queue, so records are on disk before they are acknowledged).
 */
import type { ResourceLogs } from '@tributary/otlp';
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import { errorMessage, PermanentError, retryAfterOf, ThrottledError } from '../../errors.js';
import { RateLimitedLog, type Logger } from '../../telemetry/logger.js';
import type { BoundCounter, BoundHistogram } from '../../telemetry/metrics.js';
import type { BatchProcessorConfig } from './config.js';
import { OpaqueBatcher } from './opaque-batcher.js';
import { splitResourceLogs } from './split.js';
import { Metrics } from '../../telemetry/metric-names.js';

export const BATCH_SEND_SIZE_METRIC = Metrics.batchSendSize.name;
const SEND_SIZE_BUCKETS: readonly number[] = [10, 25, 50, 75, 100, 250, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 20000, 30000, 50000, 100000];

const NO_RECORDS: ResourceLogs[] = [];
/** Tries for held batches at shutdown before they are dropped (counted). */
const SHUTDOWN_ATTEMPTS = 5;
const NOOP = (): void => {};
const RESOLVED = Promise.resolve();

/** One consume() call: its records still waiting, its downstream calls in flight, and its promise. */
interface Contribution {
  rls: ResourceLogs[];
  remaining: number;
  inflight: number;
  failed: boolean;
  error: unknown;
  receivedAt: number;
  metadata: LogsBatch['metadata'];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class BatchProcessor implements Processor {
  readonly mutatesData = false;

  private readonly sendBatchSize: number;
  private readonly maxSize: number;
  private readonly timeoutMs: number;
  /** FIFO of contributions with records still pending; `head` is the first live one. */
  private queue: Contribution[] = [];
  private head = 0;
  private pendingRecords = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private stopped = false;
  /** Acknowledge only after downstream accepted (true), or once buffered (false). */
  private readonly waitForResult: boolean;
  private readonly maxPending: number;
  /** Batches the downstream refused (early-ack mode): sent again after `holdDelayMs`. */
  private held: LogsBatch[] = [];
  private heldRecords = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  private holdDelayMs = 1000;
  private readonly refused: BoundCounter;
  private readonly dropped: BoundCounter;
  private readonly log: RateLimitedLog;
  private readonly logger: Logger;

  private readonly incoming: BoundCounter;
  private readonly outgoing: BoundCounter;
  private readonly sendSize: BoundHistogram;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flushAll();
  };

  constructor(settings: CreateSettings, config: BatchProcessorConfig, private readonly next: LogsConsumer) {
    // timeout 0 or size 0 means "no waiting": every arrival is sent at once (upstream semantics).
    this.sendBatchSize = config.timeout === 0 ? 0 : config.send_batch_size;
    this.maxSize = config.send_batch_max_size > 0 ? config.send_batch_max_size : Number.POSITIVE_INFINITY;
    this.timeoutMs = config.timeout;
    const labels = { processor: settings.id.id };
    const t = settings.telemetry;
    this.incoming = t.counter(Metrics.processorIncoming).bind(labels);
    this.outgoing = t.counter(Metrics.processorOutgoing).bind(labels);
    this.sendSize = t.histogram(Metrics.batchSendSize, SEND_SIZE_BUCKETS).bind(labels);
    this.refused = t.counter(Metrics.processorRefused).bind({ ...labels, reason: 'downstream_refused' });
    this.dropped = t.counter(Metrics.processorDropped).bind({ ...labels, reason: 'downstream_permanent' });
    this.waitForResult = config.wait_for_result;
    const unit = Math.max(config.send_batch_size, config.send_batch_max_size, 1024);
    this.maxPending = config.max_pending_records > 0 ? config.max_pending_records : 4 * unit;
    this.logger = settings.logger;
    this.log = new RateLimitedLog(settings.logger);
  }

  async start(): Promise<void> {}

  private opaque: OpaqueBatcher | undefined;

  consume(batch: LogsBatch): Promise<void> {
    // recordCount is kept in step by whoever changes the tree (component.ts): no need to walk it again.
    const n = batch.recordCount;
    this.incoming.add(n);
    if (n === 0) return Promise.resolve();
    if (batch.opaque !== undefined) {
      this.opaque ??= new OpaqueBatcher({
        next: this.next, sendBatchSize: this.sendBatchSize, maxSize: this.maxSize, timeoutMs: this.timeoutMs, maxPending: this.maxPending, waitForResult: this.waitForResult,
        outgoing: this.outgoing, sendSize: this.sendSize, dropped: this.dropped, log: this.log,
      });
      return this.opaque.consume(batch);
    }
    if (this.stopped) {
      // After shutdown nothing may wait in here: pass straight through.
      this.outgoing.add(n);
      this.sendSize.observe(n);
      return this.next.consume(batch);
    }
    let resolve: () => void = NOOP;
    let reject: (err: unknown) => void = NOOP;
    let done = RESOLVED;
    if (this.waitForResult) {
      done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
    } else if (this.held.length === 0 && n > this.maxPending) {
      // Larger than the limit on its own: it could never fit, so refusing would mean "retry forever".
      // Send on what is pending first, so nothing else is, and take it (it is passed on at once).
      this.flushAll();
    } else if (this.held.length > 0 || this.pendingRecords + this.heldRecords + n > this.maxPending) {
      this.refused.add(n);
      return Promise.reject(new ThrottledError(
        this.held.length > 0
          ? `batch processor: downstream refused ${this.heldRecords} records; holding them and refusing new data`
          : `batch processor: ${this.pendingRecords} records pending (max_pending_records ${this.maxPending})`,
        { retryAfterMs: this.holdDelayMs },
      ));
    }
    this.queue.push({
      rls: batch.resourceLogs,
      remaining: n,
      inflight: 0,
      failed: false,
      error: undefined,
      receivedAt: batch.receivedAt,
      metadata: batch.metadata,
      resolve,
      reject,
    });
    this.pendingRecords += n;
    if (this.pendingRecords >= this.sendBatchSize) this.flushBySize();
    else if (this.timer === undefined) this.timer = setTimeout(this.onTimer, this.timeoutMs);
    return done;
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.flushAll();
    await this.opaque?.shutdown();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    // Downstream is still running at this point (exporters stop after processors): one last try.
    if (this.held.length > 0) {
      if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
      let held = this.held;
      this.held = [];
      this.heldRecords = 0;
      // A full exporter queue drains while we wait (exporters stop after processors, and on a reload the
      // old ones keep sending): try a few times, after each refusal's Retry-After, before dropping.
      for (let attempt = 1; held.length > 0; attempt++) {
        const batches = held;
        const results = await Promise.allSettled(batches.map((b) => this.next.consume(b)));
        held = [];
        let wait = 100;
        results.forEach((r, i) => {
          if (r.status === 'fulfilled') return;
          const b = batches[i]!;
          if (attempt < SHUTDOWN_ATTEMPTS && !(r.reason instanceof PermanentError)) {
            held.push(b);
            wait = Math.max(wait, Math.min(2000, retryAfterOf(r.reason) ?? 500));
            return;
          }
          this.dropped.add(b.recordCount);
          this.logger.error('batch processor: downstream refused held records at shutdown; dropped', { records: b.recordCount, error: errorMessage(r.reason) });
        });
        if (held.length > 0) await new Promise((res) => setTimeout(res, wait));
      }
    }
  }

  /** Early-ack mode: keep a refused batch and send it again after the refusal's Retry-After. */
  private hold(out: LogsBatch, err: unknown): void {
    if (err instanceof PermanentError) {
      this.dropped.add(out.recordCount);
      this.log.warn('batch processor: downstream refused records permanently; dropped', { records: out.recordCount, error: errorMessage(err) });
      return;
    }
    this.held.push(out);
    this.heldRecords += out.recordCount;
    this.holdDelayMs = Math.max(100, retryAfterOf(err) ?? Math.max(this.timeoutMs, 1000));
    this.log.warn('batch processor: downstream refused a batch; holding it and pushing back on senders', { records: out.recordCount, retry_in_ms: this.holdDelayMs, error: errorMessage(err) });
    if (this.holdTimer === undefined && !this.stopped) this.holdTimer = setTimeout(this.releaseHeld, this.holdDelayMs);
  }

  private readonly releaseHeld = (): void => {
    this.holdTimer = undefined;
    const held = this.held;
    this.held = [];
    this.heldRecords = 0;
    for (const out of held) this.track(out, undefined);
  };

  /** Sends `out` downstream and settles its contributors (wait mode) or holds it on refusal (early mode). */
  private track(out: LogsBatch, contributors: Contribution[] | undefined): void {
    let sent: Promise<void>;
    try {
      sent = this.next.consume(out);
    } catch (err) {
      sent = Promise.reject(err);
    }
    const settled = sent.then(
      () => { if (contributors) this.settle(contributors, false, undefined); },
      (err: unknown) => {
        if (this.waitForResult && contributors) this.settle(contributors, true, err);
        else {
          if (contributors) this.settle(contributors, false, undefined);
          this.hold(out, err);
        }
      },
    );
    this.inflight.add(settled);
    void settled.finally(() => this.inflight.delete(settled));
  }

  /** Upstream: send full batches while at least send_batch_size are pending; the rest waits for the timer. */
  private flushBySize(): void {
    this.clearTimer();
    while (this.pendingRecords > 0 && this.pendingRecords >= this.sendBatchSize) this.dispatchNext();
    if (this.pendingRecords > 0) this.timer = setTimeout(this.onTimer, this.timeoutMs);
  }

  private flushAll(): void {
    this.clearTimer();
    while (this.pendingRecords > 0) this.dispatchNext();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Cuts up to send_batch_max_size records off the front of the queue and sends them downstream. */
  private dispatchNext(): void {
    let rls: ResourceLogs[] | undefined;
    const contributors: Contribution[] = [];
    let count = 0;
    let receivedAt = Number.POSITIVE_INFINITY;
    // dequeueHead may swap this.queue for a compacted array: always read it afresh.
    while (this.head < this.queue.length && count < this.maxSize) {
      const c = this.queue[this.head]!;
      if (c.failed) {
        // A downstream call with part of these records failed; the sender will retry all of them.
        this.pendingRecords -= c.remaining;
        this.dequeueHead(c);
        if (c.inflight === 0) c.reject(c.error);
        continue;
      }
      const room = this.maxSize - count;
      let part: ResourceLogs[];
      if (c.remaining <= room) {
        part = c.rls;
        count += c.remaining;
        this.pendingRecords -= c.remaining;
        this.dequeueHead(c);
      } else {
        const [h, t] = splitResourceLogs(c.rls, room);
        part = h;
        c.rls = t;
        c.remaining -= room;
        count += room;
        this.pendingRecords -= room;
      }
      // Concatenating the first part avoids a copy when a batch is sent on its own.
      rls = rls === undefined ? part : rls.concat(part);
      c.inflight++;
      contributors.push(c);
      if (c.receivedAt < receivedAt) receivedAt = c.receivedAt;
    }
    if (rls === undefined || count === 0) return;
    const out: LogsBatch = {
      resourceLogs: rls,
      recordCount: count,
      receivedAt,
      metadata: contributors.length === 1 ? contributors[0]!.metadata : undefined,
    };
    this.outgoing.add(count);
    this.sendSize.observe(count);
    this.track(out, contributors);
  }

  private dequeueHead(c: Contribution): void {
    c.rls = NO_RECORDS;
    c.remaining = 0;
    this.head++;
    // Compact now and then so the array does not grow without bound.
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private settle(contributors: Contribution[], failed: boolean, err: unknown): void {
    for (let i = 0; i < contributors.length; i++) {
      const c = contributors[i]!;
      c.inflight--;
      if (failed && !c.failed) {
        c.failed = true;
        c.error = err;
        // Its records still waiting would only be sent twice once the sender retries: drop them now.
        // A partly sent contribution is always at the head of the queue.
        if (c.remaining > 0 && this.queue[this.head] === c) {
          this.pendingRecords -= c.remaining;
          this.dequeueHead(c);
          if (this.pendingRecords === 0) this.clearTimer();
        }
      }
      if (c.remaining === 0 && c.inflight === 0) {
        if (c.failed) c.reject(c.error);
        else c.resolve();
      }
    }
  }
}
