/**
 * OTLP/JSON codec (OTLP specification, "JSON Protobuf Encoding"): lowerCamelCase keys, trace/span IDs as
 * hex, enums as integers, 64-bit integers as decimal strings (numbers accepted on input), bytes as
 * base64, default values omitted. The decoder also accepts the proto field names (snake_case) and enum
 * names, as the OpenTelemetry Collector does, and ignores unknown fields.
 */
import { isUtf8 } from 'node:buffer';
import Long from 'long';
import { countInvalidUtf8 } from './protobuf-codec.js';
import { nanosFromDecimal, nanosToDecimal, ZERO_NANOS } from './time.js';
import { EMPTY_ID, idFromHex, SPAN_ID_BYTES, TRACE_ID_BYTES } from './ids.js';
import { SeverityNumber } from './model.js';
import type {
  AnyValue, ExportLogsServiceRequest, ExportLogsServiceResponse, InstrumentationScope, KeyValue, LogRecord,
  Resource, ResourceLogs, ScopeLogs,
} from './model.js';

// ---------------------------------------------------------------- encoding

const str = JSON.stringify;

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function encodeDouble(d: number): string {
  if (Number.isFinite(d)) return String(d);
  return d > 0 ? '"Infinity"' : d < 0 ? '"-Infinity"' : '"NaN"';
}

function encodeInt64(v: Long | number): string {
  return typeof v === 'number' ? `"${Math.trunc(v)}"` : `"${v.toString()}"`;
}

export function encodeAnyValueJson(v: AnyValue | null | undefined): string {
  if (v == null) return '{}';
  if (v.stringValue != null) return `{"stringValue":${str(v.stringValue)}}`;
  if (v.boolValue != null) return v.boolValue ? '{"boolValue":true}' : '{"boolValue":false}';
  if (v.intValue != null) return `{"intValue":${encodeInt64(v.intValue)}}`;
  if (v.doubleValue != null) return `{"doubleValue":${encodeDouble(v.doubleValue)}}`;
  if (v.kvlistValue != null) return `{"kvlistValue":{"values":${encodeKeyValuesJson(v.kvlistValue.values)}}}`;
  if (v.arrayValue != null) {
    const vals = v.arrayValue.values;
    let s = '{"arrayValue":{"values":[';
    for (let i = 0; i < vals.length; i++) s += (i ? ',' : '') + encodeAnyValueJson(vals[i]);
    return s + ']}}';
  }
  if (v.bytesValue != null) return `{"bytesValue":"${b64(v.bytesValue)}"}`;
  return '{}';
}

export function encodeKeyValuesJson(kvs: readonly KeyValue[]): string {
  let s = '[';
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i]!;
    s += (i ? ',{"key":' : '{"key":') + str(kv.key) + ',"value":' + encodeAnyValueJson(kv.value) + '}';
  }
  return s + ']';
}

function encodeLogRecordJson(r: LogRecord): string {
  let s = '{';
  let sep = '';
  if (r.timeUnixNano && (r.timeUnixNano.low | r.timeUnixNano.high)) { s += `"timeUnixNano":"${nanosToDecimal(r.timeUnixNano)}"`; sep = ','; }
  if (r.observedTimeUnixNano && (r.observedTimeUnixNano.low | r.observedTimeUnixNano.high)) {
    s += `${sep}"observedTimeUnixNano":"${nanosToDecimal(r.observedTimeUnixNano)}"`; sep = ',';
  }
  if (r.severityNumber) { s += `${sep}"severityNumber":${r.severityNumber}`; sep = ','; }
  if (r.severityText) { s += `${sep}"severityText":${str(r.severityText)}`; sep = ','; }
  if (r.body != null) { s += `${sep}"body":${encodeAnyValueJson(r.body)}`; sep = ','; }
  if (r.attributes && r.attributes.length) { s += `${sep}"attributes":${encodeKeyValuesJson(r.attributes)}`; sep = ','; }
  if (r.droppedAttributesCount) { s += `${sep}"droppedAttributesCount":${r.droppedAttributesCount}`; sep = ','; }
  if (r.flags) { s += `${sep}"flags":${r.flags >>> 0}`; sep = ','; }
  if (r.traceId && r.traceId.length) { s += `${sep}"traceId":"${hex(r.traceId)}"`; sep = ','; }
  if (r.spanId && r.spanId.length) { s += `${sep}"spanId":"${hex(r.spanId)}"`; sep = ','; }
  if (r.eventName) { s += `${sep}"eventName":${str(r.eventName)}`; }
  return s + '}';
}

