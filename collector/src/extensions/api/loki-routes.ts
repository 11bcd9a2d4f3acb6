/**
 * Loki-compatible read endpoints (Loki HTTP API, `/loki/api/v1/*`), so Grafana's Loki data source and
 * `logcli` work against the store. Streams are (resource, level); the line is the body.
 */
import { labelName, parseLogQL, type LabelResolver, type LogQLMetric } from '../../query/logql.js';
import type { FieldRef, QueryNode } from '../../query/ast.js';
import { parseRelative, parseTime } from '../../query/time.js';
import type { StoredRecord, TenantAccess } from '../../exporters/store/reader.js';
import type { ApiExtension } from './api-extension.js';
import { directionOf, limitOf } from './native-routes.js';
import { HttpError, type Route, type RouteContext } from './routes.js';
import type { StoreClient } from './store-client.js';

const HOUR = 3_600_000;

function lokiRange(q: URLSearchParams): { startMs: number; endMs: number } {
  const now = Date.now();
  const endMs = q.get('end') ? parseTime(q.get('end')!, 'end', now) : now;
  const since = q.get('since');
  const startMs = q.get('start') ? parseTime(q.get('start')!, 'start', now) : endMs - (since ? parseRelative(since) ?? HOUR : HOUR);
  return { startMs, endMs };
}

function nsString(rec: StoredRecord): string {
  return rec.timestamp;
}

function lineOf(rec: StoredRecord): string {
  return typeof rec.body === 'string' ? rec.body : rec.body === null || rec.body === undefined ? '' : JSON.stringify(rec.body);
}

/** Label → field, using the resource keys the store has seen (so `k8s_pod_name` finds `k8s.pod.name`). */
async function resolverFor(store: StoreClient, range: { startMs: number; endMs: number }, ctx: RouteContext): Promise<LabelResolver> {
  const byLabel = new Map<string, FieldRef>();
  const attrByLabel = new Map<string, FieldRef>();
  for (const f of await store.fields({ ...range, tenants: ctx.tenants }, ctx.access)) {
    if (f.kind === 'resource') byLabel.set(labelName(f.name.slice(9)), { kind: 'resource', key: f.name.slice(9) });
    if (f.kind === 'attribute') attrByLabel.set(labelName(f.name.slice(11)), { kind: 'attr', key: f.name.slice(11) });
  }
  return (label, afterParser) => {
    if (label === 'service_name' || label === 'service') return { kind: 'service' };
    if (label === 'level' || label === 'detected_level' || label === 'severity') return { kind: 'severity' };
    if (label === 'severity_text') return { kind: 'severity_text' };
    if (label === 'trace_id' || label === 'span_id' || label === 'correlation_id') return { kind: label };
    if (afterParser) return attrByLabel.get(label) ?? byLabel.get(label) ?? { kind: 'attr', key: label };
    return byLabel.get(label) ?? { kind: 'resource', key: label.replace(/_/g, '.') };
  };
}

function streamsOf(records: readonly StoredRecord[]): { stream: Record<string, string>; values: [string, string][] }[] {
  const streams = new Map<string, { stream: Record<string, string>; values: [string, string][] }>();
  for (const r of records) {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.resource)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') labels[k === 'service.name' ? 'service_name' : labelName(k)] = String(v);
    if (r.severity_number > 0) labels.level = r.level;
    const key = JSON.stringify(Object.entries(labels).sort());
    let s = streams.get(key);
    if (!s) streams.set(key, (s = { stream: labels, values: [] }));
    s.values.push([nsString(r), lineOf(r)]);
  }
  return [...streams.values()];
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function groupKey(labels: Record<string, string>, m: LogQLMetric): Record<string, string> {
  const agg = m.aggregation;
  if (!agg) return labels;
  const out: Record<string, string> = {};
  if (agg.by) for (const k of agg.by) if (labels[k] !== undefined) out[k] = labels[k];
  if (agg.without) for (const [k, v] of Object.entries(labels)) if (!agg.without.includes(k)) out[k] = v;
  return out;
}

/** Evaluates a metric query at each step in [start, end]. */
async function evalMetric(store: StoreClient, node: QueryNode, m: LogQLMetric, startMs: number, endMs: number, stepMs: number, ctx: RouteContext): Promise<{ metric: Record<string, string>; points: [number, number][] }[]> {
  const bucket = Math.max(1000, gcd(Math.round(stepMs), Math.round(m.rangeMs)));
  const counts = await store.countStreams({ node, startMs: startMs - m.rangeMs, endMs, bucketMs: bucket, tenants: ctx.tenants }, ctx.access);
  // series (stream) → bucket start → count
  const perStream = new Map<string, { labels: Record<string, string>; buckets: Map<number, number> }>();
  for (const c of counts) {
    const key = JSON.stringify(Object.entries(c.labels).sort());
    let s = perStream.get(key);
    if (!s) perStream.set(key, (s = { labels: c.labels, buckets: new Map() }));
    s.buckets.set(c.start, (s.buckets.get(c.start) ?? 0) + c.count);
  }
  const groups = new Map<string, { metric: Record<string, string>; members: Map<number, number>[] }>();
  for (const s of perStream.values()) {
    const metric = groupKey(s.labels, m);
    const key = JSON.stringify(Object.entries(metric).sort());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { metric, members: [] }));
    g.members.push(s.buckets);
  }
  const rangeS = m.rangeMs / 1000;
  const out: { metric: Record<string, string>; points: [number, number][] }[] = [];
  for (const g of groups.values()) {
    const points: [number, number][] = [];
    for (let t = startMs; t <= endMs; t += stepMs) {
      const vals: number[] = [];
      for (const b of g.members) {
        let n = 0;
        for (const [start, c] of b) if (start >= t - m.rangeMs && start < t) n += c;
        if (n > 0) vals.push(m.fn === 'rate' ? n / rangeS : n);
      }
      if (vals.length === 0) continue;
      const op = m.aggregation?.op ?? 'sum';
      const v = op === 'count' ? vals.length : op === 'max' ? Math.max(...vals) : op === 'min' ? Math.min(...vals) : op === 'avg' ? vals.reduce((a, b) => a + b, 0) / vals.length : vals.reduce((a, b) => a + b, 0);
      points.push([t / 1000, v]);
    }
    if (points.length) out.push({ metric: g.metric, points });
  }
  return out;
}

