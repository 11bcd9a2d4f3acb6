/**
 * `convertToLokiPush`: the pure part of the `loki` exporter (upstream pkg/translator/loki). Turns OTLP
 * records into Loki push bodies: records are grouped per tenant (one request per tenant, header
 * `X-Scope-OrgID`) and per label set (one stream per distinct labels), lines are formatted as `json`,
 * `logfmt` or `raw`, and each tenant's streams are split so no body exceeds `maxRequestBytes` (measured
 * exactly on the encoded protobuf, or on the JSON text).
 *
 * Hot path: labels, `resources` / `instrumentation_scope` line fragments, hints and the tenant attribute
 * are resolved once per resource or scope; formatted label strings are cached per distinct label set.
 */
import {
  anyValueAsString, idToHex, isZeroNanos, nanosToDecimal,
  type AnyValue, type KeyValue, type Long, type LogRecord, type ResourceLogs, type ScopeLogs,
} from '@tributary/otlp';
import type { RecordRef } from '../common/partial-delivery.js';
import type { LineFormat, LokiExporterConfig } from './config.js';
import { encodePushRequest, encodePushRequestJson, entryFieldSize, streamOverheadSize, type LokiEntry, type LokiStream } from './logproto.js';

export interface LokiConvertOptions {
  defaultLabels: { exporter: boolean; job: boolean; instance: boolean; level: boolean };
  lineFormat: LineFormat;
  /** Lines longer than this (bytes) are rejected; 0 = no limit. */
  maxLineSize: number;
  /** Upper bound of one encoded (uncompressed) push body. */
  maxRequestBytes: number;
  encoding: 'protobuf' | 'json';
  /** Label that carries `retention.class` (unset = none). */
  retentionLabel?: string | undefined;
}

export interface LokiPushRequest {
  /** `X-Scope-OrgID` from the `loki.tenant` hint; undefined = the configured headers decide. */
  tenant: string | undefined;
  streams: LokiStream[];
  /** Encoded, uncompressed body (protobuf PushRequest or Loki JSON). */
  body: Buffer;
  records: RecordRef[];
}

export interface LokiConvertResult {
  requests: LokiPushRequest[];
  rejected: { ref: RecordRef; reason: string }[];
}

export function lokiConvertOptions(config: LokiExporterConfig): LokiConvertOptions {
  return {
    defaultLabels: config.default_labels_enabled,
    lineFormat: config.line_format,
    maxLineSize: config.max_line_size,
    maxRequestBytes: config.max_request_bytes,
    encoding: config.encoding,
    retentionLabel: config.retention.label,
  };
}

const HINT_RESOURCE_LABELS = 'loki.resource.labels';
const HINT_ATTRIBUTE_LABELS = 'loki.attribute.labels';
const HINT_FORMAT = 'loki.format';
const HINT_TENANT = 'loki.tenant';
const LEVEL = 'level';
const RETENTION_CLASS = 'retention.class';

/** OTLP severity number → Loki `level` label value (upstream severityNumberToLevel). */
export const SEVERITY_LEVELS: readonly string[] = [
  'UNSPECIFIED', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4',
  'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4',
];

// ---------------------------------------------------------------------------------------------------
// Labels

const INVALID_LABEL_CHARS = /[^a-zA-Z0-9_]/g;
const normalizedNames = new Map<string, string>();

/** Prometheus label name normalization (upstream prometheus.NormalizeLabel): invalid chars → `_`, `key_`/`key` prefixes. */
export function normalizeLabelName(name: string): string {
  let n = normalizedNames.get(name);
  if (n !== undefined) return n;
  n = name.replace(INVALID_LABEL_CHARS, '_');
  if (n !== '') {
    const c = n.charCodeAt(0);
    if (c >= 48 && c <= 57) n = `key_${n}`;
    else if (c === 95 && !n.startsWith('__')) n = `key${n}`;
  }
  if (normalizedNames.size < 10_000) normalizedNames.set(name, n);
  return n;
}

