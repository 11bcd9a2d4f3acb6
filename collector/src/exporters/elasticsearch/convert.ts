/**
 * `convertToBulk`: the pure part of the `elasticsearch` exporter. Turns OTLP records into `_bulk` NDJSON
 * bodies (`{"create":{"_index":…}}` + document per record) in one of the upstream mapping modes, routed
 * per record to an index or data stream, and split so that no body exceeds `flush.bytes`.
 *
 * Hot path (pino style): everything that depends only on config, resource or scope (resource/scope JSON
 * fragments, routing attributes, action lines per index, the logstash date) is computed once and reused;
 * per record only the record's own fields are serialized. In `otel` mode (the default) documents are
 * written as bytes straight into one reused buffer and bodies are cut from it, no per-record strings.
 */
import {
  anyValueAsString, idToHex, int64ToString, isZeroNanos, JsonByteWriter, nanosToDecimal, nanosToIso,
  type AnyValue, type KeyValue, type Long, type LogRecord, type ResourceLogs, type ScopeLogs,
} from '@tributary/otlp';
import { utf8 } from '../common/json-body.js';
import { splitMillis } from '../common/split-nanos.js';
import type { RecordRef } from '../common/partial-delivery.js';
import type { ElasticsearchExporterConfig, MappingMode } from './config.js';

export interface RetentionTarget {
  index?: string | undefined;
  dataset?: string | undefined;
  namespace?: string | undefined;
}

export interface EsConvertOptions {
  mode: MappingMode;
  /** Fixed index; undefined = data stream routing. */
  logsIndex?: string | undefined;
  dynamicIndex?: boolean | undefined;
  logstash?: { separator: string; dateFormat: string } | undefined;
  retentionClasses?: Readonly<Record<string, RetentionTarget>> | undefined;
  /** Upper bound of one request body in bytes (flush.bytes). */
  maxRequestBytes: number;
  /** A document (with its action line) larger than this is rejected (Elasticsearch http.max_content_length, 100 MiB). */
  maxDocumentBytes?: number | undefined;
  /** Timestamp used when a record has neither time nor observed time (the caller passes "now"). */
  nowNanos?: Long | undefined;
}

export interface BulkRequest {
  /** NDJSON, newline-terminated. */
  body: Buffer;
  /** The record of each document, in body order (item i of the bulk answer is records[i]). */
  records: RecordRef[];
}

export interface EsConvertResult {
  requests: BulkRequest[];
  /** Records that can never be sent (document too large; not a map body in bodymap mode). */
  rejected: { ref: RecordRef; reason: string }[];
}

export const DEFAULT_MAX_DOCUMENT_BYTES = 100 * 1024 * 1024;

/** Options from config (once, at exporter creation). */
export function esConvertOptions(config: ElasticsearchExporterConfig): EsConvertOptions {
  return {
    mode: config.mapping.mode,
    logsIndex: config.logs_index,
    dynamicIndex: config.logs_dynamic_index.enabled,
    logstash: config.logstash_format.enabled ? { separator: config.logstash_format.prefix_separator, dateFormat: config.logstash_format.date_format } : undefined,
    retentionClasses: config.retention.classes,
    maxRequestBytes: config.flush.bytes,
  };
}

// ---------------------------------------------------------------------------------------------------
// Routing

const ATTR_INDEX = 'elasticsearch.index';
const ATTR_PREFIX = 'elasticsearch.index.prefix';
const ATTR_SUFFIX = 'elasticsearch.index.suffix';
const ATTR_DS_TYPE = 'data_stream.type';
const ATTR_DS_DATASET = 'data_stream.dataset';
const ATTR_DS_NAMESPACE = 'data_stream.namespace';
const ATTR_RETENTION_CLASS = 'retention.class';

/** Routing attributes: used for the index, never written into the document. */
const ROUTING_KEYS = new Set([ATTR_INDEX, ATTR_PREFIX, ATTR_SUFFIX, ATTR_DS_TYPE, ATTR_DS_DATASET, ATTR_DS_NAMESPACE]);

/** The routing attributes found on one attribute list (resource, scope or record). */
interface Routing {
  index: string | undefined;
  prefix: string | undefined;
  suffix: string | undefined;
  dataset: string | undefined;
  namespace: string | undefined;
  retentionClass: string | undefined;
}

const NO_ROUTING: Routing = { index: undefined, prefix: undefined, suffix: undefined, dataset: undefined, namespace: undefined, retentionClass: undefined };

