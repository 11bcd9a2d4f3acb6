/**
 * OTLP log records → Datadog v2 logs intake items (`datadogV2.HTTPLogItem`: named fields `ddsource`,
 * `ddtags`, `hostname`, `message`, `service` + every other property flattened at the top level), grouped
 * per (ddtags, service, ddsource) and split into request bodies (JSON arrays) within the intake limits.
 * upstream `pkg/opentelemetry-mapping-go/otlp/logs/transform.go` (datadog-agent).
 *
 * Pure: no I/O, no clock. Work that depends only on the resource or the scope is done once per
 * ResourceLogs / ScopeLogs.
 */
import {
  anyValueAsString,
  findAttribute,
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

/** Intake limits (Datadog "Send logs" API): per payload (uncompressed), per array, per log. */
export const DATADOG_MAX_PAYLOAD_BYTES = 5_000_000;
export const DATADOG_MAX_ITEMS = 1000;
export const DATADOG_MAX_ITEM_BYTES = 1_000_000;
/** Appended to every item's ddtags (`otel_source:datadog_agent` in the Agent). */
export const OTEL_SOURCE_TAG = 'otel_source:datadog_exporter';
/** `ddsource` when no `datadog.log.source` attribute names one (what the upstream logs-agent path sends). */
export const DEFAULT_DDSOURCE = 'otlp_log_ingestion';
/** Datadog's own marker for a truncated log. */
export const TRUNCATED_SUFFIX = '...TRUNCATED...';

export interface DatadogConvertOptions {
  /** Fallback host name (config `hostname`). */
  hostname?: string;
  /** `retention.class` → tag(s) appended to ddtags. */
  retentionTags?: Readonly<Record<string, string>>;
  maxPayloadBytes?: number;
  maxItems?: number;
  maxItemBytes?: number;
}

export interface DatadogRequest extends PlannedRequest {
  readonly ddtags: string;
  readonly service: string;
  readonly ddsource: string;
  /** JSON array of items. */
  readonly body: string;
  /** UTF-8 length of `body`. */
  readonly bytes: number;
  readonly refs: RecordRef[];
}

export interface DatadogConversion {
  requests: DatadogRequest[];
  rejected: RejectedRecord[];
}

export type DatadogItem = Record<string, unknown>;

// ---- attributes → tags (pkg/otlp/attributes/attributes.go) ----

const CORE_TAGS: ReadonlyMap<string, string> = new Map([
  ['deployment.environment', 'env'],
  ['deployment.environment.name', 'env'],
  ['service.name', 'service'],
  ['service.version', 'version'],
  ['service.instance.id', 'service.instance.id'],
]);

const KUBERNETES_LABEL_TAGS: ReadonlyMap<string, string> = new Map([
  ['tags.datadoghq.com/env', 'env'],
  ['tags.datadoghq.com/service', 'service'],
  ['tags.datadoghq.com/version', 'version'],
  ['app.kubernetes.io/name', 'kube_app_name'],
  ['app.kubernetes.io/instance', 'kube_app_instance'],
  ['app.kubernetes.io/version', 'kube_app_version'],
  ['app.kuberenetes.io/component', 'kube_app_component'],
  ['app.kubernetes.io/part-of', 'kube_app_part_of'],
  ['app.kubernetes.io/managed-by', 'kube_app_managed_by'],
]);

const CONTAINER_TAGS: ReadonlyMap<string, string> = new Map([
  ['container.id', 'container_id'],
  ['container.name', 'container_name'],
  ['container.image.name', 'image_name'],
  ['container.image.tag', 'image_tag'],
  ['container.runtime', 'runtime'],
  ['cloud.provider', 'cloud_provider'],
  ['cloud.region', 'region'],
  ['cloud.availability_zone', 'zone'],
  ['aws.ecs.task.family', 'task_family'],
  ['aws.ecs.task.arn', 'task_arn'],
  ['aws.ecs.cluster.arn', 'ecs_cluster_name'],
  ['aws.ecs.task.revision', 'task_version'],
  ['aws.ecs.container.arn', 'ecs_container_name'],
  ['k8s.container.name', 'kube_container_name'],
  ['k8s.cluster.name', 'kube_cluster_name'],
  ['k8s.deployment.name', 'kube_deployment'],
  ['k8s.replicaset.name', 'kube_replica_set'],
  ['k8s.statefulset.name', 'kube_stateful_set'],
  ['k8s.daemonset.name', 'kube_daemon_set'],
  ['k8s.job.name', 'kube_job'],
  ['k8s.cronjob.name', 'kube_cronjob'],
  ['k8s.namespace.name', 'kube_namespace'],
  ['k8s.pod.name', 'pod_name'],
]);

/** Resource attribute names that already are Datadog container tag names (`KubernetesDDTags`). */
const DD_TAG_KEYS: ReadonlySet<string> = new Set([
  'architecture', 'availability-zone', 'chronos_job', 'chronos_job_owner', 'cluster_name', 'container_id', 'container_name',
  'dd_remote_config_id', 'dd_remote_config_rev', 'display_container_name', 'docker_image', 'ecs_cluster_name', 'ecs_container_name',
  'eks_fargate_node', 'env', 'git.commit.sha', 'git.repository_url', 'image_id', 'image_name', 'image_tag', 'kube_app_component',
  'kube_app_instance', 'kube_app_managed_by', 'kube_app_name', 'kube_app_part_of', 'kube_app_version', 'kube_container_name',
  'kube_cronjob', 'kube_daemon_set', 'kube_deployment', 'kube_job', 'kube_namespace', 'kube_ownerref_kind', 'kube_ownerref_name',
  'kube_priority_class', 'kube_qos', 'kube_replica_set', 'kube_replication_controller', 'kube_service', 'kube_stateful_set',
  'language', 'marathon_app', 'mesos_task', 'nomad_dc', 'nomad_group', 'nomad_job', 'nomad_namespace', 'nomad_task',
  'oshift_deployment', 'oshift_deployment_config', 'os_name', 'os_version', 'persistentvolumeclaim', 'pod_name', 'pod_phase',
  'rancher_container', 'rancher_service', 'rancher_stack', 'region', 'service', 'short_image', 'swarm_namespace', 'swarm_service',
  'task_name', 'task_family', 'task_version', 'task_arn', 'version',
]);

const CUSTOM_CONTAINER_TAG_PREFIX = 'datadog.container.tag.';

/** pdata `Value.Str()`: the string of a string value, else "". */
function strOf(v: AnyValue | null | undefined): string {
  return v?.stringValue ?? '';
}

/** `TagsFromAttributes(resource)`: Datadog tags from the mapped resource attributes, in attribute order. */
export function tagsFromResourceAttributes(attrs: readonly KeyValue[]): string[] {
  const tags: string[] = [];
  const container = new Map<string, string>();
  const custom = new Map<string, string>();
  for (let i = 0; i < attrs.length; i++) {
    const { key, value } = attrs[i]!;
    const s = strOf(value);
    const core = CORE_TAGS.get(key);
    if (core !== undefined && s !== '') tags.push(`${core}:${s}`);
    const k8s = KUBERNETES_LABEL_TAGS.get(key);
    if (k8s !== undefined && s !== '') tags.push(`${k8s}:${s}`);
    if (DD_TAG_KEYS.has(key) && s !== '') tags.push(`${key}:${s}`);
    const ct = CONTAINER_TAGS.get(key);
    if (ct !== undefined && s !== '') container.set(ct, s);
    if (key.startsWith(CUSTOM_CONTAINER_TAG_PREFIX) && key.length > CUSTOM_CONTAINER_TAG_PREFIX.length && s !== '') {
      custom.set(key.slice(CUSTOM_CONTAINER_TAG_PREFIX.length), s);
    }
  }
  // Semantic conventions win over `datadog.container.tag.*` for the same tag.
  for (const [k, v] of custom) if (!container.has(k)) container.set(k, v);
  for (const [k, v] of container) tags.push(`${k}:${v}`);
  return tags;
}

/** The host a set of attributes names: `datadog.host.name`, else `host.name` (string values). */
function hostFromAttributes(attrs: readonly KeyValue[] | null | undefined): string {
  return strOf(findAttribute(attrs, 'datadog.host.name')) || strOf(findAttribute(attrs, 'host.name'));
}

// ---- per-record helpers ----

const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;

/** Exact decimal of the unsigned 64-bit value hi·2^32 + lo (same split as `nanosToDecimal`). */
export function uint64ToDecimal(hi: number, lo: number): string {
  hi >>>= 0;
  lo >>>= 0;
  if (hi === 0) return String(lo);
  let b = hi * 967296 + lo;
  const carry = Math.floor(b / 1e6);
  b -= carry * 1e6;
  const a = hi * 4294 + carry;
  const tail = String(b);
  return String(a) + '000000'.slice(tail.length) + tail;
}

/** Big-endian uint64 of 8 bytes starting at `at`, as a decimal string. */
function bytesToDecimal(id: Uint8Array, at: number): string {
  const hi = ((id[at]! << 24) | (id[at + 1]! << 16) | (id[at + 2]! << 8) | id[at + 3]!) >>> 0;
  const lo = ((id[at + 4]! << 24) | (id[at + 5]! << 16) | (id[at + 6]! << 8) | id[at + 7]!) >>> 0;
  return uint64ToDecimal(hi, lo);
}

/** Decimal of the last 16 hex characters of a hex string (the low 64 bits). */
function hexTailToDecimal(hex: string): string {
  const n = hex.length;
  return uint64ToDecimal(parseInt(hex.slice(n - 16, n - 8), 16), parseInt(hex.slice(n - 8), 16));
}

/** `statusFromSeverityNumber`. */
export function statusFromSeverityNumber(n: number): string {
  if (n <= 4) return 'trace';
  if (n <= 8) return 'debug';
  if (n <= 12) return 'info';
  if (n <= 16) return 'warn';
  if (n <= 20) return 'error';
  if (n <= 24) return 'fatal';
  return 'error';
}

/** Str/Int/Bool/Double keep their JSON type (`AsRaw`); everything else is `AsString()`. */
function scalarOrString(v: AnyValue | null | undefined): unknown {
  if (v != null) {
    if (v.stringValue != null) return v.stringValue;
    if (v.boolValue != null) return v.boolValue;
    if (v.intValue != null) {
      const n = int64ToNumber(v.intValue);
      // JSON numbers beyond 2^53 cannot be written exactly from a JS number: keep the digits as a string.
      return typeof n === 'bigint' ? n.toString() : n;
    }
    if (v.doubleValue != null && Number.isFinite(v.doubleValue)) return v.doubleValue;
  }
  return anyValueAsString(v);
}

const MAX_DEPTH = 10;

const NO_KEYS: ReadonlySet<string> = new Set();

/**
 * `flattenAttribute`: maps become `a.b.c` keys (to depth 10), slices stay arrays with flattened elements.
 * Keys in `skip` are left out (a resource or scope attribute of the same name overwrites them).
 */
function flattenInto(out: DatadogItem, key: string, v: AnyValue | null | undefined, depth: number, skip: ReadonlySet<string>): void {
  if (v?.arrayValue != null) {
    if (!skip.has(key)) out[key] = flattenArray(v.arrayValue.values, depth);
    return;
  }
  if (v?.kvlistValue == null || depth === MAX_DEPTH) {
    if (!skip.has(key)) out[key] = scalarOrString(v);
    return;
  }
  const kvs = v.kvlistValue.values;
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i]!;
    flattenInto(out, key === '' ? kv.key : `${key}.${kv.key}`, kv.value, depth + 1, skip);
  }
}

