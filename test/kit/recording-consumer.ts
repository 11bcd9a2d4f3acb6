/**
 * A downstream consumer for processor (and receiver) tests: records every batch it is given and answers
 * as the test says — at once (default), with an error, or held until the test settles `calls[i].answer`.
 */
import type { LogRecord } from '@tributary/otlp';
import type { LogsBatch, LogsConsumer } from '../../collector/src/component.js';

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface ConsumedBatch {
  batch: LogsBatch;
  /** Records in the batch's tree when it was consumed (to check `recordCount`). */
  counted: number;
  /** The answer to this call; settled at once unless the consumer holds. */
  answer: Deferred;
}

export class RecordingConsumer implements LogsConsumer {
  readonly calls: ConsumedBatch[] = [];
  /** The batches consumed, in order (a live array). */
  readonly batches: LogsBatch[] = [];
  private waiters: (() => void)[] = [];

  /** `true`: resolve each call at once; `false`: hold (the test settles `calls[i].answer`); an Error: reject with it. */
  constructor(public auto: boolean | Error = true) {}

  consume(batch: LogsBatch): Promise<void> {
    const answer = deferred();
    this.calls.push({ batch, counted: countRecords(batch), answer });
    this.batches.push(batch);
    for (const w of this.waiters.splice(0)) w();
    if (this.auto === true) answer.resolve();
    else if (this.auto instanceof Error) answer.reject(this.auto);
    return answer.promise;
  }

  /** Resolves once at least `n` calls were made. */
  async waitForCalls(n: number): Promise<void> {
    while (this.calls.length < n) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Every record consumed, in order. */
  get records(): LogRecord[] {
    const out: LogRecord[] = [];
    for (const c of this.calls) for (const rl of c.batch.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) out.push(r);
    return out;
  }

  get recordCount(): number {
    return this.calls.reduce((n, c) => n + c.batch.recordCount, 0);
  }
}

export function countRecords(batch: Pick<LogsBatch, 'resourceLogs'>): number {
  let n = 0;
  for (const rl of batch.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}
