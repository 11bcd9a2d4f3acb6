/**
 * Calls to the collector's api from the page: the token (pasted by the user, kept for this browser tab)
 * goes in `Authorization`, the chosen tenant in `X-Scope-OrgID`, so no other tenant's data is requested.
 */

const TOKEN_KEY = 'tributary.token';
const TENANT_KEY = 'tributary.tenant';

export interface Whoami {
  readonly auth: boolean;
  readonly subject: string | null;
  readonly tenants: readonly string[];
  readonly all_tenants: boolean;
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly position?: number) {
    super(message);
  }
}

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(v: string | null) {
    if (v) sessionStorage.setItem(TOKEN_KEY, v);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  get tenant(): string | null {
    return sessionStorage.getItem(TENANT_KEY);
  },
  set tenant(v: string | null) {
    if (v) sessionStorage.setItem(TENANT_KEY, v);
    else sessionStorage.removeItem(TENANT_KEY);
  },
  whoami: undefined as Whoami | undefined,
};

function headers(json = false): Record<string, string> {
  const h: Record<string, string> = {};
  const t = session.token;
  if (t) h.Authorization = `Bearer ${t}`;
  const tenant = session.tenant;
  if (tenant) h['X-Scope-OrgID'] = tenant;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const b = (body ?? {}) as { error?: string; position?: number };
    throw new ApiError(res.status, b.error ?? `${res.status} ${res.statusText}`, b.position);
  }
  return body as T;
}

export type Params = Readonly<Record<string, string | number | undefined>>;

export function url(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export async function get<T>(path: string, params?: Params, signal?: AbortSignal): Promise<T> {
  return answer<T>(await fetch(url(path, params), { headers: headers(), signal: signal ?? null }));
}

export async function send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return answer<T>(await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? null : JSON.stringify(body) }));
}

/** The live tail socket: the token as the `bearer` subprotocol (browsers cannot set headers on a WebSocket). */
export function tailSocket(query: string): WebSocket {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const u = `${proto}//${location.host}${url('/api/v1/tail', { query, tenant: session.tenant ?? undefined })}`;
  const t = session.token;
  return t ? new WebSocket(u, ['bearer', t]) : new WebSocket(u);
}

export async function whoami(): Promise<Whoami> {
  const w = await get<Whoami>('/api/v1/whoami');
  session.whoami = w;
  if (session.tenant && !w.tenants.includes(session.tenant) && !w.all_tenants) session.tenant = null;
  // A token for one tenant: that tenant, always named, so no request reaches for more.
  if (!session.tenant && w.auth && w.tenants.length >= 1) session.tenant = w.tenants[0] ?? null;
  return w;
}
