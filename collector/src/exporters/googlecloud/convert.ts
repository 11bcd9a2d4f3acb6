/**
 * OTLP records → Cloud Logging `entries:write` request bodies (Cloud Logging REST v2
 * LogEntry). Pure: the clock is a parameter. Each entry is ≤ 256,000 B (JSON-encoded; long text payloads
 * are split into several entries with `split`), each request body < 10,000,000 B.
 */
import {
  anyValueAsString,
  anyValueToRaw,
  findAttribute,
  idToHex,
  isEmptyId,
  isZeroNanos,
  JsonByteWriter,
  nanosToDecimal,
  nanosToIso,
  type AnyValue,
  type KeyValue,
  type Long,
  type RawValue,
  type ResourceLogs,
} from '@tributary/otlp';
import { parseDuration } from '../../config/schema-helpers.js';
import { writeIsoNanos } from '../common/iso-time.js';
import { BytesBody } from '../common/json-body.js';
import type { RecordRef } from '../common/partial-delivery.js';

export const MAX_ENTRY_BYTES = 256_000;
export const MAX_REQUEST_BYTES = 10_000_000;
const REQUEST_PREFIX = '{"entries":[';
const REQUEST_SUFFIX = '],"partialSuccess":true}';
export const ERROR_REPORTING_TYPE = 'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent';

export interface GoogleCloudConvertOptions {
  readonly project: string;
  readonly defaultLogName: string;
  readonly serviceResourceLabels: boolean;
  readonly errorReportingType: boolean;
  readonly retentionRouting: 'label' | 'log_name';
}

export interface EntriesWriteRequest {
  /** The JSON body for `POST /v2/entries:write` (decoded from `bodyBytes` when first read). */
  readonly body: string;
  /** The body as UTF-8: what is sent, so the text is never built on the hot path. */
  readonly bodyBytes: Buffer;
  /** The record of each entry, by entry index (a split record appears once per part). */
  records: RecordRef[];
}

class Request extends BytesBody implements EntriesWriteRequest {
  constructor(
    bodyBytes: Buffer,
    public records: RecordRef[],
  ) {
    super(bodyBytes);
  }
}

export interface GoogleCloudConversion {
  requests: EntriesWriteRequest[];
  /** Records that can never be written (no log name, severity > 24, a structured entry over 256 KB). */
  rejected: { ref: RecordRef; reason: string }[];
}

export interface MonitoredResource {
  type: string;
  labels: Record<string, string>;
}

/** Cloud Logging severities by OTel severity number 0..24. */
export const SEVERITY_BY_NUMBER: readonly string[] = [
  'DEFAULT',
  'DEBUG', 'DEBUG', 'DEBUG', 'DEBUG', 'DEBUG', 'DEBUG', 'DEBUG', 'DEBUG',
  'INFO', 'INFO', 'NOTICE', 'NOTICE',
  'WARNING', 'WARNING', 'WARNING', 'WARNING',
  'ERROR', 'ERROR', 'ERROR', 'ERROR',
  'CRITICAL', 'CRITICAL', 'ALERT', 'EMERGENCY',
];

/** severity_text → number when severity_number is 0 (case-insensitive; OTel names plus syslog-style words). */
const NUMBER_BY_TEXT: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  const bases: [string, number][] = [['trace', 1], ['debug', 5], ['info', 9], ['warn', 13], ['error', 17], ['fatal', 21]];
  for (const [name, n] of bases) {
    m.set(name, n);
    for (let i = 2; i <= 4; i++) m.set(`${name}${i}`, n + i - 1);
  }
  m.set('notice', 11).set('warning', 13).set('critical', 21).set('alert', 23).set('emergency', 24);
  return m;
})();

/** Prefix fallback for other spellings (`Information`, `Warn-ish`, `errors`…). */
const TEXT_PREFIXES: readonly [string, number][] = [['trace', 1], ['debug', 5], ['info', 9], ['warn', 13], ['error', 17], ['fatal', 21]];

