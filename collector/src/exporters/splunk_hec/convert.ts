/**
 * OTLP log records → Splunk HEC events (`splunk.Event`: time, host, source, sourcetype, index, event,
 * fields), concatenated into request bodies per (token, index, source, sourcetype) within
 * `max_content_length_logs`; or, with `export_raw`, `Body.AsString()` lines for `/services/collector/raw`.
 * upstream `exporter/splunkhecexporter/logdata_to_splunk.go` and `client.go`.
 *
 * Pure: no I/O, no clock. Attribute names and defaults are resolved once into `HecConvertOptions`.
 */
import {
  anyValueAsString,
  int64ToNumber,
  isEmptyId,
  isZeroNanos,
  nanosToDecimal,
  type AnyValue,
  type KeyValue,
  type LogRecord,
  type ResourceLogs,
} from '@tributary/otlp';
import type { PlannedRequest, RecordRef, RejectedRecord } from '../common/partial-delivery.js';
import { DEFAULT_METADATA_KEYS, type HecMetadataKeys } from './config.js';

/** Resource attribute that overrides the token for its records (never emitted). */
export const HEC_TOKEN_ATTRIBUTE = 'com.splunk.hec.access_token';
export const UNKNOWN_HOST = 'unknown';
export const TRACE_ID_FIELD = 'trace_id';
export const SPAN_ID_FIELD = 'span_id';
export const RETENTION_CLASS_ATTRIBUTE = 'retention.class';

export interface HecConvertOptions {
  /** Config defaults for events without the attribute. */
  source?: string;
  sourcetype?: string;
  index?: string;
  /** Attribute names carrying HEC metadata (`otel_attrs_to_hec_metadata`). */
  keys?: HecMetadataKeys;
  /** `otel_to_hec_fields`. */
  severityTextKey?: string;
  severityNumberKey?: string;
  /** `export_raw`: body lines instead of JSON events. */
  raw?: boolean;
  /** `max_content_length_logs` (bytes, uncompressed; 0 = unlimited). */
  maxContentLength?: number;
  /** `max_event_size` (bytes; 0 = no limit of its own). */
  maxEventSize?: number;
  /** `retention.class` → index, used when no index attribute is set. */
  indexByRetentionClass?: Readonly<Record<string, string>>;
}

/** One HEC event (JSON field order as upstream's struct; undefined fields are left out). */
export interface HecEvent {
  time: number | undefined;
  host: string;
  source: string | undefined;
  sourcetype: string | undefined;
  index: string | undefined;
  event: unknown;
  fields: Record<string, unknown> | undefined;
}

export interface HecRequest extends PlannedRequest {
  /** Per-resource token from `com.splunk.hec.access_token`; undefined = the configured token. */
  readonly token: string | undefined;
  readonly index: string;
  readonly source: string;
  readonly sourcetype: string;
  /** Raw mode only (sent as the `host` query parameter); "" in event mode. */
  readonly host: string;
  readonly body: string;
  readonly bytes: number;
  readonly refs: RecordRef[];
}

export interface HecConversion {
  requests: HecRequest[];
  rejected: RejectedRecord[];
}

interface Resolved {
  source: string;
  sourcetype: string;
  index: string;
  keys: HecMetadataKeys;
  sevText: string;
  sevNumber: string;
  raw: boolean;
  maxContentLength: number;
  maxEventSize: number;
  byClass: Readonly<Record<string, string>> | undefined;
}

function resolve(o: HecConvertOptions): Resolved {
  return {
    source: o.source ?? '',
    sourcetype: o.sourcetype ?? '',
    index: o.index ?? '',
    keys: o.keys ?? DEFAULT_METADATA_KEYS,
    sevText: o.severityTextKey ?? 'otel.log.severity.text',
    sevNumber: o.severityNumberKey ?? 'otel.log.severity.number',
    raw: o.raw ?? false,
    maxContentLength: o.maxContentLength ?? 2 * 1024 * 1024,
    maxEventSize: o.maxEventSize ?? 5 * 1024 * 1024,
    byClass: o.indexByRetentionClass,
  };
}

