/**
 * The exporter helper (the OpenTelemetry Collector's exporterhelper WithQueue/WithRetry/WithTimeout):
 * wraps an exporter's `LogsSender` with a bounded queue, `num_consumers` workers, retry with back-off
 * and a per-attempt timeout. It is the one place records wait and the one place that retries
 * (DESIGN.md "Data model and flow"). Each exporter id gets its own instance, so one slow destination
 * never stalls another.
 */
import { z } from 'zod';
import type { Component, CreateSettings, Host, LogsBatch, LogsConsumer, LogsSender } from '../component.js';
import { classifyError, errorMessage, PermanentError, RetryableError, retryAfterOf, ThrottledError } from '../errors.js';
import { RateLimitedLog } from '../telemetry/logger.js';
import { LATENCY_BUCKETS_SECONDS, MetricNames } from '../telemetry/metrics.js';
import type { BoundCounter, BoundHistogram } from '../telemetry/metrics.js';
import type { BatchQueue, QueuedBatch } from './batch-queue.js';
import { exporterHelperShape } from './exporter-helper-config.js';
import type { ExporterHelperConfig } from './exporter-helper-config.js';
import { MemoryBatchQueue } from './memory-queue.js';
import { abortableDelay, RetryPolicy, STOP } from './retry.js';

export { exporterHelperShape } from './exporter-helper-config.js';
export type { ExporterHelperConfig, RetryOnFailureConfig, SendingQueueConfig } from './exporter-helper-config.js';

/** The exporter helper keys alone, as a strict schema (exporters spread `exporterHelperShape` instead). */
export const exporterHelperConfigSchema = z.strictObject(exporterHelperShape);

/** The Retry-After suggested to clients when the queue is full. */
export const QUEUE_FULL_RETRY_AFTER_MS = 1000;

export type DropReason = 'permanent' | 'retries_exhausted' | 'shutdown' | 'queue_full';

export interface QueuedRetryExporterOptions {
  /** A queue to use instead of the in-memory one (e.g. a persistent queue). */
  queue?: BatchQueue;
  /** Monotonic clock in ms for max_elapsed_time; `performance.now` by default. */
  now?: () => number;
  /** Source of jitter in [0, 1); `Math.random` by default. */
  random?: () => number;
}

/** Outcome of sending one batch with retries. */
const enum Outcome {
  Sent,
  Permanent,
  Exhausted,
  Shutdown,
}

export class QueuedRetryExporter implements Component, LogsConsumer {
  private readonly id: string;
  private readonly queue: BatchQueue | undefined;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly numConsumers: number;
  private readonly now: () => number;
  private readonly log: RateLimitedLog;

  private readonly sent: BoundCounter;
  private readonly failedPermanent: BoundCounter;
  private readonly failedExhausted: BoundCounter;
  private readonly failedShutdown: BoundCounter;
  private readonly failedQueueFull: BoundCounter;
  private readonly enqueueFailed: BoundCounter;
  private readonly retries: BoundCounter;
  private readonly latency: BoundHistogram;

  private readonly abortController = new AbortController();
  /** Controllers of attempts in flight, aborted together by abort(). */
  private readonly inFlight = new Set<AbortController>();
  /** Synchronous (queue disabled) sends in progress, awaited by shutdown(). */
  private readonly syncSends = new Set<Promise<unknown>>();
  private workers: Promise<void>[] = [];
  private accepting = false;
  private stopping = false;
  private shutdownPromise: Promise<void> | undefined;
  private started = false;