function flattenArray(values: readonly AnyValue[], depth: number): unknown[] {
  const arr = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) {
    const e = values[i];
    if (e?.arrayValue != null) arr[i] = flattenArray(e.arrayValue.values, depth + 1);
    else if (e?.kvlistValue != null && depth + 1 !== MAX_DEPTH) {
      const obj: DatadogItem = {};
      flattenInto(obj, '', e, depth + 1, NO_KEYS);
      arr[i] = obj;
    } else arr[i] = scalarOrString(e);
  }
  return arr;
}

const MS_DIGITS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);
let isoSecond = -1;
let isoPrefix = '';

/** `@timestamp`: Go layout `2006-01-02T15:04:05.000Z07:00` in UTC (milliseconds, truncated). The second's prefix is cached. */
function isoMillis(decimalNanos: string): string {
  const ms = decimalNanos.length > 6 ? Number(decimalNanos.slice(0, -6)) : 0;
  const sec = Math.floor(ms / 1000);
  if (sec !== isoSecond) {
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, 20);
    isoSecond = sec;
  }
  return isoPrefix + MS_DIGITS[ms - sec * 1000]!;
}

/**
 * Keys the transform may write after the resource/scope attributes: a resource or scope attribute of one of
 * these names is applied per record (it may be overwritten); all others are serialized once per scope.
 */
