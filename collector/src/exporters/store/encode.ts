/**
 * Record ⇄ row encoding for the store. Attribute maps are stored as plain JSON (so SQL can read them with
 * json_extract) plus, only when JSON alone would lose the OTLP type, a small "types" map keyed by the
 * value's path: `d` (a double with an integral value), `i` (int64 beyond 2^53, stored as a string),
 * `b` (bytes, stored as base64). Most rows have no types map (NULL).
 */
import { anyValueAsString, anyValueFrom, idToHex, isZeroNanos, nanosToDecimal, nanosToMillis, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Types = Record<string, string>;

function encodeValue(v: AnyValue | null | undefined, path: string, types: { t?: Types }): Json {
  if (v == null) return null;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) {
    if (typeof v.intValue === 'number') return v.intValue;
    const n = v.intValue.toNumber();
    if (Number.isSafeInteger(n)) return n;
    (types.t ??= {})[path] = 'i';
    return v.intValue.toString();
  }
  if (v.doubleValue != null) {
    const d = v.doubleValue;
    if (Number.isInteger(d) || !Number.isFinite(d)) (types.t ??= {})[path] = 'd';
    return Number.isFinite(d) ? d : String(d);
  }
  if (v.kvlistValue != null) return encodeKvs(v.kvlistValue.values, `${path}\u0001`, types);
  if (v.arrayValue != null) {
    const vals = v.arrayValue.values;
    const out: Json[] = [];
    for (let i = 0; i < vals.length; i++) out.push(encodeValue(vals[i], `${path}\u0001${i}`, types));
    return out;
  }
  if (v.bytesValue != null) {
    (types.t ??= {})[path] = 'b';
    return Buffer.from(v.bytesValue.buffer, v.bytesValue.byteOffset, v.bytesValue.byteLength).toString('base64');
  }
  return null;
}

function encodeKvs(kvs: readonly KeyValue[], prefix: string, types: { t?: Types }): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i]!;
    out[kv.key] = encodeValue(kv.value, prefix + kv.key, types);
  }
  return out;
}

/** Attributes → [json, typesJson|null]; `skip` keys are left out (they have their own columns). */
export function encodeAttributes(kvs: readonly KeyValue[], skip?: ReadonlySet<string>): [string | null, string | null] {
  if (kvs.length === 0) return [null, null];
  const types: { t?: Types } = {};
  const out: { [k: string]: Json } = {};
  let n = 0;
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i]!;
    if (skip?.has(kv.key)) continue;
    out[kv.key] = encodeValue(kv.value, kv.key, types);
    n++;
  }
  if (n === 0) return [null, null];
  return [JSON.stringify(out), types.t ? JSON.stringify(types.t) : null];
}

/** A whole value (the body) → JSON text `{"v":…,"t":{…}}`. */
export function encodeBody(v: AnyValue): string {
  const types: { t?: Types } = {};
  const enc = encodeValue(v, '', types);
  return JSON.stringify(types.t ? { v: enc, t: types.t } : { v: enc });
}

function decodeValue(j: unknown, path: string, types: Types | undefined): AnyValue {
  const t = types?.[path];
  if (t === 'i') return anyValueFrom(BigInt(String(j)));
  if (t === 'd') return { doubleValue: Number(j) };
  if (t === 'b') return { bytesValue: new Uint8Array(Buffer.from(String(j), 'base64')) };
  if (j === null || j === undefined) return {};
  if (typeof j === 'string') return { stringValue: j };
  if (typeof j === 'boolean') return { boolValue: j };
  if (typeof j === 'number') return Number.isInteger(j) ? { intValue: j } : { doubleValue: j };
  if (Array.isArray(j)) return { arrayValue: { values: j.map((x, i) => decodeValue(x, `${path}\u0001${i}`, types)) } };
  return { kvlistValue: { values: decodeKvs(j as Record<string, unknown>, `${path}\u0001`, types) } };
}

function decodeKvs(obj: Record<string, unknown>, prefix: string, types: Types | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key of Object.keys(obj)) out.push({ key, value: decodeValue(obj[key], prefix + key, types) });
  return out;
}

