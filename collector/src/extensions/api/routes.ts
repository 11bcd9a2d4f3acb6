/**
 * The api extension's route table. Other components add routes (and WebSocket upgrade handlers) through
 * `host.getExtension(id)` → `ApiExtension.addRoutes(...)`; every handler receives the verified tenants
 * and subject, so tenant confinement is the same for built-in and added routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TenantAccess } from '../../exporters/store/reader.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler knows about the request. */
export interface RouteContext {
  readonly method: string;
  readonly path: string;
  /** `:name` segments of the route path. */
  readonly params: Readonly<Record<string, string>>;
  /** Query string (and, for form POSTs, the form fields). Repeated keys: see `all`. */
  readonly query: URLSearchParams;
  /** Parsed JSON body (or undefined). */
  readonly body: unknown;
  readonly headers: IncomingMessage['headers'];
  /** Tenants the caller may read: from the token, narrowed by X-Scope-OrgID. */
  readonly access: TenantAccess;
  /** Explicit tenant list when the caller narrowed it (X-Scope-OrgID), else undefined. */
  readonly tenants: readonly string[] | undefined;
  /** The token's subject (undefined without auth). */
  readonly subject: string | undefined;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

/** A handler's answer. Handlers that wrote to `ctx.res` themselves return undefined. */
export interface RouteResult {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Route {
  readonly method: HttpMethod | readonly HttpMethod[];
  /** `/api/v1/sources/:id` style; `:name` matches one segment. */
  readonly path: string;
  /** No authentication (e.g. `/ready`). */
  readonly public?: boolean;
  handle(ctx: RouteContext): Promise<RouteResult | undefined> | RouteResult | undefined;
}

/** What an upgrade handler knows: the request context, plus the token's expiry and a key per token. */
export interface UpgradeContext extends Omit<RouteContext, 'res' | 'body'> {
  /** When the token expires (ms since epoch); undefined without auth or without `exp`. */
  readonly expiresAtMs: number | undefined;
  /** Identifies the token (a hash, never the token) for per-token limits; the client address without auth. */
  readonly tokenKey: string;
}

/** A WebSocket (or other) upgrade handler for a path, e.g. `/api/v1/tail`. */
export interface UpgradeRoute {
  readonly path: string;
  handle(ctx: UpgradeContext, socket: Duplex, head: Buffer): void;
}

export interface CompiledRoute<R> {
  readonly route: R;
  readonly re: RegExp;
  readonly names: string[];
}

export function compileRoute<R extends { path: string }>(route: R): CompiledRoute<R> {
  const names: string[] = [];
  const src = route.path.split('/').map((seg) => {
    if (seg.startsWith(':')) {
      names.push(seg.slice(1));
      return '([^/]+)';
    }
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('/');
  return { route, re: new RegExp(`^${src}/?$`), names };
}

export function matchRoute<R extends { path: string }>(routes: readonly CompiledRoute<R>[], path: string): { route: R; params: Record<string, string> }[] {
  const out: { route: R; params: Record<string, string> }[] = [];
  for (const c of routes) {
    const m = c.re.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
    out.push({ route: c.route, params });
  }
  return out;
}

/** An error a handler throws to answer with a status and a JSON error body. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra?: Readonly<Record<string, unknown>>) {
    super(message);
  }
}