const LATE_KEYS: ReadonlySet<string> = new Set([
  'dd.trace_id', 'otel.trace_id', 'dd.span_id', 'otel.span_id', 'otel.severity_text', 'otel.severity_number', 'status',
  'otel.timestamp', '@timestamp', 'otel.event_name', 'ddsource', 'ddtags', 'hostname', 'message', 'service',
]);

/** Resource + scope attributes of one ScopeLogs, resolved once: their JSON members and names. */
interface ScopeContext {
  /** `"k":"v",…` (no braces) of every resource/scope attribute not in LATE_KEYS; "" when none. */
  members: string;
  /** Their names: record attributes of these names are overwritten (upstream order), so left out. */
  keys: ReadonlySet<string>;
  /** Resource/scope attributes whose names are in LATE_KEYS, applied per record before the late fields. */
  late: [string, string][];
}

function scopeContext(res: ResourceContext, scopeAttrs: readonly KeyValue[] | null | undefined): ScopeContext {
  const merged: Record<string, string> = {};
  for (const [k, v] of res.props) merged[k] = v;
  if (scopeAttrs) for (let i = 0; i < scopeAttrs.length; i++) merged[scopeAttrs[i]!.key] = anyValueAsString(scopeAttrs[i]!.value);
  const late: [string, string][] = [];
  const early: Record<string, string> = {};
  for (const k of Object.keys(merged)) {
    if (LATE_KEYS.has(k)) late.push([k, merged[k]!]);
    else early[k] = merged[k]!;
  }
  const json = JSON.stringify(early);
  return { members: json.length > 2 ? json.slice(1, -1) : '', keys: new Set(Object.keys(merged)), late };
}

