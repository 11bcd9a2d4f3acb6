/**
 * `tributary query '<query>' [--since 1h] [--limit N] [--output text|json] [--follow] [--from <dir|url>]`:
 * searches a local store directory (read in process) or a remote api (`http://…`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseQuery, QueryParseError } from '../query/parser.js';
import { parseRelative } from '../query/time.js';
import { StoreReader, type StoredRecord } from '../exporters/store/reader.js';
import { listDays, listTenants } from '../exporters/store/schema.js';
import { tenantDirName } from '../exporters/store/encode.js';
import Database from 'better-sqlite3';

export interface QueryOptions {
  query: string;
  sinceMs: number;
  limit: number;
  output: 'text' | 'json';
  follow: boolean;
  /** A store directory or an api base URL. */
  from: string;
  token?: string | undefined;
  tenant?: string | undefined;
  color: boolean;
}

export class QueryCliError extends Error {}

const COLORS: Record<string, string> = { trace: '\x1b[90m', debug: '\x1b[36m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[35m' };

/** What `formatRecord` reads of a record (store answers and live tail records both have it). */
export type FormattableRecord = Pick<StoredRecord, 'level' | 'severity_text' | 'body' | 'attributes' | 'trace_id' | 'tenant' | 'time' | 'service'> & { correlation_id?: string | null | undefined };

