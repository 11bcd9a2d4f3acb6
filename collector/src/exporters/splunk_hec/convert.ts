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
  JsonByteWriter,
} from '@tributary/otlp';
import { BytesBody, jsonKey, keepsInsertionOrder, sameKeys, utf8, WriterPool } from '../common/json-body.js';
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
  /** `body` as UTF-8: what is sent. */
  readonly bodyBytes: Buffer;
  readonly bytes: number;
  readonly refs: RecordRef[];
}

class HecBody extends BytesBody implements HecRequest {
  constructor(readonly token: string | undefined, readonly index: string, readonly source: string, readonly sourcetype: string, readonly host: string, bodyBytes: Buffer, readonly refs: RecordRef[], text?: string) {
    super(bodyBytes, text);
  }
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
  /** The severity field names keep their place in `fields` (else every event takes the object path). */
  direct: boolean;
  sevTextKey: Buffer;
  sevNumberKey: Buffer;
}

function resolve(o: HecConvertOptions): Resolved {
  const sevText = o.severityTextKey ?? 'otel.log.severity.text';
  const sevNumber = o.severityNumberKey ?? 'otel.log.severity.number';
  const fixed = [sevText, sevNumber, SPAN_ID_FIELD, TRACE_ID_FIELD];
  return {
    source: o.source ?? '',
    sourcetype: o.sourcetype ?? '',
    index: o.index ?? '',
    keys: o.keys ?? DEFAULT_METADATA_KEYS,
    sevText,
    sevNumber,
    raw: o.raw ?? false,
    maxContentLength: o.maxContentLength ?? 2 * 1024 * 1024,
    maxEventSize: o.maxEventSize ?? 5 * 1024 * 1024,
    byClass: o.indexByRetentionClass,
    direct: new Set(fixed).size === fixed.length && fixed.every(keepsInsertionOrder),
    sevTextKey: jsonKey(sevText),
    sevNumberKey: jsonKey(sevNumber),
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
  /** `fields` as JSON members + ",", for the direct writer; undefined when its names rule that out. */
  fieldsJson: Buffer | undefined;
  /** The record attribute plan last used for this resource. */
  plan: AttrPlan | undefined;
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
  const ctx: ResourceContext = { token: undefined, host: undefined, source: undefined, sourcetype: undefined, index: undefined, fields: {}, fieldCount: 0, retentionClass: '', fieldsJson: undefined, plan: undefined };
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    if (kv.key === HEC_TOKEN_ATTRIBUTE) {
      const t = kv.value?.stringValue;
      if (t) ctx.token = t;
    } else if (kv.key === RETENTION_CLASS_ATTRIBUTE) ctx.retentionClass = anyValueAsString(kv.value);
    applyAttribute(r, ctx, ctx.fields, kv);
  }
  const names = Object.keys(ctx.fields);
  ctx.fieldCount = names.length;
  // Resource fields go after the severity and id fields; one of those names would keep the earlier place.
  if (r.direct && names.every((k) => keepsInsertionOrder(k) && k !== r.sevText && k !== r.sevNumber && k !== SPAN_ID_FIELD && k !== TRACE_ID_FIELD)) {
    ctx.fieldsJson = Buffer.from(names.length > 0 ? `${JSON.stringify(ctx.fields).slice(1, -1)},` : '', 'utf8');
  }
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

// ---- the direct writer: the event's JSON straight into the request body's bytes ----

/** What a record attribute is to the event, by name (decided once per attribute name list). */
const A_FIELD = 0;
const A_HOST = 1;
const A_SOURCE = 2;
const A_SOURCETYPE = 3;
const A_INDEX = 4;
const A_TOKEN = 5;

interface AttrPlan {
  keys: string[];
  kind: Uint8Array;
  /** The attribute is `retention.class`. */
  retention: Uint8Array;
  keyBytes: (Buffer | undefined)[];
  /** False when a field name would not keep its write position in the `fields` object (duplicate, index-like, resource or fixed field name). */
  ok: boolean;
}

function attrPlan(r: Resolved, res: ResourceContext, attrs: readonly KeyValue[]): AttrPlan {
  const n = attrs.length;
  const plan: AttrPlan = { keys: new Array<string>(n), kind: new Uint8Array(n), retention: new Uint8Array(n), keyBytes: new Array<Buffer | undefined>(n).fill(undefined), ok: true };
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const k = attrs[i]!.key;
    plan.keys[i] = k;
    if (k === RETENTION_CLASS_ATTRIBUTE) plan.retention[i] = 1;
    if (k === r.keys.host) plan.kind[i] = A_HOST;
    else if (k === r.keys.source) plan.kind[i] = A_SOURCE;
    else if (k === r.keys.sourcetype) plan.kind[i] = A_SOURCETYPE;
    else if (k === r.keys.index) plan.kind[i] = A_INDEX;
    else if (k === HEC_TOKEN_ATTRIBUTE) plan.kind[i] = A_TOKEN;
    else {
      plan.kind[i] = A_FIELD;
      plan.keyBytes[i] = jsonKey(k);
      if (!keepsInsertionOrder(k) || seen.has(k) || k in res.fields || k === r.sevText || k === r.sevNumber || k === SPAN_ID_FIELD || k === TRACE_ID_FIELD) plan.ok = false;
      seen.add(k);
    }
  }
  return plan;
}

