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
  nanosToDecimal,
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

/** A column's value as JSON text; undefined = leave the column out (null in the table). */
export type ColumnGetter = (c: RecordContext) => string | undefined;
/** Where a column's value comes from: record-level columns are rendered per record, the others once per scope. */
export type ColumnLevel = 'record' | 'scope' | 'resource';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** An AnyValue as a JSON value for a `dynamic` column: int64 as a number when safe (else a string), bytes as base64. */
export function anyValueToJson(v: AnyValue | null | undefined): JsonValue {
  return JSON.parse(anyValueJsonText(v)) as JsonValue;
}

/** The JSON text of `anyValueToJson(v)`, written directly (no intermediate objects). */
export function anyValueJsonText(v: AnyValue | null | undefined): string {
  if (v == null) return 'null';
  if (v.stringValue != null) return JSON.stringify(v.stringValue);
  if (v.boolValue != null) return v.boolValue ? 'true' : 'false';
  if (v.intValue != null) {
    if (typeof v.intValue === 'number') return String(v.intValue);
    const n = v.intValue.toNumber();
    return Number.isSafeInteger(n) ? String(n) : `"${v.intValue.toString()}"`;
  }
  if (v.doubleValue != null) return Number.isFinite(v.doubleValue) ? String(v.doubleValue) : `"${String(v.doubleValue)}"`;
  if (v.kvlistValue != null) return keyValuesJsonText(v.kvlistValue.values);
  if (v.arrayValue != null) {
    const vs = v.arrayValue.values;
    let s = '[';
    for (let i = 0; i < vs.length; i++) s += (i ? ',' : '') + anyValueJsonText(vs[i]);
    return s + ']';
  }
  if (v.bytesValue != null) return `"${Buffer.from(v.bytesValue.buffer, v.bytesValue.byteOffset, v.bytesValue.byteLength).toString('base64')}"`;
  return 'null';
}

/** A JSON object of key → anyValueJsonText (a later duplicate key wins when parsed, as with objects). */
export function keyValuesJsonText(kvs: readonly KeyValue[] | null | undefined): string {
  if (kvs == null || kvs.length === 0) return '{}';
  let s = '{';
  for (let i = 0; i < kvs.length; i++) s += (i ? ',' : '') + JSON.stringify(kvs[i]!.key) + ':' + anyValueJsonText(kvs[i]!.value);
  return s + '}';
}

/** ISO 8601 UTC with 7 fractional digits (100 ns ticks: the resolution of Azure's datetime). */
export function azureTime(t: Long): string {
  const d = nanosToDecimal(t).padStart(10, '0');
  const seconds = d.slice(0, -9);
  // Records of a batch mostly share their second: render the date part once per second.
  if (seconds !== lastSeconds) {
    lastSeconds = seconds;
    lastPrefix = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  }
  return `${lastPrefix}.${d.slice(-9, -2)}Z`;
}
let lastSeconds = '';
let lastPrefix = '';

const q = JSON.stringify;

const time: ColumnGetter = (c) =>
  `"${azureTime(!isZeroNanos(c.r.timeUnixNano) ? c.r.timeUnixNano : !isZeroNanos(c.r.observedTimeUnixNano) ? c.r.observedTimeUnixNano : c.now)}"`;

const FIXED: Record<string, { get: ColumnGetter; level: ColumnLevel }> = {
  time: { get: time, level: 'record' },
  observed_time: { get: (c) => (isZeroNanos(c.r.observedTimeUnixNano) ? undefined : `"${azureTime(c.r.observedTimeUnixNano)}"`), level: 'record' },
  body: { get: (c) => q(anyValueAsString(c.r.body)), level: 'record' },
  body_raw: { get: (c) => (c.r.body == null ? undefined : anyValueJsonText(c.r.body)), level: 'record' },
  severity_text: { get: (c) => q(c.r.severityText ?? ''), level: 'record' },
  severity_number: { get: (c) => String(c.r.severityNumber), level: 'record' },
  trace_id: { get: (c) => (isEmptyId(c.r.traceId) ? undefined : `"${idToHex(c.r.traceId)}"`), level: 'record' },
  span_id: { get: (c) => (isEmptyId(c.r.spanId) ? undefined : `"${idToHex(c.r.spanId)}"`), level: 'record' },
  flags: { get: (c) => String(c.r.flags), level: 'record' },
  event_name: { get: (c) => (c.r.eventName ? q(c.r.eventName) : undefined), level: 'record' },
  attributes: { get: (c) => keyValuesJsonText(c.r.attributes), level: 'record' },
  'resource.attributes': { get: (c) => keyValuesJsonText(c.rl.resource?.attributes), level: 'resource' },
  'resource.schema_url': { get: (c) => (c.rl.schemaUrl ? q(c.rl.schemaUrl) : undefined), level: 'resource' },
  'scope.attributes': { get: (c) => keyValuesJsonText(c.sl.scope?.attributes), level: 'scope' },
  'scope.name': { get: (c) => (c.sl.scope?.name ? q(c.sl.scope.name) : undefined), level: 'scope' },
  'scope.version': { get: (c) => (c.sl.scope?.version ? q(c.sl.scope.version) : undefined), level: 'scope' },
};

export const COLUMN_SOURCES = [...Object.keys(FIXED), 'attributes["<key>"]', 'resource.attributes["<key>"]', 'scope.attributes["<key>"]'];

const KEYED = /^(attributes|resource\.attributes|scope\.attributes)\["((?:[^"\\]|\\.)*)"\]$/;

/** Parses a source string; `error` says why it is not one. */
export function parseColumnSource(src: string): { getter?: ColumnGetter; level?: ColumnLevel; error?: string } {
  const fixed = FIXED[src];
  if (fixed) return { getter: fixed.get, level: fixed.level };
  const m = KEYED.exec(src);
  if (m) {
    const key = JSON.parse(`"${m[2]!}"`) as string;
    const v = (kvs: readonly KeyValue[] | null | undefined): string | undefined => {
      const a = findAttribute(kvs, key);
      return a == null ? undefined : anyValueJsonText(a);
    };
    if (m[1] === 'attributes') return { getter: (c) => v(c.r.attributes), level: 'record' };
    if (m[1] === 'resource.attributes') return { getter: (c) => v(c.rl.resource?.attributes), level: 'resource' };
    return { getter: (c) => v(c.sl.scope?.attributes), level: 'scope' };
  }
  return { error: `unknown source ${JSON.stringify(src)} (one of ${COLUMN_SOURCES.join(', ')})` };
}

export interface CompiledColumn {
  /** `"Name":` pre-rendered. */
  prefix: string;
  get: ColumnGetter;
  level: ColumnLevel;
}

export function compileColumns(columns: Record<string, string>): CompiledColumn[] {
  return Object.entries(columns).map(([name, src]) => {
    const { getter, level, error } = parseColumnSource(src);
    if (!getter || !level) throw new Error(`columns.${name}: ${error}`);
    return { prefix: `${JSON.stringify(name)}:`, get: getter, level };
  });
}
