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
  JsonByteWriter,
} from '@tributary/otlp';
import { BytesBody, jsonKey, keepsInsertionOrder, sameKeys, utf8, WriterPool, writeBytesAsUint64 } from '../common/json-body.js';
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
  /** `body` as UTF-8: what is sent. */
  readonly bodyBytes: Buffer;
  /** UTF-8 length of `body`. */
  readonly bytes: number;
  readonly refs: RecordRef[];
}

class DatadogBody extends BytesBody implements DatadogRequest {
  constructor(readonly ddtags: string, readonly service: string, readonly ddsource: string, bodyBytes: Buffer, readonly refs: RecordRef[]) {
    super(bodyBytes);
  }
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
  /** `members` + "," as UTF-8 (the direct writer's item prefix after "{"); empty when no members. */
  prefix: Buffer;
  /** The record attribute plan last used in this scope (records of one source share their attribute names). */
  plan: AttrPlan | undefined;
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
  const members = json.length > 2 ? json.slice(1, -1) : '';
  return { members, keys: new Set(Object.keys(merged)), late, prefix: Buffer.from(members === '' ? '' : `${members},`, 'utf8'), plan: undefined };
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
 * Sets `routing` (ddtags, service, ddsource) of a record from its resource and the values its attributes
 * gave; returns its host ("" = none).
 */
function routeRecord(res: ResourceContext, attrs: readonly KeyValue[], ddtagsAttr: string | undefined, retentionClass: string, logSource: string, hostname: string, retentionTags: Readonly<Record<string, string>> | undefined, routing: ItemRouting): string {
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
  let service = res.service;
  if (service === '') {
    const s = findAttribute(attrs, 'service.name');
    if (s !== undefined) service = anyValueAsString(s);
  }
  routing.ddtags = ddtags;
  routing.service = service;
  routing.ddsource = res.source || logSource || DEFAULT_DDSOURCE;
  return res.host || hostFromAttributes(attrs) || hostname;
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

  const host = routeRecord(res, attrs, ddtagsAttr, retentionClass, logSource, hostname, retentionTags, routing);
  const { ddtags, service, ddsource } = routing;

  // Named fields last: they win over flattened properties of the same name (as HTTPLogItem.MarshalJSON).
  item['ddsource'] = ddsource;
  item['ddtags'] = ddtags;
  if (host !== '') item['hostname'] = host;
  item['message'] = message;
  if (service !== '') item['service'] = service;
  return item;
}

// ---- the direct writer: the item's JSON straight into the request body's bytes ----

/** What a record attribute is to the transform, by name (decided once per attribute name list). */
const A_FIELD = 0;
const A_SKIP = 1;
const A_MESSAGE = 2;
const A_STATUS = 3;
const A_TRACE = 4;
const A_SPAN = 5;
const A_DDTAGS = 6;
/** `flag`: the attribute also names the log source / the retention class. */
const F_SOURCE = 1;
const F_RETENTION = 2;

/** The record attributes' roles for one list of attribute names, with their pre-encoded `"key":`. */
interface AttrPlan {
  keys: string[];
  kind: Uint8Array;
  flag: Uint8Array;
  keyBytes: (Buffer | undefined)[];
  /**
   * False when the item object's property order differs from the write order (a property written twice,
   * an array-index name, a name the late fields take): then only the object path gives the same JSON.
   */
  ok: boolean;
}

function attrPlan(attrs: readonly KeyValue[], scope: ScopeContext): AttrPlan {
  const n = attrs.length;
  const plan: AttrPlan = { keys: new Array<string>(n), kind: new Uint8Array(n), flag: new Uint8Array(n), keyBytes: new Array<Buffer | undefined>(n).fill(undefined), ok: true };
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const key = attrs[i]!.key;
    plan.keys[i] = key;
    switch (key.toLowerCase()) {
      case 'msg':
      case 'message':
      case 'log':
        plan.kind[i] = A_MESSAGE;
        break;
      case 'status':
      case 'severity':
      case 'level':
      case 'syslog.severity':
        plan.kind[i] = A_STATUS;
        break;
      case 'traceid':
      case 'trace_id':
      case 'contextmap.traceid':
      case 'oteltraceid':
        plan.kind[i] = A_TRACE;
        break;
      case 'spanid':
      case 'span_id':
      case 'contextmap.spanid':
      case 'otelspanid':
        plan.kind[i] = A_SPAN;
        break;
      case 'ddtags':
        plan.kind[i] = A_DDTAGS;
        break;
      default:
        if (key === 'datadog.log.source') plan.flag[i] = F_SOURCE;
        else if (key === 'retention.class') plan.flag[i] = F_RETENTION;
        if (scope.keys.has(key)) plan.kind[i] = A_SKIP;
        else {
          plan.kind[i] = A_FIELD;
          plan.keyBytes[i] = jsonKey(key);
          if (!keepsInsertionOrder(key) || LATE_KEYS.has(key) || seen.has(key)) plan.ok = false;
          seen.add(key);
        }
    }
  }
  return plan;
}

