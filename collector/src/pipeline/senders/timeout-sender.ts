/**
 * The timeout end of the exporter helper's sender chain: one call to the exporter's `send`, bounded by
 * `timeout` and by `abortAll()`, settling even when the exporter ignores its signal (no leak on hung sends).
 */
import type { LogsBatch, LogsSender } from '../../component.js';
import { RetryableError } from '../../errors.js';

export class TimeoutSender {
  /** Controllers of attempts in flight, aborted together by abortAll(). */
  private readonly inFlight = new Set<AbortController>();

  constructor(
    private readonly id: string,
    private readonly sender: LogsSender,
    private readonly timeoutMs: number,
  ) {}

  get attemptsInFlight(): number {
    return this.inFlight.size;
  }

  /** Aborts every attempt in flight with `err`. */
  abortAll(err: Error): void {
    for (const ac of this.inFlight) ac.abort(err);
  }

  send(batch: LogsBatch): Promise<void> {
    const ac = new AbortController();
    this.inFlight.add(ac);
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        ac.signal.removeEventListener('abort', onAbort);
        this.inFlight.delete(ac);
      };
      // Settle on abort even if the sender never does, and forget the attempt.
      const onAbort = (): void => {
        done();
        reject(ac.signal.reason as unknown);
      };
      if (this.timeoutMs > 0) {
        timer = setTimeout(() => ac.abort(new RetryableError(`exporter ${this.id}: send timed out after ${this.timeoutMs}ms`)), this.timeoutMs);
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
          reject(ac.signal.aborted ? (ac.signal.reason as unknown) : err);
        },
      );
    });
  }
}