/** The severity number, from the severity text when the number is 0. */
export function effectiveSeverityNumber(severityNumber: number, severityText: string): number {
  let n = severityNumber;
  if (n === 0 && severityText !== '') {
    const t = severityText.toLowerCase();
    n = NUMBER_BY_TEXT.get(t) ?? 0;
    if (n === 0) for (const [prefix, v] of TEXT_PREFIXES) if (t.startsWith(prefix)) { n = v; break; }
  }
  return n;
}

/** The severity name, or undefined when the number is out of range (the record is rejected). */
export function cloudLoggingSeverity(severityNumber: number, severityText: string): string | undefined {
  return SEVERITY_BY_NUMBER[effectiveSeverityNumber(severityNumber, severityText)];
}

/** Go's url.PathEscape: escapes everything but unreserved characters and `$&+:=@`. */
export function pathEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%(24|26|2B|3A|3D|40)/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function str(attrs: readonly KeyValue[], key: string): string | undefined {
  const v = findAttribute(attrs, key);
  if (v === undefined) return undefined;
  const s = anyValueAsString(v);
  return s === '' ? undefined : s;
}

/**
 * The monitored resource for a resource's attributes, exactly as upstream's resource mapping
 * (GoogleCloudPlatform/opentelemetry-operations-go internal/resourcemapping/resourcemapping.go at
 * a1ba9410): the type from `cloud.platform` (then generic_task / generic_node), and every label of that
 * type present, coalesced from its attributes in order, else its fallback ("" or "global").
 */
const MR_LABELS: Record<string, Record<string, { keys: readonly string[]; fallback: string }>> = {
  gce_instance: { zone: { keys: ['cloud.availability_zone'], fallback: '' }, instance_id: { keys: ['host.id'], fallback: '' } },
  k8s_container: {
    location: { keys: ['cloud.availability_zone', 'cloud.region'], fallback: '' }, cluster_name: { keys: ['k8s.cluster.name'], fallback: '' },
    namespace_name: { keys: ['k8s.namespace.name'], fallback: '' }, pod_name: { keys: ['k8s.pod.name'], fallback: '' },
    container_name: { keys: ['k8s.container.name'], fallback: '' },
  },
  k8s_pod: {
    location: { keys: ['cloud.availability_zone', 'cloud.region'], fallback: '' }, cluster_name: { keys: ['k8s.cluster.name'], fallback: '' },
    namespace_name: { keys: ['k8s.namespace.name'], fallback: '' }, pod_name: { keys: ['k8s.pod.name'], fallback: '' },
  },
  k8s_node: {
    location: { keys: ['cloud.availability_zone', 'cloud.region'], fallback: '' }, cluster_name: { keys: ['k8s.cluster.name'], fallback: '' },
    node_name: { keys: ['k8s.node.name'], fallback: '' },
  },
  k8s_cluster: { location: { keys: ['cloud.availability_zone', 'cloud.region'], fallback: '' }, cluster_name: { keys: ['k8s.cluster.name'], fallback: '' } },
  aws_ec2_instance: {
    instance_id: { keys: ['host.id'], fallback: '' }, region: { keys: ['cloud.availability_zone'], fallback: '' },
    aws_account: { keys: ['cloud.account.id'], fallback: '' },
  },
  generic_task: {
    location: { keys: ['cloud.availability_zone', 'cloud.region'], fallback: 'global' }, namespace: { keys: ['service.namespace'], fallback: '' },
    job: { keys: ['service.name'], fallback: '' }, task_id: { keys: ['service.instance.id'], fallback: '' },
  },
  generic_node: {
    location: { keys: ['cloud.availability_zone', 'cloud.region'], fallback: 'global' }, namespace: { keys: ['service.namespace'], fallback: '' },
    node_id: { keys: ['host.id', 'host.name'], fallback: '' },
  },
};