const NEEDS_ESCAPE = /[\\"\n]/;
const ESCAPES = /[\\"\n]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n' };

/** A label value inside `{name="value"}` (Prometheus string escaping). */
export function escapeLabelValue(v: string): string {
  return NEEDS_ESCAPE.test(v) ? v.replace(ESCAPES, (c) => ESCAPED[c]!) : v;
}

/** `{a="x", b="y"}` with names sorted (Prometheus labels.String()). */
export function formatLabels(pairs: readonly (readonly [string, string])[]): string {
  let s = '{';
  for (let i = 0; i < pairs.length; i++) s += `${i ? ', ' : ''}${pairs[i]![0]}="${escapeLabelValue(pairs[i]![1])}"`;
  return `${s}}`;
}

/** A hint's value as a list of attribute names (comma-separated string or a string array). */
function hintList(v: AnyValue | null | undefined): string[] {
  if (v == null) return [];
  if (v.arrayValue != null) return v.arrayValue.values.map((x) => anyValueAsString(x).trim()).filter((x) => x !== '');
  return anyValueAsString(v).split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function find(kvs: readonly KeyValue[] | null | undefined, key: string): AnyValue | undefined {
  if (kvs == null) return undefined;
  for (let i = 0; i < kvs.length; i++) if (kvs[i]!.key === key) return kvs[i]!.value ?? undefined;
  return undefined;
}

/** Attribute lookup that also follows `a.b` into nested maps (upstream allows nested hints). */
function findNested(kvs: readonly KeyValue[], key: string): AnyValue | undefined {
  const direct = find(kvs, key);
  if (direct !== undefined) return direct;
  let dot = key.indexOf('.');
  while (dot > 0) {
    const head = find(kvs, key.slice(0, dot));
    if (head?.kvlistValue != null) {
      const inner = findNested(head.kvlistValue.values, key.slice(dot + 1));
      if (inner !== undefined) return inner;
    }
    dot = key.indexOf('.', dot + 1);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Go encoding/json output written straight from the AnyValue tree (no intermediate objects): map keys
// sorted, `<>&` and U+2028/9 escaped, bytes base64, like pdata AsRaw + json.Marshal.

const GO_HTML = /[<>&\u2028\u2029]/;
const GO_HTML_ALL = /[<>&\u2028\u2029]/g;
const GO_ESC: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

export function goString(v: string): string {
  const j = JSON.stringify(v);
  return GO_HTML.test(j) ? j.replace(GO_HTML_ALL, (c) => GO_ESC[c]!) : j;
}

function byKey(a: KeyValue, b: KeyValue): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Go JSON of an attribute list as an object (keys sorted), leaving out keys for which `skip` says so. */
export function goJsonKvs(kvs: readonly KeyValue[], promoted: readonly string[] | undefined): string {
  let sorted = true;
  for (let i = 1; i < kvs.length; i++) if (kvs[i - 1]!.key > kvs[i]!.key) { sorted = false; break; }
  const list = sorted ? kvs : [...kvs].sort(byKey);
  let s = '{';
  let first = true;
  for (let i = 0; i < list.length; i++) {
    const kv = list[i]!;
    if (promoted !== undefined && !keepAttr(kv.key, promoted)) continue;
    s += `${first ? '' : ','}${goString(kv.key)}:${goJsonValue(kv.value)}`;
    first = false;
  }
  return `${s}}`;
}

export function goJsonValue(v: AnyValue | null | undefined): string {
  if (v == null) return 'null';
  if (v.stringValue != null) return goString(v.stringValue);
  if (v.boolValue != null) return v.boolValue ? 'true' : 'false';
  if (v.intValue != null) return typeof v.intValue === 'number' ? String(Math.trunc(v.intValue)) : v.intValue.toString();
  if (v.doubleValue != null) return Number.isFinite(v.doubleValue) ? String(v.doubleValue) : 'null';
  if (v.kvlistValue != null) return goJsonKvs(v.kvlistValue.values, undefined);
  if (v.arrayValue != null) {
    const vals = v.arrayValue.values;
    let s = '[';
    for (let i = 0; i < vals.length; i++) s += (i ? ',' : '') + goJsonValue(vals[i]);
    return `${s}]`;
  }
  if (v.bytesValue != null) return `"${Buffer.from(v.bytesValue.buffer, v.bytesValue.byteOffset, v.bytesValue.byteLength).toString('base64')}"`;
  return 'null';
}

// ---------------------------------------------------------------------------------------------------
// logfmt

const LOGFMT_LINE = /^\s*(?:[^\s="]+=(?:"(?:[^"\\]|\\.)*"|[^\s"]*)\s*)+$/;
const LOGFMT_NEEDS_QUOTE = /[\s="\\\u0000-\u001f\u007f]/;
const LOGFMT_BAD_KEY = /[\s="\u0000-\u001f\u007f]/g;

function logfmtValue(v: string): string {
  return LOGFMT_NEEDS_QUOTE.test(v) ? JSON.stringify(v) : v;
}

function logfmtPair(key: string, v: string): string {
  return `${key.replace(LOGFMT_BAD_KEY, '_')}=${logfmtValue(v)}`;
}

/** `prefix_key=value` pairs of an attribute value; maps flattened with `_`, arrays indexed. */
function logfmtFlatten(out: string[], key: string, v: AnyValue | null | undefined): void {
  if (v != null && v.kvlistValue != null) {
    for (const kv of v.kvlistValue.values) logfmtFlatten(out, `${key}_${kv.key}`, kv.value);
    return;
  }
  if (v != null && v.arrayValue != null) {
    const vals = v.arrayValue.values;
    for (let i = 0; i < vals.length; i++) logfmtFlatten(out, `${key}_${i}`, vals[i]);
    return;
  }
  out.push(logfmtPair(key, anyValueAsString(v)));
}

// ---------------------------------------------------------------------------------------------------
// Per-resource / per-scope context

interface ResourceCtx {
  attrs: readonly KeyValue[];
  /** Default + resource-hint labels, normalized names (unsorted). */
  labels: [string, string][];
  /** Names of resource attributes promoted to labels (left out of the line). */
  promoted: Set<string>;
  attributeHints: string[];
  format: string | undefined;
  tenantAttr: string | undefined;
  retentionClass: string | undefined;
  /** json line: `,"resources":{…}` or ''. logfmt: ` resource_k=v…` or ''. */
  jsonFragment: string;
  logfmtFragment: string;
  id: number;
}

function isHint(key: string): boolean {
  return key.startsWith('loki.') && (key === HINT_RESOURCE_LABELS || key === HINT_ATTRIBUTE_LABELS || key === HINT_FORMAT || key === HINT_TENANT);
}

function resourceCtx(rl: ResourceLogs, o: LokiConvertOptions, id: number): ResourceCtx {
  const attrs = rl.resource?.attributes ?? [];
  const labels: [string, string][] = [];
  const dl = o.defaultLabels;
  if (dl.exporter) labels.push(['exporter', 'OTLP']);
  const svc = find(attrs, 'service.name');
  const ns = find(attrs, 'service.namespace');
  if (dl.job && svc !== undefined) {
    labels.push(['job', ns !== undefined ? `${anyValueAsString(ns)}/${anyValueAsString(svc)}` : anyValueAsString(svc)]);
  }
  const inst = find(attrs, 'service.instance.id');
  if (dl.instance && inst !== undefined) labels.push(['instance', anyValueAsString(inst)]);
  const promoted = new Set<string>();
  for (const name of hintList(find(attrs, HINT_RESOURCE_LABELS))) {
    const v = findNested(attrs, name);
    if (v === undefined) continue;
    promoted.add(name);
    labels.push([normalizeLabelName(name), anyValueAsString(v)]);
  }
  const fmt = find(attrs, HINT_FORMAT);
  const tenant = find(attrs, HINT_TENANT);
  const cls = find(attrs, RETENTION_CLASS);
  let jsonFragment = '';
  let logfmtFragment = '';
  const kept: KeyValue[] = [];
  const lf: string[] = [];
  for (const kv of attrs) {
    if (isHint(kv.key) || promoted.has(kv.key)) continue;
    kept.push(kv);
    logfmtFlatten(lf, `resource_${kv.key}`, kv.value);
  }
  if (kept.length > 0) jsonFragment = `,"resources":${goJsonKvs(kept, undefined)}`;
  for (const p of lf) logfmtFragment += ` ${p}`;
  return {
    attrs, labels, promoted,
    attributeHints: hintList(find(attrs, HINT_ATTRIBUTE_LABELS)),
    format: fmt !== undefined ? anyValueAsString(fmt) : undefined,
    tenantAttr: tenant !== undefined ? anyValueAsString(tenant) : undefined,
    retentionClass: cls !== undefined ? anyValueAsString(cls) : undefined,
    jsonFragment, logfmtFragment, id,
  };
}

interface ScopeCtx {
  jsonFragment: string;
  logfmtFragment: string;
}

function scopeCtx(sl: ScopeLogs): ScopeCtx {
  const name = sl.scope?.name ?? '';
  const version = sl.scope?.version ?? '';
  if (!name) return { jsonFragment: '', logfmtFragment: '' };
  const inner = version ? `{"name":${goString(name)},"version":${goString(version)}}` : `{"name":${goString(name)}}`;
  let lf = ` ${logfmtPair('instrumentation_scope_name', name)}`;
  if (version) lf += ` ${logfmtPair('instrumentation_scope_version', version)}`;
  return { jsonFragment: `,"instrumentation_scope":${inner}`, logfmtFragment: lf };
}

// ---------------------------------------------------------------------------------------------------
// Lines

/** Record attributes left in the line: not a hint, not promoted to a label. */
function keepAttr(key: string, promoted: readonly string[]): boolean {
  if (isHint(key)) return false;
  for (let i = 0; i < promoted.length; i++) if (promoted[i] === key) return false;
  return true;
}

function jsonLine(lr: LogRecord, promoted: readonly string[], rc: ResourceCtx, sc: ScopeCtx): string {
  let s = '';
  const body = lr.body;
  if (!isEmptyValue(body)) s += `,"body":${goJsonValue(body)}`;
  const trace = idToHex(lr.traceId);
  if (trace) s += `,"traceid":"${trace}"`;
  const span = idToHex(lr.spanId);
  if (span) s += `,"spanid":"${span}"`;
  if (lr.severityText) s += `,"severity":${goString(lr.severityText)}`;
  if (lr.flags) s += `,"flags":${lr.flags}`;
  const attrs = lr.attributes;
  let any = false;
  for (let i = 0; i < attrs.length && !any; i++) any = keepAttr(attrs[i]!.key, promoted);
  if (any) s += `,"attributes":${goJsonKvs(attrs, promoted)}`;
  s += rc.jsonFragment + sc.jsonFragment;
  return s ? `{${s.slice(1)}}` : '{}';
}

function isEmptyValue(v: AnyValue | null | undefined): boolean {
  return v == null || (v.stringValue == null && v.boolValue == null && v.intValue == null && v.doubleValue == null && v.kvlistValue == null && v.arrayValue == null && v.bytesValue == null);
}

function logfmtLine(lr: LogRecord, promoted: readonly string[], rc: ResourceCtx, sc: ScopeCtx): string {
  const parts: string[] = [];
  const body = lr.body;
  if (body != null) {
    if (body.stringValue != null) {
      if (body.stringValue !== '') {
        // A body that already is logfmt is kept as is; anything else becomes msg="…".
        parts.push(LOGFMT_LINE.test(body.stringValue) ? body.stringValue.trim() : logfmtPair('msg', body.stringValue));
      }
    } else if (body.kvlistValue != null) {
      for (const kv of body.kvlistValue.values) logfmtFlatten(parts, kv.key, kv.value);
    } else {
      const v = anyValueAsString(body);
      if (v !== '') parts.push(logfmtPair('msg', v));
    }
  }
  const trace = idToHex(lr.traceId);
  if (trace) parts.push(`traceID=${trace}`);
  const span = idToHex(lr.spanId);
  if (span) parts.push(`spanID=${span}`);
  if (lr.severityText) parts.push(logfmtPair('severity', lr.severityText));
  if (lr.flags) parts.push(`flags=${lr.flags}`);
  const attrs = lr.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    if (keepAttr(kv.key, promoted)) logfmtFlatten(parts, `attribute_${kv.key}`, kv.value);
  }
  let s = parts.join(' ');
  s += rc.logfmtFragment + sc.logfmtFragment;
  return s.startsWith(' ') ? s.slice(1) : s;
}

// ---------------------------------------------------------------------------------------------------
// Converter

interface LabelSet {
  labels: string;
  pairs: [string, string][];
}

interface TenantAcc {
  tenant: string | undefined;
  done: LokiPushRequest[];
  streams: Map<string, LokiStream>;
  records: RecordRef[];
  size: number;
}

const NO_PROMOTED: readonly string[] = [];

export function convertToLokiPush(resourceLogs: readonly ResourceLogs[], o: LokiConvertOptions, now: Long): LokiConvertResult {
  const rejected: { ref: RecordRef; reason: string }[] = [];
  const tenants = new Map<string | undefined, TenantAcc>();
  const labelCache = new Map<string, LabelSet>();
  const json = o.encoding === 'json';

  const flush = (t: TenantAcc): void => {
    if (t.records.length === 0) return;
    const streams = [...t.streams.values()];
    const body = json ? Buffer.from(encodePushRequestJson(streams)) : Buffer.from(encodePushRequest(streams));
    t.done.push({ tenant: t.tenant, streams, body, records: t.records });
    t.streams = new Map();
    t.records = [];
    t.size = json ? 14 : 0;
  };

  for (let i = 0; i < resourceLogs.length; i++) {
    const rl = resourceLogs[i]!;
    const rc = resourceCtx(rl, o, i);
    for (let j = 0; j < rl.scopeLogs.length; j++) {
      const sl = rl.scopeLogs[j]!;
      const sc = scopeCtx(sl);
      const logRecords = sl.logRecords;
      for (let k = 0; k < logRecords.length; k++) {
        const lr = logRecords[k]!;
        const attrs = lr.attributes;
        const ref: RecordRef = { rl, sl, lr };

        // --- labels promoted from record attributes (hint on the resource and/or the record), level, retention
        let promoted: string[] | undefined;
        let recLabels: [string, string][] | undefined;
        const recHints = find(attrs, HINT_ATTRIBUTE_LABELS);
        const names = recHints === undefined ? rc.attributeHints : [...rc.attributeHints, ...hintList(recHints)];
        for (let h = 0; h < names.length; h++) {
          const v = findNested(attrs, names[h]!);
          if (v === undefined) continue;
          (promoted ??= []).push(names[h]!);
          (recLabels ??= []).push([normalizeLabelName(names[h]!), anyValueAsString(v)]);
        }
        if (o.defaultLabels.level && lr.severityNumber !== 0) {
          const lv = find(attrs, LEVEL);
          (promoted ??= []).push(LEVEL);
          (recLabels ??= []).push([LEVEL, lv !== undefined ? anyValueAsString(lv) : SEVERITY_LEVELS[lr.severityNumber] ?? String(lr.severityNumber)]);
        }
        if (o.retentionLabel !== undefined) {
          const cv = find(attrs, RETENTION_CLASS);
          const cls = cv !== undefined ? anyValueAsString(cv) : rc.retentionClass;
          if (cls !== undefined && cls !== '') (recLabels ??= []).push([o.retentionLabel, cls]);
        }
        let key = String(rc.id);
        if (recLabels !== undefined) for (const [n, v] of recLabels) key += `\u0001${n}\u0002${v}`;
        let ls = labelCache.get(key);
        if (ls === undefined) {
          const merged = new Map<string, string>(rc.labels);
          if (recLabels !== undefined) for (const [n, v] of recLabels) merged.set(n, v);
          const pairs = [...merged.entries()].filter(([n, v]) => n !== '' && v !== '').sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
          // Loki refuses a stream without labels: fall back to the exporter label.
          if (pairs.length === 0) pairs.push(['exporter', 'OTLP']);
          ls = { labels: formatLabels(pairs), pairs };
          labelCache.set(key, ls);
        }

        // --- tenant
        let tenant: string | undefined;
        let tenantAttr = rc.tenantAttr;
        if (tenantAttr === undefined) {
          const h = find(attrs, HINT_TENANT);
          if (h !== undefined) tenantAttr = anyValueAsString(h);
        }
        if (tenantAttr !== undefined) {
          const tv = find(rc.attrs, tenantAttr) ?? find(attrs, tenantAttr);
          if (tv !== undefined) tenant = anyValueAsString(tv) || undefined;
        }

        // --- line
        let format = rc.format;
        if (format === undefined) {
          const f = find(attrs, HINT_FORMAT);
          format = f !== undefined ? anyValueAsString(f) : o.lineFormat;
        }
        const pr = promoted ?? NO_PROMOTED;
        const line = format === 'raw' ? anyValueAsString(lr.body) : format === 'logfmt' ? logfmtLine(lr, pr, rc, sc) : jsonLine(lr, pr, rc, sc);
        const lineBytes = Buffer.byteLength(line);
        if (o.maxLineSize > 0 && lineBytes > o.maxLineSize) {
          rejected.push({ ref, reason: `line of ${lineBytes} bytes exceeds max_line_size ${o.maxLineSize}` });
          continue;
        }

        // --- timestamp: time, else observed, else now
        let ts = lr.timeUnixNano;
        if (isZeroNanos(ts)) ts = isZeroNanos(lr.observedTimeUnixNano) ? now : lr.observedTimeUnixNano;
        const ns = nanosToDecimal(ts);
        const seconds = ns.length > 9 ? Number(ns.slice(0, -9)) : 0;
        const nanos = Number(ns.length > 9 ? ns.slice(-9) : ns);
        const entry: LokiEntry = { seconds, nanos, line, ns };

        // --- group: tenant → request → stream, split on the encoded size
        let t = tenants.get(tenant);
        if (t === undefined) {
          t = { tenant, done: [], streams: new Map(), records: [], size: json ? 14 : 0 };
          tenants.set(tenant, t);
        }
        const entrySize = json ? ns.length + Buffer.byteLength(JSON.stringify(line)) + 6 : entryFieldSize(seconds, nanos, lineBytes);
        const labelsBytes = json ? Buffer.byteLength(JSON.stringify(ls.pairs)) + 24 : Buffer.byteLength(ls.labels);
        const streamCost = json ? labelsBytes : streamOverheadSize(labelsBytes);
        let stream = t.streams.get(ls.labels);
        const add = entrySize + (stream === undefined ? streamCost : 0);
        if (t.records.length > 0 && t.size + add > o.maxRequestBytes) {
          flush(t);
          stream = undefined;
        }
        if (stream === undefined) {
          stream = { labels: ls.labels, pairs: ls.pairs, entries: [] };
          t.streams.set(ls.labels, stream);
          t.size += streamCost;
        }
        stream.entries.push(entry);
        t.records.push(ref);
        t.size += entrySize;
      }
    }
  }
  const requests: LokiPushRequest[] = [];
  for (const t of tenants.values()) {
    flush(t);
    for (const r of t.done) requests.push(r);
  }
  return { requests, rejected };
}

export type { LokiStream, LokiEntry };
