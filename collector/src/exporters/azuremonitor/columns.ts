/**
 * The configurable column mapping of the azuremonitor exporter: each DCR stream column is filled from a
 * "source" of the record. Sources are parsed once at config time into getters (no parsing per record).
 */
import Long from 'long';
import {
  anyValueAsString,
  findAttribute,
  idToHex,
  isEmptyId,
  isZeroNanos,
  nanosToSecondsAndNanos,
  type AnyValue,
  type KeyValue,
  type LogRecord,
  type ResourceLogs,
  type ScopeLogs,
} from '@tributary/otlp';

/** The default mapping (README "Columns"). */
export const DEFAULT_COLUMNS: Record<string, string> = {
  TimeGenerated: 'time',
  ObservedTime: 'observed_time',
  SeverityText: 'severity_text',
  SeverityNumber: 'severity_number',
  Body: 'body',
  TraceId: 'trace_id',
  SpanId: 'span_id',
  TraceFlags: 'flags',
  EventName: 'event_name',
  ServiceName: 'resource.attributes["service.name"]',
  ScopeName: 'scope.name',
  ScopeVersion: 'scope.version',
  Attributes: 'attributes',
  ResourceAttributes: 'resource.attributes',
  RetentionClass: 'attributes["retention.class"]',
  RetentionDays: 'attributes["retention.days"]',
};

/** What a getter sees: the record and its resource/scope, plus "now" for the time fallback. */
export interface RecordContext {
  rl: ResourceLogs;
  sl: ScopeLogs;
  r: LogRecord;
  now: Long;
}

/** A JSON value for a column; undefined = leave the column out (null in the table). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type ColumnGetter = (c: RecordContext) => JsonValue | undefined;

/** An AnyValue as a JSON value for a `dynamic` column: int64 as a number when safe (else a string), bytes as base64. */
export function anyValueToJson(v: AnyValue | null | undefined): JsonValue {
  if (v == null) return null;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) {
    if (typeof v.intValue === 'number') return v.intValue;
    const n = v.intValue.toNumber();
    return Number.isSafeInteger(n) ? n : v.intValue.toString();
  }
  if (v.doubleValue != null) return Number.isFinite(v.doubleValue) ? v.doubleValue : String(v.doubleValue);
  if (v.kvlistValue != null) return keyValuesToJson(v.kvlistValue.values);
  if (v.arrayValue != null) return v.arrayValue.values.map(anyValueToJson);
  if (v.bytesValue != null) return Buffer.from(v.bytesValue.buffer, v.bytesValue.byteOffset, v.bytesValue.byteLength).toString('base64');
  return null;
}

export function keyValuesToJson(kvs: readonly KeyValue[] | null | undefined): { [k: string]: JsonValue } {
  const out: { [k: string]: JsonValue } = {};
  if (kvs != null) for (let i = 0; i < kvs.length; i++) out[kvs[i]!.key] = anyValueToJson(kvs[i]!.value);
  return out;
}

/** ISO 8601 UTC with 7 fractional digits (100 ns ticks: the resolution of Azure's datetime). */
export function azureTime(t: Long): string {
  const { seconds, nanos } = nanosToSecondsAndNanos(t);
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(Math.floor(nanos / 100)).padStart(7, '0')}Z`;
}

const time: ColumnGetter = (c) =>
  azureTime(!isZeroNanos(c.r.timeUnixNano) ? c.r.timeUnixNano : !isZeroNanos(c.r.observedTimeUnixNano) ? c.r.observedTimeUnixNano : c.now);

const FIXED: Record<string, ColumnGetter> = {
  time,
  observed_time: (c) => (isZeroNanos(c.r.observedTimeUnixNano) ? undefined : azureTime(c.r.observedTimeUnixNano)),
  body: (c) => anyValueAsString(c.r.body),
  body_raw: (c) => (c.r.body == null ? undefined : anyValueToJson(c.r.body)),
  severity_text: (c) => c.r.severityText,
  severity_number: (c) => c.r.severityNumber,
  trace_id: (c) => (isEmptyId(c.r.traceId) ? undefined : idToHex(c.r.traceId)),
  span_id: (c) => (isEmptyId(c.r.spanId) ? undefined : idToHex(c.r.spanId)),
  flags: (c) => c.r.flags,
  event_name: (c) => (c.r.eventName ? c.r.eventName : undefined),
  attributes: (c) => keyValuesToJson(c.r.attributes),
  'resource.attributes': (c) => keyValuesToJson(c.rl.resource?.attributes),
  'scope.attributes': (c) => keyValuesToJson(c.sl.scope?.attributes),
  'scope.name': (c) => c.sl.scope?.name || undefined,
  'scope.version': (c) => c.sl.scope?.version || undefined,
  'resource.schema_url': (c) => c.rl.schemaUrl || undefined,
};

export const COLUMN_SOURCES = [...Object.keys(FIXED), 'attributes["<key>"]', 'resource.attributes["<key>"]', 'scope.attributes["<key>"]'];

const KEYED = /^(attributes|resource\.attributes|scope\.attributes)\["((?:[^"\\]|\\.)*)"\]$/;

/** Parses a source string; `error` says why it is not one. */
export function parseColumnSource(src: string): { getter?: ColumnGetter; error?: string } {
  const fixed = FIXED[src];
  if (fixed) return { getter: fixed };
  const m = KEYED.exec(src);
  if (m) {
    const key = JSON.parse(`"${m[2]!}"`) as string;
    const v = (kvs: readonly KeyValue[] | null | undefined): JsonValue | undefined => {
      const a = findAttribute(kvs, key);
      return a == null ? undefined : anyValueToJson(a);
    };
    if (m[1] === 'attributes') return { getter: (c) => v(c.r.attributes) };
    if (m[1] === 'resource.attributes') return { getter: (c) => v(c.rl.resource?.attributes) };
    return { getter: (c) => v(c.sl.scope?.attributes) };
  }
  return { error: `unknown source ${JSON.stringify(src)} (one of ${COLUMN_SOURCES.join(', ')})` };
}

export interface CompiledColumn {
  /** `"Name":` pre-rendered. */
  prefix: string;
  get: ColumnGetter;
}

export function compileColumns(columns: Record<string, string>): CompiledColumn[] {
  return Object.entries(columns).map(([name, src]) => {
    const { getter, error } = parseColumnSource(src);
    if (!getter) throw new Error(`columns.${name}: ${error}`);
    return { prefix: `${JSON.stringify(name)}:`, get: getter };
  });
}
