/**
 * Fan-out consumers. One batch goes to several consumers in parallel; the call resolves when all accept.
 * When some refuse, the error that lets the sender retry wins (throttled/retryable over permanent), so
 * a sender never drops data that one destination could still take; the destinations that accepted get
 * duplicates on the retry, as with the OpenTelemetry Collector's fan-out.
 */
import { cloneResourceLogs } from '@tributary/otlp';
import type { LogsBatch, LogsConsumer } from '../component.js';
import { classifyError } from '../errors.js';

const RANK = { permanent: 0, retryable: 1, throttled: 2 } as const;

function worstError(results: PromiseSettledResult<void>[]): unknown {
  let chosen: unknown;
  let rank = -1;
  for (const r of results) {
    if (r.status !== 'rejected') continue;
    const k = RANK[classifyError(r.reason)];
    if (k > rank) {
      rank = k;
      chosen = r.reason;
    }
  }
  return chosen;
}

export class FanOutConsumer implements LogsConsumer {
  /** `mutates[i]` says consumer i changes batches in place and must get its own copy. */
  constructor(private readonly consumers: readonly LogsConsumer[], private readonly mutates: readonly boolean[] = []) {}

  consume(batch: LogsBatch): Promise<void> {
    const cs = this.consumers;
    if (cs.length === 1) return cs[0]!.consume(batch);
    return this.consumeAll(batch);
  }

  private async consumeAll(batch: LogsBatch): Promise<void> {
    const cs = this.consumers;
    // Readers may hold the batch (an exporter queue keeps it), so every mutator gets its own copy,
    // except one when all consumers mutate: nobody else sees the original then.
    const allMutate = this.mutates.length === cs.length && this.mutates.every(Boolean);
    const promises = new Array<Promise<void>>(cs.length);
    for (let i = 0; i < cs.length; i++) {
      const copy = this.mutates[i] && !(allMutate && i === cs.length - 1);
      // Each consumer gets its own wrapper: processors may reassign resourceLogs / recordCount.
      promises[i] = cs[i]!.consume({ ...batch, resourceLogs: copy ? cloneResourceLogs(batch.resourceLogs) : batch.resourceLogs });
    }
    const results = await Promise.allSettled(promises);
    const err = worstError(results);
    if (err !== undefined) throw err as Error;
  }
}
