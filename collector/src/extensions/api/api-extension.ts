/**
 * The `api` extension: one HTTP surface for reading the store (native `/api/v1/*` and Loki-compatible
 * `/loki/api/v1/*`), with JWT auth. Other components add their own routes through `addRoutes` and
 * WebSocket upgrades through `addUpgradeRoute`, and get the same auth and tenant confinement.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { CreateSettings, Extension, Host } from '../../component.js';
import { AuthError, bearerToken, createJwtVerifier, type JwtVerifier } from '../../auth/jwt.js';
import { readerOptions } from '../../exporters/store/config.js';
import { findStore } from '../../exporters/store/registry.js';
import type { QueryResult, TenantAccess } from '../../exporters/store/reader.js';
import type { QueryNode } from '../../query/ast.js';
import type { TailRecord } from '../../tail/hub.js';
import { TailRoutes } from '../../tail/routes.js';
import { TailBroadcast } from '../../tail/broadcast.js';
import { tailHub } from '../../tail/hub.js';
import { StoreWorker, StoreWorkerError } from '../../exporters/store/worker-client.js';
import { errorMessage } from '../../errors.js';
import type { ApiConfig } from './config.js';
import { lokiRoutes } from './loki-routes.js';
import { nativeRoutes } from './native-routes.js';
import { dashboardRoutes, loadAssets, type Asset } from './dashboard-routes.js';
import { MetricsHistory } from './metrics-history.js';
import { compileRoute, HttpError, matchRoute, type CompiledRoute, type Route, type RouteContext, type UpgradeRoute } from './routes.js';
import { closeServer, createApiServer, isLoopback, listen } from './server.js';
import { StoreClient } from './store-client.js';

export class ApiExtension implements Extension {
  private server: Server | undefined;
  private readonly routes: CompiledRoute<Route>[] = [];
  private readonly upgrades: CompiledRoute<UpgradeRoute>[] = [];
  private verifier: JwtVerifier | undefined;
  private worker: StoreWorker | undefined;
  /** The store this api reads (undefined when the config has no store exporter). */
  store: StoreClient | undefined;

  private readonly tail: TailRoutes;
  private broadcast: TailBroadcast | undefined;
  private history: MetricsHistory | undefined;
  private assets = new Map<string, Asset>();

  constructor(private readonly settings: CreateSettings, readonly config: ApiConfig) {
    this.addRoutes(nativeRoutes(this));
    this.addRoutes(lokiRoutes(this));
    if (config.dashboard) this.addRoutes(dashboardRoutes(this, () => this.history, () => this.assets));
    const t = config.tail;
    const dropped = settings.telemetry.counter('tributary_tail_dropped_log_records_total', 'Records a live tail viewer did not get because it read too slowly (its buffer was full)');
    const sent = settings.telemetry.counter('tributary_tail_sent_log_records_total', 'Records sent to live tail viewers');
    const labels = { extension: settings.id.id };
    this.tail = new TailRoutes({
      bufferSize: t.buffer_size,
      batchSize: t.batch_size,
      flushIntervalMs: t.flush_interval,
      heartbeatIntervalMs: t.heartbeat_interval,
      maxSubscriptionsPerToken: t.max_subscriptions_per_token,
      maxMessageSize: t.max_message_size,
      textMode: () => this.store?.textMode ?? 'words',
      backlog: (cursor, tenants, node) => this.backlog(cursor, tenants, node),
      onDropped: (n) => dropped.bind(labels).add(n),
      onSent: (n) => sent.bind(labels).add(n),
      onError: (message) => this.settings.logger.warn('live tail: reading the store backlog failed', { extension: settings.id.id, error: message }),
    });
    for (const r of this.tail.routes()) this.addUpgradeRoute(r);
  }

  /** Records after a tail cursor, oldest first, from the store (resume). */
  private async backlog(cursor: string, tenants: readonly string[] | undefined, node: QueryNode): Promise<TailRecord[]> {
    const store = this.store;
    if (!store) return [];
    const m = /^(\d+)~/.exec(Buffer.from(cursor, 'base64url').toString());
    if (!m?.[1]) throw new HttpError(400, 'start: not a tail cursor');
    const startMs = Math.floor(Number(BigInt(m[1]) / 1024n / 1000n));
    const access: TenantAccess = tenants ? { tenants } : { all: true };
    const out: TailRecord[] = [];
    let next: string | undefined = cursor;
    while (next !== undefined && out.length < this.config.tail.max_backlog) {
      const r: QueryResult = await store.query({ node, startMs, endMs: Date.now() + 60_000, limit: Math.min(this.config.max_limit, this.config.tail.max_backlog - out.length), direction: 'forward', cursor: next, tenants }, access);
      for (const rec of r.records) out.push(rec);
      next = r.records.length > 0 ? r.cursor : undefined;
    }
    return out;
  }

  /** Adds routes; a later route with the same method and path is refused. */
  addRoutes(routes: readonly Route[]): void {
    for (const r of routes) {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      for (const c of this.routes) {
        const other = Array.isArray(c.route.method) ? c.route.method : [c.route.method];
        if (c.route.path === r.path && methods.some((m) => other.includes(m))) throw new Error(`api: route ${methods.join(',')} ${r.path} is already registered`);
      }
      this.routes.push(compileRoute(r));
    }
  }

  /** Adds a handler for HTTP upgrades (WebSocket) on a path. */
  addUpgradeRoute(route: UpgradeRoute): void {
    this.upgrades.push(compileRoute(route));
  }

  address(): { address: string; port: number } | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
  }

  /** Directory of the store this api reads, if any. */
  storeDirectory(): string | undefined {
    return findStore(this.config.store)?.config.directory;
  }

  async start(host: Host): Promise<void> {
    const c = this.config;
    if (!c.auth && !isLoopback(c.endpoint) && !c.allow_unauthenticated) {
      throw new Error(`extension ${this.settings.id.id}: refusing to listen on ${c.endpoint} without auth; configure auth.jwt, listen on 127.0.0.1, or set allow_unauthenticated: true`);
    }
    if (c.auth) {
      try {
        this.verifier = await createJwtVerifier(c.auth.jwt);
      } catch (err) {
        throw new Error(`extension ${this.settings.id.id}: auth.jwt: ${errorMessage(err)}`, { cause: err });
      }
    }
    const store = findStore(c.store);
    if (store) {
      this.worker = new StoreWorker({ role: 'reader', reader: readerOptions(store.config) }, (err) => this.settings.logger.error('store reader worker stopped', { extension: this.settings.id.id, error: err.message }));
      this.store = new StoreClient(this.worker, store.config.tokenizer === 'trigram' ? 'trigram' : 'words');
    } else {
      this.settings.logger.warn(c.store ? `api: no store exporter "${c.store}" in the pipelines; query endpoints answer 503` : 'api: no (single) store exporter in the pipelines; query endpoints answer 503', { extension: this.settings.id.id });
    }
    if (c.tail.broadcast) {
      const t = this.settings.telemetry;
      const b = new TailBroadcast(c.tail.broadcast, tailHub, this.settings.logger, {
        forwarded: t.counter('tributary_tail_broadcast_sent_batches_total', 'Batches forwarded to other instances for their live tail viewers'),
        received: t.counter('tributary_tail_broadcast_received_batches_total', 'Batches other instances forwarded for live tail'),
        errors: t.counter('tributary_tail_broadcast_errors_total', 'Live tail broadcast problems (reason: disconnected, publish, malformed)'),
      });
      this.broadcast = b;
      // In the background: a broker that is down must not stop the collector or the local tail.
      b.start().catch((err: unknown) => this.settings.logger.warn('live tail: cannot reach the broadcast broker; local viewers only', { extension: this.settings.id.id, error: errorMessage(err) }));
    }
    if (c.dashboard) {
      this.assets = loadAssets();
      this.history = new MetricsHistory({
        telemetry: this.settings.telemetry,
        statuses: typeof host.componentStatuses === 'function' ? () => host.componentStatuses() : undefined,
        storeDirectory: () => this.storeDirectory(),
        // A dot-file: the store's tenant listing skips it.
        persistFile: () => {
          const dir = this.storeDirectory();
          return dir ? path.join(dir, '.metrics-history.json') : undefined;
        },
        onError: (message) => this.settings.logger.warn(message, { extension: this.settings.id.id }),
      });
      this.history.start();
    }
    const server = createApiServer(
      { endpoint: c.endpoint, requestTimeoutMs: c.request_timeout, keepAliveTimeoutMs: 5000 },
      (req, res) => void this.onRequest(req, res),
      (req, socket, head) => void this.onUpgrade(req, socket, head),
    );
    await listen(server, c.endpoint, this.settings.id.id);
    this.server = server;
    const a = this.address();
    this.settings.logger.info('api listening', { url: a ? `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : c.endpoint, auth: c.auth ? 'jwt' : 'none' });
  }

  async shutdown(): Promise<void> {
    this.history?.stop();
    this.history = undefined;
    this.tail.close();
    await this.broadcast?.stop();
    this.broadcast = undefined;
    const server = this.server;
    this.server = undefined;
    if (server) await closeServer(server);
    const w = this.worker;
    this.worker = undefined;
    this.store = undefined;
    if (w) await w.terminate();
  }

  /** Verifies the request's token and X-Scope-OrgID; returns the access to pass to the store. */
  private async authorize(headers: IncomingMessage['headers'], fallbackToken?: string, orgParam?: string | null): Promise<{ access: TenantAccess; tenants: string[] | undefined; subject: string | undefined; expiresAtMs?: number | undefined }> {
    const org = headers['x-scope-orgid'] ?? orgParam ?? undefined;
    const requested = typeof org === 'string' && org.trim() !== '' ? org.split('|').map((t) => t.trim()).filter((t) => t !== '') : undefined;
    if (!this.verifier) return { access: { all: true }, tenants: requested, subject: undefined };
    const token = bearerToken(typeof headers.authorization === 'string' ? headers.authorization : undefined) ?? fallbackToken;
    if (!token) throw new HttpError(401, 'missing bearer token');
    let principal;
    try {
      principal = await this.verifier.verify(token);
    } catch (err) {
      throw new HttpError(401, err instanceof AuthError ? err.message : 'token refused');
    }
    if (requested) for (const t of requested) if (!principal.tenants.includes(t)) throw new HttpError(403, `tenant "${t}" is not allowed for this token`);
    return { access: { tenants: principal.tenants }, tenants: requested, subject: principal.subject, expiresAtMs: typeof principal.claims.exp === 'number' ? principal.claims.exp * 1000 : undefined };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    try {
      const matches = matchRoute(this.routes, url.pathname);
      if (matches.length === 0) throw new HttpError(404, `no such endpoint ${url.pathname}`);
      const m = matches.find((x) => (Array.isArray(x.route.method) ? x.route.method : [x.route.method]).includes(method as never));
      if (!m) {
        res.setHeader('Allow', [...new Set(matches.flatMap((x) => [x.route.method].flat()))].join(', '));
        throw new HttpError(405, `method ${method} not allowed on ${url.pathname}`);
      }
      const auth = m.route.public ? { access: { tenants: [] } as TenantAccess, tenants: undefined, subject: undefined } : await this.authorize(req.headers);
      const query = url.searchParams;
      let body: unknown;
      if (method !== 'GET' && method !== 'HEAD') {
        const raw = await readBody(req, this.config.max_body_size);
        const type = req.headers['content-type'] ?? '';
        if (type.startsWith('application/x-www-form-urlencoded')) for (const [k, v] of new URLSearchParams(raw.toString())) query.append(k, v);
        else if (raw.length > 0) {
          try {
            body = JSON.parse(raw.toString());
          } catch {
            throw new HttpError(400, 'request body is not valid JSON');
          }
        }
      }
      const ctx: RouteContext = { method, path: url.pathname, params: m.params, query, body, headers: req.headers, access: auth.access, tenants: auth.tenants, subject: auth.subject, req, res };
      const out = await m.route.handle(ctx);
      if (out && !res.headersSent) send(res, out.status ?? 200, out.body, out.headers);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const e = toHttpError(err);
      if (e.status >= 500) this.settings.logger.error('api request failed', { path: url.pathname, error: errorMessage(err) });
      if (e.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      if (e.status === 413) res.setHeader('Connection', 'close');
      send(res, e.status, { status: 'error', error: e.message, ...e.extra });
    }
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [m] = matchRoute(this.upgrades, url.pathname);
    if (!m) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    try {
      // Browsers cannot set Authorization on a WebSocket: `Sec-WebSocket-Protocol: bearer, <token>` or `?token=`.
      const token = protocolToken(req.headers['sec-websocket-protocol']) ?? url.searchParams.get('token') ?? undefined;
      const auth = await this.authorize(req.headers, token, url.searchParams.get('tenant'));
      const tokenKey = token ?? bearerToken(typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined);
      m.route.handle({
        method: req.method ?? 'GET', path: url.pathname, params: m.params, query: url.searchParams, headers: req.headers, access: auth.access, tenants: auth.tenants, subject: auth.subject, req,
        expiresAtMs: auth.expiresAtMs,
        tokenKey: tokenKey ? createHash('sha256').update(tokenKey).digest('base64url') : `addr:${req.socket.remoteAddress ?? ''}`,
      }, socket, head);
    } catch (err) {
      const e = toHttpError(err);
      const body = JSON.stringify({ status: 'error', error: e.message });
      socket.end(`HTTP/1.1 ${e.status} ${e.status === 401 ? 'Unauthorized' : e.status === 403 ? 'Forbidden' : 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
  }

  /** The store client, or a 503 for handlers when no store is configured. */
  requireStore(): StoreClient {
    if (!this.store) throw new HttpError(503, 'no store exporter is configured for this api');
    return this.store;
  }
}

/** The token of `Sec-WebSocket-Protocol: bearer, <token>`, or undefined. */
function protocolToken(header: string | string[] | undefined): string | undefined {
  const list = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map((p) => p.trim());
  const i = list.indexOf('bearer');
  return i >= 0 && list[i + 1] ? list[i + 1] : undefined;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        // Stop keeping the body but let it drain, so the 413 reaches the client.
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `request body larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function send(res: ServerResponse, status: number, body: unknown, headers?: Readonly<Record<string, string>>): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Maps errors from parsers, the store (possibly across the worker) and handlers to HTTP answers. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const name = err instanceof StoreWorkerError ? err.name : err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  switch (name) {
    case 'QueryParseError':
    case 'LogQLParseError': {
      const e = err as { reason?: string; position?: number };
      return new HttpError(400, message, { position: e.position, expected: e.reason });
    }
    case 'TimeParseError':
    case 'RangeError':
      return new HttpError(400, message);
    case 'TenantAccessError':
      return new HttpError(403, message);
    case 'QueryTooExpensiveError':
      return new HttpError(422, message, { hint: (err as { hint?: string }).hint });
    default:
      return new HttpError(500, `internal error: ${message}`);
  }
}
