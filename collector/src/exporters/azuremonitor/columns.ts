/**
 * The configurable column mapping of the azuremonitor exporter: each DCR stream column is filled from a
 * "source" of the record. Sources are parsed once at config time into getters (no parsing per record).
 */
import type Long from 'long';
import {
  anyValueAsString,
  findAttribute,
  isEmptyId,
  isZeroNanos,
  JsonByteWriter,
  type AnyValue,
  type KeyValue,
  type LogRecord,
  type ResourceLogs,
  type ScopeLogs,
} from '@tributary/otlp';
import { writeIsoNanos } from '../common/iso-time.js';

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
/**
 * Writes `head` (the pre-encoded `"Name":`) and the column's JSON value into `out`; false (nothing
 * written) when the column has no value. The hot path: rows are written as bytes, never as strings.
 */
export type ColumnWriter = (c: RecordContext, out: JsonByteWriter, head: Uint8Array) => boolean;
/** Where a column's value comes from: record-level columns are rendered per record, the others once per scope. */
export type ColumnLevel = 'record' | 'scope' | 'resource';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** For the string forms (tests, once-per-scope text): one writer reused, decoded at the end. */
const scratch = new JsonByteWriter(4096);
const NO_HEAD = new Uint8Array(0);

function scratchText(write: (out: JsonByteWriter) => void): string {
  scratch.reset();
  write(scratch);
  return scratch.bytes().toString('utf8');
}

/** An AnyValue as a JSON value for a `dynamic` column: int64 as a number when safe (else a string), bytes as base64. */
export function anyValueToJson(v: AnyValue | null | undefined): JsonValue {
  return JSON.parse(anyValueJsonText(v)) as JsonValue;
}

/** The JSON text of `anyValueToJson(v)`, written directly (no intermediate objects). */
export function anyValueJsonText(v: AnyValue | null | undefined): string {
  return scratchText((out) => writeAnyValueJson(out, v));
}

/** `anyValueJsonText` into a byte writer (the same bytes, UTF-8). */
export function writeAnyValueJson(out: JsonByteWriter, v: AnyValue | null | undefined): void {
  if (v == null) out.raw(K_NULL);
  else if (v.stringValue != null) out.string(v.stringValue);
  else if (v.boolValue != null) out.raw(v.boolValue ? K_TRUE : K_FALSE);
  else if (v.intValue != null) {
    if (typeof v.intValue === 'number') out.number(v.intValue);
    else {
      const n = v.intValue.toNumber();
      if (Number.isSafeInteger(n)) out.number(n);
      else {
        out.byte(0x22);
        out.ascii(v.intValue.toString());
        out.byte(0x22);
      }
    }
  } else if (v.doubleValue != null) {
    const d = v.doubleValue;
    if (Number.isFinite(d)) out.number(d);
    else out.raw(d > 0 ? K_INFINITY : d < 0 ? K_NEG_INFINITY : K_NAN);
  } else if (v.kvlistValue != null) writeKeyValuesJson(out, v.kvlistValue.values);
  else if (v.arrayValue != null) {
    const vs = v.arrayValue.values;
    out.byte(0x5b);
    for (let i = 0; i < vs.length; i++) {
      if (i) out.byte(0x2c);
      writeAnyValueJson(out, vs[i]);
    }
    out.byte(0x5d);
  } else if (v.bytesValue != null) {
    out.byte(0x22);
    out.base64(v.bytesValue);
    out.byte(0x22);
  } else out.raw(K_NULL);
}

/** A JSON object of key → anyValueJsonText (a later duplicate key wins when parsed, as with objects). */
export function keyValuesJsonText(kvs: readonly KeyValue[] | null | undefined): string {
  return scratchText((out) => writeKeyValuesJson(out, kvs));
}