/** A record's transform inputs from its attributes (the direct writer's first pass). */
interface RecordScan {
  plan: AttrPlan;
  message: string;
  status: string;
  host: string;
}

const scan: RecordScan = { plan: undefined as unknown as AttrPlan, message: '', status: '', host: '' };

/**
 * First pass of the direct writer: the record's plan, message/status attributes and routing. False when
 * the record needs the object path (see `AttrPlan.ok`; a map attribute, whose flattened names may collide;
 * a trace/span id attribute that the item would carry).
 */
function scanRecord(res: ResourceContext, scope: ScopeContext, lr: LogRecord, hostname: string, retentionTags: Readonly<Record<string, string>> | undefined, routing: ItemRouting): boolean {
  if (scope.late.length > 0) return false;
  const attrs = lr.attributes;
  let plan = scope.plan;
  if (plan === undefined || !sameKeys(attrs, plan.keys)) plan = scope.plan = attrPlan(attrs, scope);
  if (!plan.ok) return false;
  let message = '';
  let status = '';
  let ddtagsAttr: string | undefined;
  let logSource = '';
  let retentionClass = '';
  const kind = plan.kind;
  const flag = plan.flag;
  for (let i = 0; i < attrs.length; i++) {
    const v = attrs[i]!.value;
    switch (kind[i]) {
      case A_FIELD:
      case A_SKIP:
        if (v?.kvlistValue != null) return false;
        break;
      case A_MESSAGE:
        message = anyValueAsString(v);
        break;
      case A_STATUS:
        status = anyValueAsString(v);
        break;
      case A_TRACE:
        if (HEX32.test(anyValueAsString(v))) return false;
        break;
      case A_SPAN:
        if (HEX16.test(anyValueAsString(v))) return false;
        break;
      case A_DDTAGS:
        ddtagsAttr = anyValueAsString(v);
        break;
    }
    if (flag[i] === F_SOURCE) logSource = anyValueAsString(v);
    else if (flag[i] === F_RETENTION) retentionClass = anyValueAsString(v);
  }
  scan.plan = plan;
  scan.message = message;
  scan.status = status;
  scan.host = routeRecord(res, attrs, ddtagsAttr, retentionClass, logSource, hostname, retentionTags, routing);
  return true;
}

const K_NULL = utf8('null');
const K_TRUE = utf8('true');
const K_FALSE = utf8('false');
const K_DD_TRACE_ID = utf8('"dd.trace_id":"');
const K_OTEL_TRACE_ID = utf8('","otel.trace_id":"');
const K_DD_SPAN_ID = utf8('"dd.span_id":"');
const K_OTEL_SPAN_ID = utf8('","otel.span_id":"');
const K_QUOTE_COMMA = utf8('",');
const K_SEVERITY_TEXT = utf8('"otel.severity_text":');
const K_SEVERITY_NUMBER = utf8('"otel.severity_number":"');
const K_STATUS = utf8('"status":');
const K_TIMESTAMP = utf8('"otel.timestamp":"');
const K_AT_TIMESTAMP = utf8('","@timestamp":"');
const K_EVENT_NAME = utf8('"otel.event_name":');
const K_MESSAGE = utf8(',"message":');