/** One readable line per record: time, level, service, body, then attributes as key=value. */
export function formatRecord(r: FormattableRecord, color: boolean): string {
  const lvl = (r.level === 'unspecified' ? r.severity_text || '-' : r.level).toUpperCase().padEnd(5);
  const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  const attrs = Object.entries(r.attributes).map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  if (r.trace_id) attrs.push(`trace_id=${r.trace_id}`);
  if (r.correlation_id) attrs.push(`correlation_id=${r.correlation_id}`);
  const tenant = r.tenant === 'default' ? '' : `[${r.tenant}] `;
  const head = color ? `\x1b[2m${r.time}\x1b[0m ${COLORS[r.level] ?? ''}${lvl}\x1b[0m \x1b[1m${r.service ?? '-'}\x1b[0m` : `${r.time} ${lvl} ${r.service ?? '-'}`;
  return `${head} ${tenant}${body}${attrs.length ? (color ? ` \x1b[2m${attrs.join(' ')}\x1b[0m` : ` ${attrs.join(' ')}`) : ''}`;
}

function tokenizerOf(dir: string): 'unicode61' | 'trigram' {
  for (const t of listTenants(dir)) {
    for (const f of listDays(path.join(dir, tenantDirName(t)), t)) {
      if (f.archived) continue;
      const db = new Database(f.path, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'fts'").get() as { sql: string } | undefined;
        return row?.sql.includes('trigram') ? 'trigram' : 'unicode61';
      } finally {
        db.close();
      }
    }
  }
  return 'unicode61';
}

interface Source {
  fetch(startMs: number, endMs: number, direction: 'backward' | 'forward', limit: number): Promise<StoredRecord[]>;
}

function localSource(dir: string, o: QueryOptions): Source {
  if (!fs.existsSync(dir)) throw new QueryCliError(`store directory ${dir} does not exist`);
  const reader = new StoreReader({ directory: dir, tokenizer: tokenizerOf(dir), maxQueryTimeMs: 30_000, maxRows: 50_000_000, maxRangeMs: 366 * 86_400_000 });
  const node = parseQuery(o.query);
  return {
    fetch: (startMs, endMs, direction, limit) => Promise.resolve(reader.query({ node, startMs, endMs, limit, direction, tenants: o.tenant ? [o.tenant] : undefined }, { all: true }).records),
  };
}

function remoteSource(base: string, o: QueryOptions): Source {
  return {
    async fetch(startMs, endMs, direction, limit) {
      const u = new URL('/api/v1/query', base);
      u.searchParams.set('query', o.query);
      u.searchParams.set('start', String(Math.floor(startMs)));
      u.searchParams.set('end', String(Math.ceil(endMs)));
      u.searchParams.set('limit', String(limit));
      u.searchParams.set('direction', direction);
      const headers: Record<string, string> = {};
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      if (o.tenant) headers['x-scope-orgid'] = o.tenant;
      let res: Response;
      try {
        res = await fetch(u, { headers });
      } catch (err) {
        throw new QueryCliError(`cannot reach ${base}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
      }
      const body = (await res.json().catch(() => ({}))) as { records?: StoredRecord[]; error?: string; position?: number; hint?: string };
      if (!res.ok) throw new QueryCliError(`${res.status}: ${body.error ?? res.statusText}${body.hint ? ` (${body.hint})` : ''}`);
      return body.records ?? [];
    },
  };
}

/** Runs the query; resolves with the exit code. `signal` stops `--follow`. */
export async function runQuery(o: QueryOptions, write: (line: string) => void, signal?: AbortSignal): Promise<number> {
  if (o.query.trim() !== '') parseQuery(o.query); // fail fast with the position
  const src = /^https?:\/\//.test(o.from) ? remoteSource(o.from, o) : localSource(o.from, o);
  const print = (r: StoredRecord): void => write(o.output === 'json' ? JSON.stringify(r) : formatRecord(r, o.color));
  const now = Date.now();
  // Newest N, printed oldest first (like tail).
  const recs = await src.fetch(now - o.sinceMs, now, 'backward', o.limit);
  recs.reverse().forEach(print);
  if (!o.follow) return 0;
  const msOf = (r: StoredRecord): number => Number(r.timestamp.slice(0, -6)) || now;
  const key = (r: StoredRecord): string => `${r.tenant}:${r.id}`;
  let lastMs = recs.length ? msOf(recs[recs.length - 1]!) : now;
  // Records at the edge of the window come back in the next poll: remember which were printed.
  let seen = new Set(recs.filter((r) => msOf(r) >= lastMs - 1).map(key));
  while (!signal?.aborted) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
    if (signal?.aborted) break;
    const fresh = await src.fetch(lastMs - 1, Date.now() + 1000, 'forward', 1000);
    for (const r of fresh) if (!seen.has(key(r))) print(r);
    if (fresh.length === 0) continue;
    lastMs = Math.max(lastMs, msOf(fresh[fresh.length - 1]!));
    seen = new Set(fresh.filter((r) => msOf(r) >= lastMs - 1).map(key));
  }
  return 0;
}

/** Parses the verb's arguments (positional query, flags). */
export function queryOptionsFrom(values: Record<string, unknown>, positionals: string[], env: NodeJS.ProcessEnv, isTTY: boolean): QueryOptions {
  if (positionals.length > 1) throw new QueryCliError('give the query as one argument (quote it)');
  const since = (values.since as string | undefined) ?? '1h';
  const sinceMs = parseRelative(since);
  if (sinceMs === undefined) throw new QueryCliError(`--since: invalid duration "${since}" (use e.g. 15m, 1h, 7d)`);
  const limitText = (values.limit as string | undefined) ?? '100';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit <= 0) throw new QueryCliError(`--limit: expected a positive integer, got "${limitText}"`);
  const output = (values.output as string | undefined) ?? 'text';
  if (output !== 'text' && output !== 'json') throw new QueryCliError(`--output: expected text or json, got "${output}"`);
  const from = (values.from as string | undefined) ?? env.TRIBUTARY_QUERY_FROM ?? (fs.existsSync('./data/store') ? './data/store' : 'http://127.0.0.1:3100');
  return {
    query: positionals[0] ?? '',
    sinceMs,
    limit,
    output,
    follow: values.follow === true,
    from,
    token: (values.token as string | undefined) ?? env.TRIBUTARY_TOKEN,
    tenant: values.tenant as string | undefined,
    color: isTTY && output === 'text' && !env.NO_COLOR,
  };
}

export { QueryParseError };