function createMonitoredResource(type: string, attrs: readonly KeyValue[]): MonitoredResource {
  const labels: Record<string, string> = {};
  for (const [label, m] of Object.entries(MR_LABELS[type]!)) {
    let v = '';
    for (const k of m.keys) {
      v = str(attrs, k) ?? '';
      if (v !== '') break;
    }
    labels[label] = v === '' ? m.fallback : v;
  }
  return { type, labels };
}

export function monitoredResource(attrs: readonly KeyValue[]): MonitoredResource {
  const has = (k: string): boolean => findAttribute(attrs, k) !== undefined;
  switch (str(attrs, 'cloud.platform')) {
    case 'gcp_compute_engine':
      return createMonitoredResource('gce_instance', attrs);
    case 'gcp_kubernetes_engine':
      if (has('k8s.container.name')) return createMonitoredResource('k8s_container', attrs);
      if (has('k8s.pod.name')) return createMonitoredResource('k8s_pod', attrs);
      if (has('k8s.node.name')) return createMonitoredResource('k8s_node', attrs);
      return createMonitoredResource('k8s_cluster', attrs);
    case 'aws_ec2':
      return createMonitoredResource('aws_ec2_instance', attrs);
    default:
      return createMonitoredResource(has('service.name') && has('service.instance.id') ? 'generic_task' : 'generic_node', attrs);
  }
}

/** RawValue → JSON-safe value for a protobuf Struct (bytes → base64, bigint → number). */
function structValue(v: RawValue): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? Number(v) : v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(structValue);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = structValue(v[k]!);
  return out;
}

/** An AnyValue that holds a JSON object (map, JSON string, JSON bytes) as a plain object, else undefined. */
function objectOf(v: AnyValue | undefined): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (v.kvlistValue != null) return structValue(anyValueToRaw(v)) as Record<string, unknown>;
  const text = v.stringValue ?? (v.bytesValue != null ? Buffer.from(v.bytesValue).toString('utf8') : undefined);
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const int64 = (v: unknown): string | undefined => (typeof v === 'number' && Number.isFinite(v) ? String(Math.trunc(v)) : typeof v === 'string' && /^-?\d+$/.test(v) ? v : undefined);
const strField = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const boolField = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/** protobuf Duration JSON ("1.5s") from a Go duration ("1.5s", "120ms") or a number of seconds. */
function durationJson(v: unknown): string | undefined {
  const ms = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  return `${Number((ms / 1000).toFixed(9))}s`;
}

/** A RawValue as JSON-safe data with 64-bit integers kept exact (bigint → decimal string). */
function exactValue(v: RawValue): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return structValue(v);
  if (Array.isArray(v)) return v.map(exactValue);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = exactValue(v[k]!);
  return out;
}

/** The int64 fields of HttpRequest: quoted before JSON.parse so no digit is lost to a double. */
const HTTP_INT64_LITERAL = /("(?:requestSize|responseSize|cacheFillBytes)"\s*:\s*)(-?\d+)(?=\s*[,}])/gi;

/** `gcp.http_request` as an object whose keys are matched case-insensitively (as Go's encoding/json does). */
function httpObjectOf(v: AnyValue | undefined): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  let o: Record<string, unknown> | undefined;
  if (v.kvlistValue != null) o = exactValue(anyValueToRaw(v)) as Record<string, unknown>;
  else {
    const text = v.stringValue ?? (v.bytesValue != null ? Buffer.from(v.bytesValue).toString('utf8') : undefined);
    if (text === undefined) return undefined;
    try {
      const parsed: unknown = JSON.parse(text.replace(HTTP_INT64_LITERAL, '$1"$2"'));
      o = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  if (o === undefined) return undefined;
  const byLower: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    const lk = k.toLowerCase();
    // An exact-case key wins over another spelling, as encoding/json prefers the exact match.
    if (!(lk in byLower) || HTTP_FIELDS.get(lk) === k) byLower[lk] = o[k];
  }
  const out: Record<string, unknown> = {};
  for (const [lk, name] of HTTP_FIELDS) if (lk in byLower) out[name] = byLower[lk];
  return out;
}