function encodeAttributeHolder(attrs: readonly KeyValue[] | undefined, dropped: number | undefined): string {
  let s = '';
  if (attrs && attrs.length) s += `"attributes":${encodeKeyValuesJson(attrs)}`;
  if (dropped) s += `${s ? ',' : ''}"droppedAttributesCount":${dropped}`;
  return s;
}

function encodeScopeJson(sc: InstrumentationScope): string {
  let s = '{';
  let sep = '';
  if (sc.name) { s += `"name":${str(sc.name)}`; sep = ','; }
  if (sc.version) { s += `${sep}"version":${str(sc.version)}`; sep = ','; }
  const rest = encodeAttributeHolder(sc.attributes, sc.droppedAttributesCount);
  if (rest) s += sep + rest;
  return s + '}';
}

/** One ResourceLogs as OTLP/JSON. */
export function encodeResourceLogsJson(rl: ResourceLogs): string {
  let s = '{';
  let sep = '';
  if (rl.resource != null) { s += `"resource":{${encodeAttributeHolder(rl.resource.attributes, rl.resource.droppedAttributesCount)}}`; sep = ','; }
  s += `${sep}"scopeLogs":[`;
  const sls = rl.scopeLogs;
  for (let i = 0; i < sls.length; i++) {
    const sl = sls[i]!;
    s += i ? ',{' : '{';
    let sep2 = '';
    if (sl.scope != null) { s += `"scope":${encodeScopeJson(sl.scope)}`; sep2 = ','; }
    s += `${sep2}"logRecords":[`;
    const recs = sl.logRecords;
    for (let j = 0; j < recs.length; j++) s += (j ? ',' : '') + encodeLogRecordJson(recs[j]!);
    s += ']';
    if (sl.schemaUrl) s += `,"schemaUrl":${str(sl.schemaUrl)}`;
    s += '}';
  }
  s += ']';
  if (rl.schemaUrl) s += `,"schemaUrl":${str(rl.schemaUrl)}`;
  return s + '}';
}

/** An ExportLogsServiceRequest as one line of OTLP/JSON (no newlines inside). */
export function encodeExportRequestJson(req: ExportLogsServiceRequest): string {
  return encodeResourceLogsArrayJson(req.resourceLogs);
}

export function encodeResourceLogsArrayJson(rls: readonly ResourceLogs[]): string {
  let s = '{"resourceLogs":[';
  for (let i = 0; i < rls.length; i++) s += (i ? ',' : '') + encodeResourceLogsJson(rls[i]!);
  return s + ']}';
}

export function encodeExportResponseJson(res: ExportLogsServiceResponse): string {
  const ps = res.partialSuccess;
  if (ps == null) return '{}';
  const rejected = typeof ps.rejectedLogRecords === 'number' ? ps.rejectedLogRecords : ps.rejectedLogRecords.toString();
  let s = '{"partialSuccess":{';
  if (rejected && rejected !== '0') s += `"rejectedLogRecords":"${rejected}"`;
  if (ps.errorMessage) s += `${rejected && rejected !== '0' ? ',' : ''}"errorMessage":${str(ps.errorMessage)}`;
  return s + '}}';
}

// ---------------------------------------------------------------- decoding

