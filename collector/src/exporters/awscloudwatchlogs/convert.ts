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
  idToHex,
  isZeroNanos,
  keyValuesToRaw,
  nanosToDecimal,
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
/** Value used for a placeholder whose attribute is missing (as awsemfexporter does). */
export const MISSING_PLACEHOLDER = 'undefined';

/** Whole milliseconds of a nanosecond time, exactly (a double cannot hold today's nanoseconds: floor could be off by one). */
function wholeMillis(t: RecordRef['lr']['timeUnixNano']): number {
  const d = nanosToDecimal(t);
  return d.length > 6 ? Number(d.slice(0, -6)) : 0;
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

function resolveName(t: NameTemplate, attrs: readonly KeyValue[], resourceAttrs: readonly KeyValue[]): string {
  if (t.constant !== undefined) return t.constant;
  let out = t.parts[0]!;
  for (let i = 1; i < t.parts.length; i += 2) {
    const key = t.parts[i]!;
    const v = attrString(findAttribute(attrs, key)) ?? attrString(findAttribute(resourceAttrs, key));
    out += (v === undefined || v === '' ? MISSING_PLACEHOLDER : v.replace(t.invalid, '_')) + t.parts[i + 1]!;
  }
  return out.length > 512 ? out.slice(0, 512) : out;
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
  let s = '';
  const body = anyValueToRaw(lr.body);
  if (body !== null) s += `,"body":${goJson(body)}`;
  if (lr.severityNumber !== 0) s += `,"severity_number":${lr.severityNumber}`;
  if (lr.severityText !== '') s += `,"severity_text":${goJson(lr.severityText)}`;
  if (lr.droppedAttributesCount !== 0) s += `,"dropped_attributes_count":${lr.droppedAttributesCount}`;
  if (lr.flags !== 0) s += `,"flags":${lr.flags >>> 0}`;
  const trace = idToHex(lr.traceId);
  if (trace !== '') s += `,"trace_id":"${trace}"`;
  const span = idToHex(lr.spanId);
  if (span !== '') s += `,"span_id":"${span}"`;
  if (lr.attributes.length > 0) s += `,"attributes":${goJson(keyValuesToRaw(lr.attributes))}`;
  s += tail;
  return s === '' ? '{}' : `{${s.slice(1)}}`;
}

export function convertToCloudWatchLogs(resourceLogs: readonly ResourceLogs[], options: CloudWatchConvertOptions, nowMs: number): CloudWatchConversion {
  const dropped = { too_old: 0, too_new: 0, empty: 0 };
  let truncated = 0;
  const buckets = new Map<string, StreamBucket>();
  const oldest = nowMs - MAX_AGE_MS;
  const newest = nowMs + MAX_FUTURE_MS;
  const { rawLog, logGroup, logStream } = options;

  for (const rl of resourceLogs) {
    const resourceAttrs = rl.resource?.attributes ?? [];
    const resourcePart = rawLog || resourceAttrs.length === 0 ? '' : `,"resource":${goJson(keyValuesToRaw(resourceAttrs))}`;
    for (const sl of rl.scopeLogs) {
      const tail = rawLog ? '' : scopeSuffix(sl.scope) + resourcePart;
      for (const lr of sl.logRecords) {
        // No observed-time fallback (upstream): a missing time is the time the event was generated, i.e. now.
        const timestamp = isZeroNanos(lr.timeUnixNano) ? nowMs : wholeMillis(lr.timeUnixNano);
        if (timestamp < oldest) { dropped.too_old++; continue; }
        if (timestamp > newest) { dropped.too_new++; continue; }
        let message = rawLog ? anyValueAsString(lr.body) : cloudWatchMessage(lr, tail);
        if (message === '') { dropped.empty++; continue; }
        let bytes = Buffer.byteLength(message, 'utf8');
        if (bytes + EVENT_OVERHEAD_BYTES > MAX_EVENT_BYTES) {
          message = truncateUtf8(message, TRUNCATED_KEEP_BYTES) + TRUNCATED_SUFFIX;
          bytes = Buffer.byteLength(message, 'utf8');
          truncated++;
        }
        let group = resolveName(logGroup, lr.attributes, resourceAttrs);
        let stream = resolveName(logStream, lr.attributes, resourceAttrs);
        if (rawLog) {
          const emf = emfRoute(message);
          if (emf !== undefined) {
            group = emf.group;
            if (emf.stream !== undefined) stream = emf.stream;
          }
        }
        const key = `${group}\u0000${stream}`;
        let bucket = buckets.get(key);
        if (bucket === undefined) {
          bucket = { group, stream, events: [], retentionDays: undefined };
          buckets.set(key, bucket);
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