function writeKeyValuesJson(out: JsonByteWriter, kvs: readonly KeyValue[] | null | undefined): void {
  out.byte(0x7b);
  if (kvs != null) {
    for (let i = 0; i < kvs.length; i++) {
      const kv = kvs[i]!;
      if (i) out.byte(0x2c);
      out.string(kv.key);
      out.byte(0x3a);
      writeAnyValueJson(out, kv.value);
    }
  }
  out.byte(0x7d);
}

const k = (s: string): Buffer => Buffer.from(s, 'latin1');
const K_NULL = k('null');
const K_TRUE = k('true');
const K_FALSE = k('false');
const K_INFINITY = k('"Infinity"');
const K_NEG_INFINITY = k('"-Infinity"');
const K_NAN = k('"NaN"');

/** ISO 8601 UTC with 7 fractional digits (100 ns ticks: the resolution of Azure's datetime). */
export function azureTime(t: Long): string {
  return scratchText((out) => writeAzureTime(out, t, false));
}

/** `azureTime(t)` into `out` (quoted when `quote`). */
function writeAzureTime(out: JsonByteWriter, t: Long, quote: boolean): void {
  writeIsoNanos(out, t, 7, quote);
}

function writeQuotedHex(out: JsonByteWriter, id: Uint8Array): void {
  out.byte(0x22);
  out.hex(id);
  out.byte(0x22);
}

/** Strings columns (JSON.stringify of them) and the `body` column. */
function writeString(out: JsonByteWriter, head: Uint8Array, s: string): true {
  out.raw(head);
  out.string(s);
  return true;
}

/** A fixed source: its byte writer and level. */
interface Fixed {
  write: ColumnWriter;
  level: ColumnLevel;
}

const FIXED: Record<string, Fixed> = {
  time: {
    write: (c, out, head) => {
      const r = c.r;
      out.raw(head);
      writeAzureTime(out, !isZeroNanos(r.timeUnixNano) ? r.timeUnixNano : !isZeroNanos(r.observedTimeUnixNano) ? r.observedTimeUnixNano : c.now, true);
      return true;
    },
    level: 'record',
  },
  observed_time: {
    write: (c, out, head) => {
      if (isZeroNanos(c.r.observedTimeUnixNano)) return false;
      out.raw(head);
      writeAzureTime(out, c.r.observedTimeUnixNano, true);
      return true;
    },
    level: 'record',
  },
  body: {
    write: (c, out, head) => {
      const b = c.r.body;
      return writeString(out, head, b != null && b.stringValue != null ? b.stringValue : anyValueAsString(b));
    },
    level: 'record',
  },
  body_raw: {
    write: (c, out, head) => {
      if (c.r.body == null) return false;
      out.raw(head);
      writeAnyValueJson(out, c.r.body);
      return true;
    },
    level: 'record',
  },
  severity_text: { write: (c, out, head) => writeString(out, head, c.r.severityText ?? ''), level: 'record' },
  severity_number: {
    write: (c, out, head) => {
      out.raw(head);
      out.number(c.r.severityNumber);
      return true;
    },
    level: 'record',
  },
  trace_id: {
    write: (c, out, head) => {
      if (isEmptyId(c.r.traceId)) return false;
      out.raw(head);
      writeQuotedHex(out, c.r.traceId);
      return true;
    },
    level: 'record',
  },
  span_id: {
    write: (c, out, head) => {
      if (isEmptyId(c.r.spanId)) return false;
      out.raw(head);
      writeQuotedHex(out, c.r.spanId);
      return true;
    },
    level: 'record',
  },
  flags: {
    write: (c, out, head) => {
      out.raw(head);
      out.number(c.r.flags);
      return true;
    },
    level: 'record',
  },
  event_name: { write: (c, out, head) => (c.r.eventName ? writeString(out, head, c.r.eventName) : false), level: 'record' },
  attributes: {
    write: (c, out, head) => {
      out.raw(head);
      writeKeyValuesJson(out, c.r.attributes);
      return true;
    },
    level: 'record',
  },
  'resource.attributes': {
    write: (c, out, head) => {
      out.raw(head);
      writeKeyValuesJson(out, c.rl.resource?.attributes);
      return true;
    },
    level: 'resource',
  },
  'resource.schema_url': { write: (c, out, head) => (c.rl.schemaUrl ? writeString(out, head, c.rl.schemaUrl) : false), level: 'resource' },
  'scope.attributes': {
    write: (c, out, head) => {
      out.raw(head);
      writeKeyValuesJson(out, c.sl.scope?.attributes);
      return true;
    },
    level: 'scope',
  },
  'scope.name': { write: (c, out, head) => (c.sl.scope?.name ? writeString(out, head, c.sl.scope.name) : false), level: 'scope' },
  'scope.version': { write: (c, out, head) => (c.sl.scope?.version ? writeString(out, head, c.sl.scope.version) : false), level: 'scope' },
};

