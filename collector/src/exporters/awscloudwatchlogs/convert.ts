/**
 * OTLP records → CloudWatch Logs `PutLogEvents` calls (AWS PutLogEvents API reference).
 * Pure: the clock is a parameter. Every call returned is within the API limits: ≤10,000 events,
 * Σ(UTF-8 bytes of message + 26) ≤ 1,048,576, events sorted by timestamp, span ≤ 24 h; every event's
 * message is ≤ 256 KiB − 26 B (longer ones are truncated with a marker). Events more than 14 days old
 * or more than 2 h ahead, and empty messages, are dropped and counted.
 */
import {
  anyValueAsString,
  anyValueToRaw,
  findAttribute,
  goJson,
  isEmptyId,
  isZeroNanos,
  JsonByteWriter,
  keyValuesToRaw,
  type AnyValue,
  type KeyValue,
  type ResourceLogs,
} from '@tributary/otlp';
import { CLOUDWATCH_RETENTION_DAYS } from './config.js';
import type { RecordRef } from '../common/partial-delivery.js';

export const EVENT_OVERHEAD_BYTES = 26;
export const MAX_EVENT_BYTES = 256 * 1024;
export const MAX_REQUEST_BYTES = 1_048_576;
export const MAX_EVENTS_PER_REQUEST = 10_000;
export const MAX_SPAN_MS = 24 * 3600 * 1000;
export const MAX_AGE_MS = 14 * 24 * 3600 * 1000;
export const MAX_FUTURE_MS = 2 * 3600 * 1000;
export const TRUNCATED_SUFFIX = '[Truncated...]';
/** Message bytes kept when an event is too large (upstream: 256 KiB − 26 − len(suffix)). */
const TRUNCATED_KEEP_BYTES = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES - TRUNCATED_SUFFIX.length;

/** A compiled `{attr}` template. Static templates resolve to `constant` without any per-record work. */
export interface NameTemplate {
  readonly source: string;
  readonly constant: string | undefined;
  /** literal, key, literal, key, …, literal (odd indexes are attribute keys). */
  readonly parts: readonly string[];
  /** Characters not allowed in a substituted value (replaced by `_`). */
  readonly invalid: RegExp;
}

