/**
 * The retry part of the exporter helper's sender chain: sends one batch through the timeout sender,
 * retrying with back-off (`retry_on_failure`, honouring Retry-After), sending again only what a
 * PartialSendError says is left, and handing what is given up on to the accounting. Never throws: the
 * outcome is returned.
 */
import type { LogsBatch } from '../../component.js';
import { classifyError, PartialSendError, type PermanentError, retryAfterOf } from '../../errors.js';
import { abortableDelay, type RetryPolicy, STOP } from '../retry.js';
import type { ExporterAccounting } from './accounting.js';
import type { TimeoutSender } from './timeout-sender.js';

export type Outcome = 'sent' | 'permanent' | 'exhausted' | 'shutdown';

export class RetrySender {
  constructor(
    private readonly next: TimeoutSender,
    private readonly policy: RetryPolicy,
    private readonly accounting: ExporterAccounting,
    /** Aborted when the exporter gives up on everything (shutdown timeout). */
    private readonly signal: AbortSignal,
    private readonly now: () => number,
  ) {}

  /**
   * Sends one batch, retrying as configured. `keepOnShutdown`: the batch stays in a persistent queue when
   * interrupted, so it is not given up on.
   */
  async send(batch: LogsBatch, keepOnShutdown: boolean): Promise<[Outcome, unknown]> {
    const signal = this.signal;
    const started = this.now();
    const shutdown = async (b: LogsBatch, err: unknown): Promise<[Outcome, unknown]> => {
      if (!keepOnShutdown) await this.accounting.giveUp(b, 'shutdown', err);
      return ['shutdown', err];
    };
    let current = batch;
    for (let retry = 0; ; retry++) {
      if (signal.aborted) return shutdown(current, signal.reason);
      let retryAfter: number | undefined;
      let lastErr: unknown;
      try {
        await this.next.send(current);
        this.accounting.sent(current, current.recordCount);
        return ['sent', undefined];
      } catch (err) {
        lastErr = err;
        if (err instanceof PartialSendError) {
          // Some records were taken, some refused for good, some to be sent again.
          const rejectedN = err.rejected?.recordCount ?? 0;
          const retryN = err.retry?.recordCount ?? 0;
          this.accounting.sent(current, Math.max(0, current.recordCount - rejectedN - retryN));
          if (err.rejected !== undefined && rejectedN > 0) await this.accounting.giveUp(err.rejected, 'permanent', err);
          if (err.retry === undefined || retryN === 0) return rejectedN > 0 ? ['permanent', err] : ['sent', undefined];
          current = err.retry;
          retryAfter = err.retryAfterMs;
          if (signal.aborted) return shutdown(current, err);
        } else {
          if (signal.aborted) return shutdown(current, err);
          if (classifyError(err) === 'permanent') {
            // A partial rejection: the records the destination did take count as sent.
            const rejected = (err as PermanentError).rejected;
            if (rejected !== undefined && rejected < current.recordCount) this.accounting.sent(current, current.recordCount - rejected);
            await this.accounting.giveUp(current, 'permanent', err);
            return ['permanent', err];
          }
          retryAfter = retryAfterOf(err);
        }
      }
      const wait = this.policy.nextDelay(retry, this.now() - started, retryAfter);
      if (wait === STOP) {
        await this.accounting.giveUp(current, 'retries_exhausted', lastErr);
        return ['exhausted', lastErr];
      }
      this.accounting.retried();
      if (!(await abortableDelay(wait, signal))) return shutdown(current, signal.reason);
    }
  }
}
