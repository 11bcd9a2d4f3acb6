/**
 * The api extension's HTTP server setup, kept in one small file so it can move to the shared server
 * config (endpoint, TLS, timeouts, body limits) in one place.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { splitEndpoint } from '../../config/schema-helpers.js';

export interface ServerSettings {
  readonly endpoint: string;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

export function createApiServer(
  s: ServerSettings,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Server {
  const server = createServer({ requestTimeout: s.requestTimeoutMs, keepAliveTimeout: s.keepAliveTimeoutMs }, onRequest);
  server.on('upgrade', onUpgrade);
  return server;
}

/** Binds to `host:port`; rejects with an error naming the component and endpoint. */
export function listen(server: Server, ep: string, id: string): Promise<void> {
  const { host, port } = splitEndpoint(ep);
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new Error(`extension ${id}: cannot listen on ${ep}: ${why}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** True for addresses only this machine can reach. */
export function isLoopback(ep: string): boolean {
  const { host } = splitEndpoint(ep);
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