function routingOf(attrs: readonly KeyValue[] | undefined | null, parent: Routing): Routing {
  if (attrs == null || attrs.length === 0) return parent;
  let r: Routing | undefined;
  for (let i = 0; i < attrs.length; i++) {
    const key = attrs[i]!.key;
    const c = key.charCodeAt(0);
    // only keys starting with e / d / r can be routing keys
    if (c !== 101 && c !== 100 && c !== 114) continue;
    let field: keyof Routing | undefined;
    switch (key) {
      case ATTR_INDEX: field = 'index'; break;
      case ATTR_PREFIX: field = 'prefix'; break;
      case ATTR_SUFFIX: field = 'suffix'; break;
      case ATTR_DS_DATASET: field = 'dataset'; break;
      case ATTR_DS_NAMESPACE: field = 'namespace'; break;
      case ATTR_RETENTION_CLASS: field = 'retentionClass'; break;
      default: continue;
    }
    const v = anyValueAsString(attrs[i]!.value);
    if (v === '') continue;
    r ??= { ...parent };
    r[field] = v;
  }
  return r === undefined ? parent : internRouting(r);
}

const routings = new Map<string, Routing>();

/** One object per distinct routing, so targets can be cached by identity across records and batches. */
function internRouting(r: Routing): Routing {
  const key = `${r.index ?? '\u0001'}\u0000${r.prefix ?? '\u0001'}\u0000${r.suffix ?? '\u0001'}\u0000${r.dataset ?? '\u0001'}\u0000${r.namespace ?? '\u0001'}\u0000${r.retentionClass ?? '\u0001'}`;
  const known = routings.get(key);
  if (known !== undefined) return known;
  if (routings.size >= 10_000) routings.clear();
  routings.set(key, r);
  return r;
}

const DS_INVALID = /[\\/*?"<>| ,#:]/g;

/** Data stream name parts: disallowed characters → `_`, lower case, at most 100 characters (Elasticsearch naming rules). */
export function sanitizeDataStreamPart(s: string): string {
  const out = s.replace(DS_INVALID, '_').toLowerCase();
  return out.length > 100 ? out.slice(0, 100) : out;
}

/** strftime subset for `logstash_format.date_format`: %Y %y %m %d %H %M %S %j %%. */
export function compileDateFormat(fmt: string): (ms: number) => string {
  const parts: (string | number)[] = [];
  let lit = '';
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch === '%' && i + 1 < fmt.length) {
      const code = fmt[++i]!;
      if (code === '%') { lit += '%'; continue; }
      if (lit) { parts.push(lit); lit = ''; }
      parts.push(code.charCodeAt(0));
    } else lit += ch;
  }
  if (lit) parts.push(lit);
  const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));
  return (ms: number): string => {
    const d = new Date(ms);
    let s = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (typeof p === 'string') { s += p; continue; }
      switch (String.fromCharCode(p)) {
        case 'Y': s += String(d.getUTCFullYear()); break;
        case 'y': s += p2(d.getUTCFullYear() % 100); break;
        case 'm': s += p2(d.getUTCMonth() + 1); break;
        case 'd': s += p2(d.getUTCDate()); break;
        case 'H': s += p2(d.getUTCHours()); break;
        case 'M': s += p2(d.getUTCMinutes()); break;
        case 'S': s += p2(d.getUTCSeconds()); break;
        case 'j': s += String(Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1).padStart(3, '0'); break;
        default: s += `%${String.fromCharCode(p)}`;
      }
    }
    return s;
  };
}

// ---------------------------------------------------------------------------------------------------
// JSON writing

const q = JSON.stringify as (s: string) => string;

/** An AnyValue as JSON text: maps as objects, bytes as hex (upstream serializer), non-finite doubles as null. */
export function jsonValue(v: AnyValue | null | undefined): string {
  if (v == null) return 'null';
  if (v.stringValue != null) return q(v.stringValue);
  if (v.boolValue != null) return v.boolValue ? 'true' : 'false';
  if (v.intValue != null) return int64ToString(v.intValue);
  if (v.doubleValue != null) return Number.isFinite(v.doubleValue) ? String(v.doubleValue) : 'null';
  if (v.kvlistValue != null) return `{${jsonFields(v.kvlistValue.values, undefined)}}`;
  if (v.arrayValue != null) {
    const vals = v.arrayValue.values;
    let s = '[';
    for (let i = 0; i < vals.length; i++) s += (i ? ',' : '') + jsonValue(vals[i]);
    return `${s}]`;
  }
  if (v.bytesValue != null) return `"${Buffer.from(v.bytesValue.buffer, v.bytesValue.byteOffset, v.bytesValue.byteLength).toString('hex')}"`;
  return 'null';
}

