/**
 * `convert` for ClickHouse: the OTLP record model → a `JSONEachRow` body for one `INSERT` (as upstream:
 * one INSERT per pushed batch). Pure: the only outside input, "now" for records with no timestamp, is a
 * parameter.
 *
 * Work that depends only on the resource or scope (ServiceName, schema URLs, scope name/version, the
 * resource and scope attribute maps) is rendered once per ResourceLogs / ScopeLogs into a JSON fragment
 * that every row of that scope reuses (pino-style hot path).
 */
import Long from 'long';
import {
  anyValueAsString,
  findAttribute,
  idToHex,
  isEmptyId,
  isZeroNanos,
  nanosToDecimal,
  type KeyValue,
  type LogRecord,
  type ResourceLogs,
} from '@tributary/otlp';

/** `modern`: the upstream `otel_logs` table (Map, DateTime64(9)). `legacy`: old servers (no Map, no DateTime64). */
export type ClickHouseLayout = 'modern' | 'legacy';

export const RETENTION_CLASS_ATTRIBUTE = 'retention.class';
export const RETENTION_DAYS_ATTRIBUTE = 'retention.days';

/** `retention.days` as an Int32 column value: the tag when it is an int (or a numeric string), else 0 (untagged). */
export function retentionDaysOf(attributes: readonly KeyValue[]): number {
  const v = findAttribute(attributes, RETENTION_DAYS_ATTRIBUTE);
  if (v == null) return 0;
  let n: number;
  if (v.intValue != null) n = typeof v.intValue === 'number' ? v.intValue : v.intValue.toNumber();
  else if (v.doubleValue != null) n = v.doubleValue;
  else if (v.stringValue != null && /^-?\d+$/.test(v.stringValue)) n = Number(v.stringValue);
  else return 0;
  if (!Number.isFinite(n)) return 0;
  n = Math.trunc(n);
  if (n < 0) return -1;
  return Math.min(n, 2_147_483_647);
}

function retentionClassOf(attributes: readonly KeyValue[]): string {
  const v = findAttribute(attributes, RETENTION_CLASS_ATTRIBUTE);
  return v == null ? '' : anyValueAsString(v);
}

const q = JSON.stringify;

/** `{"k":"AsString(v)",…}` — a Map(LowCardinality(String), String) value. */
function mapJson(kvs: readonly KeyValue[] | null | undefined): string {
  if (kvs == null || kvs.length === 0) return '{}';
  let s = '{';
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i]!;
    if (i > 0) s += ',';
    s += q(kv.key) + ':' + q(anyValueAsString(kv.value));
  }
  return s + '}';
}

/** `"Name.Key":[…],"Name.Value":[…]` — a Nested(Key String, Value String) value (legacy layout). */
function nestedJson(name: string, kvs: readonly KeyValue[] | null | undefined): string {
  let keys = '[';
  let values = '[';
  if (kvs != null) {
    for (let i = 0; i < kvs.length; i++) {
      const kv = kvs[i]!;
      if (i > 0) {
        keys += ',';
        values += ',';
      }
      keys += q(kv.key);
      values += q(anyValueAsString(kv.value));
    }
  }
  return `"${name}.Key":${keys}],"${name}.Value":${values}]`;
}

function hexOrEmpty(id: Uint8Array | null | undefined): string {
  return id == null || isEmptyId(id) ? '' : idToHex(id);
}

/** The record's time: time_unix_nano, else observed_time_unix_nano, else `now`. */
function recordTime(r: LogRecord, now: Long): Long {
  if (!isZeroNanos(r.timeUnixNano)) return r.timeUnixNano;
  if (!isZeroNanos(r.observedTimeUnixNano)) return r.observedTimeUnixNano;
  return now;
}

/** A DateTime64(9) value as `<seconds>.<9-digit nanos>` (time-zone independent). */
export function dateTime64Text(t: Long): string {
  const d = nanosToDecimal(t);
  return d.length > 9 ? `${d.slice(0, -9)}.${d.slice(-9)}` : `0.${d.padStart(9, '0')}`;
}

/** Legacy columns: `"TimestampTime":<seconds>,"TimestampUnixNano":<nanos>` from one decimal rendering. */
function legacyTimeJson(t: Long): string {
  const d = nanosToDecimal(t);
  return `{"TimestampTime":${d.length > 9 ? d.slice(0, -9) : '0'},"TimestampUnixNano":${d}`;
}

/**
 * The JSONEachRow body (one row per line, `\n`-terminated) for `INSERT INTO <db>.<table> FORMAT JSONEachRow`.
 *
 * Modern columns: Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, Body, EventName,
 * LogAttributes, RetentionClass, RetentionDays, ServiceName, ResourceSchemaUrl, ResourceAttributes,
 * ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes (TimestampTime is the table's DEFAULT).
 * Legacy: Timestamp is replaced by TimestampTime (DateTime, seconds) + TimestampUnixNano (UInt64), and the
 * three maps are Nested(Key, Value) columns.
 */
export function convertToClickHouseRows(resourceLogs: readonly ResourceLogs[], layout: ClickHouseLayout, now: Long): string {
  const legacy = layout === 'legacy';
  let out = '';
  for (let i = 0; i < resourceLogs.length; i++) {
    const rl = resourceLogs[i]!;
    const resAttrs = rl.resource?.attributes;
    // ServiceName is taken per ResourceLogs (upstream's carry-over across ResourceLogs is a bug; not copied).
    const service = findAttribute(resAttrs, 'service.name');
    const resourcePart =
      `,"ServiceName":${q(service == null ? '' : anyValueAsString(service))},"ResourceSchemaUrl":${q(rl.schemaUrl ?? '')},` +
      (legacy ? nestedJson('ResourceAttributes', resAttrs) : `"ResourceAttributes":${mapJson(resAttrs)}`);
    for (let j = 0; j < rl.scopeLogs.length; j++) {
      const sl = rl.scopeLogs[j]!;
      const scope = sl.scope;
      const tail =
        resourcePart +
        `,"ScopeSchemaUrl":${q(sl.schemaUrl ?? '')},"ScopeName":${q(scope?.name ?? '')},"ScopeVersion":${q(scope?.version ?? '')},` +
        (legacy ? nestedJson('ScopeAttributes', scope?.attributes) : `"ScopeAttributes":${mapJson(scope?.attributes)}`) +
        '}\n';
      const records = sl.logRecords;
      for (let k = 0; k < records.length; k++) {
        const r = records[k]!;
        const t = recordTime(r, now);
        const attrs = r.attributes;
        out +=
          (legacy
            ? legacyTimeJson(t)
            : `{"Timestamp":"${dateTime64Text(t)}"`) +
          `,"TraceId":"${hexOrEmpty(r.traceId)}","SpanId":"${hexOrEmpty(r.spanId)}","TraceFlags":${r.flags & 0xff}` +
          `,"SeverityText":${q(r.severityText ?? '')},"SeverityNumber":${r.severityNumber & 0xff}` +
          `,"Body":${q(anyValueAsString(r.body))},"EventName":${q(r.eventName ?? '')},` +
          (legacy ? nestedJson('LogAttributes', attrs) : `"LogAttributes":${mapJson(attrs)}`) +
          `,"RetentionClass":${q(retentionClassOf(attrs))},"RetentionDays":${retentionDaysOf(attrs)}` +
          tail;
      }
    }
  }
  return out;
}