/** The item's JSON: the pre-serialized resource/scope members, then the per-record properties. */
function serialize(item: DatadogItem, scope: ScopeContext): string {
  const own = JSON.stringify(item);
  if (scope.members === '') return own;
  return own.length > 2 ? `{${scope.members},${own.slice(1)}` : `{${scope.members}}`;
}

interface ResourceContext {
  /** Resource attributes as `[key, AsString]` (hostname/service renamed to otel.hostname/otel.service). */
  props: [string, string][];
  host: string;
  service: string;
  /** TagsFromAttributes(resource), joined. */
  tags: string;
  /** `tags` + `otel_source:datadog_exporter`: the ddtags of a record without a ddtags attribute. */
  ddtags: string;
  /** `ddtags` + the retention tag, per retention class seen. */
  ddtagsByClass: Map<string, string>;
  source: string;
}

function resourceContext(rl: ResourceLogs): ResourceContext {
  const attrs = rl.resource?.attributes ?? [];
  const props: [string, string][] = [];
  for (let i = 0; i < attrs.length; i++) {
    const { key, value } = attrs[i]!;
    props.push([key === 'hostname' || key === 'service' ? `otel.${key}` : key, anyValueAsString(value)]);
  }
  const service = findAttribute(attrs, 'service.name');
  const tags = tagsFromResourceAttributes(attrs).join(',');
  return {
    props,
    host: hostFromAttributes(attrs),
    service: service === undefined ? '' : anyValueAsString(service),
    tags,
    ddtags: tags === '' ? OTEL_SOURCE_TAG : `${tags},${OTEL_SOURCE_TAG}`,
    ddtagsByClass: new Map(),
    source: anyValueAsString(findAttribute(attrs, 'datadog.log.source')),
  };
}