  constructor(
    settings: CreateSettings,
    config: ExporterHelperConfig,
    private readonly sender: LogsSender,
    options: QueuedRetryExporterOptions = {},
  ) {
    this.id = settings.id.id;
    this.policy = new RetryPolicy(config.retry_on_failure, options.random);
    this.timeoutMs = config.timeout;
    this.numConsumers = config.sending_queue.num_consumers;
    this.now = options.now ?? (() => performance.now());
    this.log = new RateLimitedLog(settings.logger);

    const t = settings.telemetry;
    const labels = { exporter: this.id };
    this.sent = t.counter(MetricNames.exporterSent, 'Log records sent by the exporter.').bind(labels);
    const failed = t.counter(MetricNames.exporterSendFailed, 'Log records the exporter gave up on, by reason.');
    this.failedPermanent = failed.bind({ exporter: this.id, reason: 'permanent' });
    this.failedExhausted = failed.bind({ exporter: this.id, reason: 'retries_exhausted' });
    this.failedShutdown = failed.bind({ exporter: this.id, reason: 'shutdown' });
    this.failedQueueFull = failed.bind({ exporter: this.id, reason: 'queue_full' });
    this.enqueueFailed = t
      .counter(MetricNames.exporterEnqueueFailed, 'Log records refused because the sending queue was full.')
      .bind(labels);
    this.retries = t.counter(MetricNames.exporterRetries, 'Send attempts retried after a failure.').bind(labels);
    this.latency = t
      .histogram(MetricNames.exporterLatency, 'Seconds from receipt to successful export, per log record.', LATENCY_BUCKETS_SECONDS)
      .bind(labels);

    if (config.sending_queue.enabled) {
      this.queue =
        options.queue ??
        new MemoryBatchQueue({
          capacity: config.sending_queue.queue_size,
          dropOldest: config.sending_queue.drop_oldest,
          onDrop: (b) => this.drop(b, 'queue_full', undefined),
        });
      const q = this.queue;
      t.gauge(MetricNames.exporterQueueSize, 'Batches in the sending queue.').track(labels, () => q.size);
      t.gauge(MetricNames.exporterQueueCapacity, 'Capacity of the sending queue in batches.').track(labels, () => q.capacity);
      t.gauge(MetricNames.exporterQueueRecords, 'Log records in the sending queue.').track(labels, () => q.records);
    }
  }

  get queueSize(): number {
    return this.queue?.size ?? 0;
  }

  get queuedRecords(): number {
    return this.queue?.records ?? 0;
  }

  get queueCapacity(): number {
    return this.queue?.capacity ?? 0;
  }

  async start(host: Host): Promise<void> {
    if (this.started) throw new Error(`exporter ${this.id}: started twice`);
    this.started = true;
    await this.sender.start?.(host);
    this.accepting = true;
    if (this.queue) {
      for (let i = 0; i < this.numConsumers; i++) this.workers.push(this.work(this.queue));
    }
  }

  consume(batch: LogsBatch): Promise<void> {
    if (!this.accepting) {
      return Promise.reject(
        new RetryableError(`exporter ${this.id}: ${this.stopping ? 'shutting down' : 'not started'}`, {
          retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS,
        }),
      );
    }
    return this.queue ? this.enqueue(this.queue, batch) : this.sendNow(batch);
  }

  /** Stops accepting, drains the queue (retries continue), then shuts the sender down. Idempotent. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  /**
   * Gives up on everything still held: cancels attempts in flight and retry waits, counts what is left
   * as dropped (reason "shutdown") and lets shutdown() finish. Called when shutdown_timeout expires.
   */
  abort(reason = 'shutdown timeout expired'): void {
    if (this.abortController.signal.aborted) return;
    this.accepting = false;
    this.stopping = true;
    const err = new RetryableError(`exporter ${this.id}: aborted: ${reason}`);
    this.abortController.abort(err);
    for (const ac of this.inFlight) ac.abort(err);
    void this.queue?.close();
  }

  private async doShutdown(): Promise<void> {
    this.accepting = false;
    this.stopping = true;
    if (this.queue) await this.queue.close();
    await Promise.all(this.workers);
    await Promise.all(this.syncSends);
    await this.sender.shutdown?.();
  }

  private async enqueue(queue: BatchQueue, batch: LogsBatch): Promise<void> {
    if (await queue.offer(batch)) return;
    this.enqueueFailed.add(batch.recordCount);
    throw new ThrottledError(`exporter ${this.id}: sending queue is full (${queue.capacity} batches)`, {
      retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS,
    });
  }

  private async sendNow(batch: LogsBatch): Promise<void> {
    const p = this.sendWithRetry(batch);
    this.syncSends.add(p);
    try {
      const [outcome, err] = await p;
      switch (outcome) {
        case Outcome.Sent:
          return;
        case Outcome.Permanent:
          throw err instanceof PermanentError ? err : new PermanentError(`exporter ${this.id}: ${errorMessage(err)}`, { cause: err });
        case Outcome.Shutdown:
          throw new RetryableError(`exporter ${this.id}: shutting down`, { cause: err });
        default:
          throw err instanceof RetryableError || err instanceof ThrottledError
            ? err
            : new RetryableError(`exporter ${this.id}: ${errorMessage(err)}`, { cause: err });
      }
    } finally {
      this.syncSends.delete(p);
    }
  }

