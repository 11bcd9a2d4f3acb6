/** Native read endpoints: `/api/v1/query`, `/api/v1/histogram`, `/api/v1/fields`, `/api/v1/fields/:name/values`. */
import { parseQuery } from '../../query/parser.js';
import { parseRelative, parseTime } from '../../query/time.js';
import type { ApiExtension } from './api-extension.js';
import { HttpError, type Route } from './routes.js';

const HOUR = 3_600_000;

/** `start`/`end` of a request (defaults: the last hour). */
export function timeRange(q: URLSearchParams, defaultSpanMs = HOUR): { startMs: number; endMs: number } {
  const now = Date.now();
  const end = q.get('end');
  const start = q.get('start') ?? q.get('since');
  const endMs = end ? parseTime(end, 'end', now) : now;
  let startMs: number;
  if (start && /^\d+(\.\d+)?[smhdw]$/.test(start)) startMs = endMs - (parseRelative(start) ?? defaultSpanMs);
  else startMs = start ? parseTime(start, 'start', now) : endMs - defaultSpanMs;
  return { startMs, endMs };
}

export function limitOf(q: URLSearchParams, api: ApiExtension): number {
  const raw = q.get('limit');
  if (raw === null || raw === '') return api.config.default_limit;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new HttpError(400, `limit: expected a positive integer, got "${raw}"`);
  return Math.min(n, api.config.max_limit);
}

export function directionOf(q: URLSearchParams): 'backward' | 'forward' {
  const d = q.get('direction') ?? 'backward';
  if (d !== 'backward' && d !== 'forward') throw new HttpError(400, `direction: expected backward or forward, got "${d}"`);
  return d;
}

export function nativeRoutes(api: ApiExtension): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/query',
      async handle(ctx) {
        const q = ctx.query;
        const node = parseQuery(q.get('query') ?? '');
        const store = api.requireStore();
        const t0 = performance.now();
        const r = await store.query({ node, ...timeRange(q), limit: limitOf(q, api), direction: directionOf(q), cursor: q.get('cursor') ?? undefined, tenants: ctx.tenants }, ctx.access);
        return {
          body: {
            records: r.records,
            cursor: r.cursor ?? null,
            archived_days: r.archivedDays,
            errors: r.errors,
            took_ms: Math.round(performance.now() - t0),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/histogram',
      async handle(ctx) {
        const q = ctx.query;
        const node = parseQuery(q.get('query') ?? '');
        const stepText = q.get('step') ?? '1m';
        const stepMs = parseRelative(stepText);
        if (stepMs === undefined || stepMs < 1000) throw new HttpError(400, `step: expected a duration of at least 1s, got "${stepText}"`);
        const r = await api.requireStore().histogram({ node, ...timeRange(q), stepMs, tenants: ctx.tenants }, ctx.access);
        return { body: { step_ms: r.step_ms, source: r.source, buckets: r.buckets.map((b) => ({ time: new Date(b.start).toISOString(), start_ms: b.start, counts: b.counts })) } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/fields',
      async handle(ctx) {
        const fields = await api.requireStore().fields({ ...timeRange(ctx.query, 24 * HOUR), tenants: ctx.tenants }, ctx.access);
        return { body: { fields } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/fields/:name/values',
      async handle(ctx) {
        const values = await api.requireStore().fieldValues({ field: ctx.params.name!, ...timeRange(ctx.query), limit: limitOf(ctx.query, api), tenants: ctx.tenants }, ctx.access);
        return { body: { field: ctx.params.name, values } };
      },
    },
  ];
}