/** The first pass's result: the event's metadata ("" = left out) and its plan. */
interface EventScan {
  plan: AttrPlan;
  host: string;
  source: string;
  sourcetype: string;
  index: string;
}

const scan: EventScan = { plan: undefined as unknown as AttrPlan, host: '', source: '', sourcetype: '', index: '' };

/** First pass of the direct writer (body known not empty); false when the event needs the object path. */
function scanEvent(r: Resolved, res: ResourceContext, lr: LogRecord): boolean {
  if (res.fieldsJson === undefined) return false;
  const attrs = lr.attributes;
  let plan = res.plan;
  if (plan === undefined || !sameKeys(attrs, plan.keys)) plan = res.plan = attrPlan(r, res, attrs);
  if (!plan.ok) return false;
  let host = res.host;
  let source = res.source;
  let sourcetype = res.sourcetype;
  let index = res.index;
  let retentionClass = res.retentionClass;
  const kind = plan.kind;
  for (let i = 0; i < attrs.length; i++) {
    const v = attrs[i]!.value;
    switch (kind[i]) {
      case A_FIELD:
        if (v?.kvlistValue != null) return false;
        break;
      case A_HOST:
        host = v?.stringValue ?? '';
        break;
      case A_SOURCE:
        source = v?.stringValue ?? '';
        break;
      case A_SOURCETYPE:
        sourcetype = v?.stringValue ?? '';
        break;
      case A_INDEX:
        index = v?.stringValue ?? '';
        break;
    }
    if (plan.retention[i] === 1) retentionClass = anyValueAsString(v);
  }
  if (index === undefined) {
    const mapped = retentionClass !== '' && r.byClass !== undefined ? r.byClass[retentionClass] : undefined;
    index = mapped ?? r.index;
  }
  scan.plan = plan;
  scan.host = host ?? UNKNOWN_HOST;
  scan.source = source ?? r.source;
  scan.sourcetype = sourcetype ?? r.sourcetype;
  scan.index = index;
  return true;
}

const K_NULL = utf8('null');
const K_TRUE = utf8('true');
const K_FALSE = utf8('false');
const K_TIME = utf8('{"time":');
const K_OPEN = utf8('{');
const K_FIELDS = utf8(',"fields":{');
const K_SPAN_ID = jsonKey(SPAN_ID_FIELD);
const K_TRACE_ID = jsonKey(TRACE_ID_FIELD);

/** `"host":…[,"source":…][,"sourcetype":…][,"index":…],"event":` for the last metadata seen. */
interface HeadCache {
  host: string;
  source: string;
  sourcetype: string;
  index: string;
  bytes: Buffer;
}

function eventHead(c: HeadCache): Buffer {
  if (c.bytes.length === 0 || c.host !== scan.host || c.source !== scan.source || c.sourcetype !== scan.sourcetype || c.index !== scan.index) {
    const head: Record<string, string> = { host: scan.host };
    if (scan.source !== '') head['source'] = scan.source;
    if (scan.sourcetype !== '') head['sourcetype'] = scan.sourcetype;
    if (scan.index !== '') head['index'] = scan.index;
    c.bytes = Buffer.from(`${JSON.stringify(head).slice(1, -1)},"event":`, 'utf8');
    c.host = scan.host;
    c.source = scan.source;
    c.sourcetype = scan.sourcetype;
    c.index = scan.index;
  }
  return c.bytes;
}

