/**
 * Retry back-off for the exporter helper, with the semantics of the OpenTelemetry Collector's
 * `retry_on_failure` (cenkalti/backoff ExponentialBackOff): the n-th wait is
 * `min(initial_interval × multiplier^n, max_interval)` jittered to `× [1-f, 1+f]`, a server's
 * Retry-After replaces the computed wait, and nothing is retried once `max_elapsed_time` would be passed.
 * Pure (no timers): the exporter helper owns the clock and the waiting.
 */
import type { RetryOnFailureConfig } from './exporter-helper-config.js';

/** Returned by `RetryPolicy.nextDelay` when the batch must not be retried again. */
export const STOP = -1;

export class RetryPolicy {
  readonly enabled: boolean;
  private readonly initial: number;
  private readonly multiplier: number;
  private readonly maxInterval: number;
  private readonly factor: number;
  private readonly maxElapsed: number;

  constructor(config: RetryOnFailureConfig, private readonly random: () => number = Math.random) {
    this.enabled = config.enabled;
    this.initial = config.initial_interval;
    this.multiplier = config.multiplier;
    this.maxInterval = config.max_interval;
    this.factor = config.randomization_factor;
    this.maxElapsed = config.max_elapsed_time;
  }

  /** The un-jittered interval before retry number `retry` (0-based): initial × multiplier^retry, capped. */
  interval(retry: number): number {
    // Cap the exponent's growth early so huge retry counts cannot overflow to Infinity·0 = NaN.
    let v = this.initial;
    for (let i = 0; i < retry && v < this.maxInterval; i++) v *= this.multiplier;
    return Math.min(v, this.maxInterval);
  }

  /** `interval` with the upstream jitter: a uniform value in [interval·(1-f), interval·(1+f)]. */
  jittered(retry: number): number {
    const iv = this.interval(retry);
    if (this.factor === 0) return iv;
    const delta = this.factor * iv;
    return iv - delta + this.random() * 2 * delta;
  }

  /**
   * How long to wait before retry number `retry`, or STOP.
   * @param elapsedMs time since the batch's first attempt started
   * @param retryAfterMs the destination's Retry-After hint, used as the wait when present
   */
  nextDelay(retry: number, elapsedMs: number, retryAfterMs?: number): number {
    if (!this.enabled) return STOP;
    const wait = retryAfterMs !== undefined && retryAfterMs >= 0 ? retryAfterMs : this.jittered(retry);
    if (this.maxElapsed > 0 && elapsedMs + wait > this.maxElapsed) return STOP;
    return wait;
  }
}

/**
 * Resolves true after `ms`, or false as soon as `signal` aborts (the timer is then cleared, so an
 * aborted exporter leaves no timers behind).
 */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
