/**
 * `convertToLokiPush`: the pure part of the `loki` exporter (upstream pkg/translator/loki). Turns OTLP
 * records into Loki push bodies: records are grouped per tenant (one request per tenant, header
 * `X-Scope-OrgID`) and per label set (one stream per distinct labels), lines are formatted as `json`,
 * `logfmt` or `raw`, and each tenant's streams are split so no body exceeds `maxRequestBytes` (measured
 * exactly on the encoded protobuf, or on the JSON text).
 *
 * Hot path: labels, `resources` / `instrumentation_scope` line fragments, hints and the tenant attribute
 * are resolved once per resource or scope; formatted label strings are cached per distinct label set.
 * json lines and the entries are written as bytes (`JsonByteWriter`) into one buffer per stream, and each
 * request body is assembled from those once; logfmt and raw lines are still built as strings.
 */
import {
  anyValueAsString, idToHex, isZeroNanos, JsonByteWriter,
  type AnyValue, type KeyValue, type Long, type LogRecord, type ResourceLogs, type ScopeLogs,
} from '@tributary/otlp';
import type { RecordRef } from '../common/partial-delivery.js';
import type { LineFormat, LokiExporterConfig } from './config.js';
import { utf8 } from '../common/json-body.js';
import { splitSeconds } from '../common/split-nanos.js';
import { entryFieldSize, streamOverheadSize, type LokiEntry, type LokiStream } from './logproto.js';

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

/*
 * logfmt as upstream writes it: pkg/translator/loki/encode.go (opentelemetry-collector-contrib 0690ac45),
 * which builds key/value pairs and encodes them with go-logfmt. Read, not copied.
 */

/** go-logfmt quotes a value holding a space or control byte, `=`, `"` (not a backslash). */
const LOGFMT_NEEDS_QUOTE = /[\u0000-\u0020="\ufffd]/;
const LOGFMT_BAD_KEY = /[\u0000-\u0020="\ufffd]/g;
const HEX = '0123456789abcdef';

/** go-logfmt's quoted string: `\\`, `\"`, `\n`, `\r`, `\t`, other control bytes as `\u00XX`. */
function logfmtQuote(v: string): string {
  let out = '"';
  for (const ch of v) {
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20) out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    else out += ch;
  }
  return out + '"';
}

function logfmtValue(v: string): string {
  // go-logfmt writes the string "null" quoted, so it is not read back as a null value.
  return v === 'null' || LOGFMT_NEEDS_QUOTE.test(v) ? logfmtQuote(v) : v;
}

function logfmtPair(key: string, v: string): string {
  return `${key.replace(LOGFMT_BAD_KEY, '_')}=${logfmtValue(v)}`;
}

/** Go's `fmt.Sprint(float64)` (strconv %g, shortest): exponent form when the exponent is < -4 or >= 6. */
export function goFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, e] = f.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(f);
}

/** A scalar as go-logfmt writes the Go value upstream passes (int64, float64, bool, string, []byte). */
function logfmtScalar(v: AnyValue): string {
  if (v.doubleValue != null) return goFloat(v.doubleValue);
  if (v.bytesValue != null) return Buffer.from(v.bytesValue).toString('utf8');
  return anyValueAsString(v);
}

/** Upstream's valueToKeyvals: maps flattened with `_`, slices indexed, empty values left out. */
function logfmtFlatten(out: [string, string][], key: string, v: AnyValue | null | undefined): void {
  if (isEmptyValue(v)) return;
  if (v!.kvlistValue != null) {
    const prefix = key === '' ? '' : `${key}_`;
    for (const kv of v!.kvlistValue.values) logfmtFlatten(out, `${prefix}${kv.key}`, kv.value);
    return;
  }
  if (v!.arrayValue != null) {
    const prefix = key === '' ? '' : `${key}_`;
    const vals = v!.arrayValue.values;
    for (let i = 0; i < vals.length; i++) logfmtFlatten(out, `${prefix}${i}`, vals[i]);
    return;
  }
  out.push([key, logfmtScalar(v!)]);
}

/**
 * go-logfmt's decoder on the first line of a string body, as upstream's parseLogfmtLine: bare words
 * are keys with empty values (`hello world` → `hello= world=`); undefined on a syntax error (then the
 * body becomes `msg=…`).
 */