/** Malformed OTLP/JSON: `path` is a JSONPath-like location (`resourceLogs[0].scopeLogs[1]...`). */
export class OtlpJsonError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'OtlpJsonError';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function field(o: JsonObject, camel: string, snake: string): Json | undefined {
  const v = o[camel];
  return v === undefined ? o[snake] : v;
}

function asObject(v: Json | undefined, path: string): JsonObject | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new OtlpJsonError(path, 'must be an object');
  return v;
}

function asArray(v: Json | undefined, path: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpJsonError(path, 'must be an array');
  return v;
}

function asString(v: Json | undefined, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new OtlpJsonError(path, 'must be a string');
  return v;
}

function asUint32(v: Json | undefined, path: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new OtlpJsonError(path, 'must be an unsigned 32-bit integer');
  return n;
}

function asNanos(v: Json | undefined, path: string): Long {
  if (v === undefined || v === null) return ZERO_NANOS;
  if (typeof v !== 'string' && typeof v !== 'number') throw new OtlpJsonError(path, 'must be a decimal string or number of nanoseconds');
  try {
    return nanosFromDecimal(v);
  } catch (e) {
    throw new OtlpJsonError(path, (e as Error).message);
  }
}

function asInt64(v: Json | undefined, path: string): Long {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new OtlpJsonError(path, 'must be an integer');
    return Long.fromNumber(v);
  }
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) {
    const l = Long.fromString(v);
    if (l.toString() !== v.replace(/^(-?)0+(?=\d)/, '$1')) throw new OtlpJsonError(path, 'overflows 64 bits');
    return l;
  }
  throw new OtlpJsonError(path, 'must be a 64-bit integer (decimal string or number)');
}

function asDouble(v: Json | undefined, path: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new OtlpJsonError(path, 'must be a number');
}

function asBytes(v: Json | undefined, path: string): Uint8Array {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw new OtlpJsonError(path, 'must be a base64 string');
  return Buffer.from(v, 'base64');
}

function asId(v: Json | undefined, bytes: number, path: string): Uint8Array {
  if (v === undefined || v === null || v === '') return EMPTY_ID;
  if (typeof v !== 'string') throw new OtlpJsonError(path, 'must be a hex string');
  try {
    return idFromHex(v, bytes);
  } catch (e) {
    throw new OtlpJsonError(path, (e as Error).message);
  }
}

const SEVERITY_BY_NAME = new Map<string, number>(
  Object.entries(SeverityNumber).map(([k, n]) => [`SEVERITY_NUMBER_${k}`, n]),
);

function asSeverity(v: Json | undefined, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'string') {
    const n = SEVERITY_BY_NAME.get(v);
    if (n !== undefined) return n;
    if (/^\d+$/.test(v)) return Number(v);
    throw new OtlpJsonError(path, `unknown severity "${v}"`);
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new OtlpJsonError(path, 'must be an integer enum value');
  return v;
}

const MAX_DEPTH = 100;

function decodeAnyValue(v: Json | undefined, path: string, depth: number): AnyValue | null {
  if (v === undefined || v === null) return null;
  if (depth > MAX_DEPTH) throw new OtlpJsonError(path, `nesting deeper than ${MAX_DEPTH}`);
  const o = asObject(v, path)!;
  let x: Json | undefined;
  if ((x = field(o, 'stringValue', 'string_value')) !== undefined) return { stringValue: asString(x, `${path}.stringValue`) };
  if ((x = field(o, 'boolValue', 'bool_value')) !== undefined) {
    if (typeof x !== 'boolean') throw new OtlpJsonError(`${path}.boolValue`, 'must be a boolean');
    return { boolValue: x };
  }
  if ((x = field(o, 'intValue', 'int_value')) !== undefined) return { intValue: asInt64(x, `${path}.intValue`) };
  if ((x = field(o, 'doubleValue', 'double_value')) !== undefined) return { doubleValue: asDouble(x, `${path}.doubleValue`) };
  if ((x = field(o, 'arrayValue', 'array_value')) !== undefined) {
    const p = `${path}.arrayValue`;
    const arr = asObject(x, p);
    const vals = asArray(arr?.['values'], `${p}.values`);
    const out = new Array<AnyValue>(vals.length);
    for (let i = 0; i < vals.length; i++) out[i] = decodeAnyValue(vals[i], `${p}.values[${i}]`, depth + 1) ?? {};
    return { arrayValue: { values: out } };
  }
  if ((x = field(o, 'kvlistValue', 'kvlist_value')) !== undefined) {
    const p = `${path}.kvlistValue`;
    const kvl = asObject(x, p);
    return { kvlistValue: { values: decodeKeyValues(kvl?.['values'], `${p}.values`, depth + 1) } };
  }
  if ((x = field(o, 'bytesValue', 'bytes_value')) !== undefined) return { bytesValue: asBytes(x, `${path}.bytesValue`) };
  return {};
}