export function decodeAttributes(json: string | null, typesJson: string | null): KeyValue[] {
  if (json === null) return [];
  const types = typesJson === null ? undefined : (JSON.parse(typesJson) as Types);
  const obj = JSON.parse(json) as Record<string, unknown>;
  const out: KeyValue[] = [];
  for (const key of Object.keys(obj)) out.push({ key, value: decodeValue(obj[key], key, types) });
  return out;
}

export function decodeBody(json: string): AnyValue {
  const o = JSON.parse(json) as { v: unknown; t?: Types };
  return decodeValue(o.v, '', o.t);
}

/** Plain JSON view of attributes for API answers (types map applied: ints beyond 2^53 as strings). */
export function attributesToJson(json: string | null): Record<string, unknown> {
  return json === null ? {} : (JSON.parse(json) as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------------------
// Flattening a batch for the writer worker (runs on the main thread: once per record, no closures).

/** Attributes that get their own columns. */
export const COLUMN_ATTRS: ReadonlySet<string> = new Set(['correlation_id', 'retention.class', 'retention.days']);

/** Values per record in `FlatTenantBatch.rows`, in this order. */
export const F = {
  day: 0, timeNs: 1, observedNs: 2, rowUs: 3, severity: 4, severityText: 5, body: 6, bodyJson: 7,
  resource: 8, scope: 9, attrs: 10, attrTypes: 11, ftsAttrs: 12, traceId: 13, spanId: 14,
  correlationId: 15, retentionClass: 16, retentionDays: 17, flags: 18, eventName: 19, dropped: 20,
} as const;
export const STRIDE = 21;

export type FlatValue = string | number | null;

export interface FlatResource {
  readonly service: string | null;
  readonly attrs: string | null;
  readonly types: string | null;
}

export interface FlatScope {
  readonly name: string;
  readonly version: string;
  readonly attrs: string | null;
  readonly types: string | null;
}

export interface FlatTenantBatch {
  readonly tenant: string;
  readonly resources: FlatResource[];
  readonly scopes: FlatScope[];
  /** STRIDE values per record. */
  readonly rows: FlatValue[];
  /** Record attribute keys and resource attribute keys seen (for /fields). */
  readonly attrKeys: string[];
  readonly resourceKeys: string[];
}

const DAY_MS = 86_400_000;
const MAX_ROW_MS = 7_258_118_400_000; // 2200-01-01

/** UTC day `YYYY-MM-DD` of a millisecond time. Cached per day: records of a batch share a few days. */
let lastDayStart = -1;
let lastDay = '';
export function dayOf(ms: number): string {
  const start = Math.floor(ms / DAY_MS) * DAY_MS;
  if (start !== lastDayStart) {
    lastDayStart = start;
    lastDay = new Date(start).toISOString().slice(0, 10);
  }
  return lastDay;
}

/** How the tenant is found: a resource attribute key. */
export interface TenantRule {
  readonly key: string;
  readonly fallback: string;
}

/** Tenant names become directory names: URI-encoded (reversible), never `.`/`..`. */
export function tenantDirName(tenant: string): string {
  const enc = encodeURIComponent(tenant).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  if (enc === '') return '%00';
  return enc === '.' ? '%2E' : enc === '..' ? '%2E%2E' : enc;
}

function attrString(kvs: readonly KeyValue[] | undefined, key: string): string | null {
  if (!kvs) return null;
  for (let i = 0; i < kvs.length; i++) if (kvs[i]!.key === key) return anyValueAsString(kvs[i]!.value) || null;
  return null;
}

/** Splits a batch by tenant and flattens every record. `nowMs` stands in for records with no time at all. */
export function flattenBatch(resourceLogs: readonly ResourceLogs[], rule: TenantRule, nowMs: number): FlatTenantBatch[] {
  const byTenant = new Map<string, FlatTenantBatch & { keySet: Set<string>; resKeySet: Set<string> }>();
  for (let r = 0; r < resourceLogs.length; r++) {
    const rl = resourceLogs[r]!;
    const rattrs = rl.resource?.attributes ?? [];
    const tenant = attrString(rattrs, rule.key) ?? rule.fallback;
    let tb = byTenant.get(tenant);
    if (!tb) {
      tb = { tenant, resources: [], scopes: [], rows: [], attrKeys: [], resourceKeys: [], keySet: new Set(), resKeySet: new Set() };
      byTenant.set(tenant, tb);
    }
    const [rj, rt] = encodeAttributes(rattrs);
    const resIndex = tb.resources.length;
    tb.resources.push({ service: attrString(rattrs, 'service.name'), attrs: rj, types: rt });
    for (let k = 0; k < rattrs.length; k++) tb.resKeySet.add(rattrs[k]!.key);
    const rows = tb.rows;
    for (let s = 0; s < rl.scopeLogs.length; s++) {
      const sl = rl.scopeLogs[s]!;
      const sc = sl.scope;
      const [sj, st] = sc ? encodeAttributes(sc.attributes) : [null, null];
      const scopeIndex = tb.scopes.length;
      tb.scopes.push({ name: sc?.name ?? '', version: sc?.version ?? '', attrs: sj, types: st });
      const recs = sl.logRecords;
      for (let i = 0; i < recs.length; i++) {
        const lr = recs[i]!;
        pushRecord(rows, lr, resIndex, scopeIndex, nowMs, tb.keySet);
      }
    }
  }
  const out: FlatTenantBatch[] = [];
  for (const tb of byTenant.values()) {
    out.push({ tenant: tb.tenant, resources: tb.resources, scopes: tb.scopes, rows: tb.rows, attrKeys: [...tb.keySet], resourceKeys: [...tb.resKeySet] });
  }
  return out;
}

function pushRecord(rows: FlatValue[], lr: LogRecord, res: number, scope: number, nowMs: number, keys: Set<string>): void {
  const hasTime = !isZeroNanos(lr.timeUnixNano);
  const hasObs = !isZeroNanos(lr.observedTimeUnixNano);
  let ms = hasTime ? nanosToMillis(lr.timeUnixNano) : hasObs ? nanosToMillis(lr.observedTimeUnixNano) : nowMs;
  // Row ids are µs·1024 in 63 bits: a time past year 2200 (a unit mix-up) is filed under now; its own
  // timestamp is still stored exactly.
  if (ms > MAX_ROW_MS) ms = nowMs;
  const attrs = lr.attributes;
  let corr: string | null = null;
  let rclass: string | null = null;
  let rdays: number | null = null;
  let skip: Set<string> | undefined;
  let fts = '';
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    keys.add(kv.key);
    const v = kv.value;
    const sv = v?.stringValue;
    if (sv != null) {
      if (kv.key === 'correlation_id') {
        corr = sv;
        (skip ??= new Set()).add(kv.key);
        continue;
      }
      if (kv.key === 'retention.class') {
        rclass = sv;
        (skip ??= new Set()).add(kv.key);
        continue;
      }
      fts = fts === '' ? sv : `${fts}\n${sv}`;
    } else if (kv.key === 'retention.days' && v?.intValue != null) {
      rdays = typeof v.intValue === 'number' ? v.intValue : v.intValue.toNumber();
      (skip ??= new Set()).add(kv.key);
    }
  }
  const [aj, at] = encodeAttributes(attrs, skip);
  const body = lr.body;
  let bodyText: string | null = null;
  let bodyJson: string | null = null;
  if (body != null) {
    if (body.stringValue != null) bodyText = body.stringValue;
    else {
      bodyText = anyValueAsString(body);
      bodyJson = encodeBody(body);
    }
  }
  rows.push(
    dayOf(ms),
    hasTime ? nanosToDecimal(lr.timeUnixNano) : '0',
    hasObs ? nanosToDecimal(lr.observedTimeUnixNano) : '0',
    Math.floor(ms * 1000),
    lr.severityNumber,
    lr.severityText || null,
    bodyText,
    bodyJson,
    res,
    scope,
    aj,
    at,
    fts,
    lr.traceId.length ? idToHex(lr.traceId) : null,
    lr.spanId.length ? idToHex(lr.spanId) : null,
    corr,
    rclass,
    rdays,
    lr.flags,
    lr.eventName || null,
    lr.droppedAttributesCount,
  );
}
