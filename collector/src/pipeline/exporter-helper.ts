/**
 * The exporter helper (the OpenTelemetry Collector's exporterhelper WithQueue/WithRetry/WithTimeout):
 * wraps an exporter's `LogsSender` with a bounded queue, `num_consumers` workers, retry with back-off
 * and a per-attempt timeout. It is the one place records wait and the one place that retries
 * (DESIGN.md "Data model and flow"). Each exporter id gets its own instance, so one slow destination
 * never stalls another.
 */
import { z } from 'zod';
import type { Component, CreateSettings, Host, LogsBatch, LogsConsumer, LogsSender } from '../component.js';
import { classifyError, errorMessage, PartialSendError, PermanentError, RetryableError, retryAfterOf, ThrottledError } from '../errors.js';
import { RateLimitedLog, type LogFields } from '../telemetry/logger.js';
import { LATENCY_BUCKETS_SECONDS, MetricNames } from '../telemetry/metrics.js';
import type { BoundCounter, BoundHistogram } from '../telemetry/metrics.js';
import type { BatchQueue, QueuedBatch } from './batch-queue.js';
import { DeadLetterWriter } from './dead-letter.js';
import { ENQUEUED_METRIC } from './loss-accounting.js';
import type { QueueStorage } from './disk-queue-storage.js';
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

/** Records written to the exporter's dead-letter file instead of being dropped (label `reason`). */
export const DEAD_LETTERED_METRIC = 'tributary_exporter_dead_lettered_log_records_total';
/** Records whose dead-letter write failed (they are then counted as dropped too). */
export const DEAD_LETTER_FAILED_METRIC = 'tributary_exporter_dead_letter_failed_log_records_total';

export interface QueuedRetryExporterOptions {
  /** A queue to use instead of the in-memory one (e.g. a persistent queue). */
  queue?: BatchQueue;
  /** Monotonic clock in ms for max_elapsed_time; `performance.now` by default. */
  now?: () => number;
  /** Source of jitter in [0, 1); `Math.random` by default. */
  random?: () => number;
  /** A dead-letter writer to use instead of one opened from `dead_letter.path`. */
  deadLetter?: DeadLetterWriter;
}

/** Outcome of sending one batch with retries. */
const enum Outcome {
  Sent,
  Permanent,
  Exhausted,
  Shutdown,
}

/** True for a queue whose unacknowledged batches survive a restart (the disk queue). */
function isPersistent(q: BatchQueue | undefined): boolean {
  return q !== undefined && (q as { readonly persistent?: boolean }).persistent === true;
}

export class QueuedRetryExporter implements Component, LogsConsumer {
  private readonly id: string;
  private queue: BatchQueue | undefined;
  private readonly queueConfig: ExporterHelperConfig['sending_queue'];
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly numConsumers: number;
  private readonly now: () => number;
  private readonly logger: CreateSettings['logger'];
  /** One rate-limited log per reason, so one noisy reason never hides another. */
  private readonly logs = new Map<string, RateLimitedLog>();
  private readonly deadLetter: DeadLetterWriter | undefined;

  private readonly sent: BoundCounter;
  private readonly enqueued: BoundCounter;
  private readonly failedPermanent: BoundCounter;
  private readonly failedExhausted: BoundCounter;
  private readonly failedShutdown: BoundCounter;
  private readonly failedQueueFull: BoundCounter;
  private readonly enqueueFailed: BoundCounter;
  private readonly retries: BoundCounter;
  private readonly latency: BoundHistogram;
  private readonly deadLettered: Record<Exclude<DropReason, 'queue_full'>, BoundCounter>;
  private readonly deadLetterFailed: BoundCounter;