export function parseLogfmtFirstLine(text: string): [string, string][] | undefined {
  const nl = text.indexOf('\n');
  const line = nl < 0 ? text : text.slice(0, nl);
  const out: [string, string][] = [];
  let p = 0;
  const n = line.length;
  const ws = (c: string): boolean => c <= ' ';
  while (p < n) {
    while (p < n && ws(line[p]!)) p++;
    if (p >= n) break;
    const start = p;
    while (p < n) {
      const c = line[p]!;
      if (c === '=') break;
      if (c === '"') return undefined;
      if (ws(c)) break;
      p++;
    }
    const key = line.slice(start, p);
    if (p >= n || ws(line[p]!)) {
      out.push([key, '']);
      continue;
    }
    // line[p] === '='
    if (key === '') return undefined;
    p++;
    if (p >= n || ws(line[p]!)) {
      out.push([key, '']);
      continue;
    }
    if (line[p] === '"') {
      p++;
      let v = '';
      let closed = false;
      while (p < n) {
        const c = line[p]!;
        if (c === '\\') {
          const d = line[p + 1];
          if (d === undefined) return undefined;
          if (d === 'n') v += '\n';
          else if (d === 'r') v += '\r';
          else if (d === 't') v += '\t';
          else if (d === 'u') {
            const hex = line.slice(p + 2, p + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) return undefined;
            v += String.fromCharCode(parseInt(hex, 16));
            p += 4;
          } else if (d === '"' || d === '\\' || d === '/') v += d;
          else if (d === 'b') v += '\b';
          else if (d === 'f') v += '\f';
          else return undefined;
          p += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          p++;
          break;
        }
        v += c;
        p++;
      }
      if (!closed) return undefined;
      out.push([key, v]);
      continue;
    }
    const vs = p;
    while (p < n && !ws(line[p]!)) {
      const c = line[p]!;
      if (c === '=' || c === '"') return undefined;
      p++;
    }
    out.push([key, line.slice(vs, p)]);
  }
  return out;
}

/**
 * Upstream's keyvalsReplaceOrAppend. Keys parsed from a logfmt string body are Go []byte there, which
 * never compare equal to the string key: those are not replaced (the pair is appended), as upstream.
 */
function replaceOrAppend(kvs: [string, string][], parsed: number, key: string, value: string): void {
  for (let i = parsed; i < kvs.length; i++) {
    const kv = kvs[i]!;
    if (kv[0] === key) {
      kv[1] = value;
      return;
    }
  }
  kvs.push([key, value]);
}

function encodeKeyvals(kvs: readonly [string, string][]): string {
  let s = '';
  for (const [k, v] of kvs) s += (s ? ' ' : '') + logfmtPair(k, v);
  return s;
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
  const tl = tenant !== undefined ? tenantLabel(attrs, anyValueAsString(tenant)) : undefined;
  if (tl !== undefined) {
    labels.push([tl[0], tl[1]]);
    if (tl[2]) promoted.add(tl[0]);
  }
  const cls = find(attrs, RETENTION_CLASS);
  let jsonFragment = '';
  let logfmtFragment = '';
  const kept: KeyValue[] = [];
  const lf: [string, string][] = [];
  for (const kv of attrs) {
    if (isHint(kv.key) || promoted.has(kv.key)) continue;
    kept.push(kv);
    logfmtFlatten(lf, `resource_${kv.key}`, kv.value);
  }
  if (kept.length > 0) jsonFragment = `,"resources":${goJsonKvs(kept, undefined)}`;
  if (lf.length > 0) logfmtFragment = ` ${encodeKeyvals(lf)}`;
  return {
    attrs, labels, promoted,
    attributeHints: hintList(find(attrs, HINT_ATTRIBUTE_LABELS)),
    format: fmt !== undefined ? anyValueAsString(fmt) : undefined,
    tenantAttr: tenant !== undefined ? anyValueAsString(tenant) : undefined,
    retentionClass: cls !== undefined ? anyValueAsString(cls) : undefined,
    jsonFragment, logfmtFragment, id,
  };
}

