/**
 * Sends notifications: each to each of its notifiers, in the background (the pipeline never waits), with
 * the exporters' retry policy (exponential back-off with jitter, Retry-After, give up on permanent
 * errors or after `max_elapsed_time`) and a timeout per attempt. Outcomes are counted on /metrics and
 * written to the history; a notifier that keeps failing is logged. With a gate (Redis), each transition
 * is sent by one instance only.
 */
import { classifyError, errorMessage, retryAfterOf } from '../../errors.js';
import { abortableDelay, RetryPolicy, STOP } from '../../pipeline/retry.js';
import type { RetryOnFailureConfig } from '../../pipeline/exporter-helper-config.js';
import type { Logger } from '../../telemetry/logger.js';
import { Metrics } from '../../telemetry/metric-names.js';
import type { Counter, Histogram, Telemetry } from '../../telemetry/metrics.js';
import type { Notification, NotificationSink } from './engine.js';
import type { Notifier } from './notifiers/notifier.js';

export interface NotifierEntry {
  notifier: Notifier;
  timeoutMs: number;
  retry: RetryOnFailureConfig;
}

export interface DispatcherOptions {
  exporterId: string;
  logger: Logger;
  telemetry: Telemetry;
  /** Resolves true when this instance should send this transition (exactly-once across instances). */
  gate?: ((dedup: Notification['dedup']) => Promise<boolean>) | undefined;
  onOutcome(alertId: string, event: 'notified' | 'notify_failed', reason: string): void;
}

export class Dispatcher implements NotificationSink {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private readonly sent: Counter;
  private readonly failed: Counter;
  private readonly retried: Counter;
  private readonly deduplicated: Counter;
  private readonly latency: Histogram;
  private readonly failures = new Map<string, number>();

  constructor(private readonly notifiers: ReadonlyMap<string, NotifierEntry>, private readonly o: DispatcherOptions) {
    const t = o.telemetry;
    this.sent = t.counter(Metrics.alertsNotificationsSent);
    this.failed = t.counter(Metrics.alertsNotificationsFailed);
    this.retried = t.counter(Metrics.alertsNotificationRetries);
    this.deduplicated = t.counter(Metrics.alertsNotificationsDeduplicated);
    this.latency = t.histogram(Metrics.alertsNotificationSeconds, [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]);
  }

  dispatch(n: Notification): void {
    const created = performance.now();
    for (const id of n.notifiers) {
      const entry = this.notifiers.get(id);
      if (!entry || !entry.notifier.handles(n.kind)) continue;
      const p = this.sendOne(id, entry, n, created).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Resolves when every notification started so far has been delivered or given up on. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async sendOne(id: string, e: NotifierEntry, n: Notification, created: number): Promise<void> {
    const labels = { exporter: this.o.exporterId, notifier: id };
    if (this.o.gate) {
      let mine = true;
      try {
        mine = await this.o.gate({ ...n.dedup, key: `${n.dedup.key}:${id}` });
      } catch (err) {
        // Coordination down: better a duplicate than a lost alert.
        this.o.logger.warn('alerts: coordination unavailable; notifying without de-duplication', { exporter: this.o.exporterId, error: errorMessage(err) });
      }
      if (!mine) {
        this.deduplicated.bind(labels).add(1);
        return;
      }
    }
    const policy = new RetryPolicy(e.retry);
    const started = performance.now();
    for (let retry = 0; ; retry++) {
      if (this.stop.signal.aborted) return;
      const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout(e.timeoutMs)]);
      let err: unknown;
      try {
        await raceAbort(e.notifier.send(n, signal), signal);
        this.sent.bind(labels).add(1);
        this.latency.bind(labels).observe((performance.now() - created) / 1000);
        this.failures.delete(id);
        this.o.onOutcome(n.alert.id, 'notified', `${n.kind} sent to ${id}`);
        return;
      } catch (caught) {
        err = signal.aborted && !this.stop.signal.aborted ? new Error(`notifier ${id}: timed out after ${e.timeoutMs}ms`) : caught;
      }
      const permanent = classifyError(err) === 'permanent';
      const wait = permanent ? STOP : policy.nextDelay(retry, performance.now() - started, retryAfterOf(err));
      if (wait === STOP) {
        const reason = permanent ? 'permanent' : 'retries_exhausted';
        this.failed.bind({ ...labels, reason }).add(1);
        const streak = (this.failures.get(id) ?? 0) + 1;
        this.failures.set(id, streak);
        this.o.logger.error('alerts: notification failed', { exporter: this.o.exporterId, notifier: id, alert: n.alert.id, rule: n.alert.rule, failures_in_a_row: streak, error: errorMessage(err) });
        this.o.onOutcome(n.alert.id, 'notify_failed', `${n.kind} to ${id}: ${errorMessage(err)}`);
        return;
      }
      this.retried.bind(labels).add(1);
      if (!(await abortableDelay(wait, this.stop.signal))) return;
    }
  }

  async shutdown(graceMs: number): Promise<void> {
    const timer = setTimeout(() => this.stop.abort(new Error('alerts exporter shutting down')), graceMs);
    await this.idle();
    clearTimeout(timer);
    this.stop.abort(new Error('alerts exporter shut down'));
    for (const e of this.notifiers.values()) await e.notifier.close?.().catch(() => undefined);
  }
}

/** Settles when `p` does or `signal` aborts, whichever first (a notifier that ignores its signal cannot hang us). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); }, (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
}