const HTTP_FIELDS: ReadonlyMap<string, string> = new Map(
  ['requestMethod', 'requestUrl', 'requestSize', 'status', 'responseSize', 'userAgent', 'remoteIp', 'serverIp', 'referer', 'latency',
    'cacheLookup', 'cacheHit', 'cacheValidatedWithOriginServer', 'cacheFillBytes', 'protocol'].map((n) => [n.toLowerCase(), n]),
);

/**
 * LogEntry.httpRequest from `gcp.http_request` (JSON string, map or bytes with the HttpRequest field
 * names, any letter case); 64-bit sizes are kept exact as decimal strings.
 */
export function httpRequestOf(v: AnyValue | undefined): Record<string, unknown> | undefined {
  const o = httpObjectOf(v);
  if (o === undefined) return undefined;
  const out: Record<string, unknown> = {};
  const put = (k: string, x: unknown) => { if (x !== undefined) out[k] = x; };
  put('requestMethod', strField(o.requestMethod));
  put('requestUrl', strField(o.requestUrl));
  put('requestSize', int64(o.requestSize));
  put('status', typeof o.status === 'number' ? Math.trunc(o.status) : typeof o.status === 'string' && /^\d+$/.test(o.status) ? Number(o.status) : undefined);
  put('responseSize', int64(o.responseSize));
  put('userAgent', strField(o.userAgent));
  put('remoteIp', strField(o.remoteIp));
  put('serverIp', strField(o.serverIp));
  put('referer', strField(o.referer));
  put('latency', durationJson(o.latency));
  put('cacheLookup', boolField(o.cacheLookup));
  put('cacheHit', boolField(o.cacheHit));
  put('cacheValidatedWithOriginServer', boolField(o.cacheValidatedWithOriginServer));
  put('cacheFillBytes', int64(o.cacheFillBytes));
  put('protocol', strField(o.protocol));
  return out;
}

function sourceLocationOf(v: AnyValue | undefined): Record<string, unknown> | undefined {
  const o = objectOf(v);
  if (o === undefined) return undefined;
  const out: Record<string, unknown> = {};
  if (strField(o.file)) out.file = o.file;
  const line = int64(o.line);
  if (line !== undefined) out.line = line;
  if (strField(o.function)) out.function = o.function;
  return out;
}

interface ResourceContext {
  project: string;
  resource: MonitoredResource;
  serviceLabels: Record<string, string>;
}

const SERVICE_LABEL_KEYS = ['service.name', 'service.namespace', 'service.instance.id'];

function resourceContext(rl: ResourceLogs, options: GoogleCloudConvertOptions): ResourceContext {
  const attrs = rl.resource?.attributes ?? [];
  const serviceLabels: Record<string, string> = {};
  if (options.serviceResourceLabels) {
    for (const k of SERVICE_LABEL_KEYS) {
      const v = str(attrs, k);
      if (v !== undefined) serviceLabels[k] = v;
    }
  }
  return { project: str(attrs, 'gcp.project.id') ?? options.project, resource: monitoredResource(attrs), serviceLabels };
}