// ---- values ----

function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** `Value.AsRaw()` as JSON would write it (bytes → base64; int64 beyond 2^53 → its digits as a string). */
export function rawJsonValue(v: AnyValue | null | undefined): unknown {
  if (v == null) return null;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) {
    const n = int64ToNumber(v.intValue);
    return typeof n === 'bigint' ? n.toString() : n;
  }
  if (v.doubleValue != null) return Number.isFinite(v.doubleValue) ? v.doubleValue : anyValueAsString(v);
  if (v.kvlistValue != null) {
    const out: Record<string, unknown> = {};
    const kvs = v.kvlistValue.values;
    for (let i = 0; i < kvs.length; i++) out[kvs[i]!.key] = rawJsonValue(kvs[i]!.value);
    return out;
  }
  if (v.arrayValue != null) return v.arrayValue.values.map(rawJsonValue);
  if (v.bytesValue != null) return base64(v.bytesValue);
  return null;
}

function isEmptyValue(v: AnyValue | null | undefined): boolean {
  return v == null || (v.stringValue == null && v.boolValue == null && v.intValue == null && v.doubleValue == null && v.kvlistValue == null && v.arrayValue == null && v.bytesValue == null);
}

function isArrayFlat(values: readonly AnyValue[]): boolean {
  for (let i = 0; i < values.length; i++) if (values[i]?.arrayValue != null || values[i]?.kvlistValue != null) return false;
  return true;
}

function sliceField(values: readonly AnyValue[]): unknown {
  const raw = values.map(rawJsonValue);
  return isArrayFlat(values) ? raw : JSON.stringify(raw);
}

function flattenAndMergeMap(kvs: readonly KeyValue[], dst: Record<string, unknown>, key: string): void {
  for (let i = 0; i < kvs.length; i++) {
    const { key: k, value: v } = kvs[i]!;
    const current = `${key}.${k}`;
    if (v?.kvlistValue != null) flattenAndMergeMap(v.kvlistValue.values, dst, current);
    else if (v?.arrayValue != null) dst[current] = sliceField(v.arrayValue.values);
    else dst[current] = rawJsonValue(v);
  }
}

/** `mergeValue`: scalars as is, maps flattened to `k.sub`, flat arrays kept, nested arrays as a JSON string, empty skipped. */
function mergeValue(dst: Record<string, unknown>, k: string, v: AnyValue | null | undefined): void {
  if (isEmptyValue(v)) return;
  if (v!.kvlistValue != null) flattenAndMergeMap(v!.kvlistValue.values, dst, k);
  else if (v!.arrayValue != null) dst[k] = sliceField(v!.arrayValue.values);
  else dst[k] = rawJsonValue(v);
}

/**
 * `time`: seconds, rounded to the millisecond (Go `Duration.Round`). Undefined when that is 0: upstream's
 * `Event.Time` is `json:"time,omitempty"`, so a timestamp that rounds to 0 s leaves `time` out
 * (exporter/splunkhecexporter/logdata_to_splunk.go, opentelemetry-collector-contrib a16cbac0).
 */
export function hecTime(t: LogRecord['timeUnixNano']): number | undefined {
  if (isZeroNanos(t)) return undefined;
  const d = nanosToDecimal(t);
  const ms = d.length > 6 ? Number(d.slice(0, -6)) + (Number(d.slice(-6)) >= 500_000 ? 1 : 0) : Number(d) >= 500_000 ? 1 : 0;
  return ms === 0 ? undefined : ms / 1000;
}

// ---- per resource ----

interface ResourceContext {
  token: string | undefined;
  host: string | undefined;
  source: string | undefined;
  sourcetype: string | undefined;
  index: string | undefined;
  fields: Record<string, unknown>;
  fieldCount: number;
  retentionClass: string;
}

