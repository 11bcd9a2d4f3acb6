/**
 * The live tail fan-out point: `live_tail` exporters (and the `store` exporter, after it committed)
 * publish batches here; every WebSocket subscription registered by the `api` extension's tail routes gets
 * the records of its tenants that its compiled query matches. Publishing never waits and never fails:
 * each subscription has a bounded buffer and counts what it had to drop.
 */
import { anyValueAsString, findAttribute, idToHex, int64ToNumber, nanosToDecimal, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import type { StoredRecord } from '../exporters/store/reader.js';
import { severityLevel } from '../query/ast.js';
import { bodyText, type RecordMatcher } from '../query/matcher.js';

/**
 * A record as tail clients receive it (the same field names as the store's query answers). `id` is the
 * store's row id when the store published it (resumable), else an instance-unique id.
 */
export type TailRecord = Pick<StoredRecord,
  'tenant' | 'id' | 'time' | 'timestamp' | 'severity_number' | 'severity_text' | 'level' | 'body' | 'service' | 'resource' | 'scope' | 'attributes' | 'trace_id' | 'span_id'>;

export interface TailSubscriber {
  /** Tenants this subscriber may see; undefined = every tenant (no auth configured). */
  readonly tenants: ReadonlySet<string> | undefined;
  readonly matcher: RecordMatcher;
  /** Takes matched records; must not block (buffer and drop inside). */
  push(records: readonly TailRecord[]): void;
  /** Takes a frame for this subscriber's tenant that is not log records (e.g. an alert); native viewers only. */
  notice?(frame: unknown): void;
}

/** How a publisher finds a record's tenant: a resource attribute, else a fallback. */
export interface TailTenantRule {
  readonly key: string;
  readonly fallback: string;
}

function plain(v: AnyValue | null | undefined): unknown {
  if (v == null) return null;
  if (v.stringValue != null) return v.stringValue;
  if (v.intValue != null) {
    const n = int64ToNumber(v.intValue);
    return typeof n === 'bigint' ? n.toString() : n;
  }
  if (v.doubleValue != null) return v.doubleValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.arrayValue != null) return v.arrayValue.values.map(plain);
  if (v.kvlistValue != null) return attrsObject(v.kvlistValue.values);
  return anyValueAsString(v);
}

function attrsObject(kvs: readonly KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (kvs) for (const kv of kvs) out[kv.key] = plain(kv.value);
  return out;
}


export class TailHub {
  private readonly subscribers = new Set<TailSubscriber>();
  /** Batches already published (the same array reaches a `live_tail` and a `store` exporter of one pipeline). */
  private readonly seen = new WeakSet<object>();
  private seq = 0;
  /** Distinguishes this process's ids from other instances' (multi-instance tail). */
  readonly instance = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  /** Optional forwarder to other instances (NATS/Redis); gets the batches this instance published. */
  onPublish: ((resourceLogs: readonly ResourceLogs[], rule: TailTenantRule) => void) | undefined;

  get size(): number {
    return this.subscribers.size;
  }

  subscribe(s: TailSubscriber): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  /**
   * Publishes a batch to local subscribers, and to other instances unless it came from one (`remote`).
   * Returns the records delivered to at least one subscriber.
   */
  publish(resourceLogs: readonly ResourceLogs[], rule: TailTenantRule, remote = false, storeIds?: ReadonlyMap<string, BigInt64Array>): number {
    if (this.seen.has(resourceLogs)) return 0;
    this.seen.add(resourceLogs);
    if (!remote && this.onPublish) this.onPublish(resourceLogs, rule);
    if (this.subscribers.size === 0) return 0;
    let delivered = 0;
    // Position of each record in its tenant's row order (the store's flatten order), for its store id.
    const ordinal = storeIds ? new Map<string, number>() : undefined;
    for (const rl of resourceLogs) {
      const res = rl.resource;
      const tenantAttr = findAttribute(res?.attributes, rule.key)?.stringValue;
      const tenant = tenantAttr != null && tenantAttr !== '' ? tenantAttr : rule.fallback;
      const ids = storeIds?.get(tenant);
      let pos = ordinal?.get(tenant) ?? 0;
      if (ordinal) {
        let n = 0;
        for (const sl of rl.scopeLogs) n += sl.logRecords.length;
        ordinal.set(tenant, pos + n);
      }
      const listeners: TailSubscriber[] = [];
      for (const s of this.subscribers) if (!s.tenants || s.tenants.has(tenant)) listeners.push(s);
      if (listeners.length === 0) continue;
      // Built once per resource/scope and shared by their records.
      const resource = attrsObject(res?.attributes);
      const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : null;
      for (const sl of rl.scopeLogs) {
        const scope = { name: sl.scope?.name ?? '', version: sl.scope?.version ?? '' };
        const matched: TailRecord[][] = listeners.map(() => []);
        for (const lr of sl.logRecords) {
          let rec: TailRecord | undefined;
          for (let i = 0; i < listeners.length; i++) {
            if (!listeners[i]!.matcher.matches(res, sl.scope, lr)) continue;
            rec ??= this.toRecord(tenant, resource, service, scope, lr, ids?.[pos]);
            matched[i]!.push(rec);
          }
          if (rec) delivered++;
          pos++;
        }
        for (let i = 0; i < listeners.length; i++) if (matched[i]!.length > 0) listeners[i]!.push(matched[i]!);
      }
    }
    return delivered;
  }

  /** Sends a non-record frame (an alert) to the viewers of `tenant` on this instance. Returns how many got it. */
  notify(tenant: string, frame: unknown): number {
    let n = 0;
    for (const s of this.subscribers) {
      if (s.notice === undefined || (s.tenants && !s.tenants.has(tenant))) continue;
      s.notice(frame);
      n++;
    }
    return n;
  }

  private toRecord(tenant: string, resource: Record<string, unknown>, service: string | null, scope: { name: string; version: string }, lr: LogRecord, storeId: bigint | undefined): TailRecord {
    let ns = nanosToDecimal(lr.timeUnixNano);
    if (ns === '0') ns = nanosToDecimal(lr.observedTimeUnixNano);
    if (ns === '0') ns = `${Date.now()}000000`;
    const ms = Number(ns.length > 6 ? ns.slice(0, -6) : '0');
    return {
      tenant,
      id: storeId !== undefined ? storeId.toString() : `${this.instance}-${(this.seq++).toString(36)}`,
      time: new Date(ms).toISOString(),
      timestamp: ns,
      severity_number: lr.severityNumber,
      severity_text: lr.severityText,
      level: severityLevel(lr.severityNumber),
      body: lr.body == null ? null : lr.body.stringValue != null ? lr.body.stringValue : plain(lr.body) ?? bodyText(lr),
      service,
      resource,
      scope,
      attributes: attrsObject(lr.attributes),
      trace_id: lr.traceId.length ? idToHex(lr.traceId) : null,
      span_id: lr.spanId.length ? idToHex(lr.spanId) : null,
    };
  }
}

/** The process's hub (exporters and the api extension are built separately and meet here). */
export const tailHub = new TailHub();

/** The resume cursor after a record: the store's cursor format for store ids, else undefined. */
export function tailCursor(r: TailRecord): string | undefined {
  return /^\d+$/.test(r.id) ? Buffer.from(`${r.id}~${r.tenant}`).toString('base64url') : undefined;
}