/** `"k":v,…` of an attribute list, skipping `skip` keys. */
function jsonFields(kvs: readonly KeyValue[], skip: ReadonlySet<string> | undefined): string {
  let s = '';
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i]!;
    if (skip !== undefined && skip.has(kv.key)) continue;
    if (s) s += ',';
    s += `${q(kv.key)}:${jsonValue(kv.value)}`;
  }
  return s;
}

function isEmptyValue(v: AnyValue | null | undefined): boolean {
  return v == null || (v.stringValue == null && v.boolValue == null && v.intValue == null && v.doubleValue == null && v.kvlistValue == null && v.arrayValue == null && v.bytesValue == null);
}

/** Upstream otel-mode timestamp: `"<epoch ms>.<remaining ns, 6 digits>"` (see README: zero-padded). */
export function otelTimestamp(t: Long): string {
  const d = nanosToDecimal(t);
  const ms = d.length <= 6 ? '0' : d.slice(0, -6);
  const rest = d.length <= 6 ? d.padStart(6, '0') : d.slice(-6);
  // A whole millisecond is written `<ms>.0`, byte for byte as upstream.
  return rest === '000000' ? `${ms}.0` : `${ms}.${rest}`;
}

// ---------------------------------------------------------------------------------------------------
// ECS

/**
 * Resource attribute → ECS field(s), as upstream's resourceAttrsConversionMap
 * (exporter/elasticsearchexporter/model.go, the semconv v1.40 version). An empty list drops the attribute.
 */
const ECS_RESOURCE: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['service.instance.id', ['service.node.name']],
  ['deployment.environment', ['service.environment']],
  ['deployment.environment.name', ['service.environment']],
  ['telemetry.sdk.name', []],
  ['telemetry.sdk.language', ['service.language.name']],
  ['telemetry.sdk.version', ['service.language.version']],
  ['telemetry.distro.name', []],
  ['telemetry.distro.version', []],
  ['cloud.platform', ['cloud.service.name']],
  ['container.image.tags', ['container.image.tag']],
  ['host.name', ['host.hostname', 'host.name']],
  ['host.arch', ['host.architecture']],
  ['process.parent_pid', ['process.parent.pid']],
  ['process.executable.name', ['process.title']],
  ['process.command_line', ['process.args']],
  ['client.address', ['client.ip']],
  ['source.address', ['source.ip']],
  ['faas.instance', ['faas.id']],
  ['faas.trigger', ['faas.trigger.type']],
  ['process.executable.path', ['process.executable']],
  ['process.runtime.name', ['service.runtime.name']],
  ['process.runtime.version', ['service.runtime.version']],
  ['os.name', ['host.os.name']],
  ['os.type', ['host.os.platform']],
  ['os.description', ['host.os.full']],
  ['os.version', ['host.os.version']],
  ['k8s.deployment.name', ['kubernetes.deployment.name']],
  ['k8s.namespace.name', ['kubernetes.namespace']],
  ['k8s.node.name', ['kubernetes.node.name']],
  ['k8s.pod.name', ['kubernetes.pod.name']],
  ['k8s.pod.uid', ['kubernetes.pod.uid']],
  ['k8s.job.name', ['kubernetes.job.name']],
  ['k8s.cronjob.name', ['kubernetes.cronjob.name']],
  ['k8s.statefulset.name', ['kubernetes.statefulset.name']],
  ['k8s.replicaset.name', ['kubernetes.replicaset.name']],
  ['k8s.daemonset.name', ['kubernetes.daemonset.name']],
  ['k8s.container.name', ['kubernetes.container.name']],
  ['k8s.cluster.name', ['orchestrator.cluster.name']],
]);

const ECS_RECORD: ReadonlyMap<string, string> = new Map([
  ['event.name', 'event.action'],
  ['exception.message', 'error.message'],
  ['exception.stacktrace', 'error.stacktrace'],
  ['exception.type', 'error.type'],
  ['exception.escaped', 'event.error.exception.handled'],
  ['http.response.body.size', 'http.response.encoded_body_size'],
]);

/** Flattens an attribute value into `[dotted key, JSON]` pairs (maps flattened, everything else one value). */
function flattenInto(out: [string, string][], key: string, v: AnyValue | null | undefined): void {
  if (v != null && v.kvlistValue != null) {
    const vals = v.kvlistValue.values;
    for (let i = 0; i < vals.length; i++) flattenInto(out, `${key}.${vals[i]!.key}`, vals[i]!.value);
    return;
  }
  out.push([key, jsonValue(v)]);
}

interface DedotNode { [k: string]: DedotNode | string }

/**
 * Flat dotted keys → nested JSON object (ECS dedot). Later keys win over earlier ones (dedup); when a key
 * is both a value and an object (`a` and `a.b`), the value moves to `a.value` (upstream objmodel rule).
 */