/** `rawJsonValue` of a value that is not a map, as JSON. */
function writeRaw(w: JsonByteWriter, v: AnyValue): void {
  if (v.stringValue != null) w.string(v.stringValue);
  else if (v.boolValue != null) w.raw(v.boolValue ? K_TRUE : K_FALSE);
  else if (v.intValue != null) {
    const n = int64ToNumber(v.intValue);
    if (typeof n === 'bigint') w.string(n.toString());
    else if (Number.isFinite(n)) w.number(n);
    else w.raw(K_NULL);
  } else if (v.doubleValue != null) {
    if (Number.isFinite(v.doubleValue)) w.number(v.doubleValue);
    else w.string(anyValueAsString(v));
  } else if (v.arrayValue != null) w.text(JSON.stringify(rawJsonValue(v)));
  else if (v.bytesValue != null) {
    w.byte(0x22);
    w.base64(v.bytesValue);
    w.byte(0x22);
  } else w.raw(K_NULL);
}

/**
 * `time` as JSON.stringify writes `hecTime`: seconds with the rounded milliseconds, trailing zeros
 * dropped (a double of at most 3 decimals below 2^53 ms prints as exactly those digits). False for 0 (left out).
 */
function writeTime(w: JsonByteWriter, t: LogRecord['timeUnixNano']): boolean {
  if (isZeroNanos(t)) return false;
  const hi = t.high >>> 0;
  const lo = t.low >>> 0;
  let whole: number;
  let rest: number;
  if (hi === 0) {
    whole = Math.floor(lo / 1e6);
    rest = lo - whole * 1e6;
  } else {
    const b = hi * 967296 + lo;
    const carry = Math.floor(b / 1e6);
    whole = hi * 4294 + carry;
    rest = b - carry * 1e6;
  }
  const ms = whole + (rest >= 500_000 ? 1 : 0);
  if (ms === 0) return false;
  w.raw(K_TIME);
  const sec = Math.floor(ms / 1000);
  let frac = ms - sec * 1000;
  w.uint(sec);
  if (frac !== 0) {
    w.byte(0x2e);
    let width = 3;
    while (frac % 10 === 0) {
      frac /= 10;
      width--;
    }
    w.digits(frac, width);
  }
  w.byte(0x2c);
  return true;
}

/** Second pass: the event of a scanned record, exactly `JSON.stringify(toEvent(…))`. */
function writeEvent(w: JsonByteWriter, r: Resolved, res: ResourceContext, lr: LogRecord, head: HeadCache): void {
  if (!writeTime(w, lr.timeUnixNano)) w.raw(K_OPEN);
  w.raw(eventHead(head));
  const body = lr.body!;
  if (body.kvlistValue != null) w.text(JSON.stringify(rawJsonValue(body)));
  else writeRaw(w, body);
  const fieldsAt = w.length;
  w.raw(K_FIELDS);
  const empty = w.length;
  if (lr.severityText !== '') {
    w.raw(r.sevTextKey);
    w.string(lr.severityText);
    w.byte(0x2c);
  }
  if (lr.severityNumber !== 0) {
    w.raw(r.sevNumberKey);
    w.number(lr.severityNumber);
    w.byte(0x2c);
  }
  if (lr.spanId.length > 0 && !isEmptyId(lr.spanId)) {
    w.raw(K_SPAN_ID);
    w.byte(0x22);
    w.hex(lr.spanId);
    w.byte(0x22);
    w.byte(0x2c);
  }
  if (lr.traceId.length > 0 && !isEmptyId(lr.traceId)) {
    w.raw(K_TRACE_ID);
    w.byte(0x22);
    w.hex(lr.traceId);
    w.byte(0x22);
    w.byte(0x2c);
  }
  w.raw(res.fieldsJson!);
  const plan = scan.plan;
  const attrs = lr.attributes;
  for (let i = 0; i < attrs.length; i++) {
    if (plan.kind[i] !== A_FIELD) continue;
    const v = attrs[i]!.value;
    if (isEmptyValue(v)) continue;
    w.raw(plan.keyBytes[i]!);
    if (v!.arrayValue != null) w.text(JSON.stringify(sliceField(v!.arrayValue.values)));
    else writeRaw(w, v!);
    w.byte(0x2c);
  }
  if (w.length === empty) w.truncate(fieldsAt);
  else {
    // The last member's comma becomes the close of `fields`.
    w.truncate(w.length - 1);
    w.byte(0x7d);
  }
  w.byte(0x7d);
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
  key: string;
  /** In `groups` (it has had an event). */
  listed: boolean;
  token: string | undefined;
  index: string;
  source: string;
  sourcetype: string;
  host: string;
  /** The body so far. */
  w: JsonByteWriter;
  /** Raw mode: the body's lines as strings (kept as given: a lone surrogate stays one in `body`). */
  lines: string[];
  refs: RecordRef[];
}