  private async work(queue: BatchQueue): Promise<void> {
    const signal = this.abortController.signal;
    for (;;) {
      const item: QueuedBatch | undefined = await queue.take();
      if (item === undefined) return;
      if (signal.aborted) this.drop(item.batch, 'shutdown', signal.reason);
      else await this.sendWithRetry(item.batch);
      try {
        await queue.ack(item);
      } catch (err) {
        this.log.warn('exporter queue ack failed', { exporter: this.id, error: errorMessage(err) });
      }
    }
  }

  /** Sends one batch, retrying as configured. Never throws: the outcome is counted and returned. */
  private async sendWithRetry(batch: LogsBatch): Promise<[Outcome, unknown]> {
    const signal = this.abortController.signal;
    const started = this.now();
    for (let retry = 0; ; retry++) {
      if (signal.aborted) return this.fail(batch, Outcome.Shutdown, signal.reason);
      try {
        await this.attempt(batch);
        this.sent.add(batch.recordCount);
        this.latency.observe((performance.now() - batch.receivedAt) / 1000, batch.recordCount);
        return [Outcome.Sent, undefined];
      } catch (err) {
        if (signal.aborted) return this.fail(batch, Outcome.Shutdown, err);
        if (classifyError(err) === 'permanent') {
          // A partial rejection: the records the destination did take count as sent.
          const rejected = (err as PermanentError).rejected;
          if (rejected !== undefined && rejected < batch.recordCount) this.sent.add(batch.recordCount - rejected);
          return this.fail(batch, Outcome.Permanent, err);
        }
        const wait = this.policy.nextDelay(retry, this.now() - started, retryAfterOf(err));
        if (wait === STOP) return this.fail(batch, Outcome.Exhausted, err);
        this.retries.add(1);
        if (!(await abortableDelay(wait, signal))) return this.fail(batch, Outcome.Shutdown, signal.reason);
      }
    }
  }

  /** One call to the sender, bounded by `timeout` and by abort(), even if the sender ignores its signal. */
  private attempt(batch: LogsBatch): Promise<void> {
    const ac = new AbortController();
    this.inFlight.add(ac);
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        ac.signal.removeEventListener('abort', onAbort);
        this.inFlight.delete(ac);
      };
      // Settle on abort even if the sender never does, and forget the attempt (no leak on hung sends).
      const onAbort = (): void => {
        done();
        reject(ac.signal.reason);
      };
      if (this.timeoutMs > 0) {
        timer = setTimeout(
          () => ac.abort(new RetryableError(`exporter ${this.id}: send timed out after ${this.timeoutMs}ms`)),
          this.timeoutMs,
        );
      }
      ac.signal.addEventListener('abort', onAbort, { once: true });
      let sending: Promise<void>;
      try {
        sending = this.sender.send(batch, ac.signal);
      } catch (err) {
        done();
        reject(err);
        return;
      }
      sending.then(
        () => {
          done();
          resolve();
        },
        (err: unknown) => {
          done();
          // A sender that rejects with the abort reason or its own AbortError: report the timeout/abort cause.
          reject(ac.signal.aborted ? ac.signal.reason : err);
        },
      );
    });
  }

  private fail(batch: LogsBatch, outcome: Outcome, err: unknown): [Outcome, unknown] {
    const reason: DropReason =
      outcome === Outcome.Permanent ? 'permanent' : outcome === Outcome.Shutdown ? 'shutdown' : 'retries_exhausted';
    this.drop(batch, reason, err);
    return [outcome, err];
  }

  private drop(batch: LogsBatch, reason: DropReason, err: unknown): void {
    const counter =
      reason === 'permanent'
        ? this.failedPermanent
        : reason === 'retries_exhausted'
          ? this.failedExhausted
          : reason === 'shutdown'
            ? this.failedShutdown
            : this.failedQueueFull;
    // A partial rejection counts only the refused records.
    const n = reason === 'permanent' && err instanceof PermanentError && err.rejected !== undefined ? err.rejected : batch.recordCount;
    counter.add(n);
    this.log.warn('exporter dropped log records', {
      exporter: this.id,
      reason,
      records: n,
      error: err === undefined ? undefined : errorMessage(err),
    });
  }
}