/** The routing part of an item (also written into it as named fields). */
export interface ItemRouting {
  ddtags: string;
  service: string;
  ddsource: string;
}

/**
 * One record → one item (`transform()`), plus its routing values. `retentionTags` maps the record's
 * `retention.class` attribute to extra ddtags.
 */
function transform(res: ResourceContext, scope: ScopeContext, lr: LogRecord, hostname: string, retentionTags: Readonly<Record<string, string>> | undefined, routing: ItemRouting): DatadogItem {
  const item: DatadogItem = {};
  let message = '';
  let status = '';
  let ddtagsAttr: string | undefined;
  let logSource = '';
  let retentionClass = '';
  const attrs = lr.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const { key, value } = attrs[i]!;
    switch (key.toLowerCase()) {
      case 'msg':
      case 'message':
      case 'log':
        message = anyValueAsString(value);
        break;
      case 'status':
      case 'severity':
      case 'level':
      case 'syslog.severity':
        status = anyValueAsString(value);
        break;
      case 'traceid':
      case 'trace_id':
      case 'contextmap.traceid':
      case 'oteltraceid': {
        const s = anyValueAsString(value);
        if (HEX32.test(s) && item['dd.trace_id'] === undefined) {
          item['dd.trace_id'] = hexTailToDecimal(s);
          item['otel.trace_id'] = s;
        }
        break;
      }
      case 'spanid':
      case 'span_id':
      case 'contextmap.spanid':
      case 'otelspanid': {
        const s = anyValueAsString(value);
        if (HEX16.test(s) && item['dd.span_id'] === undefined) {
          item['dd.span_id'] = hexTailToDecimal(s);
          item['otel.span_id'] = s;
        }
        break;
      }
      case 'ddtags':
        ddtagsAttr = anyValueAsString(value);
        break;
      default:
        if (key === 'datadog.log.source') logSource = anyValueAsString(value);
        else if (key === 'retention.class') retentionClass = anyValueAsString(value);
        flattenInto(item, key, value, 1, scope.keys);
    }
  }
  // Resource attributes, then scope attributes, overwrite record attributes of the same name (as upstream):
  // those are in `scope.members` (serialized once); the few whose names the fields below may take are set here.
  const late = scope.late;
  for (let i = 0; i < late.length; i++) item[late[i]![0]] = late[i]![1];

  if (lr.traceId.length === 16 && !isEmptyId(lr.traceId)) {
    item['dd.trace_id'] = bytesToDecimal(lr.traceId, 8);
    item['otel.trace_id'] = Buffer.from(lr.traceId.buffer, lr.traceId.byteOffset, 16).toString('hex');
  }
  if (lr.spanId.length === 8 && !isEmptyId(lr.spanId)) {
    item['dd.span_id'] = bytesToDecimal(lr.spanId, 0);
    item['otel.span_id'] = Buffer.from(lr.spanId.buffer, lr.spanId.byteOffset, 8).toString('hex');
  }
  if (lr.severityText !== '') {
    if (status === '') status = lr.severityText;
    item['otel.severity_text'] = lr.severityText;
  }
  if (lr.severityNumber !== 0) {
    if (status === '') status = statusFromSeverityNumber(lr.severityNumber);
    item['otel.severity_number'] = String(lr.severityNumber);
  }
  item['status'] = status;
  const ts = isZeroNanos(lr.timeUnixNano) ? lr.observedTimeUnixNano : lr.timeUnixNano;
  if (!isZeroNanos(ts)) {
    const d = nanosToDecimal(ts);
    item['otel.timestamp'] = d;
    item['@timestamp'] = isoMillis(d);
  }
  if (lr.eventName) item['otel.event_name'] = lr.eventName;
  if (message === '') message = anyValueAsString(lr.body);

  let ddtags: string;
  if (ddtagsAttr === undefined) {
    // The common case: resource tags only, built once per resource (and per retention class).
    ddtags = res.ddtags;
    if (retentionClass !== '' && retentionTags !== undefined && retentionTags[retentionClass] !== undefined) {
      let cached = res.ddtagsByClass.get(retentionClass);
      if (cached === undefined) {
        cached = `${ddtags},${retentionTags[retentionClass]}`;
        res.ddtagsByClass.set(retentionClass, cached);
      }
      ddtags = cached;
    }
  } else {
    ddtags = res.tags === '' ? ddtagsAttr : `${res.tags},${ddtagsAttr}`;
    ddtags = ddtags === '' ? OTEL_SOURCE_TAG : `${ddtags},${OTEL_SOURCE_TAG}`;
    if (retentionClass !== '' && retentionTags !== undefined) {
      const extra = retentionTags[retentionClass];
      if (extra !== undefined) ddtags = `${ddtags},${extra}`;
    }
  }
  const host = res.host || hostFromAttributes(attrs) || hostname;
  let service = res.service;
  if (service === '') {
    const s = findAttribute(attrs, 'service.name');
    if (s !== undefined) service = anyValueAsString(s);
  }
  const ddsource = res.source || logSource || DEFAULT_DDSOURCE;

  // Named fields last: they win over flattened properties of the same name (as HTTPLogItem.MarshalJSON).
  item['ddsource'] = ddsource;
  item['ddtags'] = ddtags;
  if (host !== '') item['hostname'] = host;
  item['message'] = message;
  if (service !== '') item['service'] = service;
  routing.ddtags = ddtags;
  routing.service = service;
  routing.ddsource = ddsource;
  return item;
}