export function dedotJson(pairs: readonly [string, string][]): string {
  const root: DedotNode = Object.create(null) as DedotNode;
  for (let i = 0; i < pairs.length; i++) {
    const [key, json] = pairs[i]!;
    let node = root;
    let start = 0;
    for (;;) {
      const dot = key.indexOf('.', start);
      if (dot < 0 || dot === start || dot === key.length - 1) {
        const last = key.slice(start);
        const existing = node[last];
        if (existing !== undefined && typeof existing !== 'string') existing['value'] = json;
        else node[last] = json;
        break;
      }
      const part = key.slice(start, dot);
      let next = node[part];
      if (next === undefined) {
        next = Object.create(null) as DedotNode;
        node[part] = next;
      } else if (typeof next === 'string') {
        const obj = Object.create(null) as DedotNode;
        obj['value'] = next;
        node[part] = obj;
        next = obj;
      }
      node = next;
      start = dot + 1;
    }
  }
  return writeNode(root);
}

function writeNode(node: DedotNode): string {
  let s = '{';
  let first = true;
  for (const k in node) {
    const v = node[k]!;
    s += `${first ? '' : ','}${q(k)}:${typeof v === 'string' ? v : writeNode(v)}`;
    first = false;
  }
  return `${s}}`;
}

// ---------------------------------------------------------------------------------------------------
// Per-resource / per-scope context

interface ResourceCtx {
  routing: Routing;
  /** otel: `,"resource":{…}`; none/raw: `,"Resource.k":v…` */
  fragment: string;
  /** ecs: converted resource fields */
  ecs: [string, string][];
}

interface ScopeCtx {
  routing: Routing;
  fragment: string;
  ecs: [string, string][];
  /** ecs: resource + scope fields dedotted (without braces), and their top-level keys. */
  ecsInner: string;
  ecsTop: Set<string>;
}

function resourceCtx(rl: ResourceLogs, mode: MappingMode): ResourceCtx {
  const attrs = rl.resource?.attributes ?? [];
  const routing = routingOf(attrs, NO_ROUTING);
  let fragment = '';
  const ecs: [string, string][] = [];
  if (mode === 'otel') {
    let inner = `"attributes":{${jsonFields(attrs, ROUTING_KEYS)}}`;
    if (rl.schemaUrl) inner += `,"schema_url":${q(rl.schemaUrl)}`;
    const dropped = rl.resource?.droppedAttributesCount ?? 0;
    if (dropped) inner += `,"dropped_attributes_count":${dropped}`;
    fragment = `,"resource":{${inner}}`;
  } else if (mode === 'none' || mode === 'raw') {
    const pairs: [string, string][] = [];
    for (const kv of attrs) if (!ROUTING_KEYS.has(kv.key)) flattenInto(pairs, `Resource.${kv.key}`, kv.value);
    for (const [k, v] of pairs) fragment += `,${q(k)}:${v}`;
  } else if (mode === 'ecs') {
    // host.name → host.hostname only when the resource has no host.hostname of its own (upstream's skipIfExists).
    const hasHostname = attrs.some((kv) => kv.key === 'host.hostname');
    for (const kv of attrs) {
      if (ROUTING_KEYS.has(kv.key)) continue;
      const target = hasHostname && kv.key === 'host.name' ? undefined : ECS_RESOURCE.get(kv.key);
      if (target !== undefined) {
        for (const t of target) flattenInto(ecs, t, kv.value);
      } else {
        flattenInto(ecs, kv.key, kv.value);
      }
    }
  }
  return { routing, fragment, ecs };
}

function scopeCtx(sl: ScopeLogs, parent: Routing, mode: MappingMode, resourceEcs: readonly [string, string][]): ScopeCtx {
  const scope = sl.scope;
  const attrs = scope?.attributes ?? [];
  const routing = routingOf(attrs, parent);
  let fragment = '';
  const ecs: [string, string][] = [];
  if (mode === 'otel') {
    let inner = '';
    if (scope?.name) inner += `,"name":${q(scope.name)}`;
    if (scope?.version) inner += `,"version":${q(scope.version)}`;
    const f = jsonFields(attrs, ROUTING_KEYS);
    if (f) inner += `,"attributes":{${f}}`;
    if (sl.schemaUrl) inner += `,"schema_url":${q(sl.schemaUrl)}`;
    if (scope?.droppedAttributesCount) inner += `,"dropped_attributes_count":${scope.droppedAttributesCount}`;
    if (inner) fragment = `,"scope":{${inner.slice(1)}}`;
  } else if (mode === 'none' || mode === 'raw') {
    if (scope?.name) fragment += `,"Scope.name":${q(scope.name)}`;
    if (scope?.version) fragment += `,"Scope.version":${q(scope.version)}`;
    const pairs: [string, string][] = [];
    for (const kv of attrs) if (!ROUTING_KEYS.has(kv.key)) flattenInto(pairs, `Scope.${kv.key}`, kv.value);
    for (const [k, v] of pairs) fragment += `,${q(k)}:${v}`;
  } else if (mode === 'ecs') {
    for (const kv of attrs) if (!ROUTING_KEYS.has(kv.key)) flattenInto(ecs, kv.key, kv.value);
  }
  let ecsInner = '';
  const ecsTop = new Set<string>();
  if (mode === 'ecs') {
    const all = [...resourceEcs, ...ecs];
    ecsInner = dedotJson(all).slice(1, -1);
    for (const [k] of all) ecsTop.add(topKey(k));
  }
  return { routing, fragment, ecs, ecsInner, ecsTop };
}

