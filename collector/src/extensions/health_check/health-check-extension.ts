import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ComponentStatus, CreateSettings, Extension, Host } from '../../component.js';
import { createConfiguredServer, DEFAULT_TIMEOUTS_MS, listenOn } from '../../config/http-server.js';
import type { HealthCheckConfig } from './index.js';

/** Statuses that make the collector unhealthy (upstream: any component error fails the check). */
const UNHEALTHY: ReadonlySet<ComponentStatus> = new Set<ComponentStatus>(['permanent_error', 'recoverable_error']);

export interface HealthBody {
  status: 'Server available' | 'Server not available';
  upSince: string;
  uptime: string;
  components: Record<string, { status: ComponentStatus; error?: string }>;
}

/** Formats milliseconds like Go's time.Duration.String(), which upstream uses for `uptime` (`1m2.5s`, `350ms`). */
export function formatUptime(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${trimFraction(ms.toFixed(3))}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = trimFraction(((ms % 60_000) / 1000).toFixed(3));
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

function trimFraction(n: string): string {
  return n.includes('.') ? n.replace(/\.?0+$/, '') : n;
}

/** The response body and whether it means healthy, from the host's view of the service. */
export function healthBody(host: Host, startedAt: number, now = Date.now()): { healthy: boolean; body: HealthBody } {
  let healthy = host.isReady();
  const components: HealthBody['components'] = {};
  for (const [id, s] of host.componentStatuses()) {
    if (UNHEALTHY.has(s.status)) healthy = false;
    components[id] = s.error !== undefined ? { status: s.status, error: s.error } : { status: s.status };
  }
  return {
    healthy,
    body: {
      status: healthy ? 'Server available' : 'Server not available',
      upSince: new Date(startedAt).toISOString(),
      uptime: formatUptime(now - startedAt),
      components,
    },
  };
}

export class HealthCheckExtension implements Extension {
  private server: Server | undefined;
  private startedAt = 0;

  constructor(private readonly settings: CreateSettings, private readonly config: HealthCheckConfig) {}

  /** The bound address (useful when the endpoint's port is 0). */
  address(): AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  async start(host: Host): Promise<void> {
    if (this.server) return;
    this.startedAt = Date.now();
    const server = await createConfiguredServer({ ...DEFAULT_TIMEOUTS_MS, ...this.config }, (req, res) => this.handle(host, req, res), `extension ${this.settings.id.id}:`);
    await listen(server, this.config.endpoint, this.settings.id.id);
    this.server = server;
    const bound = this.address();
    // Log the bound port: with port 0 in the config, this is the only place it shows.
    this.settings.logger.info('health check endpoint listening', { url: bound ? `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}${this.config.path}` : this.config.endpoint });
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Probes use keep-alive; don't let an idle connection hold shutdown up.
      server.closeAllConnections();
    });
  }

  private handle(host: Host, req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== this.config.path) {
      send(res, 404, JSON.stringify({ error: `not found; the health check is at ${this.config.path}` }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, JSON.stringify({ error: `method ${req.method ?? ''} not allowed; use GET` }));
      return;
    }
    const { healthy, body } = healthBody(host, this.startedAt);
    send(res, healthy ? 200 : 503, JSON.stringify(body), req.method === 'HEAD');
  }
}

function send(res: ServerResponse, status: number, body: string, headOnly = false): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(headOnly ? undefined : body);
}

/** Binds `server` to `host:port`; rejects with an error naming the component and endpoint. */
async function listen(server: Server, ep: string, id: string): Promise<void> {
  await listenOn(server, ep, (err) => {
    const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
    return new Error(`extension ${id}: cannot listen on ${ep}: ${why}`, { cause: err });
  });
}