/** Applies one attribute: metadata keys set `meta`, the token is ignored, others go to `fields`. Returns true for a metadata key. */
function applyAttribute(r: Resolved, meta: { host?: string | undefined; source?: string | undefined; sourcetype?: string | undefined; index?: string | undefined }, fields: Record<string, unknown>, kv: KeyValue): void {
  const k = kv.key;
  const v = kv.value;
  if (k === r.keys.host) meta.host = v?.stringValue ?? '';
  else if (k === r.keys.source) meta.source = v?.stringValue ?? '';
  else if (k === r.keys.sourcetype) meta.sourcetype = v?.stringValue ?? '';
  else if (k === r.keys.index) meta.index = v?.stringValue ?? '';
  else if (k !== HEC_TOKEN_ATTRIBUTE) mergeValue(fields, k, v);
}

function resourceContext(r: Resolved, rl: ResourceLogs): ResourceContext {
  const attrs = rl.resource?.attributes ?? [];
  const ctx: ResourceContext = { token: undefined, host: undefined, source: undefined, sourcetype: undefined, index: undefined, fields: {}, fieldCount: 0, retentionClass: '' };
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    if (kv.key === HEC_TOKEN_ATTRIBUTE) {
      const t = kv.value?.stringValue;
      if (t) ctx.token = t;
    } else if (kv.key === RETENTION_CLASS_ATTRIBUTE) ctx.retentionClass = anyValueAsString(kv.value);
    applyAttribute(r, ctx, ctx.fields, kv);
  }
  ctx.fieldCount = Object.keys(ctx.fields).length;
  return ctx;
}

interface EventMeta {
  host?: string | undefined;
  source?: string | undefined;
  sourcetype?: string | undefined;
  index?: string | undefined;
}

/** One record → one HEC event; undefined when the body is empty (HEC rejects blank events). */
function toEvent(r: Resolved, res: ResourceContext, lr: LogRecord, meta: EventMeta): HecEvent | undefined {
  const body = lr.body;
  if (isEmptyValue(body) || body!.stringValue === '') return undefined;
  const fields: Record<string, unknown> = {};
  if (lr.severityText !== '') fields[r.sevText] = lr.severityText;
  if (lr.severityNumber !== 0) fields[r.sevNumber] = lr.severityNumber;
  if (lr.spanId.length > 0 && !isEmptyId(lr.spanId)) fields[SPAN_ID_FIELD] = Buffer.from(lr.spanId.buffer, lr.spanId.byteOffset, lr.spanId.byteLength).toString('hex');
  if (lr.traceId.length > 0 && !isEmptyId(lr.traceId)) fields[TRACE_ID_FIELD] = Buffer.from(lr.traceId.buffer, lr.traceId.byteOffset, lr.traceId.byteLength).toString('hex');
  if (res.fieldCount > 0) Object.assign(fields, res.fields);
  meta.host = res.host;
  meta.source = res.source;
  meta.sourcetype = res.sourcetype;
  meta.index = res.index;
  let retentionClass = res.retentionClass;
  const attrs = lr.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    if (kv.key === RETENTION_CLASS_ATTRIBUTE) retentionClass = anyValueAsString(kv.value);
    applyAttribute(r, meta, fields, kv);
  }
  let index = meta.index;
  if (index === undefined) {
    const mapped = retentionClass !== '' && r.byClass !== undefined ? r.byClass[retentionClass] : undefined;
    index = mapped ?? r.index;
  }
  let hasFields = false;
  for (const _ in fields) {
    hasFields = true;
    break;
  }
  return {
    time: hecTime(lr.timeUnixNano),
    host: meta.host ?? UNKNOWN_HOST,
    source: (meta.source ?? r.source) || undefined,
    sourcetype: (meta.sourcetype ?? r.sourcetype) || undefined,
    index: index || undefined,
    event: rawJsonValue(body),
    fields: hasFields ? fields : undefined,
  };
}