/**
 * The tenant attribute named by a `loki.tenant` hint becomes a label too (`tenant.id` → `tenant_id`), as
 * upstream's translator did: [label, value, whether the attribute leaves the line]. Like upstream, it
 * leaves the line only when its key is already a valid label name (upstream removes attributes by label name).
 */
function tenantLabel(attrs: readonly KeyValue[], name: string): [string, string, boolean] | undefined {
  const v = find(attrs, name);
  if (v === undefined) return undefined;
  const label = normalizeLabelName(name);
  return [label, anyValueAsString(v), label === name];
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

const K_BODY = utf8(',"body":');
const K_TRACEID = utf8(',"traceid":"');
const K_SPANID = utf8(',"spanid":"');
const K_SEVERITY = utf8(',"severity":');
const K_FLAGS = utf8(',"flags":');
const K_ATTRIBUTES = utf8(',"attributes":');
const K_NULL = utf8('null');
const K_TRUE = utf8('true');
const K_FALSE = utf8('false');

/** True when the ID has a non-zero byte (idToHex would not be ''). */
function hasId(id: Uint8Array | null | undefined): id is Uint8Array {
  if (id == null) return false;
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return true;
  return false;
}

/**
 * String(n) of a finite number. Not `JsonByteWriter.number`: its short-decimal path made this converter
 * about a third slower in the loki benchmark (JIT), though it is faster for the other converters.
 */
function goNumber(w: JsonByteWriter, n: number): void {
  if (n >= 0 && n < 0x80000000 && (n | 0) === n) w.uint(n);
  else w.ascii(String(n));
}

/**
 * The json line (upstream's encodeJSON) straight into `w`, byte-identical to the UTF-8 of the string
 * form: `promoted[0…np)` are the attributes that became labels; `tail` is the resource + scope fragment.
 */
function writeJsonLine(w: JsonByteWriter, lr: LogRecord, promoted: readonly string[], np: number, tail: Buffer): void {
  const start = w.length;
  // Every field is written with a leading comma; the first one becomes the opening brace.
  const body = lr.body;
  if (body != null && !isEmptyValue(body)) {
    w.raw(K_BODY);
    writeGoJsonValue(w, body, 0);
  }
  if (hasId(lr.traceId)) {
    w.raw(K_TRACEID);
    w.hex(lr.traceId);
    w.byte(0x22);
  }
  if (hasId(lr.spanId)) {
    w.raw(K_SPANID);
    w.hex(lr.spanId);
    w.byte(0x22);
  }
  if (lr.severityText) {
    w.raw(K_SEVERITY);
    w.goString(lr.severityText);
  }
  if (lr.flags) {
    w.raw(K_FLAGS);
    goNumber(w, lr.flags);
  }
  const attrs = lr.attributes;
  let any = false;
  for (let i = 0; i < attrs.length && !any; i++) any = keepAttrN(attrs[i]!.key, promoted, np);
  if (any) {
    w.raw(K_ATTRIBUTES);
    writeGoJsonKvs(w, attrs, promoted, np, 0);
  }
  w.raw(tail);
  if (w.length === start) {
    w.byte(0x7b);
    w.byte(0x7d);
  } else {
    w.setByte(start, 0x7b);
    w.byte(0x7d);
  }
}

function keepAttrN(key: string, promoted: readonly string[], np: number): boolean {
  if (isHint(key)) return false;
  for (let i = 0; i < np; i++) if (promoted[i] === key) return false;
  return true;
}

/** Index scratch for sorting keys, one per nesting depth (no allocation per record). */
const SORT_SCRATCH: number[][] = [];

/** goJsonKvs(kvs, promoted) straight into `w`: keys sorted (stable), promoted keys and hints left out when `promoted` is given. */
function writeGoJsonKvs(w: JsonByteWriter, kvs: readonly KeyValue[], promoted: readonly string[] | undefined, np: number, depth: number): void {
  const n = kvs.length;
  const order = (SORT_SCRATCH[depth] ??= []);
  order.length = 0;
  // Stable insertion sort of the indices by key (the lists are short).
  for (let i = 0; i < n; i++) {
    const key = kvs[i]!.key;
    let j = i;
    while (j > 0 && kvs[order[j - 1]!]!.key > key) {
      order[j] = order[j - 1]!;
      j--;
    }
    order[j] = i;
  }
  w.byte(0x7b);
  let first = true;
  for (let i = 0; i < n; i++) {
    const kv = kvs[order[i]!]!;
    if (promoted !== undefined && !keepAttrN(kv.key, promoted, np)) continue;
    if (!first) w.byte(0x2c);
    first = false;
    w.goString(kv.key);
    w.byte(0x3a);
    writeGoJsonValue(w, kv.value, depth + 1);
  }
  w.byte(0x7d);
}

/** goJsonValue(v) straight into `w`. */
function writeGoJsonValue(w: JsonByteWriter, v: AnyValue | null | undefined, depth: number): void {
  if (v == null) w.raw(K_NULL);
  else if (v.stringValue != null) w.goString(v.stringValue);
  else if (v.boolValue != null) w.raw(v.boolValue ? K_TRUE : K_FALSE);
  else if (v.intValue != null) w.int64(v.intValue);
  else if (v.doubleValue != null) {
    if (Number.isFinite(v.doubleValue)) goNumber(w, v.doubleValue);
    else w.raw(K_NULL);
  } else if (v.kvlistValue != null) writeGoJsonKvs(w, v.kvlistValue.values, undefined, 0, depth);
  else if (v.arrayValue != null) {
    const vals = v.arrayValue.values;
    w.byte(0x5b);
    for (let i = 0; i < vals.length; i++) {
      if (i) w.byte(0x2c);
      writeGoJsonValue(w, vals[i], depth + 1);
    }
    w.byte(0x5d);
  } else if (v.bytesValue != null) {
    w.byte(0x22);
    w.base64(v.bytesValue);
    w.byte(0x22);
  } else w.raw(K_NULL);
}

function isEmptyValue(v: AnyValue | null | undefined): boolean {
  return v == null || (v.stringValue == null && v.boolValue == null && v.intValue == null && v.doubleValue == null && v.kvlistValue == null && v.arrayValue == null && v.bytesValue == null);
}

function logfmtLine(lr: LogRecord, promoted: readonly string[], rc: ResourceCtx, sc: ScopeCtx): string {
  // Upstream's bodyToKeyvals.
  let kvs: [string, string][] = [];
  let parsed = 0;
  const body = lr.body;
  if (body != null && !isEmptyValue(body)) {
    if (body.stringValue != null) {
      const p = parseLogfmtFirstLine(body.stringValue);
      kvs = p ?? [['msg', body.stringValue]];
      if (p) parsed = p.length;
    }
    else if (body.kvlistValue != null) logfmtFlatten(kvs, '', body);
    else if (body.arrayValue != null) logfmtFlatten(kvs, 'body', body);
    else kvs.push(['msg', logfmtScalar(body)]);
  }
  const trace = idToHex(lr.traceId);
  if (trace) replaceOrAppend(kvs, parsed, 'traceID', trace);
  const span = idToHex(lr.spanId);
  if (span) replaceOrAppend(kvs, parsed, 'spanID', span);
  if (lr.severityText) replaceOrAppend(kvs, parsed, 'severity', lr.severityText);
  if (lr.flags) replaceOrAppend(kvs, parsed, 'flags', String(lr.flags));
  const attrs = lr.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    if (keepAttr(kv.key, promoted)) logfmtFlatten(kvs, `attribute_${kv.key}`, kv.value);
  }
  let s = encodeKeyvals(kvs);
  s += rc.logfmtFragment + sc.logfmtFragment;
  return s.startsWith(' ') ? s.slice(1) : s;
}