const INVALID_GROUP_CHARS = /[^A-Za-z0-9._\-/#]/g;
const INVALID_STREAM_CHARS = /[:*]/g;
const EMPTY = new Uint8Array(0);
/** Value used for a placeholder whose attribute is missing (as awsemfexporter does). */
export const MISSING_PLACEHOLDER = 'undefined';

/** Whole milliseconds of a nanosecond time, exactly (a double cannot hold today's nanoseconds: floor could be off by one). */
function wholeMillis(t: RecordRef['lr']['timeUnixNano']): number {
  // hi·2^32 + lo = hi·4294·10^6 + (hi·967296 + lo): both parts below 2^53.
  const hi = t.high >>> 0;
  return hi * 4294 + Math.floor((hi * 967296 + (t.low >>> 0)) / 1e6);
}

export function compileNameTemplate(source: string, kind: 'group' | 'stream'): NameTemplate {
  const parts: string[] = [];
  let rest = source;
  for (;;) {
    const open = rest.indexOf('{');
    if (open < 0) break;
    const close = rest.indexOf('}', open);
    parts.push(rest.slice(0, open), rest.slice(open + 1, close));
    rest = rest.slice(close + 1);
  }
  parts.push(rest);
  return { source, constant: parts.length === 1 ? source : undefined, parts, invalid: kind === 'group' ? INVALID_GROUP_CHARS : INVALID_STREAM_CHARS };
}

export interface CloudWatchConvertOptions {
  readonly rawLog: boolean;
  readonly logGroup: NameTemplate;
  readonly logStream: NameTemplate;
  /** Config `log_retention`: used for groups whose records carry no `retention.days`. 0 = none. */
  readonly defaultRetentionDays: number;
}

export interface CloudWatchLogEvent {
  timestamp: number;
  message: string;
}

export interface PutLogEventsCall {
  logGroupName: string;
  logStreamName: string;
  logEvents: CloudWatchLogEvent[];
  /** The record of each event, same order. */
  records: RecordRef[];
  /** Σ(bytes + 26), as AWS measures it. */
  bytes: number;
  /** Retention for the group if this exporter creates it; undefined = no policy (never expire). */
  retentionInDays: number | undefined;
}

export interface CloudWatchConversion {
  calls: PutLogEventsCall[];
  dropped: { too_old: number; too_new: number; empty: number };
  truncated: number;
}

interface PendingEvent {
  timestamp: number;
  message: string;
  bytes: number;
  ref: RecordRef;
}

interface StreamBucket {
  group: string;
  stream: string;
  events: PendingEvent[];
  /** Largest `retention.days` seen (−1 = forever wins), or undefined when no record had one. */
  retentionDays: number | undefined;
}

/** Maps a retention in days to the nearest value CloudWatch allows (ties go to the longer one); ≤0 → undefined (no policy). */
export function nearestCloudWatchRetention(days: number): number | undefined {
  if (!(days > 0)) return undefined;
  let best = CLOUDWATCH_RETENTION_DAYS[0]!;
  for (const v of CLOUDWATCH_RETENTION_DAYS) if (Math.abs(v - days) <= Math.abs(best - days)) best = v;
  return best;
}

/** Truncates to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // back off continuation bytes
  return buf.subarray(0, end).toString('utf8');
}

function attrString(v: AnyValue | undefined): string | undefined {
  return v === undefined ? undefined : anyValueAsString(v);
}

/** A template's last placeholder values and the name they gave (records of a batch mostly repeat them). */
interface NameCache {
  values: (string | undefined)[];
  name: string;
}

function newNameCache(t: NameTemplate): NameCache {
  return { values: new Array<string | undefined>((t.parts.length - 1) / 2).fill(undefined), name: '' };
}

function resolveName(t: NameTemplate, attrs: readonly KeyValue[], resourceAttrs: readonly KeyValue[], cache?: NameCache): string {
  if (t.constant !== undefined) return t.constant;
  let same = cache !== undefined && cache.name !== '';
  for (let i = 1, j = 0; i < t.parts.length; i += 2, j++) {
    const key = t.parts[i]!;
    const v = attrString(findAttribute(attrs, key)) ?? attrString(findAttribute(resourceAttrs, key));
    if (cache !== undefined && cache.values[j] !== v) {
      cache.values[j] = v;
      same = false;
    }
  }
  if (same) return cache!.name;
  let out = t.parts[0]!;
  for (let i = 1, j = 0; i < t.parts.length; i += 2, j++) {
    const key = t.parts[i]!;
    const v = cache !== undefined ? cache.values[j] : attrString(findAttribute(attrs, key)) ?? attrString(findAttribute(resourceAttrs, key));
    out += (v === undefined || v === '' ? MISSING_PLACEHOLDER : v.replace(t.invalid, '_')) + t.parts[i + 1]!;
  }
  out = out.length > 512 ? out.slice(0, 512) : out;
  if (cache !== undefined) cache.name = out;
  return out;
}

function retentionDaysOf(attrs: readonly KeyValue[]): number | undefined {
  const v = findAttribute(attrs, 'retention.days');
  if (v === undefined) return undefined;
  if (v.intValue != null) return typeof v.intValue === 'number' ? v.intValue : v.intValue.toNumber();
  if (v.doubleValue != null) return Math.trunc(v.doubleValue);
  if (v.stringValue != null && /^-?\d+$/.test(v.stringValue)) return Number(v.stringValue);
  return undefined;
}

/** EMF routing with raw_log (upstream): v1 `_aws.LogGroupName`/`LogStreamName`, v0 `log_group_name`/`log_stream_name`. */
function emfRoute(message: string): { group: string; stream: string | undefined } | undefined {
  if (message.charCodeAt(0) !== 123 /* { */ || (!message.includes('LogGroupName') && !message.includes('log_group_name'))) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const o = parsed as Record<string, unknown>;
  const aws = o._aws as Record<string, unknown> | undefined;
  if (aws && typeof aws === 'object' && typeof aws.LogGroupName === 'string' && aws.LogGroupName !== '') {
    return { group: aws.LogGroupName, stream: typeof aws.LogStreamName === 'string' && aws.LogStreamName !== '' ? aws.LogStreamName : undefined };
  }
  if (typeof o.log_group_name === 'string' && o.log_group_name !== '') {
    return { group: o.log_group_name, stream: typeof o.log_stream_name === 'string' && o.log_stream_name !== '' ? o.log_stream_name : undefined };
  }
  return undefined;
}

/** `,"scope":{…}` for a scope with a name (upstream omits the scope otherwise), else "". */
function scopeSuffix(scope: ResourceLogs['scopeLogs'][number]['scope']): string {
  if (scope == null || !scope.name) return '';
  let s = `,"scope":{"name":${goJson(scope.name)}`;
  if (scope.version) s += `,"version":${goJson(scope.version)}`;
  if (scope.attributes.length > 0) s += `,"attributes":${goJson(keyValuesToRaw(scope.attributes))}`;
  return `${s}}`;
}

/**
 * The JSON message upstream builds (`cwLogBody`): fields in this order, all omitempty; map keys sorted and
 * `<>&` escaped as Go does. `tail` is the precomputed scope + resource part.
 */
export function cloudWatchMessage(lr: RecordRef['lr'], tail: string): string {
  const out = new JsonByteWriter(1024);
  writeMessage(out, lr, Buffer.from(tail, 'utf8'));
  return out.bytes().toString('utf8');
}

const k = (s: string): Buffer => Buffer.from(s, 'latin1');
const K_BODY = k('"body":');
const K_SEVERITY_NUMBER = k('"severity_number":');
const K_SEVERITY_TEXT = k('"severity_text":');
const K_DROPPED = k('"dropped_attributes_count":');
const K_FLAGS = k('"flags":');
const K_TRACE_ID = k('"trace_id":"');
const K_SPAN_ID = k('"span_id":"');
const K_ATTRIBUTES = k('"attributes":{');
const K_TRUE = k('true');
const K_FALSE = k('false');
const K_NULL = k('null');
/** What Go's encoder escapes beyond JSON.stringify. */
const GO_EXTRA = /[<>&\u2028\u2029]/;

/** A string as goJson writes it. */
function writeGoString(out: JsonByteWriter, s: string): void {
  if (GO_EXTRA.test(s)) out.raw(Buffer.from(goJson(s), 'utf8'));
  else out.string(s);
}

/** goJson of a RawValue; strings and numbers directly, nested values through goJson (exact: it is context-free). */
function writeGoValue(out: JsonByteWriter, v: AnyValue | null | undefined): void {
  if (v != null && v.stringValue != null) writeGoString(out, v.stringValue);
  else if (v != null && v.boolValue != null) out.raw(v.boolValue ? K_TRUE : K_FALSE);
  else if (v != null && v.intValue != null && typeof v.intValue === 'number' && Number.isFinite(v.intValue)) out.number(v.intValue);
  else if (v != null && v.intValue != null && typeof v.intValue !== 'number' && Number.isSafeInteger(v.intValue.toNumber())) out.number(v.intValue.toNumber());
  else if (v != null && v.intValue == null && v.doubleValue != null) {
    if (Number.isFinite(v.doubleValue)) out.number(v.doubleValue);
    else out.raw(K_NULL);
  } else out.raw(Buffer.from(goJson(anyValueToRaw(v)), 'utf8'));
}

/** An array index (0 … 2^32 − 2 written canonically): objects list these first, in numeric order. */
function isArrayIndex(key: string): boolean {
  const n = Number(key);
  return n >>> 0 === n && n !== 4294967295 && String(n) === key;
}

/** goJson's key order: sorted keys inserted into an object, which then lists its array indexes first, numerically. */
function goKeyOrder(a: string, b: string): number {
  const ia = isArrayIndex(a);
  const ib = isArrayIndex(b);
  if (ia !== ib) return ia ? -1 : 1;
  if (ia) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Attribute keys in the order goJson writes them (see goKeyOrder; each with the index of its last value,
 * as an object keeps it; `__proto__` never becomes an own key), cached for the next record with the same keys.
 */
let orderKeys: readonly string[] = [];
let orderIndex: number[] = [];
let orderHeads: Uint8Array[] = [];

function attributeOrder(attrs: readonly KeyValue[]): void {
  let same = attrs.length === orderKeys.length;
  for (let i = 0; same && i < attrs.length; i++) same = attrs[i]!.key === orderKeys[i];
  if (same) return;
  const last = new Map<string, number>();
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key !== '__proto__') last.set(attrs[i]!.key, i);
  const keys = [...last.keys()].sort(goKeyOrder);
  orderKeys = attrs.map((kv) => kv.key);
  orderIndex = keys.map((key) => last.get(key)!);
  orderHeads = keys.map((key, i) => Buffer.from(`${i ? ',' : ''}${goJson(key)}:`, 'utf8'));
}

/** `cloudWatchMessage` as UTF-8 into `out`; `tail` is the scope + resource part as UTF-8. */
function writeMessage(out: JsonByteWriter, lr: RecordRef['lr'], tail: Uint8Array): void {
  out.byte(0x7b);
  let sep = false;
  const body = lr.body;
  // anyValueToRaw(body) is null for a missing or empty value: no body field.
  if (body != null && (body.stringValue != null || body.boolValue != null || body.intValue != null || body.doubleValue != null
    || body.kvlistValue != null || body.arrayValue != null || body.bytesValue != null)) {
    out.raw(K_BODY);
    writeGoValue(out, body);
    sep = true;
  }
  if (lr.severityNumber !== 0) {
    if (sep) out.byte(0x2c);
    out.raw(K_SEVERITY_NUMBER);
    out.number(lr.severityNumber);
    sep = true;
  }
  if (lr.severityText !== '') {
    if (sep) out.byte(0x2c);
    out.raw(K_SEVERITY_TEXT);
    writeGoString(out, lr.severityText);
    sep = true;
  }
  if (lr.droppedAttributesCount !== 0) {
    if (sep) out.byte(0x2c);
    out.raw(K_DROPPED);
    out.number(lr.droppedAttributesCount);
    sep = true;
  }
  if (lr.flags !== 0) {
    if (sep) out.byte(0x2c);
    out.raw(K_FLAGS);
    out.number(lr.flags >>> 0);
    sep = true;
  }
  if (!isEmptyId(lr.traceId)) {
    if (sep) out.byte(0x2c);
    out.raw(K_TRACE_ID);
    out.hex(lr.traceId);
    out.byte(0x22);
    sep = true;
  }
  if (!isEmptyId(lr.spanId)) {
    if (sep) out.byte(0x2c);
    out.raw(K_SPAN_ID);
    out.hex(lr.spanId);
    out.byte(0x22);
    sep = true;
  }
  const attrs = lr.attributes;
  if (attrs.length > 0) {
    if (sep) out.byte(0x2c);
    out.raw(K_ATTRIBUTES);
    attributeOrder(attrs);
    for (let i = 0; i < orderIndex.length; i++) {
      out.raw(orderHeads[i]!);
      writeGoValue(out, attrs[orderIndex[i]!]!.value);
    }
    out.byte(0x7d);
    sep = true;
  }
  // The tail starts with a comma: without earlier fields it opens the object.
  if (tail.length > 0) {
    if (sep) out.raw(tail);
    else out.raw(tail.subarray(1));
  }
  out.byte(0x7d);
}

/** The message being written, reused for every record (messages are decoded from it). */
const messageWriter = new JsonByteWriter(64 * 1024);

export function convertToCloudWatchLogs(resourceLogs: readonly ResourceLogs[], options: CloudWatchConvertOptions, nowMs: number): CloudWatchConversion {
  const dropped = { too_old: 0, too_new: 0, empty: 0 };
  let truncated = 0;
  const buckets = new Map<string, StreamBucket>();
  const oldest = nowMs - MAX_AGE_MS;
  const newest = nowMs + MAX_FUTURE_MS;
  const { rawLog, logGroup, logStream } = options;
  const groupCache = newNameCache(logGroup);
  const streamCache = newNameCache(logStream);
  let lastBucket: StreamBucket | undefined;

  for (const rl of resourceLogs) {
    const resourceAttrs = rl.resource?.attributes ?? [];
    const resourcePart = rawLog || resourceAttrs.length === 0 ? '' : `,"resource":${goJson(keyValuesToRaw(resourceAttrs))}`;
    for (const sl of rl.scopeLogs) {
      const tail = rawLog ? EMPTY : Buffer.from(scopeSuffix(sl.scope) + resourcePart, 'utf8');
      for (const lr of sl.logRecords) {
        // No observed-time fallback (upstream): a missing time is the time the event was generated, i.e. now.
        const timestamp = isZeroNanos(lr.timeUnixNano) ? nowMs : wholeMillis(lr.timeUnixNano);
        if (timestamp < oldest) { dropped.too_old++; continue; }
        if (timestamp > newest) { dropped.too_new++; continue; }
        let message: string;
        let bytes: number;
        if (rawLog) {
          message = anyValueAsString(lr.body);
          if (message === '') { dropped.empty++; continue; }
          bytes = Buffer.byteLength(message, 'utf8');
        } else {
          const w = messageWriter;
          w.reset();
          writeMessage(w, lr, tail);
          bytes = w.length;
          message = w.bytes().toString('utf8');
        }
        if (bytes + EVENT_OVERHEAD_BYTES > MAX_EVENT_BYTES) {
          message = truncateUtf8(message, TRUNCATED_KEEP_BYTES) + TRUNCATED_SUFFIX;
          bytes = Buffer.byteLength(message, 'utf8');
          truncated++;
        }
        let group = resolveName(logGroup, lr.attributes, resourceAttrs, groupCache);
        let stream = resolveName(logStream, lr.attributes, resourceAttrs, streamCache);
        if (rawLog) {
          const emf = emfRoute(message);
          if (emf !== undefined) {
            group = emf.group;
            if (emf.stream !== undefined) stream = emf.stream;
          }
        }
        let bucket = lastBucket;
        if (bucket === undefined || bucket.group !== group || bucket.stream !== stream) {
          const key = `${group}\u0000${stream}`;
          bucket = buckets.get(key);
          if (bucket === undefined) {
            bucket = { group, stream, events: [], retentionDays: undefined };
            buckets.set(key, bucket);
          }
          lastBucket = bucket;
        }
        const days = retentionDaysOf(lr.attributes);
        if (days !== undefined && bucket.retentionDays !== -1) {
          bucket.retentionDays = days < 0 ? -1 : Math.max(bucket.retentionDays ?? 0, days);
        }
        bucket.events.push({ timestamp, message, bytes, ref: { rl, sl, lr } });
      }
    }
  }

  const calls: PutLogEventsCall[] = [];
  for (const bucket of buckets.values()) {
    const retentionInDays = bucket.retentionDays === undefined
      ? nearestCloudWatchRetention(options.defaultRetentionDays)
      : nearestCloudWatchRetention(bucket.retentionDays);
    const events = bucket.events;
    events.sort((a, b) => a.timestamp - b.timestamp); // stable (ES2019)
    let call: PutLogEventsCall | undefined;
    let first = 0;
    for (const ev of events) {
      const size = ev.bytes + EVENT_OVERHEAD_BYTES;
      if (call === undefined || call.logEvents.length >= MAX_EVENTS_PER_REQUEST || call.bytes + size > MAX_REQUEST_BYTES || ev.timestamp - first > MAX_SPAN_MS) {
        call = { logGroupName: bucket.group, logStreamName: bucket.stream, logEvents: [], records: [], bytes: 0, retentionInDays };
        calls.push(call);
        first = ev.timestamp;
      }
      call.logEvents.push({ timestamp: ev.timestamp, message: ev.message });
      call.records.push(ev.ref);
      call.bytes += size;
    }
  }
  return { calls, dropped, truncated };
}