/** Every record as a HEC event (undefined for a record that is dropped), in batch order. For tests and tools. */
export function convertToHecEvents(resourceLogs: readonly ResourceLogs[], options: HecConvertOptions = {}): (HecEvent | undefined)[] {
  const r = resolve(options);
  const out: (HecEvent | undefined)[] = [];
  const meta: EventMeta = {};
  for (const rl of resourceLogs) {
    const res = resourceContext(r, rl);
    for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) out.push(toEvent(r, res, lr, meta));
  }
  return out;
}

interface OpenGroup {
  token: string | undefined;
  index: string;
  source: string;
  sourcetype: string;
  host: string;
  parts: string[];
  refs: RecordRef[];
  bytes: number;
}

export const EMPTY_BODY_REASON = 'empty body (HEC rejects blank events)';

/**
 * The batch as HEC requests: records grouped per (token, index, source, sourcetype[, host in raw mode]),
 * each group's events concatenated and split so that no body exceeds `max_content_length_logs`.
 * Records with an empty body, and events larger than the content limit or `max_event_size` on their
 * own, are rejected (they can never be accepted) without holding back the others.
 */
export function convertToHec(resourceLogs: readonly ResourceLogs[], options: HecConvertOptions = {}): HecConversion {
  const r = resolve(options);
  const requests: HecRequest[] = [];
  const rejected: RejectedRecord[] = [];
  const groups = new Map<string, OpenGroup>();
  const meta: EventMeta = {};
  let last: OpenGroup | undefined;
  const limit = r.maxContentLength > 0 ? r.maxContentLength : Infinity;
  const eventLimit = Math.min(limit, r.maxEventSize > 0 ? r.maxEventSize : Infinity);

  for (let i = 0; i < resourceLogs.length; i++) {
    const rl = resourceLogs[i]!;
    const res = resourceContext(r, rl);
    for (let j = 0; j < rl.scopeLogs.length; j++) {
      const sl = rl.scopeLogs[j]!;
      const records = sl.logRecords;
      for (let k = 0; k < records.length; k++) {
        const lr = records[k]!;
        const ref: RecordRef = { rl, sl, lr };
        const ev = toEvent(r, res, lr, meta);
        if (ev === undefined) {
          rejected.push({ ref, reason: EMPTY_BODY_REASON });
          continue;
        }
        const text = r.raw ? `${anyValueAsString(lr.body)}\n` : JSON.stringify(ev);
        const bytes = Buffer.byteLength(text, 'utf8');
        if (bytes > eventLimit) {
          rejected.push({ ref, reason: `event of ${bytes} bytes is larger than ${eventLimit === limit ? 'max_content_length_logs' : 'max_event_size'} (${eventLimit})` });
          continue;
        }
        const index = ev.index ?? '';
        const source = ev.source ?? '';
        const sourcetype = ev.sourcetype ?? '';
        const host = r.raw ? ev.host : '';
        // Consecutive records usually share their routing: reuse the last group without building a key.
        let g = last;
        if (g === undefined || g.token !== res.token || g.index !== index || g.source !== source || g.sourcetype !== sourcetype || g.host !== host) {
          const key = `${res.token ?? ''}\u0000${index}\u0000${source}\u0000${sourcetype}\u0000${host}`;
          g = groups.get(key);
          if (g === undefined) {
            g = { token: res.token, index, source, sourcetype, host, parts: [], refs: [], bytes: 0 };
            groups.set(key, g);
          }
          last = g;
        }
        if (g.parts.length > 0 && g.bytes + bytes > limit) {
          requests.push({ token: g.token, index, source, sourcetype, host, body: g.parts.join(''), bytes: g.bytes, refs: g.refs });
          g.parts = [];
          g.refs = [];
          g.bytes = 0;
        }
        g.parts.push(text);
        g.refs.push(ref);
        g.bytes += bytes;
      }
    }
  }
  for (const g of groups.values()) {
    if (g.parts.length > 0) requests.push({ token: g.token, index: g.index, source: g.source, sourcetype: g.sourcetype, host: g.host, body: g.parts.join(''), bytes: g.bytes, refs: g.refs });
  }
  return { requests, rejected };
}
