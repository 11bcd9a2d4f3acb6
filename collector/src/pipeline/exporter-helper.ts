/**
 * The exporter helper (the OpenTelemetry Collector's exporterhelper): wraps an exporter's `LogsSender`
 * in a chain of small senders, each in its own file under `senders/`:
 *
 *   queue (sending_queue) → retry (retry_on_failure) → timeout (timeout) → the exporter's send
 *
 * with the accounting (sent / dead-lettered / dropped, by reason) fed by each. It is the one place
 * records wait and the one place that retries. Each exporter id gets its own instance, so one slow
 * destination never stalls another.
 */
import { z } from 'zod';
import type { Component, CreateSettings, Host, LogsBatch, LogsConsumer, LogsSender } from '../component.js';
import { RetryableError } from '../errors.js';
import type { BatchQueue } from './batch-queue.js';
import { DeadLetterWriter } from './dead-letter.js';
import { exporterHelperShape } from './exporter-helper-config.js';
import type { ExporterHelperConfig } from './exporter-helper-config.js';
import { RetryPolicy } from './retry.js';
import { ExporterAccounting } from './senders/accounting.js';
import { QUEUE_FULL_RETRY_AFTER_MS, QueueSender } from './senders/queue-sender.js';
import { RetrySender } from './senders/retry-sender.js';
import { TimeoutSender } from './senders/timeout-sender.js';
import { Metrics } from '../telemetry/metric-names.js';

export { exporterHelperShape } from './exporter-helper-config.js';
export type { ExporterHelperConfig, RetryOnFailureConfig, SendingQueueConfig } from './exporter-helper-config.js';
export { QUEUE_FULL_RETRY_AFTER_MS } from './senders/queue-sender.js';
export type { DropReason } from './senders/accounting.js';

/** The exporter helper keys alone, as a strict schema (exporters spread `exporterHelperShape` instead). */
export const exporterHelperConfigSchema = z.strictObject(exporterHelperShape);

/** Records written to the exporter's dead-letter file instead of being dropped (label `reason`). */
export const DEAD_LETTERED_METRIC = Metrics.exporterDeadLettered.name;
/** Records whose dead-letter write failed (they are then counted as dropped too). */
export const DEAD_LETTER_FAILED_METRIC = Metrics.exporterDeadLetterFailed.name;

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

export class QueuedRetryExporter implements Component, LogsConsumer {
  private readonly id: string;
  private readonly accounting: ExporterAccounting;
  private readonly timeout: TimeoutSender;
  private readonly queue: QueueSender;
  private readonly abortController = new AbortController();
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
    const q = config.sending_queue;
    const noEffect = [
      q.sizer !== undefined && q.sizer !== 'requests' ? `sizer: ${q.sizer} (queue_size counts batches)` : '',
      q.wait_for_result !== undefined ? 'wait_for_result' : '',
      q.batch !== undefined ? 'batch (use the batch processor)' : '',
    ].filter(Boolean);
    if (noEffect.length) settings.logger.warn(`sending_queue keys accepted without effect: ${noEffect.join(', ')}`);
    const dlPath = config.dead_letter?.path;
    const deadLetter = options.deadLetter ?? (dlPath !== undefined ? new DeadLetterWriter(dlPath, this.id) : undefined);
    this.accounting = new ExporterAccounting(settings, deadLetter);
    this.timeout = new TimeoutSender(this.id, sender, config.timeout);
    const now = options.now ?? (() => performance.now());
    const retry = new RetrySender(this.timeout, new RetryPolicy(config.retry_on_failure, options.random), this.accounting, this.abortController.signal, now);
    this.queue = new QueueSender(settings, config.sending_queue, retry, this.accounting, this.abortController.signal, options.queue);
  }

  get queueSize(): number {
    return this.queue.size;
  }

  get queuedRecords(): number {
    return this.queue.queuedRecords;
  }

  get queueCapacity(): number {
    return this.queue.capacity;
  }

  /** Records taken from the queue and not yet acknowledged. */
  get inFlightRecords(): number {
    return this.queue.inFlightRecords;
  }

  /** True when the queue keeps unsent batches across restarts. */
  get persistent(): boolean {
    return this.queue.persistent;
  }

  async start(host: Host): Promise<void> {
    if (this.started) throw new Error(`exporter ${this.id}: started twice`);
    this.started = true;
    await this.queue.open(host);
    await this.sender.start?.(host);
    this.accepting = true;
    this.queue.startWorkers();
  }

  consume(batch: LogsBatch): Promise<void> {
    if (!this.accepting) {
      return Promise.reject(
        new RetryableError(`exporter ${this.id}: ${this.stopping ? 'shutting down' : 'not started'}`, {
          retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS,
        }),
      );
    }
    return this.queue.consume(batch);
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
    this.timeout.abortAll(err);
    void this.queue.close();
  }

  private async doShutdown(): Promise<void> {
    this.accepting = false;
    this.stopping = true;
    await this.queue.close();
    await this.queue.drain();
    await this.accounting.close();
    await this.sender.shutdown?.();
  }
}
