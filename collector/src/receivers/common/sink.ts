/**
 * Hands batches from a non-OTLP receiver to the pipeline with the receiver metrics, and — for sources
 * that can wait (a file, a TCP peer, a cloud API cursor) — keeps offering a batch the pipeline pushed
 * back on, with back-off, until it is accepted, refused for good, or the receiver stops. The source's
 * position (file offset, checkpoint) moves only after `deliver` says the batch was taken.
 */
import type { ComponentId, LogsBatch, LogsConsumer } from '../../component.js';
import { PermanentError, ThrottledError, RetryableError, errorMessage } from '../../errors.js';
import { RateLimitedLog, type Logger } from '../../telemetry/logger.js';
import { MetricNames, type BoundCounter, type Telemetry } from '../../telemetry/metrics.js';

export type DeliverResult = 'accepted' | 'refused' | 'stopped';

const MAX_BACKOFF_MS = 5_000;

export class ReceiverSink {
  private readonly accepted: BoundCounter;
  private readonly refusedPermanent: BoundCounter;
  private readonly refusedDropped: BoundCounter;
  private readonly pushback: BoundCounter;
  private readonly warnLog: RateLimitedLog;
  private stopped = false;
  private readonly wakers = new Set<() => void>();

  constructor(id: ComponentId, telemetry: Telemetry, private readonly next: LogsConsumer, logger: Logger, transport: string) {
    const labels = { receiver: id.id, transport };
    this.accepted = telemetry.counter(MetricNames.receiverAccepted, 'Log records accepted by receivers and passed to the pipeline.').bind(labels);
    const refused = telemetry.counter(MetricNames.receiverRefused, 'Log records received but refused, by reason.');
    this.refusedPermanent = refused.bind({ ...labels, reason: 'permanent' });
    this.refusedDropped = refused.bind({ ...labels, reason: 'unavailable' });
    this.pushback = telemetry
      .counter('tributary_receiver_pushback_total', 'Times the pipeline pushed back on a receiver that then waited and offered the batch again.')
      .bind(labels);
    this.warnLog = new RateLimitedLog(logger);
  }

  /** One attempt; for sources that cannot wait (UDP). Failure is counted, never thrown. */
  async offer(batch: LogsBatch): Promise<boolean> {
    try {
      await this.next.consume(batch);
      this.accepted.add(batch.recordCount);
      return true;
    } catch (err) {
      if (err instanceof PermanentError) this.refusedPermanent.add(batch.recordCount);
      else this.refusedDropped.add(batch.recordCount);
      this.warnLog.warn('pipeline refused a batch; it is dropped (this source cannot wait)', { records: batch.recordCount, error: errorMessage(err) });
      return false;
    }
  }

  /** Offers until accepted; waits with back-off on push-back; gives up on a permanent refusal. */
  async deliver(batch: LogsBatch): Promise<DeliverResult> {
    let backoff = 100;
    for (;;) {
      if (this.stopped) return 'stopped';
      try {
        await this.next.consume(batch);
        this.accepted.add(batch.recordCount);
        return 'accepted';
      } catch (err) {
        if (err instanceof PermanentError) {
          this.refusedPermanent.add(batch.recordCount);
          this.warnLog.warn('pipeline refused a batch for good; it is dropped', { records: batch.recordCount, error: errorMessage(err) });
          return 'refused';
        }
        this.pushback.add(1);
        const hinted = err instanceof RetryableError || err instanceof ThrottledError ? err.retryAfterMs : undefined;
        const wait = Math.min(MAX_BACKOFF_MS, hinted ?? backoff);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        this.warnLog.warn('pipeline pushed back; waiting before offering the batch again', { records: batch.recordCount, wait_ms: Math.round(wait), error: errorMessage(err) });
        await this.sleep(wait);
      }
    }
  }

  /** A wait that `stop()` cuts short. */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  stop(): void {
    this.stopped = true;
    for (const w of [...this.wakers]) w();
  }
}
