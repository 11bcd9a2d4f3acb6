/**
 * References from converted items (events, entries) back to the records they came from, so a send that
 * fails part-way can hand the queue exactly the records still to send (PartialSendError). Shared by the
 * awscloudwatchlogs and googlecloud exporters.
 */
import type { LogRecord, ResourceLogs, ScopeLogs } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';

export interface RecordRef {
  readonly rl: ResourceLogs;
  readonly sl: ScopeLogs;
  readonly lr: LogRecord;
}

/**
 * A batch holding only the referenced records, grouped under their original resource and scope (shared,
 * not copied). Duplicate references (one record split into several items) count once.
 */
export function batchFromRefs(refs: Iterable<RecordRef>, receivedAt: number): LogsBatch | undefined {
  const byResource = new Map<ResourceLogs, { out: ResourceLogs; scopes: Map<ScopeLogs, ScopeLogs> }>();
  const resourceLogs: ResourceLogs[] = [];
  const seen = new Set<LogRecord>();
  let recordCount = 0;
  for (const ref of refs) {
    if (seen.has(ref.lr)) continue;
    seen.add(ref.lr);
    let r = byResource.get(ref.rl);
    if (r === undefined) {
      r = { out: { ...ref.rl, scopeLogs: [] }, scopes: new Map() };
      byResource.set(ref.rl, r);
      resourceLogs.push(r.out);
    }
    let s = r.scopes.get(ref.sl);
    if (s === undefined) {
      s = { ...ref.sl, logRecords: [] };
      r.scopes.set(ref.sl, s);
      r.out.scopeLogs.push(s);
    }
    s.logRecords.push(ref.lr);
    recordCount++;
  }
  return recordCount === 0 ? undefined : { resourceLogs, recordCount, receivedAt };
}
