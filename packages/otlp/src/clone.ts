/** Deep copies of the record model, for fan-out to consumers that mutate (see the collector's fan-out). */
import type { AnyValue, KeyValue, LogRecord, ResourceLogs } from './model.js';
import { cleanWireBytes, WireLogRecord } from './wire-record.js';

function cloneAnyValue(v: AnyValue | null | undefined): AnyValue | null {
  if (v == null) return null;
  if (v.kvlistValue != null) return { kvlistValue: { values: cloneKeyValues(v.kvlistValue.values) } };
  if (v.arrayValue != null) return { arrayValue: { values: v.arrayValue.values.map((x) => cloneAnyValue(x) ?? {}) } };
  if (v.stringValue != null) return { stringValue: v.stringValue };
  if (v.boolValue != null) return { boolValue: v.boolValue };
  if (v.intValue != null) return { intValue: v.intValue };
  if (v.doubleValue != null) return { doubleValue: v.doubleValue };
  if (v.bytesValue != null) return { bytesValue: v.bytesValue };
  return {};
}

export function cloneKeyValues(kvs: readonly KeyValue[]): KeyValue[] {
  const out = new Array<KeyValue>(kvs.length);
  for (let i = 0; i < kvs.length; i++) out[i] = { key: kvs[i]!.key, value: cloneAnyValue(kvs[i]!.value) };
  return out;
}

export function cloneLogRecord(r: LogRecord): LogRecord {
  // A record still in its received bytes shares them (they are never written).
  const wire = cleanWireBytes(r);
  if (wire !== undefined) return new WireLogRecord(wire.wire, wire.wireStart, wire.wireEnd);
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