// ---------------------------------------------------------------------------------------------------
// Converter

interface LabelSet {
  labels: string;
  pairs: [string, string][];
  /** Bytes a new stream of this label set adds to the size estimate (protobuf or JSON). */
  streamCost: number;
  /** protobuf: the StreamAdapter's labels field (tag, length, text). JSON: `{"stream":{…},"values":[`. */
  head: Buffer;
}

/** Label sets of one resource, found by walking the record's extra labels (name, value, …) without building a key. */
interface LabelNode {
  set: LabelSet | undefined;
  next: Map<string, Map<string, LabelNode>> | undefined;
}

interface StreamAcc {
  ls: LabelSet;
  /** Encoded entries: protobuf EntryAdapter fields, or JSON `["ns","line"]` values joined by commas. */
  w: JsonByteWriter;
  count: number;
}

interface TenantAcc {
  tenant: string | undefined;
  done: LokiPushRequest[];
  streams: Map<string, StreamAcc>;
  records: RecordRef[];
  size: number;
}

const NO_PROMOTED: readonly string[] = [];
const K_STREAMS = utf8('{"streams":[');
const K_STREAMS_END = utf8(']}');
const K_VALUE_END = utf8('",');

/** Reused buffers (convert is synchronous): the line, an encoded entry, and free stream buffers. */
const lineW = new JsonByteWriter(64 * 1024);
const entryW = new JsonByteWriter(64 * 1024);
const freeStreamWriters: JsonByteWriter[] = [];
const labelW = new JsonByteWriter(1024);
/** Record labels of the record being converted: [name0, value0, name1, value1, …], and the promoted attribute names. */
const recLabels: string[] = [];
const promotedScratch: string[] = [];