/** Splits `text` into pieces whose JSON-escaped UTF-8 size (without quotes) is ≤ `budget`, never inside a surrogate pair. */
export function splitText(text: string, budget: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let n = Math.min(budget, text.length - i);
    for (;;) {
      if (i + n < text.length && n > 1 && (text.charCodeAt(i + n - 1) & 0xfc00) === 0xd800) n--;
      const size = Buffer.byteLength(JSON.stringify(text.slice(i, i + n))) - 2;
      if (size <= budget) break;
      n = Math.max(1, Math.floor((n * budget) / size) - 1);
    }
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Scope/resource-level pieces of an entry, encoded once per ResourceLogs / ScopeLogs. */
interface EncodedResource {
  /** `,"resource":{…},"timestamp":` (logName comes first, per record). */
  resourceAndTimestamp: Uint8Array;
  /** `,"trace":"projects/<project>/traces/`. */
  tracePrefix: Uint8Array;
  /** logName → `{"logName":"…"`. */
  logNames: Map<string, Uint8Array>;
}

const K_SEVERITY = new Map(SEVERITY_BY_NUMBER.map((s) => [s, Buffer.from(`,"severity":"${s}"`, 'latin1')]));
const K_SPAN_ID = Buffer.from(',"spanId":"', 'latin1');
const K_TRACE_SAMPLED = Buffer.from(',"traceSampled":true', 'latin1');
const K_LABELS = Buffer.from(',"labels":{', 'latin1');
const K_LABELS_OBJECT = Buffer.from(',"labels":', 'latin1');
const K_HTTP_REQUEST = Buffer.from(',"httpRequest":', 'latin1');
const K_SOURCE_LOCATION = Buffer.from(',"sourceLocation":', 'latin1');
const K_JSON_PAYLOAD = Buffer.from(',"jsonPayload":', 'latin1');
const K_TEXT_PAYLOAD = Buffer.from(',"textPayload":', 'latin1');
const K_ERROR_MESSAGE = Buffer.from(',"jsonPayload":{"message":', 'latin1');
const K_ERROR_TYPE = Buffer.from(`,"@type":${JSON.stringify(ERROR_REPORTING_TYPE)}}`, 'latin1');
const K_REQUEST_PREFIX = Buffer.from(REQUEST_PREFIX, 'latin1');
const K_REQUEST_SUFFIX = Buffer.from(REQUEST_SUFFIX, 'latin1');
/** What `key in labels` also finds on a plain object (Object.prototype's names): upstream-shaped labels skip them. */
const PLAIN: Record<string, unknown> = {};

/** Writes the entry's JSON (what JSON.stringify of the entry object gives) into `out`. */
function writeEntry(
  out: JsonByteWriter,
  lr: ResourceLogs['scopeLogs'][number]['logRecords'][number],
  enc: EncodedResource,
  logName: Uint8Array,
  severity: string,
  time: Long,
  baseLabels: Record<string, string>,
  baseLabelsJson: Uint8Array,
  json: Record<string, unknown> | undefined,
  text: string | undefined,
  errorReport: boolean,
): void {
  out.raw(logName);
  out.raw(enc.resourceAndTimestamp);
  writeIsoNanos(out, time, 9, true);
  if (severity !== 'DEFAULT') out.raw(K_SEVERITY.get(severity)!);
  if (!isEmptyId(lr.traceId)) {
    out.raw(enc.tracePrefix);
    out.hex(lr.traceId);
    out.byte(0x22);
  }
  if (!isEmptyId(lr.spanId)) {
    out.raw(K_SPAN_ID);
    out.hex(lr.spanId);
    out.byte(0x22);
  }
  const attrs = lr.attributes;
  if ((lr.flags & 1) === 1 || findAttribute(attrs, 'gcp.trace_sampled')?.boolValue === true) out.raw(K_TRACE_SAMPLED);
  writeLabels(out, attrs, baseLabels, baseLabelsJson);
  const http = httpRequestOf(findAttribute(attrs, 'gcp.http_request'));
  if (http !== undefined) {
    // Nested objects stringify alone exactly as inside the entry.
    out.raw(K_HTTP_REQUEST);
    writeJsonText(out, JSON.stringify(http));
  }
  const src = sourceLocationOf(findAttribute(attrs, 'gcp.source_location'));
  if (src !== undefined) {
    out.raw(K_SOURCE_LOCATION);
    writeJsonText(out, JSON.stringify(src));
  }
  if (errorReport && json === undefined) {
    out.raw(K_ERROR_MESSAGE);
    out.string(text ?? '');
    out.raw(K_ERROR_TYPE);
  } else if (json !== undefined) {
    out.raw(K_JSON_PAYLOAD);
    writeJsonText(out, JSON.stringify(errorReport ? { ...json, '@type': ERROR_REPORTING_TYPE } : json));
  } else if (text !== undefined) {
    out.raw(K_TEXT_PAYLOAD);
    out.string(text);
  }
  out.byte(0x7d);
}

/** JSON text (already escaped) as UTF-8. */
function writeJsonText(out: JsonByteWriter, s: string): void {
  out.raw(Buffer.from(s, 'utf8'));
}

/**
 * `,"labels":{…}` as JSON.stringify writes the labels object of the entry: the scope/service labels, then
 * each attribute not named `gcp.*` and not already a key (`in`, so Object.prototype's names count too),
 * as its string form. Keys that may be array indexes (which objects order first) go through an object.
 */
function writeLabels(out: JsonByteWriter, attrs: readonly KeyValue[], baseLabels: Record<string, string>, baseLabelsJson: Uint8Array): void {
  if (!labelOrder(attrs, baseLabels)) {
    const labels: Record<string, string> = { ...baseLabels };
    for (const kv of attrs) {
      if (kv.key.startsWith('gcp.') || kv.key in labels) continue;
      labels[kv.key] = anyValueAsString(kv.value);
    }
    for (const _ in labels) {
      out.raw(K_LABELS_OBJECT);
      writeJsonText(out, JSON.stringify(labels));
      return;
    }
    return;
  }
  let any = baseLabelsJson.length > 0;
  if (any) {
    out.raw(K_LABELS);
    out.raw(baseLabelsJson);
  }
  for (let i = 0; i < labelIndex.length; i++) {
    if (any) out.byte(0x2c);
    else {
      out.raw(K_LABELS);
      any = true;
    }
    out.raw(labelHeads[i]!);
    writeLabelValue(out, attrs[labelIndex[i]!]!.value);
  }
  if (any) out.byte(0x7d);
}

/** JSON of anyValueAsString(v): numbers without their string. */
function writeLabelValue(out: JsonByteWriter, v: AnyValue | null | undefined): void {
  if (v != null && v.stringValue == null && v.boolValue == null) {
    if (typeof v.intValue === 'number') {
      out.byte(0x22);
      out.number(Math.trunc(v.intValue));
      out.byte(0x22);
      return;
    }
    if (v.intValue == null && v.doubleValue != null && Number.isFinite(v.doubleValue)) {
      out.byte(0x22);
      out.number(v.doubleValue);
      out.byte(0x22);
      return;
    }
  }
  out.string(v != null && v.stringValue != null ? v.stringValue : anyValueAsString(v));
}

/**
 * Which attributes become labels (not `gcp.*`, not a key already there: base labels, Object.prototype's
 * names, an earlier attribute) with their `"key":` encoded, cached for the next record with the same keys.
 */
let labelKeys: readonly string[] = [];
let labelBase: Record<string, string> | undefined;
let labelIndex: number[] = [];
let labelHeads: Uint8Array[] = [];
let labelDirect = true;

/** Fills the cache for these keys; false when a key may be an array index (objects order those first). */
function labelOrder(attrs: readonly KeyValue[], baseLabels: Record<string, string>): boolean {
  let same = baseLabels === labelBase && attrs.length === labelKeys.length;
  for (let i = 0; same && i < attrs.length; i++) same = attrs[i]!.key === labelKeys[i];
  if (same) return labelDirect;
  labelBase = baseLabels;
  labelKeys = attrs.map((kv) => kv.key);
  labelIndex = [];
  labelHeads = [];
  labelDirect = true;
  const taken = new Set<string>();
  for (let i = 0; i < attrs.length; i++) {
    const key = attrs[i]!.key;
    const c = key.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) labelDirect = false;
    if (key.startsWith('gcp.') || key in baseLabels || key in PLAIN || taken.has(key)) continue;
    taken.add(key);
    labelIndex.push(i);
    labelHeads.push(Buffer.from(`${JSON.stringify(key)}:`, 'utf8'));
  }
  return labelDirect;
}

