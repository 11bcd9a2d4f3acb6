/**
 * The accounting end of the exporter helper's sender chain: every record the exporter takes is counted
 * once as sent, dead-lettered or dropped (by reason), with the latency of what was sent. Records given
 * up on go to the dead-letter file when one is configured. Warnings are rate-limited per reason.
 */
import type { CreateSettings, LogsBatch } from '../../component.js';
import { errorMessage, PermanentError } from '../../errors.js';
import { RateLimitedLog, type LogFields } from '../../telemetry/logger.js';
import { Metrics } from '../../telemetry/metric-names.js';
import { LATENCY_BUCKETS_SECONDS, type BoundCounter, type BoundHistogram } from '../../telemetry/metrics.js';
import type { DeadLetterWriter } from '../dead-letter.js';

export type DropReason = 'permanent' | 'retries_exhausted' | 'shutdown' | 'queue_full';
export type GiveUpReason = Exclude<DropReason, 'queue_full'>;

export class ExporterAccounting {
  readonly id: string;
  private readonly logger: CreateSettings['logger'];
  /** One rate-limited log per reason, so one noisy reason never hides another. */
  private readonly logs = new Map<string, RateLimitedLog>();
  private readonly sentCounter: BoundCounter;
  private readonly enqueuedCounter: BoundCounter;
  private readonly enqueueFailedCounter: BoundCounter;
  private readonly retriesCounter: BoundCounter;
  private readonly latency: BoundHistogram;
  private readonly failed: Record<DropReason, BoundCounter>;
  private readonly deadLettered: Record<GiveUpReason, BoundCounter>;
  private readonly deadLetterFailed: BoundCounter;

  constructor(settings: CreateSettings, private readonly deadLetter: DeadLetterWriter | undefined) {
    this.id = settings.id.id;
    this.logger = settings.logger;
    const t = settings.telemetry;
    const labels = { exporter: this.id };
    this.sentCounter = t.counter(Metrics.exporterSent).bind(labels);
    this.enqueuedCounter = t.counter(Metrics.exporterEnqueued).bind(labels);
    const failed = t.counter(Metrics.exporterSendFailed);
    this.failed = {
      permanent: failed.bind({ exporter: this.id, reason: 'permanent' }),
      retries_exhausted: failed.bind({ exporter: this.id, reason: 'retries_exhausted' }),
      shutdown: failed.bind({ exporter: this.id, reason: 'shutdown' }),
      queue_full: failed.bind({ exporter: this.id, reason: 'queue_full' }),
    };
    const dl = t.counter(Metrics.exporterDeadLettered);
    this.deadLettered = {
      permanent: dl.bind({ exporter: this.id, reason: 'permanent' }),
      retries_exhausted: dl.bind({ exporter: this.id, reason: 'retries_exhausted' }),
      shutdown: dl.bind({ exporter: this.id, reason: 'shutdown' }),
    };
    this.deadLetterFailed = t.counter(Metrics.exporterDeadLetterFailed).bind(labels);
    this.enqueueFailedCounter = t.counter(Metrics.exporterEnqueueFailed).bind(labels);
    this.retriesCounter = t.counter(Metrics.exporterRetries).bind(labels);
    this.latency = t.histogram(Metrics.exporterLatency, LATENCY_BUCKETS_SECONDS).bind(labels);
  }

  enqueued(n: number): void {
    this.enqueuedCounter.add(n);
  }

  enqueueFailed(n: number): void {
    this.enqueueFailedCounter.add(n);
  }

  retried(): void {
    this.retriesCounter.add(1);
  }

  /** `n` records of `batch` were delivered. */
  sent(batch: LogsBatch, n: number): void {
    if (n <= 0) return;
    this.sentCounter.add(n);
    this.latency.observe((performance.now() - batch.receivedAt) / 1000, n);
  }

  /**
   * Records the exporter will not send: to the dead-letter file when one is configured (counted as
   * dead-lettered), otherwise — or when that write fails — counted as dropped.
   */
  async giveUp(batch: LogsBatch, reason: GiveUpReason, err: unknown): Promise<void> {
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

  drop(batch: LogsBatch, reason: DropReason, err: unknown, records?: number): void {
    const n = records ?? batch.recordCount;
    this.failed[reason].add(n);
    this.warn(`drop_${reason}`, 'exporter dropped log records', {
      exporter: this.id,
      reason,
      records: n,
      error: err === undefined ? undefined : errorMessage(err),
    });
  }

  warn(key: string, msg: string, fields: LogFields): void {
    let log = this.logs.get(key);
    if (log === undefined) {
      log = new RateLimitedLog(this.logger);
      this.logs.set(key, log);
    }
    log.warn(msg, fields);
  }

  async close(): Promise<void> {
    await this.deadLetter?.close();
  }
}