function topKey(k: string): string {
  const dot = k.indexOf('.');
  return dot > 0 ? k.slice(0, dot) : k;
}

// ---------------------------------------------------------------------------------------------------
// Converter

interface Target {
  index: string;
  /** `"data_stream":{…}` fields of the document when routed to a data stream, else undefined. */
  dataset: string | undefined;
  namespace: string | undefined;
  /** `"data_stream":{…}` when routed to a data stream (rendered once per target). */
  ds?: string | undefined;
  /** `,"data_stream":{…}` as bytes (otel documents). */
  dsBytes?: Buffer | undefined;
  /** The action line as bytes. */
  action?: Buffer | undefined;
}

/** A reusable converter: caches that depend only on options live here (action lines per index, dates). */
export class BulkConverter {
  private readonly actions = new Map<string, string>();
  private readonly dsFragments = new Map<string, string>();
  private readonly formatDate: ((ms: number) => string) | undefined;
  private lastDay = Number.NaN;
  private lastDate = '';
  private readonly dayGranular: boolean;
  private readonly maxDoc: number;

  constructor(private readonly o: EsConvertOptions) {
    this.formatDate = o.logstash ? compileDateFormat(o.logstash.dateFormat) : undefined;
    this.dayGranular = o.logstash ? !/%[HMS]/.test(o.logstash.dateFormat) : true;
    this.maxDoc = o.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  }

  private action(index: string): string {
    let a = this.actions.get(index);
    if (a === undefined) {
      a = `{"create":{"_index":${q(index)}}}\n`;
      if (this.actions.size < 10_000) this.actions.set(index, a);
    }
    return a;
  }

  private dataStreamFragment(dataset: string, namespace: string): string {
    const key = `${dataset}\u0000${namespace}`;
    let f = this.dsFragments.get(key);
    if (f === undefined) {
      f = `"data_stream":{"type":"logs","dataset":${q(dataset)},"namespace":${q(namespace)}}`;
      if (this.dsFragments.size < 10_000) this.dsFragments.set(key, f);
    }
    return f;
  }

  private dateOf(ts: Long): string {
    // whole milliseconds, exactly (a double of the ns/1e6 quotient can round up across midnight)
    const ms = splitMillis(ts).whole;
    if (this.dayGranular) {
      const day = Math.floor(ms / 86_400_000);
      if (day !== this.lastDay) {
        this.lastDay = day;
        this.lastDate = this.formatDate!(ms);
      }
      return this.lastDate;
    }
    return this.formatDate!(ms);
  }

  private readonly targets = new Map<Routing, Target>();
  private targetsDate = '';
  private lastRouting: Routing | undefined;
  private lastTarget: Target | undefined;

  /** Index for a record, cached per (interned) routing while the logstash date is the same. */
  private target(r: Routing, ts: Long): Target {
    if (this.formatDate !== undefined) {
      const date = this.dateOf(ts);
      if (date !== this.targetsDate) {
        this.targets.clear();
        this.targetsDate = date;
        this.lastRouting = undefined;
      }
    }
    if (r === this.lastRouting) return this.lastTarget!;
    let t = this.targets.get(r);
    if (t === undefined) {
      t = this.resolveTarget(r, this.targetsDate);
      if (t.dataset !== undefined) {
        t.ds = this.dataStreamFragment(t.dataset, t.namespace!);
        t.dsBytes = Buffer.from(`,${t.ds}`);
      }
      t.action = Buffer.from(this.action(t.index));
      if (this.targets.size >= 10_000) this.targets.clear();
      this.targets.set(r, t);
    }
    this.lastRouting = r;
    this.lastTarget = t;
    return t;
  }

