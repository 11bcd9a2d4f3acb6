/**
 * Building the record model from what non-OTLP receivers read: one LogRecord per line/message, grouped
 * into ResourceLogs by resource. Attribute key/value objects that are the same for a whole source (the
 * file name, the peer address) are built once and shared.
 */
import { anyValueFrom, keyValuesFrom, nanosFromBigInt, ZERO_NANOS, type KeyValue, type Long, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';

export const SCOPE_NAME = '@tributary/collector';

/** The operator-side view of a record (what `json_parser`, `move`, … change). */
export interface Entry {
  body: unknown;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  /** Nanoseconds since the epoch; undefined = unset. */
  timestamp: bigint | undefined;
  severity: number;
  severityText: string;
  traceId?: Uint8Array | undefined;
  spanId?: Uint8Array | undefined;
}

export function newEntry(body: unknown, attributes: Record<string, unknown> = {}): Entry {
  return { body, attributes, resource: {}, timestamp: undefined, severity: 0, severityText: '' };
}

export function stringRecord(body: string, attributes: KeyValue[], observed: Long): LogRecord {
  return {
    timeUnixNano: ZERO_NANOS,
    observedTimeUnixNano: observed,
    severityNumber: 0,
    severityText: '',
    body: { stringValue: body },
    attributes,
    droppedAttributesCount: 0,
    flags: 0,
    traceId: EMPTY,
    spanId: EMPTY,
    eventName: '',
  };
}

const EMPTY = new Uint8Array(0);

export function entryToRecord(e: Entry, observed: Long): LogRecord {
  return {
    timeUnixNano: e.timestamp === undefined ? ZERO_NANOS : nanosFromBigInt(e.timestamp),
    observedTimeUnixNano: observed,
    severityNumber: e.severity,
    severityText: e.severityText,
    body: anyValueFrom(e.body),
    attributes: keyValuesFrom(e.attributes),
    droppedAttributesCount: 0,
    flags: 0,
    traceId: e.traceId ?? EMPTY,
    spanId: e.spanId ?? EMPTY,
    eventName: '',
  };
}

export function resourceLogsOf(records: LogRecord[], resource: KeyValue[] = []): ResourceLogs {
  return {
    resource: { attributes: resource, droppedAttributesCount: 0 },
    scopeLogs: [{ scope: { name: SCOPE_NAME, version: '', attributes: [], droppedAttributesCount: 0 }, logRecords: records, schemaUrl: '' }],
    schemaUrl: '',
  };
}

/** Entries → one batch, grouped by resource (entries without resource share one group). */
export function entriesToBatch(entries: readonly Entry[], observed: Long, staticResource: KeyValue[] = []): LogsBatch {
  const groups = new Map<string, { res: KeyValue[]; recs: LogRecord[] }>();
  let plain: LogRecord[] | undefined;
  for (const e of entries) {
    const rec = entryToRecord(e, observed);
    let hasRes = false;
    for (const _ in e.resource) { hasRes = true; break; }
    if (!hasRes) {
      (plain ??= []).push(rec);
      continue;
    }
    const key = JSON.stringify(e.resource);
    let g = groups.get(key);
    if (!g) {
      g = { res: [...staticResource, ...keyValuesFrom(e.resource)], recs: [] };
      groups.set(key, g);
    }
    g.recs.push(rec);
  }
  const out: ResourceLogs[] = [];
  if (plain) out.push(resourceLogsOf(plain, staticResource));
  for (const g of groups.values()) out.push(resourceLogsOf(g.recs, g.res));
  return { resourceLogs: out, recordCount: entries.length, receivedAt: performance.now() };
}

export function batchOf(records: LogRecord[], resource: KeyValue[] = []): LogsBatch {
  return { resourceLogs: [resourceLogsOf(records, resource)], recordCount: records.length, receivedAt: performance.now() };
}

export function kv(key: string, value: unknown): KeyValue {
  return { key, value: anyValueFrom(value) };
}
