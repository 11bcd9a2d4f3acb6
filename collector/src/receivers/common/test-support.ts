/** Helpers for receiver unit tests: a recording consumer, a host with extensions, body extraction. */
import { anyValueAsString, type LogRecord } from '@tributary/otlp';
import type { LogsBatch, LogsConsumer } from '../../component.js';

export class RecordingConsumer implements LogsConsumer {
  readonly batches: LogsBatch[] = [];
  /** Set to make consume() reject with this error (once per call) while it returns an error. */
  fail: (() => Error | undefined) | undefined;
  async consume(batch: LogsBatch): Promise<void> {
    const e = this.fail?.();
    if (e) throw e;
    this.batches.push(batch);
  }
  records(): LogRecord[] {
    const out: LogRecord[] = [];
    for (const b of this.batches) for (const rl of b.resourceLogs) for (const sl of rl.scopeLogs) out.push(...sl.logRecords);
    return out;
  }
  bodies(): string[] {
    return this.records().map((r) => anyValueAsString(r.body));
  }
  /** Waits (bounded) until `pred` holds. */
  async until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; have ${this.records().length} records`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export { testHost, testSettings } from '../../../../test/kit/settings.js';

export function attr(r: LogRecord, key: string): string | undefined {
  const a = r.attributes.find((k) => k.key === key);
  return a ? anyValueAsString(a.value) : undefined;
}