  private resolveTarget(r: Routing, date: string): Target {
    const o = this.o;
    const cls = r.retentionClass !== undefined && o.retentionClasses !== undefined ? o.retentionClasses[r.retentionClass] : undefined;
    let t: Target;
    if (r.index !== undefined) t = { index: r.index, dataset: undefined, namespace: undefined };
    else if (cls?.index !== undefined) t = { index: cls.index, dataset: undefined, namespace: undefined };
    else if (o.logsIndex !== undefined && !(o.dynamicIndex && (r.dataset !== undefined || r.namespace !== undefined)) && cls === undefined) {
      t = { index: o.dynamicIndex ? `${r.prefix ?? ''}${o.logsIndex}${r.suffix ?? ''}` : o.logsIndex, dataset: undefined, namespace: undefined };
    } else {
      let dataset = sanitizeDataStreamPart(cls?.dataset ?? r.dataset ?? 'generic');
      const namespace = sanitizeDataStreamPart(cls?.namespace ?? r.namespace ?? 'default');
      if (o.mode === 'otel' && !dataset.endsWith('.otel')) dataset += '.otel';
      t = { index: `logs-${dataset}-${namespace}`, dataset, namespace };
    }
    if (this.formatDate !== undefined) t.index += `${o.logstash!.separator}${date}`;
    return t;
  }

  /** The buffer documents are written into; the bodies are views of it. */
  private readonly w = new JsonByteWriter(256 * 1024);

  /** `now`: timestamp for records with neither time nor observed time (defaults to options.nowNanos). */
  convert(resourceLogs: readonly ResourceLogs[], now: Long | undefined = this.o.nowNanos): EsConvertResult {
    const o = this.o;
    const mode = o.mode;
    const w = this.w;
    w.reset();
    const requests: BulkRequest[] = [];
    const rejected: { ref: RecordRef; reason: string }[] = [];
    let records: RecordRef[] = [];
    /** Where the current request's body starts in `w`. */
    let start = 0;
    for (let i = 0; i < resourceLogs.length; i++) {
      const rl = resourceLogs[i]!;
      const rc = resourceCtx(rl, mode);
      for (let j = 0; j < rl.scopeLogs.length; j++) {
        const sl = rl.scopeLogs[j]!;
        const sc = scopeCtx(sl, rc.routing, mode, rc.ecs);
        const tail = mode === 'otel' ? Buffer.from(rc.fragment + sc.fragment) : EMPTY;
        const logRecords = sl.logRecords;
        for (let k = 0; k < logRecords.length; k++) {
          const lr = logRecords[k]!;
          const routing = routingOf(lr.attributes, sc.routing);
          let ts = lr.timeUnixNano;
          if (isZeroNanos(ts)) ts = isZeroNanos(lr.observedTimeUnixNano) && now !== undefined ? now : lr.observedTimeUnixNano;
          if (mode === 'bodymap' && lr.body?.kvlistValue == null) {
            rejected.push({ ref: { rl, sl, lr }, reason: 'bodymap mapping mode: body is not a map' });
            continue;
          }
          const target = this.target(routing, ts);
          const docStart = w.length;
          w.raw(target.action!);
          if (mode === 'otel') writeOtelDoc(w, lr, ts, target.dsBytes, tail);
          else {
            const doc = mode === 'bodymap' ? jsonValue(lr.body) : mode === 'ecs' ? ecsDoc(lr, ts, target, rc, sc) : flatDoc(lr, ts, target, rc, sc, mode === 'raw');
            w.text(doc);
            w.byte(0x0a);
          }
          const bytes = w.length - docStart;
          const ref: RecordRef = { rl, sl, lr };
          if (bytes > this.maxDoc) {
            w.truncate(docStart);
            rejected.push({ ref, reason: `document of ${bytes} bytes exceeds the ${this.maxDoc}-byte request limit` });
            continue;
          }
          if (docStart - start + bytes > o.maxRequestBytes && records.length > 0) {
            requests.push({ body: w.bytes(start, docStart), records });
            records = [];
            start = docStart;
          }
          records.push(ref);
        }
      }
    }
    if (records.length > 0) requests.push({ body: w.bytes(start, w.length), records });
    // The bodies are views of this buffer: the next batch writes into a new one, about as large
    // as this batch needed (bounded, so one huge batch is not kept).
    if (requests.length > 0) w.detach(Math.min(w.length + (w.length >> 3) + 1024, 64 * 1024 * 1024));
    return { requests, rejected };
  }
}

const EMPTY = Buffer.alloc(0);

/** Pure: OTLP records → bulk request bodies (see BulkConverter; a new converter per call). */
export function convertToBulk(resourceLogs: readonly ResourceLogs[], options: EsConvertOptions): EsConvertResult {
  return new BulkConverter(options).convert(resourceLogs);
}