/** Every record as a Datadog item (parsed from its JSON), in batch order. For tests and tools; `convertToDatadog` is the hot path. */
export function convertToDatadogItems(resourceLogs: readonly ResourceLogs[], options: DatadogConvertOptions = {}): DatadogItem[] {
  const out: DatadogItem[] = [];
  const routing: ItemRouting = { ddtags: '', service: '', ddsource: '' };
  for (const rl of resourceLogs) {
    const res = resourceContext(rl);
    for (const sl of rl.scopeLogs) {
      const scope = scopeContext(res, sl.scope?.attributes);
      for (const lr of sl.logRecords) out.push(JSON.parse(serialize(transform(res, scope, lr, options.hostname ?? '', options.retentionTags, routing), scope)) as DatadogItem);
    }
  }
  return out;
}

function utf8Prefix(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let n = Math.max(0, maxBytes);
  while (n > 0 && (buf[n]! & 0xc0) === 0x80) n--;
  return buf.toString('utf8', 0, n);
}

/**
 * Datadog truncates a log over 1 MB; we truncate `message` the same way before sending so that the item
 * fits the per-log limit (and hence any payload). Returns the new JSON, or undefined when even an empty
 * message does not fit (the rest of the item alone is too large).
 */
function truncateItem(item: DatadogItem, scope: ScopeContext, json: string, bytes: number, maxItemBytes: number): string | undefined {
  const message = item['message'] as string;
  let keep = Buffer.byteLength(message, 'utf8') - (bytes - maxItemBytes) - TRUNCATED_SUFFIX.length;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (keep <= 0) return undefined;
    item['message'] = utf8Prefix(message, keep) + TRUNCATED_SUFFIX;
    json = serialize(item, scope);
    bytes = Buffer.byteLength(json, 'utf8');
    if (bytes <= maxItemBytes) return json;
    keep -= bytes - maxItemBytes + 64;
  }
  return undefined;
}

