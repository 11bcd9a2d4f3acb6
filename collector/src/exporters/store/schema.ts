/**
 * The store's files: `<directory>/<tenant>/<YYYY-MM-DD>.db`, one SQLite database (WAL) per tenant per
 * UTC day, so retention and archival work on whole files.
 *
 * Row ids encode time: rowid = (time in µs) · 1024 + k, k chosen so ids stay unique. Ordering by rowid is
 * ordering by time, a time range is a rowid range (no time index), and the FTS5 index (contentless, same
 * rowids) can be walked newest-first without touching the table.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { compileRegex, type SafeRegex } from '../../ottl/regex.js';

export type Db = Database.Database;

export const ROWID_SHIFT = 1024n;

export function ddl(tokenizer: 'unicode61' | 'trigram'): string {
  return `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS resources(id INTEGER PRIMARY KEY, service TEXT, attrs TEXT, types TEXT);
CREATE INDEX IF NOT EXISTS resources_service ON resources(service);
CREATE TABLE IF NOT EXISTS scopes(id INTEGER PRIMARY KEY, name TEXT, version TEXT, attrs TEXT, types TEXT);
CREATE TABLE IF NOT EXISTS logs(
  time_ns INTEGER NOT NULL, observed_ns INTEGER NOT NULL,
  severity INTEGER NOT NULL, severity_text TEXT,
  body TEXT, body_json TEXT,
  resource_id INTEGER NOT NULL, scope_id INTEGER NOT NULL,
  attrs TEXT, attr_types TEXT,
  trace_id BLOB, span_id BLOB, correlation_id TEXT,
  retention_class TEXT, retention_days INTEGER,
  flags INTEGER, event_name TEXT, dropped INTEGER
);
CREATE INDEX IF NOT EXISTS logs_resource_severity ON logs(resource_id, severity);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(body, attrs, content='', contentless_delete=1, tokenize='${tokenizer === 'trigram' ? 'trigram' : 'unicode61'}');
CREATE TABLE IF NOT EXISTS rollup(minute INTEGER NOT NULL, service TEXT NOT NULL, severity INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(minute, service, severity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fields(kind TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY(kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS classes(class TEXT PRIMARY KEY, days INTEGER NOT NULL, count INTEGER NOT NULL) WITHOUT ROWID;
`;
}

/** Cache of compiled regexes for `re2match` (queries reuse a handful of patterns). */
const regexCache = new Map<string, SafeRegex>();

/** Registers the functions query plans call (`re2match(pattern, value)`). */
export function registerFunctions(db: Db): void {
  db.function('re2match', { deterministic: true }, (pattern: unknown, value: string | number | bigint | Buffer | null | undefined) => {
    if (value === null || value === undefined) return 0;
    const p = String(pattern);
    let re = regexCache.get(p);
    if (!re) {
      if (regexCache.size > 256) regexCache.clear();
      re = compileRegex(p);
      regexCache.set(p, re);
    }
    return re.test(typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('hex') : String(value)) ? 1 : 0;
  });
}

export const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.db$/;
export const ARCHIVE_FILE = /^(\d{4}-\d{2}-\d{2})\.db\.gz$/;

export interface DayFile {
  readonly tenant: string;
  readonly day: string;
  readonly path: string;
  readonly archived: boolean;
}

/** Tenant directories under `dir` (decoded tenant names). */
export function listTenants(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('.') && fs.statSync(path.join(dir, n), { throwIfNoEntry: false })?.isDirectory()).map((n) => decodeURIComponent(n));
}

/** Day files (live and archived) of one tenant directory, oldest first. */
export function listDays(tenantDir: string, tenant: string): DayFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(tenantDir);
  } catch {
    return [];
  }
  const out: DayFile[] = [];
  for (const n of names) {
    const m = DAY_FILE.exec(n);
    if (m) out.push({ tenant, day: m[1]!, path: path.join(tenantDir, n), archived: false });
    const a = ARCHIVE_FILE.exec(n);
    if (a) out.push({ tenant, day: a[1]!, path: path.join(tenantDir, n), archived: true });
  }
  return out.sort((x, y) => (x.day < y.day ? -1 : x.day > y.day ? 1 : 0));
}

/** Bytes a day file takes on disk, with its -wal/-shm companions. */
export function fileBytes(p: string): number {
  let n = 0;
  for (const f of [p, `${p}-wal`, `${p}-shm`]) n += fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0;
  return n;
}

export function removeDayFile(p: string): void {
  for (const f of [p, `${p}-wal`, `${p}-shm`, p.replace(/\.db(\.gz)?$/, '.classes.json')]) fs.rmSync(f, { force: true });
}