function eventNameOf(lr: LogRecord): string {
  if (lr.eventName) return lr.eventName;
  const attrs = lr.attributes;
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key === 'event.name') return anyValueAsString(attrs[i]!.value);
  return '';
}

const K_TIMESTAMP = utf8('{"@timestamp":"');
const K_OBSERVED = utf8('","observed_timestamp":"');
const K_SEVERITY_TEXT = utf8(',"severity_text":');
const K_SEVERITY_NUMBER = utf8(',"severity_number":');
const K_TRACE_ID = utf8(',"trace_id":"');
const K_SPAN_ID = utf8(',"span_id":"');
const K_DROPPED = utf8(',"dropped_attributes_count":');
const K_ATTRIBUTES = utf8(',"attributes":{');
const K_EVENT_NAME = utf8(',"event_name":');
const K_STRUCTURED = utf8(',"body":{"structured":');
const K_STRUCTURED_VALUE = utf8(',"body":{"structured":{"value":');
const K_TEXT = utf8(',"body":{"text":');
const K_NULL = utf8('null');
const K_TRUE = utf8('true');
const K_FALSE = utf8('false');

/** otelTimestamp(t) straight into bytes. */
function writeOtelTimestamp(w: JsonByteWriter, t: Long): void {
  const m = splitMillis(t);
  const rest = m.rest;
  w.uint(m.whole);
  w.byte(0x2e);
  if (rest === 0) w.byte(0x30);
  else w.digits(rest, 6);
}

/** True when the ID has a non-zero byte (idToHex would not be ''). */
function hasId(id: Uint8Array | null | undefined): id is Uint8Array {
  if (id == null) return false;
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return true;
  return false;
}

/** jsonValue(v) straight into bytes. */
function writeJsonValue(w: JsonByteWriter, v: AnyValue | null | undefined): void {
  if (v == null) w.raw(K_NULL);
  else if (v.stringValue != null) w.string(v.stringValue);
  else if (v.boolValue != null) w.raw(v.boolValue ? K_TRUE : K_FALSE);
  else if (v.intValue != null) w.int64(v.intValue);
  else if (v.doubleValue != null) {
    if (Number.isFinite(v.doubleValue)) w.number(v.doubleValue);
    else w.raw(K_NULL);
  } else if (v.kvlistValue != null) {
    w.byte(0x7b);
    writeJsonFields(w, v.kvlistValue.values, false);
    w.byte(0x7d);
  } else if (v.arrayValue != null) {
    const vals = v.arrayValue.values;
    w.byte(0x5b);
    for (let i = 0; i < vals.length; i++) {
      if (i) w.byte(0x2c);
      writeJsonValue(w, vals[i]);
    }
    w.byte(0x5d);
  } else if (v.bytesValue != null) {
    w.byte(0x22);
    w.hex(v.bytesValue);
    w.byte(0x22);
  } else w.raw(K_NULL);
}

/** jsonFields(kvs, skipRouting ? ROUTING_KEYS : undefined) straight into bytes. */
function writeJsonFields(w: JsonByteWriter, kvs: readonly KeyValue[], skipRouting: boolean): void {
  let first = true;
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i]!;
    if (skipRouting && isRoutingKey(kv.key)) continue;
    if (!first) w.byte(0x2c);
    first = false;
    w.string(kv.key);
    w.byte(0x3a);
    writeJsonValue(w, kv.value);
  }
}

function isRoutingKey(key: string): boolean {
  // every routing key starts with e or d
  const c = key.charCodeAt(0);
  return (c === 101 || c === 100) && ROUTING_KEYS.has(key);
}