function childNode(node: LabelNode, name: string, value: string): LabelNode {
  const next = (node.next ??= new Map<string, Map<string, LabelNode>>());
  let byValue = next.get(name);
  if (byValue === undefined) {
    byValue = new Map<string, LabelNode>();
    next.set(name, byValue);
  }
  let child = byValue.get(value);
  if (child === undefined) {
    child = { set: undefined, next: undefined };
    byValue.set(value, child);
  }
  return child;
}

function makeLabelSet(base: readonly [string, string][], rec: readonly string[], nrec: number, json: boolean): LabelSet {
  const merged = new Map<string, string>(base);
  for (let i = 0; i < nrec; i += 2) merged.set(rec[i]!, rec[i + 1]!);
  const pairs = [...merged.entries()].filter(([n, v]) => n !== '' && v !== '').sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  // Loki refuses a stream without labels: fall back to the exporter label.
  if (pairs.length === 0) pairs.push(['exporter', 'OTLP']);
  const labels = formatLabels(pairs);
  let streamCost: number;
  let head: Buffer;
  if (json) {
    streamCost = Buffer.byteLength(JSON.stringify(pairs)) + 24;
    let h = '{"stream":{';
    for (let k = 0; k < pairs.length; k++) h += `${k ? ',' : ''}${JSON.stringify(pairs[k]![0])}:${JSON.stringify(pairs[k]![1])}`;
    head = Buffer.from(`${h}},"values":[`);
  } else {
    const labelsBytes = Buffer.byteLength(labels);
    streamCost = streamOverheadSize(labelsBytes);
    labelW.reset();
    labelW.byte(10);
    labelW.varint(labelsBytes);
    labelW.pbString(labels);
    head = labelW.copy();
  }
  return { labels, pairs, streamCost, head };
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** The request body of a tenant's streams, in stream order, as encodePushRequest / encodePushRequestJson write it. */
function encodeBody(streams: Map<string, StreamAcc>, json: boolean): Buffer {
  let total = json ? K_STREAMS.length + K_STREAMS_END.length : 0;
  let n = 0;
  for (const st of streams.values()) {
    if (json) total += (n ? 1 : 0) + st.ls.head.length + st.w.length + 2;
    else {
      const len = st.ls.head.length + st.w.length;
      total += 1 + varintSize(len) + len;
    }
    n++;
  }
  const out = new JsonByteWriter(total);
  if (json) out.raw(K_STREAMS);
  n = 0;
  for (const st of streams.values()) {
    if (json) {
      if (n) out.byte(0x2c);
      out.raw(st.ls.head);
      out.append(st.w);
      out.byte(0x5d);
      out.byte(0x7d);
    } else {
      out.byte(10);
      out.varint(st.ls.head.length + st.w.length);
      out.raw(st.ls.head);
      out.append(st.w);
    }
    n++;
    st.w.reset();
    freeStreamWriters.push(st.w);
  }
  if (json) out.raw(K_STREAMS_END);
  return out.bytes();
}

function acquireStreamWriter(): JsonByteWriter {
  return freeStreamWriters.pop() ?? new JsonByteWriter(16 * 1024);
}

export function convertToLokiPush(resourceLogs: readonly ResourceLogs[], o: LokiConvertOptions, now: Long): LokiConvertResult {
  const rejected: { ref: RecordRef; reason: string }[] = [];
  const tenants = new Map<string | undefined, TenantAcc>();
  const json = o.encoding === 'json';
  const emptySize = json ? 14 : 0;

  const flush = (t: TenantAcc): void => {
    if (t.records.length === 0) return;
    const body = encodeBody(t.streams, json);
    t.done.push({ tenant: t.tenant, body, records: t.records });
    t.streams = new Map();
    t.records = [];
    t.size = emptySize;
  };

  for (let i = 0; i < resourceLogs.length; i++) {
    const rl = resourceLogs[i]!;
    const rc = resourceCtx(rl, o, i);
    const root: LabelNode = { set: undefined, next: undefined };
    for (let j = 0; j < rl.scopeLogs.length; j++) {
      const sl = rl.scopeLogs[j]!;
      const sc = scopeCtx(sl);
      const tail = Buffer.from(rc.jsonFragment + sc.jsonFragment);
      const logRecords = sl.logRecords;
      for (let k = 0; k < logRecords.length; k++) {
        const lr = logRecords[k]!;
        const attrs = lr.attributes;
        const ref: RecordRef = { rl, sl, lr };

        // --- the record's hint / level / retention attributes, in one pass (first occurrence wins, as find)
        let recHints: AnyValue | undefined;
        let hintTenant: AnyValue | undefined;
        let hintFormat: AnyValue | undefined;
        let levelAttr: AnyValue | undefined;
        let classAttr: AnyValue | undefined;
        let seen = 0;
        for (let a = 0; a < attrs.length; a++) {
          const key = attrs[a]!.key;
          const c = key.charCodeAt(0);
          if (c !== 108 && c !== 114) continue;
          let bit: number;
          switch (key) {
            case HINT_ATTRIBUTE_LABELS: bit = 1; break;
            case HINT_TENANT: bit = 2; break;
            case HINT_FORMAT: bit = 4; break;
            case LEVEL: bit = 8; break;
            case RETENTION_CLASS: bit = 16; break;
            default: continue;
          }
          if ((seen & bit) !== 0) continue;
          seen |= bit;
          const v = attrs[a]!.value ?? undefined;
          if (bit === 1) recHints = v;
          else if (bit === 2) hintTenant = v;
          else if (bit === 4) hintFormat = v;
          else if (bit === 8) levelAttr = v;
          else classAttr = v;
        }

        // --- labels promoted from record attributes (hint on the resource and/or the record), level, retention
        let np = 0;
        let nrec = 0;
        const names = recHints === undefined ? rc.attributeHints : [...rc.attributeHints, ...hintList(recHints)];
        for (let h = 0; h < names.length; h++) {
          const v = findNested(attrs, names[h]!);
          if (v === undefined) continue;
          promotedScratch[np++] = names[h]!;
          recLabels[nrec++] = normalizeLabelName(names[h]!);
          recLabels[nrec++] = anyValueAsString(v);
        }
        if (rc.tenantAttr === undefined) {
          const tl = hintTenant !== undefined ? tenantLabel(attrs, anyValueAsString(hintTenant)) : undefined;
          if (tl !== undefined) {
            recLabels[nrec++] = tl[0];
            recLabels[nrec++] = tl[1];
            if (tl[2]) promotedScratch[np++] = tl[0];
          }
        }
        if (o.defaultLabels.level && lr.severityNumber !== 0) {
          promotedScratch[np++] = LEVEL;
          recLabels[nrec++] = LEVEL;
          recLabels[nrec++] = levelAttr !== undefined ? anyValueAsString(levelAttr) : SEVERITY_LEVELS[lr.severityNumber] ?? String(lr.severityNumber);
        }
        if (o.retentionLabel !== undefined) {
          const cls = classAttr !== undefined ? anyValueAsString(classAttr) : rc.retentionClass;
          if (cls !== undefined && cls !== '') {
            recLabels[nrec++] = o.retentionLabel;
            recLabels[nrec++] = cls;
          }
        }
        let node = root;
        for (let l = 0; l < nrec; l += 2) node = childNode(node, recLabels[l]!, recLabels[l + 1]!);
        const ls = (node.set ??= makeLabelSet(rc.labels, recLabels, nrec, json));

        // --- tenant
        let tenant: string | undefined;
        let tenantAttr = rc.tenantAttr;
        if (tenantAttr === undefined && hintTenant !== undefined) tenantAttr = anyValueAsString(hintTenant);
        if (tenantAttr !== undefined) {
          const tv = find(rc.attrs, tenantAttr) ?? find(attrs, tenantAttr);
          if (tv !== undefined) tenant = anyValueAsString(tv) || undefined;
        }

        // --- line: JSON lines are written as bytes; logfmt and raw lines are strings
        let format = rc.format;
        if (format === undefined) format = hintFormat !== undefined ? anyValueAsString(hintFormat) : o.lineFormat;
        const promoted = np === 0 ? NO_PROMOTED : promotedScratch;
        let line: string | undefined;
        let lineBytes: number;
        lineW.reset();
        if (format === 'raw' || format === 'logfmt') {
          line = format === 'raw' ? anyValueAsString(lr.body) : logfmtLine(lr, promoted.slice(0, np), rc, sc);
          lineBytes = Buffer.byteLength(line);
        } else {
          writeJsonLine(lineW, lr, promoted, np, tail);
          lineBytes = lineW.length;
        }
        if (o.maxLineSize > 0 && lineBytes > o.maxLineSize) {
          rejected.push({ ref, reason: `line of ${lineBytes} bytes exceeds max_line_size ${o.maxLineSize}` });
          continue;
        }

        // --- timestamp: time, else observed, else now
        let ts = lr.timeUnixNano;
        if (isZeroNanos(ts)) ts = isZeroNanos(lr.observedTimeUnixNano) ? now : lr.observedTimeUnixNano;
        const split = splitSeconds(ts);
        const seconds = split.whole;
        const nanos = split.rest;

        // --- the entry's size decides the split (JSON: the entry is encoded first, to measure it)
        let entrySize: number;
        if (json) {
          entryW.reset();
          entryW.byte(0x5b);
          entryW.byte(0x22);
          if (seconds > 0) {
            entryW.uint(seconds);
            entryW.digits(nanos, 9);
          } else entryW.uint(nanos);
          const nsLen = entryW.length - 2;
          entryW.raw(K_VALUE_END);
          const lineStart = entryW.length;
          if (line !== undefined) entryW.string(line);
          else {
            entryW.byte(0x22);
            entryW.escapedJsonText(lineW, 0, lineW.length);
            entryW.byte(0x22);
          }
          entrySize = nsLen + (entryW.length - lineStart) + 6;
          entryW.byte(0x5d);
        } else entrySize = entryFieldSize(seconds, nanos, lineBytes);

        // --- group: tenant → request → stream, split on the encoded size
        let t = tenants.get(tenant);
        if (t === undefined) {
          t = { tenant, done: [], streams: new Map(), records: [], size: emptySize };
          tenants.set(tenant, t);
        }
        let stream = t.streams.get(ls.labels);
        const add = entrySize + (stream === undefined ? ls.streamCost : 0);
        if (t.records.length > 0 && t.size + add > o.maxRequestBytes) {
          flush(t);
          stream = undefined;
        }
        if (stream === undefined) {
          stream = { ls, w: acquireStreamWriter(), count: 0 };
          t.streams.set(ls.labels, stream);
          t.size += ls.streamCost;
        }
        const sw = stream.w;
        if (json) {
          if (stream.count > 0) sw.byte(0x2c);
          sw.append(entryW);
        } else {
          // EntryAdapter field straight into the stream: tag, length, Timestamp message, line.
          const tsLen = (seconds !== 0 ? 1 + varintSize(seconds) : 0) + (nanos !== 0 ? 1 + varintSize(nanos) : 0);
          sw.byte(18);
          sw.varint(1 + varintSize(tsLen) + tsLen + (lineBytes > 0 ? 1 + varintSize(lineBytes) + lineBytes : 0));
          sw.byte(10);
          sw.varint(tsLen);
          if (seconds !== 0) {
            sw.byte(8);
            sw.varint(seconds);
          }
          if (nanos !== 0) {
            sw.byte(16);
            sw.varint(nanos);
          }
          if (lineBytes > 0) {
            sw.byte(18);
            sw.varint(lineBytes);
            if (line !== undefined) sw.pbString(line);
            else sw.append(lineW);
          }
        }
        stream.count++;
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
