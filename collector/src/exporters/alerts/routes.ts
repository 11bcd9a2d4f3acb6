/**
 * The alerts routes on the api extension: active alerts, history, acknowledgement, silences and rules.
 * The api verified the token; every handler reads and changes only the token's tenants.
 */
import { randomUUID } from 'node:crypto';
import { parseDuration } from '../../config/schema-helpers.js';
import { HttpError, type Route, type RouteContext } from '../../extensions/api/routes.js';
import { regexProblem } from '../../ottl/regex.js';
import { parseTime } from '../../query/time.js';
import type { AlertEngine } from './engine.js';
import type { Silence } from './history.js';

/** The tenants a request may see; undefined = all (no auth configured). */
function tenantsOf(ctx: RouteContext): readonly string[] | undefined {
  if (ctx.tenants !== undefined) return ctx.tenants;
  return 'all' in ctx.access ? undefined : ctx.access.tenants;
}

function timeParam(ctx: RouteContext, name: string): number | undefined {
  const v = ctx.query.get(name);
  if (v === null || v === '') return undefined;
  try {
    return parseTime(v, name);
  } catch {
    throw new HttpError(400, `${name}: not a time (RFC 3339, Unix seconds/ms/ns, or relative like now-1h)`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function alertsRoutes(engine: () => AlertEngine | undefined): Route[] {
  const get = (): AlertEngine => {
    const e = engine();
    if (!e) throw new HttpError(503, 'the alerts exporter is not running');
    return e;
  };
  const iso = (ms: number): string => new Date(ms).toISOString();
  const silenceView = (s: Silence): Record<string, unknown> => ({ ...s, starts_at: iso(s.starts_at), ends_at: iso(s.ends_at) });
  return [
    { method: 'GET', path: '/api/v1/alerts', handle: (ctx) => ({ body: { alerts: get().active(tenantsOf(ctx)) } }) },
    {
      method: 'GET',
      path: '/api/v1/alerts/history',
      handle: (ctx) => {
        const limit = Math.min(1000, Math.max(1, Number(ctx.query.get('limit') ?? 100) || 100));
        const entries = get().history({
          tenants: tenantsOf(ctx),
          alert_id: ctx.query.get('alert_id') ?? undefined,
          rule: ctx.query.get('rule') ?? undefined,
          since: timeParam(ctx, 'start'),
          until: timeParam(ctx, 'end'),
          limit,
        });
        return { body: { entries: entries.map((e) => ({ ...e, at: iso(e.at) })) } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/alerts/:id/ack',
      handle: (ctx) => {
        const body = isObject(ctx.body) ? ctx.body : {};
        const comment = typeof body['comment'] === 'string' ? body['comment'].slice(0, 2000) : '';
        const alert = get().acknowledge(ctx.params['id'] ?? '', tenantsOf(ctx), ctx.subject ?? 'anonymous', comment);
        if (!alert) throw new HttpError(404, 'no pending or firing alert with this id');
        return { body: { alert } };
      },
    },
    { method: 'GET', path: '/api/v1/silences', handle: (ctx) => ({ body: { silences: get().listSilences(tenantsOf(ctx)).map(silenceView) } }) },
    {
      method: 'POST',
      path: '/api/v1/silences',
      handle: (ctx) => {
        const b = ctx.body;
        if (!isObject(b)) throw new HttpError(400, 'expected a JSON object');
        const ms = b['matchers'];
        if (!Array.isArray(ms) || ms.length === 0 || ms.length > 50) throw new HttpError(400, 'matchers: 1 to 50 of { name, value, is_regex? }');
        const matchers = ms.map((m, i) => {
          if (!isObject(m) || typeof m['name'] !== 'string' || typeof m['value'] !== 'string') throw new HttpError(400, `matchers[${i}]: expected { name, value, is_regex? }`);
          const isRegex = m['is_regex'] === true;
          if (isRegex) {
            const p = regexProblem(m['value']);
            if (p !== undefined) throw new HttpError(400, `matchers[${i}].value: invalid regex: ${p}`);
          }
          return { name: m['name'], value: m['value'], is_regex: isRegex };
        });
        const dur = typeof b['duration'] === 'string' ? parseDuration(b['duration']) : typeof b['duration'] === 'number' ? b['duration'] : undefined;
        if (dur === undefined || dur <= 0 || dur > 366 * 86_400_000) throw new HttpError(400, 'duration: e.g. "2h" (at most a year)');
        const tenants = tenantsOf(ctx);
        let tenant = typeof b['tenant'] === 'string' ? b['tenant'] : undefined;
        if (tenant === undefined) {
          if (tenants?.length !== 1) throw new HttpError(400, 'tenant: required when the token has several tenants');
          tenant = tenants[0]!;
        }
        if (tenants && !tenants.includes(tenant)) throw new HttpError(403, `tenant "${tenant}" is not allowed for this token`);
        const now = Date.now();
        const s = get().addSilence({ id: randomUUID(), tenant, matchers, starts_at: now, ends_at: now + dur, created_by: ctx.subject ?? 'anonymous', comment: typeof b['comment'] === 'string' ? b['comment'].slice(0, 2000) : '' });
        return { status: 201, body: { silence: silenceView(s) } };
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/silences/:id',
      handle: (ctx) => {
        const id = ctx.params['id'] ?? '';
        if (!get().expireSilence(id, tenantsOf(ctx))) throw new HttpError(404, 'no active silence with this id');
        return { body: { deleted: id } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/rules',
      handle: () => ({
        body: {
          rules: get().compiledRules().map((r) => ({
            name: r.name, kind: r.kind, source: r.config.source, severity: r.config.severity, query: r.searchQuery || null,
            group_by: r.groupKeys, window: r.windowMs || null, threshold: r.config.threshold ?? null, for: r.forMs, cooldown: r.cooldownMs,
            notify: r.config.notify, labels: r.config.labels, annotations: r.config.annotations,
          })),
        },
      }),
    },
  ];
}