/** `scalarOrString` written as JSON. */
function writeScalar(w: JsonByteWriter, v: AnyValue | null | undefined): void {
  if (v != null) {
    if (v.stringValue != null) {
      w.string(v.stringValue);
      return;
    }
    if (v.boolValue != null) {
      w.raw(v.boolValue ? K_TRUE : K_FALSE);
      return;
    }
    if (v.intValue != null) {
      const n = int64ToNumber(v.intValue);
      if (typeof n === 'bigint') w.string(n.toString());
      else if (Number.isFinite(n)) w.number(n);
      else w.raw(K_NULL);
      return;
    }
    if (v.doubleValue != null && Number.isFinite(v.doubleValue)) {
      w.number(v.doubleValue);
      return;
    }
  }
  w.string(anyValueAsString(v));
}

/** The `@timestamp` second prefix last written, as bytes. */
let isoPrefixSecond = -1;
let isoPrefixBytes = Buffer.alloc(0);

/** Per-conversion cache of the named-field tail: `"ddsource":…,"ddtags":…[,"hostname":…]` and `,"service":…`. */
interface TailCache {
  ddsource: string;
  ddtags: string;
  host: string;
  head: Buffer;
  service: string;
  serviceBytes: Buffer;
}

function routingHead(c: TailCache, ddsource: string, ddtags: string, host: string): Buffer {
  if (c.ddsource !== ddsource || c.ddtags !== ddtags || c.host !== host || c.head.length === 0) {
    const obj: Record<string, string> = { ddsource, ddtags };
    if (host !== '') obj['hostname'] = host;
    const json = JSON.stringify(obj);
    c.head = Buffer.from(json.slice(1, -1), 'utf8');
    c.ddsource = ddsource;
    c.ddtags = ddtags;
    c.host = host;
  }
  return c.head;
}

function serviceTail(c: TailCache, service: string): Buffer {
  if (c.service !== service || c.serviceBytes.length === 0) {
    c.serviceBytes = Buffer.from(`,"service":${JSON.stringify(service)}}`, 'utf8');
    c.service = service;
  }
  return c.serviceBytes;
}

