/** Deep copies of the record model, for fan-out to consumers that mutate (see the collector's fan-out). */
import { cloneAnyValue, cloneKeyValues } from './any-value.js';
import type { LogRecord, ResourceLogs } from './model.js';
import { cleanWireBytes } from './wire-record.js';

export function cloneLogRecord(r: LogRecord): LogRecord {
  // A record still in its received bytes shares them (they are never written).
  const wire = cleanWireBytes(r);
  if (wire !== undefined) return wire.copy();
  // Longs and ID byte arrays are never mutated in place, so they are shared.
  return {
    timeUnixNano: r.timeUnixNano,
    observedTimeUnixNano: r.observedTimeUnixNano,
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    body: cloneAnyValue(r.body),
    attributes: cloneKeyValues(r.attributes),
    droppedAttributesCount: r.droppedAttributesCount,
    flags: r.flags,
    traceId: r.traceId,
    spanId: r.spanId,
    eventName: r.eventName,
  };
}

export function cloneResourceLogs(rls: readonly ResourceLogs[]): ResourceLogs[] {
  return rls.map((rl) => ({
    resource: rl.resource ? { attributes: cloneKeyValues(rl.resource.attributes), droppedAttributesCount: rl.resource.droppedAttributesCount } : null,
    schemaUrl: rl.schemaUrl,
    scopeLogs: rl.scopeLogs.map((sl) => ({
      scope: sl.scope
        ? { name: sl.scope.name, version: sl.scope.version, attributes: cloneKeyValues(sl.scope.attributes), droppedAttributesCount: sl.scope.droppedAttributesCount }
        : null,
      schemaUrl: sl.schemaUrl,
      logRecords: sl.logRecords.map(cloneLogRecord),
    })),
  }));
}