/** An otel-mode document and its newline (same bytes as otelDoc); `tail` is the resource + scope fragment. */
function writeOtelDoc(w: JsonByteWriter, lr: LogRecord, ts: Long, ds: Buffer | undefined, tail: Buffer): void {
  w.raw(K_TIMESTAMP);
  writeOtelTimestamp(w, ts);
  w.raw(K_OBSERVED);
  writeOtelTimestamp(w, lr.observedTimeUnixNano);
  w.byte(0x22);
  if (ds !== undefined) w.raw(ds);
  if (lr.severityText) {
    w.raw(K_SEVERITY_TEXT);
    w.string(lr.severityText);
  }
  if (lr.severityNumber) {
    w.raw(K_SEVERITY_NUMBER);
    w.number(lr.severityNumber);
  }
  if (hasId(lr.traceId)) {
    w.raw(K_TRACE_ID);
    w.hex(lr.traceId);
    w.byte(0x22);
  }
  if (hasId(lr.spanId)) {
    w.raw(K_SPAN_ID);
    w.hex(lr.spanId);
    w.byte(0x22);
  }
  if (lr.droppedAttributesCount) {
    w.raw(K_DROPPED);
    w.number(lr.droppedAttributesCount);
  }
  w.raw(K_ATTRIBUTES);
  writeJsonFields(w, lr.attributes, true);
  w.byte(0x7d);
  const ev = eventNameOf(lr);
  if (ev) {
    w.raw(K_EVENT_NAME);
    w.string(ev);
  }
  w.raw(tail);
  const body = lr.body;
  if (body != null && !isEmptyValue(body)) {
    if (body.kvlistValue != null) {
      w.raw(K_STRUCTURED);
      writeJsonValue(w, body);
      w.byte(0x7d);
    } else if (body.arrayValue != null) {
      const vals = body.arrayValue.values;
      let allMaps = vals.length > 0;
      for (let i = 0; i < vals.length && allMaps; i++) if (vals[i]?.kvlistValue == null) allMaps = false;
      w.raw(allMaps ? K_STRUCTURED : K_STRUCTURED_VALUE);
      writeJsonValue(w, body);
      w.byte(0x7d);
      if (!allMaps) w.byte(0x7d);
    } else {
      w.raw(K_TEXT);
      w.string(body.stringValue ?? anyValueAsString(body));
      w.byte(0x7d);
    }
  }
  w.byte(0x7d);
  w.byte(0x0a);
}

function ecsDoc(lr: LogRecord, ts: Long, t: Target, rc: ResourceCtx, sc: ScopeCtx): string {
  // The record's own fields; resource and scope fields are pre-rendered once per scope (sc.ecsInner).
  const pairs: [string, string][] = [['@timestamp', q(nanosToIso(ts))]];
  const attrs = lr.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    if (ROUTING_KEYS.has(kv.key)) continue;
    flattenInto(pairs, ECS_RECORD.get(kv.key) ?? kv.key, kv.value);
  }
  if (t.dataset !== undefined) {
    pairs.push(['data_stream.type', '"logs"'], ['data_stream.dataset', q(t.dataset)], ['data_stream.namespace', q(t.namespace!)]);
  }
  const trace = idToHex(lr.traceId);
  if (trace) pairs.push(['trace.id', `"${trace}"`]);
  const span = idToHex(lr.spanId);
  if (span) pairs.push(['span.id', `"${span}"`]);
  if (lr.severityNumber) pairs.push(['event.severity', String(lr.severityNumber)]);
  if (lr.severityText) pairs.push(['log.level', q(lr.severityText)]);
  const body = lr.body;
  if (!isEmptyValue(body)) pairs.push(['message', q(anyValueAsString(body))]);
  if (sc.ecsInner === '') return dedotJson(pairs);
  let clash = false;
  for (let i = 0; i < pairs.length && !clash; i++) clash = sc.ecsTop.has(topKey(pairs[i]![0]));
  if (clash) {
    // Record fields share a top-level object with resource/scope fields: merge everything (slow path).
    return dedotJson([...rc.ecs, ...sc.ecs, ...pairs]);
  }
  const own = dedotJson(pairs);
  return `{${sc.ecsInner},${own.slice(1)}`;
}

function flatDoc(lr: LogRecord, ts: Long, t: Target, rc: ResourceCtx, sc: ScopeCtx, raw: boolean): string {
  let s = `{"@timestamp":${q(nanosToIso(ts))}`;
  const pairs: [string, string][] = [];
  const body = lr.body;
  if (!isEmptyValue(body)) flattenInto(pairs, 'Body', body);
  if (lr.severityText) pairs.push(['SeverityText', q(lr.severityText)]);
  pairs.push(['SeverityNumber', String(lr.severityNumber)]);
  pairs.push(['TraceFlags', String(lr.flags)]);
  const trace = idToHex(lr.traceId);
  if (trace) pairs.push(['TraceId', `"${trace}"`]);
  const span = idToHex(lr.spanId);
  if (span) pairs.push(['SpanId', `"${span}"`]);
  const attrs = lr.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    if (!ROUTING_KEYS.has(kv.key)) flattenInto(pairs, raw ? kv.key : `Attributes.${kv.key}`, kv.value);
  }
  if (t.dataset !== undefined) {
    // As upstream: the data stream fields are record attributes here (flat, `Attributes.` prefix in `none`).
    const p = raw ? 'data_stream.' : 'Attributes.data_stream.';
    pairs.push([`${p}type`, '"logs"'], [`${p}dataset`, q(t.dataset)], [`${p}namespace`, q(t.namespace!)]);
  }
  for (let i = 0; i < pairs.length; i++) s += `,${q(pairs[i]![0])}:${pairs[i]![1]}`;
  return `${s}${rc.fragment}${sc.fragment}}`;
}
