/**
 * The dashboard's routes on the api extension: the page and its assets (built by esbuild at
 * `npm run build` into the package, decoded once and served from memory, gzipped when the browser takes
 * it), who the token is, and the metrics history.
 */
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { listTenants } from '../../exporters/store/schema.js';
import type { ApiExtension } from './api-extension.js';
import { DASHBOARD_ASSETS } from './dashboard-assets.js';
import { historyBody, type MetricsHistory } from './metrics-history.js';
import { HttpError, type Route, type RouteContext, type RouteResult } from './routes.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

// Everything the page loads comes from this origin; the WebSocket tail too.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export interface Asset { readonly body: Buffer; readonly gzip: Buffer; readonly type: string; readonly etag: string }

/** The built files, ready to serve (empty when running from sources without a build). */
export function loadAssets(files: Readonly<Record<string, string>> | undefined = DASHBOARD_ASSETS): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [n, b64] of Object.entries(files ?? {})) {
    const type = TYPES[path.extname(n)];
    if (!type) continue;
    const body = Buffer.from(b64, 'base64');
    out.set(n, { body, gzip: gzipSync(body, { level: 9 }), type, etag: `"${body.length.toString(36)}-${hash(body)}"` });
  }
  return out;
}

function hash(b: Buffer): string {
  let h = 2166136261;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 16777619);
  return (h >>> 0).toString(36);
}

function serve(ctx: RouteContext, a: Asset | undefined, cache: string): RouteResult | undefined {
  if (!a) throw new HttpError(404, 'the dashboard is not built into this package (run npm run build)');
  const res = ctx.res;
  if (ctx.headers['if-none-match'] === a.etag) {
    res.writeHead(304, { ETag: a.etag });
    res.end();
    return undefined;
  }
  const gz = /\bgzip\b/.test(ctx.headers['accept-encoding'] ?? '');
  const body = gz ? a.gzip : a.body;
  res.writeHead(200, {
    'Content-Type': a.type,
    'Content-Length': body.length,
    'Cache-Control': cache,
    ETag: a.etag,
    Vary: 'Accept-Encoding',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': CSP,
    'Referrer-Policy': 'no-referrer',
    ...(gz ? { 'Content-Encoding': 'gzip' } : {}),
  });
  res.end(ctx.method === 'HEAD' ? undefined : body);
  return undefined;
}

export function dashboardRoutes(api: ApiExtension, history: () => MetricsHistory | undefined, assets: () => Map<string, Asset>): Route[] {
  return [
    // The page itself needs no token: it asks for one and sends it with every API call.
    { method: 'GET', path: '/', public: true, handle: (ctx) => serve(ctx, assets().get('index.html'), 'no-cache') },
    { method: 'GET', path: '/assets/:file', public: true, handle: (ctx) => serve(ctx, assets().get(ctx.params.file ?? ''), 'no-cache') },
    {
      method: 'GET',
      path: '/api/v1/whoami',
      handle(ctx) {
        const access = ctx.access;
        const all = 'all' in access;
        const dir = api.storeDirectory();
        // Without auth every tenant is readable: list the store's.
        const tenants = all ? (dir ? listTenants(dir).sort() : []) : [...access.tenants];
        return { body: { auth: api.config.auth !== undefined, subject: ctx.subject ?? null, tenants, all_tenants: all } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/metrics/history',
      handle(ctx) {
        const h = history();
        if (!h) throw new HttpError(503, 'the metrics history is not running');
        const since = Number(ctx.query.get('since') ?? '0');
        if (!Number.isFinite(since) || since < 0) throw new HttpError(400, `since: expected a time in ms, got "${ctx.query.get('since') ?? ''}"`);
        const res = ctx.query.get('resolution') ?? '1s';
        if (res !== '1s' && res !== '1m') throw new HttpError(400, `resolution: expected 1s or 1m, got "${res}"`);
        return { body: historyBody(h, since, res === '1s' ? 'fine' : 'minute') };
      },
    },
  ];
}
