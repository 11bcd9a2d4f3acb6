/**
 * `tributary tail '<query>' [--url http://127.0.0.1:3100] [--token …] [--tenant a] [--output text|json]`:
 * streams the api's live tail to the terminal, coloured by severity, and reconnects (resuming from the
 * last cursor) when the connection drops.
 */
import WebSocket from 'ws';
import { parseQuery } from '../query/parser.js';
import type { TailRecord } from '../tail/hub.js';
import { formatRecord, QueryCliError } from './query.js';

export interface TailOptions {
  query: string;
  url: string;
  token?: string | undefined;
  tenant?: string | undefined;
  output: 'text' | 'json';
  color: boolean;
}

interface Frame { type?: string; records?: TailRecord[]; cursor?: string; count?: number; since?: string }

/** Close codes and HTTP answers after which reconnecting cannot help. */
const FATAL_CLOSE = new Set([1003, 1008, 1009, 4001]);

export function tailUrl(o: TailOptions, cursor: string | undefined): string {
  const u = new URL('/api/v1/tail', o.url.replace(/^http/, 'ws'));
  u.searchParams.set('query', o.query);
  if (o.tenant) u.searchParams.set('tenant', o.tenant);
  if (cursor) u.searchParams.set('start', cursor);
  return u.toString();
}

/** Runs until the signal aborts (exit 0) or the server refuses (exit 1). */
export async function runTail(o: TailOptions, write: (line: string) => void, warn: (line: string) => void, signal: AbortSignal): Promise<number> {
  if (o.query.trim() !== '') parseQuery(o.query); // fail fast with the position
  let cursor: string | undefined;
  let backoff = 500;
  while (!signal.aborted) {
    const result = await new Promise<{ fatal?: string; opened: boolean }>((resolve) => {
      const ws = new WebSocket(tailUrl(o, cursor), o.token ? ['bearer', o.token] : undefined);
      let opened = false;
      const onAbort = (): void => ws.close(1000);
      signal.addEventListener('abort', onAbort, { once: true });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          let message = body;
          try {
            message = (JSON.parse(body) as { error?: string }).error ?? body;
          } catch {
            // plain text answer
          }
          const status = res.statusCode ?? 0;
          ws.terminate();
          resolve(status === 401 || status === 403 || status === 400 || status === 404 ? { fatal: `${status}: ${message}`, opened } : { opened });
        });
      });
      ws.on('open', () => {
        opened = true;
      });
      ws.on('message', (data: Buffer) => {
        const f = JSON.parse(data.toString()) as Frame;
        if (f.type === 'logs' && f.records) {
          for (const r of f.records) write(o.output === 'json' ? JSON.stringify(r) : formatRecord(r, o.color));
          if (f.cursor) cursor = f.cursor;
        } else if (f.type === 'dropped') warn(`tributary tail: ${f.count ?? 0} records dropped (this terminal read too slowly)`);
      });
      ws.on('error', () => undefined);
      ws.on('close', (code, reason) => {
        signal.removeEventListener('abort', onAbort);
        resolve(FATAL_CLOSE.has(code) ? { fatal: `connection closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`, opened } : { opened });
      });
    });
    if (signal.aborted) break;
    if (result.fatal !== undefined) throw new QueryCliError(result.fatal);
    backoff = result.opened ? 500 : Math.min(backoff * 2, 10_000);
    warn(`tributary tail: disconnected; reconnecting${cursor ? ' from the last cursor' : ''}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, backoff);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
  return 0;
}