function success(data: unknown): { body: unknown } {
  return { body: { status: 'success', data } };
}

async function queryRange(api: ApiExtension, ctx: RouteContext, instant: boolean): Promise<{ body: unknown }> {
  const q = ctx.query;
  const text = q.get('query');
  if (!text) throw new HttpError(400, 'query: required');
  const store = api.requireStore();
  let range: { startMs: number; endMs: number };
  if (instant) {
    const at = q.get('time') ? parseTime(q.get('time')!, 'time') : Date.now();
    range = { startMs: at - HOUR, endMs: at };
  } else range = lokiRange(q);
  const parsed = parseLogQL(text, await resolverFor(store, range, ctx));
  if (!parsed.metric) {
    const r = await store.query({ node: parsed.node, ...range, limit: limitOf(q, api), direction: directionOf(q), tenants: ctx.tenants }, ctx.access);
    return success({ resultType: 'streams', result: streamsOf(r.records), stats: { summary: { totalEntriesReturned: r.records.length } } });
  }
  if (instant) {
    const series = await evalMetric(store, parsed.node, parsed.metric, range.endMs, range.endMs, 1000, ctx);
    return success({ resultType: 'vector', result: series.map((s) => ({ metric: s.metric, value: [s.points[0]![0], String(s.points[0]![1])] })), stats: {} });
  }
  const stepText = q.get('step');
  let stepMs = stepText ? (/^\d+(\.\d+)?$/.test(stepText) ? Number(stepText) * 1000 : parseRelative(stepText)) : Math.max(1000, Math.floor((range.endMs - range.startMs) / 250 / 1000) * 1000);
  if (stepMs === undefined || !(stepMs > 0)) throw new HttpError(400, `step: invalid "${stepText ?? ''}"`);
  if ((range.endMs - range.startMs) / stepMs > 11_000) throw new HttpError(400, 'exceeded maximum resolution of 11,000 points per time series; try increasing the step');
  stepMs = Math.max(stepMs, 1);
  const series = await evalMetric(store, parsed.node, parsed.metric, range.startMs, range.endMs, stepMs, ctx);
  return success({ resultType: 'matrix', result: series.map((s) => ({ metric: s.metric, values: s.points.map(([t, v]) => [t, String(v)]) })), stats: {} });
}

export function lokiRoutes(api: ApiExtension): Route[] {
  return [
    { method: ['GET', 'POST'], path: '/loki/api/v1/query_range', handle: (ctx) => queryRange(api, ctx, false) },
    { method: ['GET', 'POST'], path: '/loki/api/v1/query', handle: (ctx) => queryRange(api, ctx, true) },
    {
      method: 'GET',
      path: '/loki/api/v1/labels',
      async handle(ctx) {
        return success(await api.requireStore().labelNames({ ...lokiRange(ctx.query), tenants: ctx.tenants }, ctx.access));
      },
    },
    {
      method: 'GET',
      path: '/loki/api/v1/label/:name/values',
      async handle(ctx) {
        const store = api.requireStore();
        const range = lokiRange(ctx.query);
        const name = ctx.params.name!;
        let field: string;
        if (name === 'service_name') field = 'service';
        else if (name === 'level') field = 'level';
        else {
          const resolve = await resolverFor(store, range, ctx);
          const f = resolve(name, false);
          field = f.kind === 'resource' ? `resource.${f.key}` : f.kind === 'attr' ? `attributes.${f.key}` : f.kind;
        }
        const values = await store.fieldValues({ field, ...range, limit: 1000, tenants: ctx.tenants }, ctx.access);
        return success(values.map((v) => String(v.value)).sort());
      },
    },
    {
      method: ['GET', 'POST'],
      path: '/loki/api/v1/series',
      async handle(ctx) {
        const store = api.requireStore();
        const range = lokiRange(ctx.query);
        const matches = ctx.query.getAll('match[]').concat(ctx.query.getAll('match'));
        const resolve = await resolverFor(store, range, ctx);
        const nodes: QueryNode[] = matches.length ? matches.map((m) => parseLogQL(m, resolve).node) : [{ type: 'all' }];
        const seen = new Map<string, Record<string, string>>();
        for (const node of nodes) {
          for (const labels of await store.series({ node, ...range, tenants: ctx.tenants }, ctx.access)) seen.set(JSON.stringify(Object.entries(labels).sort()), labels);
        }
        return success([...seen.values()]);
      },
    },
    { method: 'GET', path: '/ready', public: true, handle: () => ({ status: api.store ? 200 : 503, body: api.store ? 'ready\n' : 'no store configured\n' }) },
  ];
}

export type { TenantAccess };