/** Body writers, reused across conversions (each body is copied out). */
const writers = new WriterPool(256 * 1024);

export const EMPTY_BODY_REASON = 'empty body (HEC rejects blank events)';

/**
 * The batch as HEC requests: records grouped per (token, index, source, sourcetype[, host in raw mode]),
 * each group's events concatenated and split so that no body exceeds `max_content_length_logs`.
 * Records with an empty body, and events larger than the content limit or `max_event_size` on their
 * own, are rejected (they can never be accepted) without holding back the others. Events are written
 * straight into their group's body bytes; those the direct writer cannot reproduce exactly (see
 * `scanEvent`) go through the event object and JSON.stringify.
 */
export function convertToHec(resourceLogs: readonly ResourceLogs[], options: HecConvertOptions = {}): HecConversion {
  const r = resolve(options);
  const requests: HecRequest[] = [];
  const rejected: RejectedRecord[] = [];
  const groups = new Map<string, OpenGroup>();
  const meta: EventMeta = {};
  const head: HeadCache = { host: '', source: '', sourcetype: '', index: '', bytes: Buffer.alloc(0) };
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
        const body = lr.body;
        if (isEmptyValue(body) || body!.stringValue === '') {
          rejected.push({ ref, reason: EMPTY_BODY_REASON });
          continue;
        }
        const direct = !r.raw && r.direct && scanEvent(r, res, lr);
        let text: string | undefined;
        if (!direct) {
          const ev = toEvent(r, res, lr, meta)!;
          text = r.raw ? `${anyValueAsString(body)}\n` : JSON.stringify(ev);
          scan.host = r.raw ? ev.host : '';
          scan.index = ev.index ?? '';
          scan.source = ev.source ?? '';
          scan.sourcetype = ev.sourcetype ?? '';
        }
        const index = scan.index;
        const source = scan.source;
        const sourcetype = scan.sourcetype;
        const host = r.raw ? scan.host : '';
        // Consecutive records usually share their routing: reuse the last group without building a key.
        let g = last;
        if (g === undefined || g.token !== res.token || g.index !== index || g.source !== source || g.sourcetype !== sourcetype || g.host !== host) {
          const key = `${res.token ?? ''}\u0000${index}\u0000${source}\u0000${sourcetype}\u0000${host}`;
          g = groups.get(key);
          // Listed (and so ordered) on its first accepted event, as before the direct writer.
          g ??= { key, listed: false, token: res.token, index, source, sourcetype, host, w: writers.take(), lines: [], refs: [] };
          last = g;
        }
        const w = g.w;
        const start = w.length;
        if (direct) writeEvent(w, r, res, lr, head);
        else w.text(text!);
        const bytes = r.raw ? Buffer.byteLength(text!, 'utf8') : w.length - start;
        if (bytes > eventLimit) {
          w.truncate(start);
          rejected.push({ ref, reason: `event of ${bytes} bytes is larger than ${eventLimit === limit ? 'max_content_length_logs' : 'max_event_size'} (${eventLimit})` });
          continue;
        }
        if (g.refs.length > 0 && start + bytes > limit) {
          // The body is full: send it without this event, which starts the next one.
          const event = Buffer.from(w.bytes().subarray(start));
          w.truncate(start);
          flush(g, requests);
          w.raw(event);
        }
        if (r.raw) g.lines.push(text!);
        if (!g.listed) {
          groups.set(g.key, g);
          g.listed = true;
        }
        g.refs.push(ref);
      }
    }
  }
  for (const g of groups.values()) {
    if (g.refs.length > 0) flush(g, requests);
    writers.give(g.w);
  }
  return { requests, rejected };
}

function flush(g: OpenGroup, requests: HecRequest[]): void {
  if (g.lines.length > 0) {
    const text = g.lines.join('');
    requests.push(new HecBody(g.token, g.index, g.source, g.sourcetype, g.host, Buffer.from(text, 'utf8'), g.refs, text));
    g.lines = [];
  } else requests.push(new HecBody(g.token, g.index, g.source, g.sourcetype, g.host, g.w.copy(), g.refs));
  g.w.reset();
  g.refs = [];
}
