/**
 * Batching of traces and metrics, which Tributary carries as the OTLP protobuf requests that arrived:
 * whole requests are grouped (never split) until `send_batch_size` spans / data points are pending, the
 * next request would pass `send_batch_max_size`, or `timeout` passes; then they go downstream as one
 * batch (the exporter sends their concatenation: one valid request). Acknowledged once buffered, as
 * upstream; a refused batch is retried after the refusal's delay (dropped only when refused for good).
 */
import type { LogsBatch, LogsConsumer } from '../../component.js';
import { errorMessage, PermanentError, retryAfterOf, ThrottledError } from '../../errors.js';
import type { RateLimitedLog } from '../../telemetry/logger.js';
import type { BoundCounter, BoundHistogram } from '../../telemetry/metrics.js';

export interface OpaqueBatcherOptions {
  next: LogsConsumer;
  sendBatchSize: number;
  maxSize: number;
  timeoutMs: number;
  maxPending: number;
  /** Acknowledge only once the batch carrying the request was accepted downstream (persistent queues). */
  waitForResult: boolean;
  outgoing: BoundCounter;
  sendSize: BoundHistogram;
  dropped: BoundCounter;
  log: RateLimitedLog;
}

export class OpaqueBatcher {
  private requests: Uint8Array[] = [];
  private count = 0;
  private receivedAt = Number.POSITIVE_INFINITY;
  private metadata: LogsBatch['metadata'];
  /** wait_for_result: the callers whose requests are in the pending batch. */
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private signal: 'traces' | 'metrics' = 'traces';
  private timer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Promise<void>>();
  /** Spans / data points sent downstream but not yet accepted (counted against maxPending). */
  private unsettled = 0;
  private stopped = false;

  constructor(private readonly o: OpaqueBatcherOptions) {}

  consume(batch: LogsBatch): Promise<void> {
    const opaque = batch.opaque!;
    const n = batch.recordCount;
    if (this.stopped) {
      this.o.outgoing.add(n);
      return this.o.next.consume(batch);
    }
    if (this.count + this.unsettled + n > this.o.maxPending) {
      return Promise.reject(new ThrottledError(`batch processor: ${this.count + this.unsettled} ${opaque.signal} items pending (max_pending_records ${this.o.maxPending})`, { retryAfterMs: 1000 }));
    }
    if (this.count > 0 && (this.count + n > this.o.maxSize || opaque.signal !== this.signal)) this.flush();
    this.signal = opaque.signal;
    for (const r of opaque.requests) this.requests.push(r);
    this.count += n;
    if (batch.receivedAt < this.receivedAt) this.receivedAt = batch.receivedAt;
    this.metadata = this.requests.length === opaque.requests.length ? batch.metadata : undefined;
    const done = this.o.waitForResult
      ? new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
      : Promise.resolve();
    if (this.count >= this.o.sendBatchSize) this.flush();
    else this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.o.timeoutMs);
    return done;
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    const out: LogsBatch = {
      resourceLogs: [],
      recordCount: this.count,
      receivedAt: this.receivedAt,
      metadata: this.metadata,
      opaque: { signal: this.signal, requests: this.requests },
    };
    this.requests = [];
    this.count = 0;
    this.receivedAt = Number.POSITIVE_INFINITY;
    this.metadata = undefined;
    this.o.outgoing.add(out.recordCount);
    this.o.sendSize.observe(out.recordCount);
    if (this.o.waitForResult) {
      // The callers get the downstream answer (the sender retries), nothing is held here.
      const waiters = this.waiters;
      this.waiters = [];
      const p = this.o.next.consume(out).then(
        () => { for (const w of waiters) w.resolve(); },
        (err: unknown) => { for (const w of waiters) w.reject(err); },
      );
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
      return;
    }
    this.send(out);
  }

  private send(out: LogsBatch): void {
    this.unsettled += out.recordCount;
    const p = this.o.next.consume(out).then(
      () => {
        this.unsettled -= out.recordCount;
      },
      (err: unknown) => {
        this.unsettled -= out.recordCount;
        if (err instanceof PermanentError || this.stopped) {
          this.o.dropped.add(out.recordCount);
          this.o.log.warn('batch processor: downstream refused traces/metrics; dropped', { items: out.recordCount, error: errorMessage(err) });
          return;
        }
        // Not for good: try again after the refusal's delay (the receiver already acknowledged these).
        const retry = setTimeout(() => this.send(out), Math.max(100, retryAfterOf(err) ?? 1000));
        const waiting = new Promise<void>((resolve) => {
          retry.unref?.();
          this.retryWaiters.push({ timer: retry, out, resolve });
        });
        this.inflight.add(waiting);
        void waiting.finally(() => this.inflight.delete(waiting));
      },
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private retryWaiters: { timer: NodeJS.Timeout; out: LogsBatch; resolve: () => void }[] = [];

  async shutdown(): Promise<void> {
    this.flush();
    this.stopped = true;
    // Pending retries get one last immediate try (downstream is still running).
    const waiters = this.retryWaiters.splice(0);
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve();
      this.send(w.out);
    }
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}