  private readonly abortController = new AbortController();
  /** Controllers of attempts in flight, aborted together by abort(). */
  private readonly inFlight = new Set<AbortController>();
  /** Records taken from the queue and not yet acknowledged (being sent or retried). */
  private inFlightRecordCount = 0;
  /** Records taken from a persistent queue and left there unacknowledged at shutdown (still queued, on disk). */
  private keptOnDisk = 0;
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
    private readonly options: QueuedRetryExporterOptions = {},
  ) {
    this.id = settings.id.id;
    this.policy = new RetryPolicy(config.retry_on_failure, options.random);
    this.timeoutMs = config.timeout;
    this.queueConfig = config.sending_queue;
    this.numConsumers = config.sending_queue.num_consumers;
    this.now = options.now ?? (() => performance.now());
    this.logger = settings.logger;
    const q = config.sending_queue;
    const noEffect = [
      q.sizer !== undefined && q.sizer !== 'requests' ? `sizer: ${q.sizer} (queue_size counts batches)` : '',
      q.wait_for_result !== undefined ? 'wait_for_result' : '',
      q.batch !== undefined ? 'batch (use the batch processor)' : '',
    ].filter(Boolean);
    if (noEffect.length) this.logger.warn(`sending_queue keys accepted without effect: ${noEffect.join(', ')}`);
    const dlPath = config.dead_letter?.path;
    this.deadLetter = options.deadLetter ?? (dlPath !== undefined ? new DeadLetterWriter(dlPath, this.id) : undefined);

    const t = settings.telemetry;
    const labels = { exporter: this.id };
    this.sent = t.counter(MetricNames.exporterSent, 'Log records sent by the exporter.').bind(labels);
    this.enqueued = t.counter(ENQUEUED_METRIC, 'Log records the exporter took (queued, or sent directly when the queue is off).').bind(labels);
    const failed = t.counter(MetricNames.exporterSendFailed, 'Log records the exporter gave up on, by reason.');
    this.failedPermanent = failed.bind({ exporter: this.id, reason: 'permanent' });
    this.failedExhausted = failed.bind({ exporter: this.id, reason: 'retries_exhausted' });
    this.failedShutdown = failed.bind({ exporter: this.id, reason: 'shutdown' });
    this.failedQueueFull = failed.bind({ exporter: this.id, reason: 'queue_full' });
    const dl = t.counter(DEAD_LETTERED_METRIC, 'Log records written to the dead-letter file, by reason.');
    this.deadLettered = {
      permanent: dl.bind({ exporter: this.id, reason: 'permanent' }),
      retries_exhausted: dl.bind({ exporter: this.id, reason: 'retries_exhausted' }),
      shutdown: dl.bind({ exporter: this.id, reason: 'shutdown' }),
    };
    this.deadLetterFailed = t
      .counter(DEAD_LETTER_FAILED_METRIC, 'Log records that could not be written to the dead-letter file (counted as dropped).')
      .bind(labels);
    this.enqueueFailed = t
      .counter(MetricNames.exporterEnqueueFailed, 'Log records refused because the sending queue was full.')
      .bind(labels);
    this.retries = t.counter(MetricNames.exporterRetries, 'Send attempts retried after a failure.').bind(labels);
    this.latency = t
      .histogram(MetricNames.exporterLatency, 'Seconds from receipt to successful export, per log record.', LATENCY_BUCKETS_SECONDS)
      .bind(labels);

    if (config.sending_queue.enabled) {
      // A persistent queue (sending_queue.storage) is opened in start(), when the host's extensions exist.
      if (options.queue) this.queue = options.queue;
      else if (config.sending_queue.storage === undefined) this.queue = this.memoryQueue();
      t.gauge(MetricNames.exporterQueueSize, 'Batches in the sending queue.').track(labels, () => this.queue?.size ?? 0);
      t.gauge(MetricNames.exporterQueueCapacity, 'Capacity of the sending queue in batches.').track(labels, () => this.queueCapacity);
      t.gauge(MetricNames.exporterQueueRecords, 'Log records in the sending queue.').track(labels, () => this.queuedRecords);
      t.gauge('tributary_exporter_in_flight_log_records', 'Log records taken from the queue and being sent or retried.').track(
        labels,
        () => this.inFlightRecordCount,
      );
    }
  }

  private memoryQueue(): BatchQueue {
    return new MemoryBatchQueue({
      capacity: this.queueConfig.queue_size,
      dropOldest: this.queueConfig.drop_oldest,
      onDrop: (b) => this.drop(b, 'queue_full', undefined),
    });
  }

  get queueSize(): number {
    return this.queue?.size ?? 0;
  }

  get queuedRecords(): number {
    return (this.queue?.records ?? 0) + this.keptOnDisk;
  }

  get queueCapacity(): number {
    return this.queue?.capacity ?? (this.queueConfig.enabled ? this.queueConfig.queue_size : 0);
  }

  /** Records taken from the queue and not yet acknowledged. */
  get inFlightRecords(): number {
    return this.inFlightRecordCount;
  }

  /** True when the queue keeps unsent batches across restarts. */
  get persistent(): boolean {
    return isPersistent(this.queue);
  }

  async start(host: Host): Promise<void> {
    if (this.started) throw new Error(`exporter ${this.id}: started twice`);
    this.started = true;
    if (this.queueConfig.enabled && this.queue === undefined) this.queue = await this.openPersistentQueue(host);
    await this.sender.start?.(host);
    this.accepting = true;
    if (this.queue) {
      for (let i = 0; i < this.numConsumers; i++) this.workers.push(this.work(this.queue));
    }
  }

  /** Opens the queue from the storage extension named by `sending_queue.storage`. */
  private async openPersistentQueue(host: Host): Promise<BatchQueue> {
    const storageId = this.queueConfig.storage!;
    const ext = host.getExtension(storageId) as Partial<QueueStorage> | undefined;
    if (ext === undefined) {
      throw new Error(`sending_queue.storage: extension "${storageId}" is not configured in service.extensions`);
    }
    if (typeof ext.openQueue !== 'function') throw new Error(`sending_queue.storage: extension "${storageId}" is not a storage extension`);
    return ext.openQueue(this.id, {
      capacity: this.queueConfig.queue_size,
      dropOldest: this.queueConfig.drop_oldest,
      onDrop: (b) => this.drop(b, 'queue_full', undefined),
      logger: this.logger,
    });
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
   * Gives up on everything still held: cancels attempts in flight and retry waits and lets shutdown()
   * finish. With a persistent queue what is left stays on disk for the next start; otherwise it goes to
   * the dead-letter file when configured, else it is counted as dropped (reason "shutdown").
   * Called when shutdown_timeout expires.
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
    await (this.queue as { release?: () => Promise<void> } | undefined)?.release?.();
    await this.deadLetter?.close();
    await this.sender.shutdown?.();
  }

  private async enqueue(queue: BatchQueue, batch: LogsBatch): Promise<void> {
    if (await queue.offer(batch)) return this.enqueued.add(batch.recordCount);
    this.enqueueFailed.add(batch.recordCount);
    throw new ThrottledError(`exporter ${this.id}: sending queue is full (${queue.capacity} batches)`, {
      retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS,
    });
  }

  private async sendNow(batch: LogsBatch): Promise<void> {
    this.enqueued.add(batch.recordCount);
    const p = this.sendWithRetry(batch, false);
    this.syncSends.add(p);
    try {
      const [outcome, err] = await p;
      switch (outcome) {
        case Outcome.Sent:
          return;
        case Outcome.Permanent:
          if (err instanceof PermanentError) throw err;
          if (err instanceof PartialSendError) {
            throw new PermanentError(`exporter ${this.id}: ${err.message}`, { rejected: err.rejected?.recordCount, cause: err });
          }
          throw new PermanentError(`exporter ${this.id}: ${errorMessage(err)}`, { cause: err });
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
    const persistent = isPersistent(queue);
    for (;;) {
      // Aborted with a disk queue: what is left stays on disk; no point reading it back.
      if (persistent && signal.aborted) return;
      const item: QueuedBatch | undefined = await queue.take();
      if (item === undefined) return;
      const n = item.batch.recordCount;
      this.inFlightRecordCount += n;
      let outcome: Outcome;
      if (signal.aborted) {
        outcome = Outcome.Shutdown;
        if (!persistent) await this.giveUp(item.batch, 'shutdown', signal.reason);
      } else {
        [outcome] = await this.sendWithRetry(item.batch, persistent);
      }
      this.inFlightRecordCount -= n;
      // Interrupted by shutdown with a disk queue: leave the batch on disk, it is sent after the restart.
      if (outcome === Outcome.Shutdown && persistent) {
        this.keptOnDisk += n;
        continue;
      }
      try {
        await queue.ack(item);
      } catch (err) {
        this.warn('ack_failed', 'exporter queue ack failed', { exporter: this.id, error: errorMessage(err) });
      }
    }
  }

  /**
   * Sends one batch, retrying as configured. Never throws: the outcome is counted and returned.
   * `keepOnShutdown`: the batch stays in a persistent queue when interrupted, so it is not given up on.
   */
  private async sendWithRetry(batch: LogsBatch, keepOnShutdown: boolean): Promise<[Outcome, unknown]> {
    const signal = this.abortController.signal;
    const started = this.now();
    const shutdownOutcome = async (b: LogsBatch, err: unknown): Promise<[Outcome, unknown]> => {
      if (!keepOnShutdown) await this.giveUp(b, 'shutdown', err);
      return [Outcome.Shutdown, err];
    };
    let current = batch;
    for (let retry = 0; ; retry++) {
      if (signal.aborted) return shutdownOutcome(current, signal.reason);
      let retryAfter: number | undefined;
      let lastErr: unknown;
      try {
        await this.attempt(current);
        this.markSent(current, current.recordCount);
        return [Outcome.Sent, undefined];
      } catch (err) {
        lastErr = err;
        if (err instanceof PartialSendError) {
          // Some records were taken, some refused for good, some to be sent again.
          const rejectedN = err.rejected?.recordCount ?? 0;
          const retryN = err.retry?.recordCount ?? 0;
          this.markSent(current, Math.max(0, current.recordCount - rejectedN - retryN));
          if (err.rejected !== undefined && rejectedN > 0) await this.giveUp(err.rejected, 'permanent', err);
          if (err.retry === undefined || retryN === 0) return rejectedN > 0 ? [Outcome.Permanent, err] : [Outcome.Sent, undefined];
          current = err.retry;
          retryAfter = err.retryAfterMs;
          if (signal.aborted) return shutdownOutcome(current, err);
        } else {
          if (signal.aborted) return shutdownOutcome(current, err);
          if (classifyError(err) === 'permanent') {
            // A partial rejection: the records the destination did take count as sent.
            const rejected = (err as PermanentError).rejected;
            if (rejected !== undefined && rejected < current.recordCount) this.markSent(current, current.recordCount - rejected);
            await this.giveUp(current, 'permanent', err);
            return [Outcome.Permanent, err];
          }
          retryAfter = retryAfterOf(err);
        }
      }
      const wait = this.policy.nextDelay(retry, this.now() - started, retryAfter);
      if (wait === STOP) {
        await this.giveUp(current, 'retries_exhausted', lastErr);
        return [Outcome.Exhausted, lastErr];
      }
      this.retries.add(1);
      if (!(await abortableDelay(wait, signal))) return shutdownOutcome(current, signal.reason);
    }
  }

  private markSent(batch: LogsBatch, n: number): void {
    if (n <= 0) return;
    this.sent.add(n);
    this.latency.observe((performance.now() - batch.receivedAt) / 1000, n);
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

  /**
   * Records the exporter will not send: to the dead-letter file when one is configured (counted as
   * dead-lettered), otherwise — or when that write fails — counted as dropped.
   */
  private async giveUp(batch: LogsBatch, reason: Exclude<DropReason, 'queue_full'>, err: unknown): Promise<void> {
    // A PermanentError with `rejected` refused only that many records of the batch.
    const n =
      reason === 'permanent' && err instanceof PermanentError && err.rejected !== undefined
        ? Math.min(err.rejected, batch.recordCount)
        : batch.recordCount;
    if (n <= 0) return;
    // The dead-letter file holds log records; traces and metrics are counted as dropped only.
    if (this.deadLetter !== undefined && batch.opaque === undefined) {
      const why = `${reason}: ${err === undefined ? '' : errorMessage(err)}`;
      try {
        await this.deadLetter.append(batch.resourceLogs, n < batch.recordCount ? `${why} (${n} of ${batch.recordCount} records refused)` : why);
        this.deadLettered[reason].add(n);
        this.warn(`dead_letter_${reason}`, 'exporter wrote log records to the dead-letter file', {
          exporter: this.id,
          reason,
          records: n,
          path: this.deadLetter.path,
          error: err === undefined ? undefined : errorMessage(err),
        });
        return;
      } catch (e) {
        this.deadLetterFailed.add(n);
        this.warn('dead_letter_failed', 'exporter could not write the dead-letter file', {
          exporter: this.id,
          path: this.deadLetter.path,
          records: n,
          error: errorMessage(e),
        });
      }
    }
    this.drop(batch, reason, err, n);
  }

  private drop(batch: LogsBatch, reason: DropReason, err: unknown, records?: number): void {
    const counter =
      reason === 'permanent'
        ? this.failedPermanent
        : reason === 'retries_exhausted'
          ? this.failedExhausted
          : reason === 'shutdown'
            ? this.failedShutdown
            : this.failedQueueFull;
    const n = records ?? batch.recordCount;
    counter.add(n);
    this.warn(`drop_${reason}`, 'exporter dropped log records', {
      exporter: this.id,
      reason,
      records: n,
      error: err === undefined ? undefined : errorMessage(err),
    });
  }

  private warn(key: string, msg: string, fields: LogFields): void {
    let log = this.logs.get(key);
    if (log === undefined) {
      log = new RateLimitedLog(this.logger);
      this.logs.set(key, log);
    }
    log.warn(msg, fields);
  }
}
