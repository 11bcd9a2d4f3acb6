/** A downstream consumer for processor tests: records what it is given and answers as the test says. */
import type { LogsBatch, LogsConsumer } from '../../collector/src/component.js';
import type { LogRecord } from '@tributary/otlp';

export interface ConsumedBatch {
  batch: LogsBatch;
  /** Records in the batch's tree when it was consumed (to check `recordCount`). */
  counted: number;
}

export class RecordingConsumer implements LogsConsumer {
  readonly calls: ConsumedBatch[] = [];
  /** Throw this from the next consume calls (or answer with the function's result). */
  fail: Error | ((batch: LogsBatch, index: number) => Error | undefined) | undefined;

  consume(batch: LogsBatch): Promise<void> {
    const index = this.calls.length;
    this.calls.push({ batch, counted: countRecords(batch) });
    const err = typeof this.fail === 'function' ? this.fail(batch, index) : this.fail;
    return err === undefined ? Promise.resolve() : Promise.reject(err);
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

  clear(): void {
    this.calls.length = 0;
  }
}

export function countRecords(batch: Pick<LogsBatch, 'resourceLogs'>): number {
  let n = 0;
  for (const rl of batch.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}