export const COLUMN_SOURCES = [...Object.keys(FIXED), 'attributes["<key>"]', 'resource.attributes["<key>"]', 'scope.attributes["<key>"]'];

const KEYED = /^(attributes|resource\.attributes|scope\.attributes)\["((?:[^"\\]|\\.)*)"\]$/;

/** The string form of a byte writer (what `CompiledColumn.get` returns). */
function getterOf(write: ColumnWriter): ColumnGetter {
  return (c) => {
    scratch.reset();
    return write(c, scratch, NO_HEAD) ? scratch.bytes().toString('utf8') : undefined;
  };
}

function keyedWriter(key: string, of: (c: RecordContext) => readonly KeyValue[] | null | undefined): ColumnWriter {
  return (c, out, head) => {
    const a = findAttribute(of(c), key);
    if (a == null) return false;
    out.raw(head);
    writeAnyValueJson(out, a);
    return true;
  };
}

/** Parses a source string into its writer; `error` says why it is not one. */
function parseColumnWriter(src: string): { writer?: ColumnWriter; level?: ColumnLevel; error?: string } {
  const fixed = FIXED[src];
  if (fixed) return { writer: fixed.write, level: fixed.level };
  const m = KEYED.exec(src);
  if (m) {
    const key = JSON.parse(`"${m[2]!}"`) as string;
    if (m[1] === 'attributes') return { writer: keyedWriter(key, (c) => c.r.attributes), level: 'record' };
    if (m[1] === 'resource.attributes') return { writer: keyedWriter(key, (c) => c.rl.resource?.attributes), level: 'resource' };
    return { writer: keyedWriter(key, (c) => c.sl.scope?.attributes), level: 'scope' };
  }
  return { error: `unknown source ${JSON.stringify(src)} (one of ${COLUMN_SOURCES.join(', ')})` };
}

/** Parses a source string; `error` says why it is not one. */
export function parseColumnSource(src: string): { getter?: ColumnGetter; level?: ColumnLevel; error?: string } {
  const { writer, level, error } = parseColumnWriter(src);
  return writer ? { getter: getterOf(writer), level: level! } : { error: error! };
}

export interface CompiledColumn {
  /** `"Name":` pre-rendered. */
  prefix: string;
  /** `"Name":` and `,"Name":` as UTF-8 (the writer's head, first column or not). */
  head: Uint8Array;
  commaHead: Uint8Array;
  get: ColumnGetter;
  write: ColumnWriter;
  level: ColumnLevel;
}

export function compileColumns(columns: Record<string, string>): CompiledColumn[] {
  return Object.entries(columns).map(([name, src]) => {
    const { writer, level, error } = parseColumnWriter(src);
    if (!writer || !level) throw new Error(`columns.${name}: ${error}`);
    const prefix = `${JSON.stringify(name)}:`;
    return { prefix, head: Buffer.from(prefix, 'utf8'), commaHead: Buffer.from(`,${prefix}`, 'utf8'), get: getterOf(writer), write: writer, level };
  });
}