function decodeKeyValues(v: Json | undefined, path: string, depth: number): KeyValue[] {
  const arr = asArray(v, path);
  const out = new Array<KeyValue>(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const p = `${path}[${i}]`;
    const kv = asObject(arr[i], p);
    if (!kv) throw new OtlpJsonError(p, 'must be an object');
    out[i] = { key: asString(kv['key'], `${p}.key`), value: decodeAnyValue(kv['value'], `${p}.value`, depth) };
  }
  return out;
}

function decodeResource(v: Json | undefined, path: string): Resource | null {
  const o = asObject(v, path);
  if (!o) return null;
  return {
    attributes: decodeKeyValues(o['attributes'], `${path}.attributes`, 0),
    droppedAttributesCount: asUint32(field(o, 'droppedAttributesCount', 'dropped_attributes_count'), `${path}.droppedAttributesCount`),
  };
}

function decodeScope(v: Json | undefined, path: string): InstrumentationScope | null {
  const o = asObject(v, path);
  if (!o) return null;
  return {
    name: asString(o['name'], `${path}.name`),
    version: asString(o['version'], `${path}.version`),
    attributes: decodeKeyValues(o['attributes'], `${path}.attributes`, 0),
    droppedAttributesCount: asUint32(field(o, 'droppedAttributesCount', 'dropped_attributes_count'), `${path}.droppedAttributesCount`),
  };
}

function decodeLogRecord(v: Json | undefined, path: string): LogRecord {
  const o = asObject(v, path);
  if (!o) throw new OtlpJsonError(path, 'must be an object');
  return {
    timeUnixNano: asNanos(field(o, 'timeUnixNano', 'time_unix_nano'), `${path}.timeUnixNano`),
    observedTimeUnixNano: asNanos(field(o, 'observedTimeUnixNano', 'observed_time_unix_nano'), `${path}.observedTimeUnixNano`),
    severityNumber: asSeverity(field(o, 'severityNumber', 'severity_number'), `${path}.severityNumber`),
    severityText: asString(field(o, 'severityText', 'severity_text'), `${path}.severityText`),
    body: decodeAnyValue(o['body'], `${path}.body`, 0),
    attributes: decodeKeyValues(o['attributes'], `${path}.attributes`, 0),
    droppedAttributesCount: asUint32(field(o, 'droppedAttributesCount', 'dropped_attributes_count'), `${path}.droppedAttributesCount`),
    flags: asUint32(o['flags'], `${path}.flags`),
    traceId: asId(field(o, 'traceId', 'trace_id'), TRACE_ID_BYTES, `${path}.traceId`),
    spanId: asId(field(o, 'spanId', 'span_id'), SPAN_ID_BYTES, `${path}.spanId`),
    eventName: asString(field(o, 'eventName', 'event_name'), `${path}.eventName`),
  };
}

