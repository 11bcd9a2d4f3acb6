/**
 * A receiver's way into the pipelines that name it, by signal: logs go to the logs pipelines, opaque
 * traces / metrics to the traces / metrics ones. `accepts` tells the receiver which endpoints to serve
 * (no traces pipeline: `/v1/traces` stays a 404).
 */
import type { LogsBatch, LogsConsumer } from '../component.js';
import { PermanentError } from '../errors.js';

export type Signal = 'logs' | 'traces' | 'metrics';

export class SignalRouter implements LogsConsumer {
  constructor(private readonly routes: Partial<Record<Signal, LogsConsumer>>) {}

  accepts(signal: Signal): boolean {
    return this.routes[signal] !== undefined;
  }

  consume(batch: LogsBatch): Promise<void> {
    const signal: Signal = batch.opaque?.signal ?? 'logs';
    const c = this.routes[signal];
    if (c === undefined) return Promise.reject(new PermanentError(`no ${signal} pipeline takes data from this receiver`));
    return c.consume(batch);
  }
}

/** Whether a receiver's consumer takes `signal` (a plain consumer takes logs only). */
export function acceptsSignal(next: LogsConsumer, signal: Signal): boolean {
  return next instanceof SignalRouter ? next.accepts(signal) : signal === 'logs';
}