interface OpenGroup {
  ddtags: string;
  service: string;
  ddsource: string;
  items: string[];
  refs: RecordRef[];
  bytes: number;
}

/**
 * The batch as Datadog intake requests: items grouped per (ddtags, service, ddsource), each group split so
 * that a body holds at most `maxItems` items and `maxPayloadBytes` bytes (the JSON array, uncompressed).
 * Items over `maxItemBytes` get their message truncated; an item that still does not fit is rejected.
 */
export function convertToDatadog(resourceLogs: readonly ResourceLogs[], options: DatadogConvertOptions = {}): DatadogConversion {
  const maxPayload = options.maxPayloadBytes ?? DATADOG_MAX_PAYLOAD_BYTES;
  const maxItems = options.maxItems ?? DATADOG_MAX_ITEMS;
  const maxItem = Math.min(options.maxItemBytes ?? DATADOG_MAX_ITEM_BYTES, maxPayload - 2);
  const hostname = options.hostname ?? '';
  const retentionTags = options.retentionTags;
  const requests: DatadogRequest[] = [];
  const rejected: RejectedRecord[] = [];
  const groups = new Map<string, OpenGroup>();
  const routing: ItemRouting = { ddtags: '', service: '', ddsource: '' };
  let last: OpenGroup | undefined;

  const flush = (g: OpenGroup): void => {
    requests.push({ ddtags: g.ddtags, service: g.service, ddsource: g.ddsource, body: `[${g.items.join(',')}]`, bytes: g.bytes, refs: g.refs });
    g.items = [];
    g.refs = [];
    g.bytes = 2;
  };

  for (let i = 0; i < resourceLogs.length; i++) {
    const rl = resourceLogs[i]!;
    const res = resourceContext(rl);
    for (let j = 0; j < rl.scopeLogs.length; j++) {
      const sl = rl.scopeLogs[j]!;
      const scope = scopeContext(res, sl.scope?.attributes);
      const records = sl.logRecords;
      for (let k = 0; k < records.length; k++) {
        const lr = records[k]!;
        const item = transform(res, scope, lr, hostname, retentionTags, routing);
        let json: string | undefined = serialize(item, scope);
        let bytes = Buffer.byteLength(json, 'utf8');
        const ref: RecordRef = { rl, sl, lr };
        if (bytes > maxItem) {
          json = truncateItem(item, scope, json, bytes, maxItem);
          if (json === undefined) {
            rejected.push({ ref, reason: `log larger than ${maxItem} bytes without its message` });
            continue;
          }
          bytes = Buffer.byteLength(json, 'utf8');
        }
        // Consecutive records usually share their routing: reuse the last group without building a key.
        let g = last;
        if (g === undefined || g.ddtags !== routing.ddtags || g.service !== routing.service || g.ddsource !== routing.ddsource) {
          const key = `${routing.ddtags}\u0000${routing.service}\u0000${routing.ddsource}`;
          g = groups.get(key);
          if (g === undefined) {
            g = { ddtags: routing.ddtags, service: routing.service, ddsource: routing.ddsource, items: [], refs: [], bytes: 2 };
            groups.set(key, g);
          }
          last = g;
        }
        if (g.items.length > 0 && (g.items.length >= maxItems || g.bytes + 1 + bytes > maxPayload)) flush(g);
        g.bytes += (g.items.length > 0 ? 1 : 0) + bytes;
        g.items.push(json);
        g.refs.push(ref);
      }
    }
  }
  for (const g of groups.values()) if (g.items.length > 0) flush(g);
  return { requests, rejected };
}
