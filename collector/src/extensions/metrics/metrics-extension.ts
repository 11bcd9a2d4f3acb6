import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CreateSettings, Extension, Host } from '../../component.js';
import { createConfiguredServer, DEFAULT_TIMEOUTS_MS, listenOn } from '../../config/http-server.js';
import type { MetricsConfig } from './index.js';
import { registerProcessMetrics } from './process-metrics.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class MetricsExtension implements Extension {
  private server: Server | undefined;
  private releaseProcessMetrics: (() => void) | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: MetricsConfig) {}

  /** The bound address (useful when the endpoint's port is 0). */
  address(): AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  async start(host: Host): Promise<void> {
    if (this.server) return;
    const server = await createConfiguredServer({ ...DEFAULT_TIMEOUTS_MS, ...this.config }, (req, res) => this.handle(host, req, res), `extension ${this.settings.id.id}:`);
    await listen(server, this.config.endpoint, this.settings.id.id);
    this.server = server;
    this.releaseProcessMetrics = registerProcessMetrics(host.telemetry);
    const bound = this.address();
    // Log the bound port: with port 0 in the config, this is the only place it shows.
    this.settings.logger.info('metrics endpoint listening', { url: bound ? `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}${this.config.path}` : this.config.endpoint });
  }

  async shutdown(): Promise<void> {
    this.releaseProcessMetrics?.();
    this.releaseProcessMetrics = undefined;
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Scrapers keep connections alive; don't let an idle one hold shutdown up.
      server.closeAllConnections();
    });
  }

  private handle(host: Host, req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== this.config.path) {
      sendText(res, 404, `not found; metrics are at ${this.config.path}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendText(res, 405, `method ${req.method ?? ''} not allowed; use GET\n`);
      return;
    }
    let body: string;
    try {
      body = host.telemetry.render();
    } catch (err) {
      // A failing gauge callback must not take the endpoint down; say which scrape failed.
      this.settings.logger.error('rendering metrics failed', { error: err instanceof Error ? err.message : String(err) });
      sendText(res, 500, 'rendering metrics failed\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Binds `server` to `host:port`; rejects with an error naming the component and endpoint. */
async function listen(server: Server, ep: string, id: string): Promise<void> {
  await listenOn(server, ep, (err) => {
    const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
    return new Error(`extension ${id}: cannot listen on ${ep}: ${why}`, { cause: err });
  });
}