/** Second pass: the item of a scanned record, exactly `serialize(transform(…))`. */
function writeItem(w: JsonByteWriter, scope: ScopeContext, lr: LogRecord, routing: ItemRouting, tail: TailCache): void {
  const plan = scan.plan;
  w.byte(0x7b);
  w.raw(scope.prefix);
  const attrs = lr.attributes;
  const kind = plan.kind;
  for (let i = 0; i < attrs.length; i++) {
    if (kind[i] !== A_FIELD) continue;
    const v = attrs[i]!.value;
    w.raw(plan.keyBytes[i]!);
    if (v?.arrayValue != null) w.text(JSON.stringify(flattenArray(v.arrayValue.values, 1)));
    else writeScalar(w, v);
    w.byte(0x2c);
  }
  const traceId = lr.traceId;
  if (traceId.length === 16 && !isEmptyId(traceId)) {
    w.raw(K_DD_TRACE_ID);
    writeBytesAsUint64(w, traceId, 8);
    w.raw(K_OTEL_TRACE_ID);
    w.hex(traceId);
    w.raw(K_QUOTE_COMMA);
  }
  const spanId = lr.spanId;
  if (spanId.length === 8 && !isEmptyId(spanId)) {
    w.raw(K_DD_SPAN_ID);
    writeBytesAsUint64(w, spanId, 0);
    w.raw(K_OTEL_SPAN_ID);
    w.hex(spanId);
    w.raw(K_QUOTE_COMMA);
  }
  let status = scan.status;
  if (lr.severityText !== '') {
    if (status === '') status = lr.severityText;
    w.raw(K_SEVERITY_TEXT);
    w.string(lr.severityText);
    w.byte(0x2c);
  }
  if (lr.severityNumber !== 0) {
    if (status === '') status = statusFromSeverityNumber(lr.severityNumber);
    w.raw(K_SEVERITY_NUMBER);
    w.number(lr.severityNumber);
    w.raw(K_QUOTE_COMMA);
  }
  w.raw(K_STATUS);
  w.string(status);
  w.byte(0x2c);
  const ts = isZeroNanos(lr.timeUnixNano) ? lr.observedTimeUnixNano : lr.timeUnixNano;
  if (!isZeroNanos(ts)) {
    const hi = ts.high >>> 0;
    const lo = ts.low >>> 0;
    w.raw(K_TIMESTAMP);
    w.uint64(hi, lo);
    w.raw(K_AT_TIMESTAMP);
    // Whole milliseconds of hi·2^32 + lo (the digits before the last 6 of the decimal).
    const ms = hi === 0 ? Math.floor(lo / 1e6) : hi * 4294 + Math.floor((hi * 967296 + lo) / 1e6);
    const sec = Math.floor(ms / 1000);
    if (sec !== isoPrefixSecond) {
      isoPrefixBytes = Buffer.from(new Date(sec * 1000).toISOString().slice(0, 20), 'latin1');
      isoPrefixSecond = sec;
    }
    w.raw(isoPrefixBytes);
    w.digits(ms - sec * 1000, 3);
    w.byte(0x5a);
    w.raw(K_QUOTE_COMMA);
  }
  if (lr.eventName) {
    w.raw(K_EVENT_NAME);
    w.string(lr.eventName);
    w.byte(0x2c);
  }
  w.raw(routingHead(tail, routing.ddsource, routing.ddtags, scan.host));
  w.raw(K_MESSAGE);
  w.string(scan.message === '' ? anyValueAsString(lr.body) : scan.message);
  if (routing.service !== '') w.raw(serviceTail(tail, routing.service));
  else w.byte(0x7d);
}

/**
 * Every record's item JSON built the plain way (item object, then JSON.stringify), in batch order: the
 * reference the direct writer of `convertToDatadog` must match byte for byte.
 */
export function datadogItemsJson(resourceLogs: readonly ResourceLogs[], options: DatadogConvertOptions = {}): string[] {
  const out: string[] = [];
  const routing: ItemRouting = { ddtags: '', service: '', ddsource: '' };
  for (const rl of resourceLogs) {
    const res = resourceContext(rl);
    for (const sl of rl.scopeLogs) {
      const scope = scopeContext(res, sl.scope?.attributes);
      for (const lr of sl.logRecords) out.push(serialize(transform(res, scope, lr, options.hostname ?? '', options.retentionTags, routing), scope));
    }
  }
  return out;
}

/** Every record as a Datadog item (parsed from its JSON), in batch order. For tests and tools; `convertToDatadog` is the hot path. */
export function convertToDatadogItems(resourceLogs: readonly ResourceLogs[], options: DatadogConvertOptions = {}): DatadogItem[] {
  return datadogItemsJson(resourceLogs, options).map((json) => JSON.parse(json) as DatadogItem);
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
  key: string;
  /** In `groups` (it has had an item). */
  listed: boolean;
  ddtags: string;
  service: string;
  ddsource: string;
  /** The body so far: "[" and the items, comma-separated. */
  w: JsonByteWriter;
  count: number;
  refs: RecordRef[];
  bytes: number;
}

/** Body writers, reused across conversions (each body is copied out as a string). */
const writers = new WriterPool(256 * 1024);

