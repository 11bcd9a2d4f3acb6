/** In-place removal of log records, shared by the processors that drop records (filter, sampler, rate limit). */
import type { LogRecord, ResourceLogs, ScopeLogs } from './model.js';

/** Decides, for one record (with its scope and resource), whether it stays. */
export type KeepRecord = (record: LogRecord, scopeLogs: ScopeLogs, resourceLogs: ResourceLogs) => boolean;

/**
 * Keeps the records for which `keep` is true, in tree order, by compacting the arrays in place (no
 * allocation), then removes emptied ScopeLogs and ResourceLogs. Returns the number of records left.
 */
export function retainLogRecords(rls: ResourceLogs[], keep: KeepRecord): number {
  let kept = 0;
  let rw = 0;
  for (let r = 0; r < rls.length; r++) {
    const rl = rls[r]!;
    const sls = rl.scopeLogs;
    let sw = 0;
    for (let s = 0; s < sls.length; s++) {
      const sl = sls[s]!;
      const recs = sl.logRecords;
      let w = 0;
      for (let i = 0; i < recs.length; i++) {
        const rec = recs[i]!;
        if (!keep(rec, sl, rl)) continue;
        if (w !== i) recs[w] = rec;
        w++;
      }
      if (w !== recs.length) recs.length = w;
      kept += w;
      if (w > 0) sls[sw++] = sl;
    }
    if (sw !== sls.length) sls.length = sw;
    if (sw > 0) rls[rw++] = rl;
  }
  if (rw !== rls.length) rls.length = rw;
  return kept;
}
