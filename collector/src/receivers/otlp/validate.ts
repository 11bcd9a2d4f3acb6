/** Per-record checks done before a request enters the pipeline (both transports). */
import { SPAN_ID_BYTES, TRACE_ID_BYTES, WireLogRecord, type LogRecord, type ResourceLogs } from '@tributary/otlp';

export interface ValidationResult {
  /** Records removed from the tree. */
  rejected: number;
  /** Location and reason of the first removed record ('' when none). */
  firstError: string;
}

const OK: ValidationResult = Object.freeze({ rejected: 0, firstError: '' });

function badIdReason(r: LogRecord): string | undefined {
  const t = r.traceId ? r.traceId.length : 0;
  if (t !== 0 && t !== TRACE_ID_BYTES) return `traceId: must be 0 or ${TRACE_ID_BYTES} bytes, got ${t}`;
  const s = r.spanId ? r.spanId.length : 0;
  if (s !== 0 && s !== SPAN_ID_BYTES) return `spanId: must be 0 or ${SPAN_ID_BYTES} bytes, got ${s}`;
  return undefined;
}

/**
 * Removes records whose trace/span IDs have an invalid length, compacting each `logRecords` array in
 * place (no copy when everything is valid, which is the common case).
 */
export function removeInvalidRecords(resourceLogs: ResourceLogs[]): ValidationResult {
  let rejected = 0;
  let firstError = '';
  for (let i = 0; i < resourceLogs.length; i++) {
    const sls = resourceLogs[i]!.scopeLogs;
    for (let j = 0; j < sls.length; j++) {
      const recs = sls[j]!.logRecords;
      let w = 0;
      for (let k = 0; k < recs.length; k++) {
        const r = recs[k]!;
        if (r instanceof WireLogRecord && r.wireClean && r.idsStandard) {
          // Checked on receipt, no tree built.
          if (w !== k) recs[w] = r;
          w++;
          continue;
        }
        // Cheap length checks first; the reason string is built only for the first bad record.
        const tl = r.traceId ? r.traceId.length : 0;
        const sl = r.spanId ? r.spanId.length : 0;
        if ((tl === 0 || tl === TRACE_ID_BYTES) && (sl === 0 || sl === SPAN_ID_BYTES)) {
          if (w !== k) recs[w] = r;
          w++;
          continue;
        }
        if (rejected === 0) firstError = `resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}].${badIdReason(r)!}`;
        rejected++;
      }
      if (w !== recs.length) recs.length = w;
    }
  }
  return rejected === 0 ? OK : { rejected, firstError };
}