/**
 * The batch as Datadog intake requests: items grouped per (ddtags, service, ddsource), each group split so
 * that a body holds at most `maxItems` items and `maxPayloadBytes` bytes (the JSON array, uncompressed).
 * Items over `maxItemBytes` get their message truncated; an item that still does not fit is rejected.
 * Items are written straight into their group's body bytes; records the direct writer cannot reproduce
 * exactly (see `scanRecord`) go through the item object and JSON.stringify.
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
  const tail: TailCache = { ddsource: '', ddtags: '', host: '', head: Buffer.alloc(0), service: '', serviceBytes: Buffer.alloc(0) };
  let last: OpenGroup | undefined;

  for (let i = 0; i < resourceLogs.length; i++) {
    const rl = resourceLogs[i]!;
    const res = resourceContext(rl);
    for (let j = 0; j < rl.scopeLogs.length; j++) {
      const sl = rl.scopeLogs[j]!;
      const scope = scopeContext(res, sl.scope?.attributes);
      const records = sl.logRecords;
      for (let k = 0; k < records.length; k++) {
        const lr = records[k]!;
        const ref: RecordRef = { rl, sl, lr };
        const direct = scanRecord(res, scope, lr, hostname, retentionTags, routing);
        // The object path: records the writer cannot reproduce; fills `routing` too.
        let json: string | undefined;
        let item: DatadogItem | undefined;
        if (!direct) {
          item = transform(res, scope, lr, hostname, retentionTags, routing);
          json = serialize(item, scope);
        }
        // Consecutive records usually share their routing: reuse the last group without building a key.
        let g = last;
        if (g === undefined || g.ddtags !== routing.ddtags || g.service !== routing.service || g.ddsource !== routing.ddsource) {
          const key = `${routing.ddtags}\u0000${routing.service}\u0000${routing.ddsource}`;
          g = groups.get(key);
          // Listed (and so ordered) on its first accepted item, as the object path did.
          g ??= { key, listed: false, ddtags: routing.ddtags, service: routing.service, ddsource: routing.ddsource, w: writers.take(), count: 0, refs: [], bytes: 2 };
          last = g;
        }
        const w = g.w;
        if (w.length === 0) w.byte(0x5b);
        const sep = g.count > 0 ? 1 : 0;
        const start = w.length;
        if (sep) w.byte(0x2c);
        let bytes: number;
        if (json === undefined) {
          writeItem(w, scope, lr, routing, tail);
          bytes = w.length - start - sep;
        } else bytes = Buffer.byteLength(json, 'utf8');
        if (bytes > maxItem) {
          w.truncate(start + sep);
          item ??= transform(res, scope, lr, hostname, retentionTags, routing);
          json = truncateItem(item, scope, json ?? serialize(item, scope), bytes, maxItem);
          if (json === undefined) {
            w.truncate(start);
            rejected.push({ ref, reason: `log larger than ${maxItem} bytes without its message` });
            continue;
          }
          bytes = Buffer.byteLength(json, 'utf8');
        }
        if (sep && (g.count >= maxItems || g.bytes + 1 + bytes > maxPayload)) {
          // The body is full: send it without this item, which starts the next one.
          json ??= w.bytes().toString('utf8', start + 1);
          w.truncate(start);
          flush(g, requests);
          w.byte(0x5b);
        } else if (json !== undefined) w.truncate(start + sep);
        if (json !== undefined) w.text(json);
        if (!g.listed) {
          groups.set(g.key, g);
          g.listed = true;
        }
        g.bytes += (g.count > 0 ? 1 : 0) + bytes;
        g.count++;
        g.refs.push(ref);
      }
    }
  }
  for (const g of groups.values()) {
    if (g.count > 0) flush(g, requests);
    writers.give(g.w);
  }
  return { requests, rejected };
}

/** Closes the group's body as a request and starts the next body. */
function flush(g: OpenGroup, requests: DatadogRequest[]): void {
  g.w.byte(0x5d);
  requests.push(new DatadogBody(g.ddtags, g.service, g.ddsource, g.w.copy(), g.refs));
  g.w.reset();
  g.count = 0;
  g.refs = [];
  g.bytes = 2;
}