/** The entry as an object, for the rare entries over MAX_ENTRY_BYTES (split into parts). */
function entryObject(
  lr: ResourceLogs['scopeLogs'][number]['logRecords'][number],
  ctx: ResourceContext,
  logName: string,
  severity: string,
  time: Long,
  baseLabels: Record<string, string>,
  json: Record<string, unknown> | undefined,
  text: string | undefined,
): Record<string, unknown> {
  const entry: Record<string, unknown> = { logName, resource: ctx.resource, timestamp: nanosToIso(time) };
  // proto3 JSON leaves out default values, as upstream's request does: DEFAULT severity, empty labels.
  if (severity !== 'DEFAULT') entry.severity = severity;
  const trace = idToHex(lr.traceId);
  if (trace !== '') entry.trace = `projects/${ctx.project}/traces/${trace}`;
  const span = idToHex(lr.spanId);
  if (span !== '') entry.spanId = span;
  const sampledAttr = findAttribute(lr.attributes, 'gcp.trace_sampled');
  if ((lr.flags & 1) === 1 || sampledAttr?.boolValue === true) entry.traceSampled = true;
  const labels: Record<string, string> = { ...baseLabels };
  for (const kv of lr.attributes) {
    if (kv.key.startsWith('gcp.') || kv.key in labels) continue;
    labels[kv.key] = anyValueAsString(kv.value);
  }
  for (const _ in labels) {
    entry.labels = labels;
    break;
  }
  const http = httpRequestOf(findAttribute(lr.attributes, 'gcp.http_request'));
  if (http !== undefined) entry.httpRequest = http;
  const src = sourceLocationOf(findAttribute(lr.attributes, 'gcp.source_location'));
  if (src !== undefined) entry.sourceLocation = src;
  if (json !== undefined) entry.jsonPayload = json;
  else if (text !== undefined) entry.textPayload = text;
  return entry;
}