function decodeScopeLogs(v: Json | undefined, path: string): ScopeLogs {
  const o = asObject(v, path);
  if (!o) throw new OtlpJsonError(path, 'must be an object');
  const recs = asArray(field(o, 'logRecords', 'log_records'), `${path}.logRecords`);
  const logRecords = new Array<LogRecord>(recs.length);
  for (let i = 0; i < recs.length; i++) logRecords[i] = decodeLogRecord(recs[i], `${path}.logRecords[${i}]`);
  return {
    scope: decodeScope(o['scope'], `${path}.scope`),
    logRecords,
    schemaUrl: asString(field(o, 'schemaUrl', 'schema_url'), `${path}.schemaUrl`),
  };
}

function decodeResourceLogs(v: Json | undefined, path: string): ResourceLogs {
  const o = asObject(v, path);
  if (!o) throw new OtlpJsonError(path, 'must be an object');
  const sls = asArray(field(o, 'scopeLogs', 'scope_logs'), `${path}.scopeLogs`);
  const scopeLogs = new Array<ScopeLogs>(sls.length);
  for (let i = 0; i < sls.length; i++) scopeLogs[i] = decodeScopeLogs(sls[i], `${path}.scopeLogs[${i}]`);
  return {
    resource: decodeResource(o['resource'], `${path}.resource`),
    scopeLogs,
    schemaUrl: asString(field(o, 'schemaUrl', 'schema_url'), `${path}.schemaUrl`),
  };
}

/** A `\uD800`–`\uDFFF` escape: the text may hold a lone surrogate once parsed. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

interface WellFormedString { isWellFormed(): boolean; toWellFormed(): string }

/**
 * JSON.parse, with strings made valid Unicode: invalid UTF-8 bytes become U+FFFD (as Buffer decoding
 * does) and so do lone surrogates (`"\ud800"`), which could not be written as UTF-8 JSON later. Each
 * string changed is counted (invalidUtf8Replacements). Checked per body; the reviver runs only when needed.
 */
function parseWellFormed(input: string | Buffer): unknown {
  const badBytes = Buffer.isBuffer(input) && !isUtf8(input);
  const text = input.toString();
  if (!badBytes && !SURROGATE_ESCAPE.test(text) && (text as unknown as WellFormedString).isWellFormed()) return JSON.parse(text);
  let n = 0;
  const parsed: unknown = JSON.parse(text, (_key, v: unknown) => {
    if (typeof v !== 'string') return v;
    const w = v as unknown as WellFormedString;
    if (!w.isWellFormed()) {
      n++;
      return w.toWellFormed();
    }
    if (badBytes && v.indexOf('\uFFFD') !== -1) n++;
    return v;
  });
  countInvalidUtf8(n);
  return parsed;
}

/** Decodes OTLP/JSON text (or an already parsed value). Throws OtlpJsonError / SyntaxError. */
export function decodeExportRequestJson(input: unknown): ExportLogsServiceRequest {
  const parsed = (typeof input === 'string' || Buffer.isBuffer(input) ? parseWellFormed(input) : input) as Json;
  const o = asObject(parsed, '$');
  if (!o) throw new OtlpJsonError('$', 'must be an object');
  const rls = asArray(field(o, 'resourceLogs', 'resource_logs'), 'resourceLogs');
  const resourceLogs = new Array<ResourceLogs>(rls.length);
  for (let i = 0; i < rls.length; i++) resourceLogs[i] = decodeResourceLogs(rls[i], `resourceLogs[${i}]`);
  return { resourceLogs };
}

export function decodeExportResponseJson(input: string): ExportLogsServiceResponse {
  const o = JSON.parse(input) as JsonObject;
  const ps = asObject(field(o, 'partialSuccess', 'partial_success'), 'partialSuccess');
  if (!ps) return {};
  const rej = field(ps, 'rejectedLogRecords', 'rejected_log_records');
  return {
    partialSuccess: {
      rejectedLogRecords: rej === undefined || rej === null ? 0 : asInt64(rej, 'partialSuccess.rejectedLogRecords').toNumber(),
      errorMessage: asString(field(ps, 'errorMessage', 'error_message'), 'partialSuccess.errorMessage'),
    },
  };
}
