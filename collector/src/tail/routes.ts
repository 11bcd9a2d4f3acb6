/**
 * WebSocket live tail on the `api` extension: `/api/v1/tail` (native frames) and `/loki/api/v1/tail`
 * (Loki's frames). Auth and tenant confinement come from the api extension before the upgrade; this file
 * checks the query and the per-token subscription limit (both still before the upgrade), then runs a
 * `TailSession` subscribed to the hub.
 */
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseQuery, QueryParseError } from '../query/parser.js';
import { parseLogQL, LogQLParseError } from '../query/logql.js';
import { compileMatcher, type RecordMatcher, type TextMode } from '../query/matcher.js';
import type { UpgradeContext, UpgradeRoute } from '../extensions/api/routes.js';
import { tailHub, type TailHub, type TailRecord } from './hub.js';
import { TailSession } from './session.js';

export interface TailRouteOptions {
  readonly bufferSize: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxSubscriptionsPerToken: number;
  readonly maxMessageSize: number;
  readonly textMode: () => TextMode;
  /** Records after a cursor from the store, for `start=<cursor>`; undefined when no store. */
  readonly backlog?: ((start: string, tenants: readonly string[] | undefined, node: ReturnType<typeof parseQuery>) => Promise<TailRecord[]>) | undefined;
  readonly onDropped: (n: number) => void;
  readonly onSent: (n: number) => void;
  readonly onError: (message: string) => void;
}

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 500: 'Internal Server Error' };

/** Answers an upgrade request with a plain HTTP error (the WebSocket is never opened). */
export function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ status: 'error', error: message });
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export class TailRoutes {
  private readonly wss: WebSocketServer;
  private readonly perToken = new Map<string, number>();
  private readonly sessions = new Set<TailSession>();

  constructor(private readonly o: TailRouteOptions, private readonly hub: TailHub = tailHub) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxMessageSize,
      // Browsers send the token as a subprotocol (`bearer, <token>`); answer with `bearer` only.
      handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false),
    });
  }

  routes(): UpgradeRoute[] {
    return [
      { path: '/api/v1/tail', handle: (ctx, socket, head) => void this.open(ctx, socket, head, 'native') },
      { path: '/loki/api/v1/tail', handle: (ctx, socket, head) => void this.open(ctx, socket, head, 'loki') },
    ];
  }

  get subscriptions(): number {
    return this.sessions.size;
  }

  private async open(ctx: UpgradeContext, socket: Duplex, head: Buffer, format: 'native' | 'loki'): Promise<void> {
    const text = ctx.query.get('query') ?? '';
    let matcher: RecordMatcher;
    let node;
    try {
      if (format === 'loki') {
        const q = parseLogQL(text);
        if (q.metric) throw new LogQLParseError('metric queries cannot be tailed', 0);
        node = q.node;
      } else node = parseQuery(text);
      matcher = compileMatcher(node, this.o.textMode());
    } catch (err) {
      if (err instanceof QueryParseError || err instanceof LogQLParseError || err instanceof SyntaxError) {
        refuse(socket, 400, err.message);
        return;
      }
      throw err;
    }
    const key = ctx.tokenKey;
    const count = this.perToken.get(key) ?? 0;
    if (count >= this.o.maxSubscriptionsPerToken) {
      refuse(socket, 429, `at most ${this.o.maxSubscriptionsPerToken} tail subscriptions per token`);
      return;
    }
    this.perToken.set(key, count + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const n = (this.perToken.get(key) ?? 1) - 1;
      if (n <= 0) this.perToken.delete(key);
      else this.perToken.set(key, n);
    };
    const tenantList = ctx.tenants ?? ('tenants' in ctx.access ? ctx.access.tenants : undefined);
    const tenants = tenantList ? new Set(tenantList) : undefined;
    const start = ctx.query.get('start');
    const cursorStart = start !== null && start !== '' && !/^\d+(\.\d+)?([smhdw]|ns|us|ms)?$/.test(start) && !/^\d{4}-\d\d-\d\d/.test(start) ? start : undefined;
    socket.on('error', release);
    this.wss.handleUpgrade(ctx.req, socket, head, (ws: WebSocket) => {
      const session = new TailSession(ws, tenants, matcher, {
        bufferSize: this.o.bufferSize,
        batchSize: this.o.batchSize,
        flushIntervalMs: this.o.flushIntervalMs,
        heartbeatIntervalMs: this.o.heartbeatIntervalMs,
        maxSocketBuffer: 1 << 20,
        expiresAtMs: ctx.expiresAtMs,
        format,
        onDropped: this.o.onDropped,
        onSent: this.o.onSent,
      });
      this.sessions.add(session);
      const unsubscribe = this.hub.subscribe(session);
      ws.on('message', (data, isBinary) => {
        // Clients only need to send pings; anything that is not a small JSON object is refused.
        let ok = !isBinary;
        if (ok) {
          try {
            const v: unknown = JSON.parse(Buffer.isBuffer(data) ? data.toString() : '');
            ok = typeof v === 'object' && v !== null;
          } catch {
            ok = false;
          }
        }
        if (!ok) session.close(1003, 'expected a JSON object');
      });
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        unsubscribe();
        session.stop();
        this.sessions.delete(session);
        release();
      });
      if (cursorStart !== undefined && this.o.backlog) {
        // Live records are buffered (not sent) until the backlog is in front of them.
        session.hold();
        this.o.backlog(cursorStart, tenantList, node).then(
          (records) => session.release(records),
          (err: unknown) => {
            this.o.onError(err instanceof Error ? err.message : String(err));
            session.release([]);
          },
        );
      }
    });
  }

  /** Closes every tail socket (shutdown). */
  close(): void {
    for (const s of this.sessions) s.close(1001, 'collector shutting down');
    this.wss.close();
  }
}