/** The request body being filled, kept between calls (requests take a copy). */
const bodyWriter = new JsonByteWriter(256 * 1024);

export function convertToCloudLogging(resourceLogs: readonly ResourceLogs[], options: GoogleCloudConvertOptions, nowNanos: Long): GoogleCloudConversion {
  const rejected: GoogleCloudConversion['rejected'] = [];
  const requests: EntriesWriteRequest[] = [];
  const w = bodyWriter;
  w.reset();
  w.raw(K_REQUEST_PREFIX);
  let records: RecordRef[] = [];
  const flush = () => {
    if (records.length === 0) return;
    w.raw(K_REQUEST_SUFFIX);
    requests.push(new Request(w.copy(), records));
    w.reset();
    w.raw(K_REQUEST_PREFIX);
    records = [];
  };
  /**
   * The entry just written at `entryStart` (after a comma at `start` when the request is not empty), of
   * `bytes`: starts a new request with it when this one would reach the limit.
   */
  const place = (start: number, entryStart: number, ref: RecordRef) => {
    const bytes = w.length - entryStart;
    if (records.length > 0 && start + K_REQUEST_SUFFIX.length + 1 + bytes >= MAX_REQUEST_BYTES) {
      const entry = Buffer.from(w.bytes().subarray(entryStart));
      w.truncate(start);
      flush();
      w.raw(entry);
    }
    records.push(ref);
  };
  const add = (json: string, ref: RecordRef) => {
    const start = w.length;
    if (records.length > 0) w.byte(0x2c);
    const entryStart = w.length;
    writeJsonText(w, json);
    place(start, entryStart, ref);
  };
  const logNames = new Map<string, string>();
  const logNameFor = (project: string, name: string) => {
    const key = `${project}\u0000${name}`;
    let v = logNames.get(key);
    if (v === undefined) {
      v = `projects/${project}/logs/${pathEscape(name)}`;
      logNames.set(key, v);
    }
    return v;
  };

  for (const rl of resourceLogs) {
    const ctx = resourceContext(rl, options);
    const enc: EncodedResource = {
      resourceAndTimestamp: Buffer.from(`,"resource":${JSON.stringify(ctx.resource)},"timestamp":`, 'utf8'),
      tracePrefix: Buffer.from(`,"trace":${JSON.stringify(`projects/${ctx.project}/traces/`).slice(0, -1)}`, 'utf8'),
      logNames: new Map(),
    };
    for (const sl of rl.scopeLogs) {
      const scopeLabels: Record<string, string> = {};
      if (sl.scope?.name) scopeLabels.instrumentation_source = sl.scope.name;
      if (sl.scope?.version) scopeLabels.instrumentation_version = sl.scope.version;
      const baseLabels = { ...scopeLabels, ...ctx.serviceLabels };
      const baseText = JSON.stringify(baseLabels);
      const baseLabelsJson = Buffer.from(baseText.slice(1, -1), 'utf8');
      for (const lr of sl.logRecords) {
        const ref: RecordRef = { rl, sl, lr };
        const severity = cloudLoggingSeverity(lr.severityNumber, lr.severityText);
        if (severity === undefined) { rejected.push({ ref, reason: `severity_number ${lr.severityNumber} is out of range` }); continue; }
        let name = str(lr.attributes, 'gcp.log_name') ?? options.defaultLogName;
        if (name === '') { rejected.push({ ref, reason: 'no gcp.log_name attribute and no log.default_log_name' }); continue; }
        if (options.retentionRouting === 'log_name') {
          const cls = str(lr.attributes, 'retention.class');
          if (cls !== undefined) name = `${name}-${cls}`;
        }
        const time = !isZeroNanos(lr.timeUnixNano) ? lr.timeUnixNano : !isZeroNanos(lr.observedTimeUnixNano) ? lr.observedTimeUnixNano : nowNanos;
        let logName = enc.logNames.get(name);
        if (logName === undefined) {
          logName = Buffer.from(`{"logName":${JSON.stringify(logNameFor(ctx.project, name))}`, 'utf8');
          enc.logNames.set(name, logName);
        }

        const b = lr.body;
        let text: string | undefined;
        let json: Record<string, unknown> | undefined;
        if (b?.kvlistValue != null) json = structValue(anyValueToRaw(b)) as Record<string, unknown>;
        else if (b?.bytesValue != null) json = objectOf(b);
        if (json === undefined) {
          const s = b != null && b.stringValue != null ? b.stringValue : anyValueAsString(b);
          if (s !== '') text = s;
        }
        // The severity derived from the text counts too (a record with only severity_text ERROR is an error).
        const errorReport = options.errorReportingType && effectiveSeverityNumber(lr.severityNumber, lr.severityText) >= 17;

        const start = w.length;
        if (records.length > 0) w.byte(0x2c);
        const entryStart = w.length;
        writeEntry(w, lr, enc, logName, severity, time, baseLabels, baseLabelsJson, json, text, errorReport);
        if (w.length - entryStart <= MAX_ENTRY_BYTES) { place(start, entryStart, ref); continue; }
        w.truncate(start);
        if (errorReport) {
          json = json !== undefined ? { ...json } : { message: text ?? '' };
          json['@type'] = ERROR_REPORTING_TYPE;
          text = undefined;
        }
        if (text === undefined) { rejected.push({ ref, reason: `entry is larger than ${MAX_ENTRY_BYTES} bytes` }); continue; }
        // Split a long text payload into several entries tied together by `split` (as upstream does).
        const entry = entryObject(lr, ctx, logNameFor(ctx.project, name), severity, time, baseLabels, json, text);
        const uid = `${name}-${nanosToDecimal(time)}`;
        entry.textPayload = '';
        entry.split = { uid, index: 999_999, totalSplits: 999_999 };
        const budget = MAX_ENTRY_BYTES - Buffer.byteLength(JSON.stringify(entry));
        if (budget < 1024) { rejected.push({ ref, reason: `entry is larger than ${MAX_ENTRY_BYTES} bytes without its payload` }); continue; }
        const parts = splitText(text, budget);
        for (let i = 0; i < parts.length; i++) {
          entry.textPayload = parts[i];
          entry.split = { uid, index: i, totalSplits: parts.length };
          add(JSON.stringify(entry), ref);
        }
      }
    }
  }
  flush();
  return { requests, rejected };
}
