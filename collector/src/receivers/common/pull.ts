/**
 * What the pull receivers (awscloudwatch, googlecloudlogging, azureloganalytics) share: a poll loop with
 * back-off on throttling, server errors and refused credentials (each logged with its reason and
 * counted), and a de-duplication window so an overlapping query window (for late events) never
 * delivers an event twice — the window's ids are saved with the cursor, so restarts do not either.
 */
import type { CreateSettings } from '../../component.js';
import { errorMessage } from '../../errors.js';
import { RateLimitedLog } from '../../telemetry/logger.js';
import type { Counter } from '../../telemetry/metrics.js';
import type { ReceiverSink } from './sink.js';

export type PullFailure = 'throttled' | 'server' | 'auth' | 'client' | 'network';

export class PullError extends Error {
  constructor(message: string, readonly kind: PullFailure, readonly retryAfterMs?: number | undefined) {
    super(message);
  }
}

/** HTTP status → failure kind. */
export function failureOfStatus(status: number): PullFailure {
  if (status === 429) return 'throttled';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500 || status === 408) return 'server';
  return 'client';
}

const MAX_BACKOFF_MS = 5 * 60_000;

/** Event ids seen at or after a time, so re-reading an overlap window delivers nothing twice. */
export class SeenWindow {
  private readonly ids = new Map<string, number>();
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string, atMs: number): void {
    this.ids.set(id, atMs);
  }
  /** Forgets ids of events older than `beforeMs` (outside every future query window). */
  prune(beforeMs: number): void {
    for (const [id, at] of this.ids) if (at < beforeMs) this.ids.delete(id);
  }
  get size(): number {
    return this.ids.size;
  }
  toJSON(): [string, number][] {
    return [...this.ids];
  }
  static from(v: unknown): SeenWindow {
    const w = new SeenWindow();
    if (Array.isArray(v)) for (const e of v) if (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number') w.add(e[0], e[1]);
    return w;
  }
}

export class PullLoop {
  private readonly failures: Counter;
  private readonly warn: RateLimitedLog;
  private loop: Promise<void> | undefined;

  constructor(private readonly settings: CreateSettings, private readonly sink: ReceiverSink, private readonly pollMs: number, private readonly pollOnce: () => Promise<void>) {
    this.failures = settings.telemetry.counter('tributary_receiver_pull_failures_total', 'Failed polls of a pull receiver, by reason (throttled, server, auth, client, network).');
    this.warn = new RateLimitedLog(settings.logger, 30_000);
  }

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let backoff = Math.max(10, this.pollMs);
    while (!this.sink.isStopped) {
      let wait = this.pollMs;
      try {
        await this.pollOnce();
        backoff = Math.max(10, this.pollMs);
      } catch (e) {
        const kind: PullFailure = e instanceof PullError ? e.kind : 'network';
        this.failures.bind({ receiver: this.settings.id.id, reason: kind }).add(1);
        const hinted = e instanceof PullError ? e.retryAfterMs : undefined;
        wait = Math.min(MAX_BACKOFF_MS, Math.max(hinted ?? 0, backoff));
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        const msg = kind === 'auth' ? 'credentials were refused or expired; will retry with fresh credentials' : kind === 'throttled' ? 'throttled by the API; backing off' : 'poll failed; backing off';
        if (kind === 'auth' || kind === 'client') this.settings.logger.error(msg, { reason: kind, error: errorMessage(e).slice(0, 300), retry_in_ms: Math.round(wait) });
        else this.warn.warn(msg, { reason: kind, error: errorMessage(e).slice(0, 300), retry_in_ms: Math.round(wait) });
      }
      await this.sink.sleep(wait);
    }
  }

  async stop(): Promise<void> {
    this.sink.stop();
    await this.loop;
  }
}
