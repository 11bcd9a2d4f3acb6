/**
 * The store's read side: queries, histograms, field lists, Loki series. Synchronous (runs in the reader
 * worker, or in process for `tributary query <dir>`). Every method takes a `TenantAccess` and reads only
 * that tenant's files: tenant confinement lives here, not in the HTTP layer.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { InstrumentationScope, KeyValue, LogRecord, Resource } from '@tributary/otlp';
import { idFromHex, nanosFromDecimal, ZERO_NANOS } from '@tributary/otlp';
import { LEVEL_NAMES, severityLevel, type QueryNode } from '../../query/ast.js';
import { labelName } from '../../query/logql.js';
import { planRollup, planSql, jsonPath, type SqlParam } from '../../query/sql.js';
import type { TextMode } from '../../query/matcher.js';
import { decodeAttributes, decodeBody, tenantDirName } from './encode.js';
import { listDays, listTenants, registerFunctions, type Db, type DayFile } from './schema.js';

/** Which tenants a caller may read: the verified list from a token, or all (no auth configured). */
export type TenantAccess = { readonly all: true } | { readonly tenants: readonly string[] };

export class TenantAccessError extends Error {
  override name = 'TenantAccessError';
}

/** A query that would take too long or scan too much; answered 422 with a hint. */
export class QueryTooExpensiveError extends Error {
  override name = 'QueryTooExpensiveError';
  constructor(message: string, readonly hint: string) {
    super(message);
  }
}

export interface ReaderOptions {
  readonly directory: string;
  readonly tokenizer: 'unicode61' | 'trigram';
  readonly maxQueryTimeMs: number;
  /** Most raw rows a scan (no full-text term) may examine. */
  readonly maxRows: number;
  /** Longest time range a query may cover. */
  readonly maxRangeMs: number;
}

export interface QueryRequest {
  readonly node: QueryNode;
  readonly startMs: number;
  readonly endMs: number;
  readonly limit: number;
  readonly direction: 'backward' | 'forward';
  /** From a previous answer's `cursor`. */
  readonly cursor?: string | undefined;
  /** Narrow to these tenants (must be allowed by the access). */
  readonly tenants?: readonly string[] | undefined;
}

/** A record as the API returns it. */
export interface StoredRecord {
  tenant: string;
  id: string;
  time: string;
  /** The time the record is filed under (ns): its time, else its observed time, else when it was stored. */
  timestamp: string;
  time_unix_nano: string;
  observed_time_unix_nano: string;
  severity_number: number;
  severity_text: string;
  level: string;
  body: unknown;
  service: string | null;
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
  attributes: Record<string, unknown>;
  trace_id: string | null;
  span_id: string | null;
  correlation_id: string | null;
  retention_class: string | null;
  retention_days: number | null;
  flags: number;
  event_name: string | null;
}

export interface QueryResult {
  records: StoredRecord[];
  /** Pass back as `cursor` for the next page; absent when there is nothing more. */
  cursor?: string | undefined;
  /** Days in the range that are archived (gzip) and were not searched. */
  archivedDays: string[];
  /** Files that could not be read (corrupt, locked): named so the answer is never silently partial. */
  errors: { file: string; error: string }[];
}

interface RawRow {
  rid: bigint;
  t: string;
  o: string;
  severity: number;
  severity_text: string | null;
  body: string | null;
  body_json: string | null;
  resource_id: number;
  scope_id: number;
  attrs: string | null;
  attr_types: string | null;
  trace_id: string | null;
  span_id: string | null;
  correlation_id: string | null;
  retention_class: string | null;
  retention_days: number | null;
  flags: number | null;
  event_name: string | null;
  dropped: number | null;
}

const COLS = `l.rowid AS rid, CAST(l.time_ns AS TEXT) AS t, CAST(l.observed_ns AS TEXT) AS o, l.severity, l.severity_text, l.body, l.body_json,
  l.resource_id, l.scope_id, l.attrs, l.attr_types, lower(hex(l.trace_id)) AS trace_id, lower(hex(l.span_id)) AS span_id,
  l.correlation_id, l.retention_class, l.retention_days, l.flags, l.event_name, l.dropped`;

const DAY_MS = 86_400_000;
const CHUNK_US = 3_600_000_000; // scans check the deadline every hour of data

function usToRowid(us: number): bigint {
  return BigInt(Math.floor(us)) * 1024n;
}

function nsToIso(ns: string): string {
  const s = ns.length > 9 ? Number(ns.slice(0, -9)) : 0;
  const frac = ns.length > 9 ? ns.slice(-9) : ns.padStart(9, '0');
  return `${new Date(s * 1000).toISOString().slice(0, 19)}.${frac}Z`;
}

interface Conn {
  db: Db;
  mtime: number;
  resources: Map<number, { service: string | null; attrs: string | null; types: string | null; parsed?: Record<string, unknown> }>;
  scopes: Map<number, { name: string; version: string; attrs: string | null; types: string | null }>;
}

export class StoreReader {
  private readonly conns = new Map<string, Conn>();

  constructor(private readonly options: ReaderOptions) {}

  get textMode(): TextMode {
    return this.options.tokenizer === 'trigram' ? 'trigram' : 'words';
  }

  /** The tenants a request may read; throws TenantAccessError for one it may not. */
  resolveTenants(access: TenantAccess, requested?: readonly string[]): string[] {
    if ('all' in access && access.all) return requested && requested.length ? [...requested] : listTenants(this.options.directory);
    const allowed = (access as { tenants: readonly string[] }).tenants;
    if (!requested || requested.length === 0) return [...allowed];
    for (const t of requested) if (!allowed.includes(t)) throw new TenantAccessError(`tenant "${t}" is not allowed for this token`);
    return [...requested];
  }

  private checkRange(startMs: number, endMs: number): void {
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) throw new RangeError('start and end must be finite times');
    if (endMs < startMs) throw new RangeError('end is before start');
    if (endMs - startMs > this.options.maxRangeMs) throw new RangeError(`the time range is longer than the allowed ${Math.round(this.options.maxRangeMs / DAY_MS)} days`);
  }

  /** Day files of the tenants overlapping [start, end], newest first for `backward`. */
  private files(tenants: readonly string[], startMs: number, endMs: number, backward: boolean): DayFile[] {
    const first = new Date(Math.floor(startMs / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
    const last = new Date(Math.floor(endMs / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
    const out: DayFile[] = [];
    for (const t of tenants) {
      for (const f of listDays(path.join(this.options.directory, tenantDirName(t)), t)) if (f.day >= first && f.day <= last) out.push(f);
    }
    out.sort((a, b) => (a.day === b.day ? (a.tenant < b.tenant ? -1 : 1) : a.day < b.day ? -1 : 1));
    return backward ? out.reverse() : out;
  }

  /** Open connections to the readable, not archived day files of the range, oldest first (unreadable ones are skipped). */
  private *openDays(tenants: readonly string[], startMs: number, endMs: number): Generator<Conn> {
    for (const f of this.files(tenants, startMs, endMs, false)) {
      if (f.archived) continue;
      let c: Conn;
      try {
        c = this.conn(f.path);
      } catch {
        continue;
      }
      yield c;
    }
  }

  private conn(p: string): Conn {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    const cached = this.conns.get(p);
    if (cached && st && st.ino === cached.mtime) return cached;
    if (cached) {
      cached.db.close();
      this.conns.delete(p);
    }
    if (!st) throw new Error('file no longer exists');
    const db = new Database(p, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 2000');
      registerFunctions(db);
      db.prepare('SELECT 1 FROM logs LIMIT 1').get();
    } catch (err) {
      db.close();
      throw err;
    }
    const c: Conn = { db, mtime: st.ino, resources: new Map(), scopes: new Map() };
    this.conns.set(p, c);
    if (this.conns.size > 64) {
      const oldest = this.conns.keys().next().value as string;
      this.conns.get(oldest)?.db.close();
      this.conns.delete(oldest);
    }
    return c;
  }

  private resource(c: Conn, id: number): { service: string | null; attrs: string | null; types: string | null; parsed?: Record<string, unknown> } {
    let r = c.resources.get(id);
    if (!r) {
      r = (c.db.prepare('SELECT service, attrs, types FROM resources WHERE id = ?').get(id) as typeof r) ?? { service: null, attrs: null, types: null };
      c.resources.set(id, r);
    }
    return r;
  }

  private scope(c: Conn, id: number): { name: string; version: string; attrs: string | null; types: string | null } {
    let s = c.scopes.get(id);
    if (!s) {
      s = (c.db.prepare('SELECT name, version, attrs, types FROM scopes WHERE id = ?').get(id) as typeof s) ?? { name: '', version: '', attrs: null, types: null };
      c.scopes.set(id, s);
    }
    return s;
  }

  /** Closes cached connections to files under `dir` (before they are deleted or archived). */
  forget(pred: (p: string) => boolean): void {
    for (const [p, c] of [...this.conns]) {
      if (!pred(p)) continue;
      c.db.close();
      this.conns.delete(p);
    }
  }

  close(): void {
    this.forget(() => true);
  }

  /** Raw rows of one query (shared by `query` and the OTLP view). */
  private rows(req: QueryRequest, access: TenantAccess): { rows: { file: DayFile; conn: Conn; row: RawRow }[]; result: Omit<QueryResult, 'records'> } {
    this.checkRange(req.startMs, req.endMs);
    const tenants = this.resolveTenants(access, req.tenants);
    const backward = req.direction !== 'forward';
    const plan = planSql(req.node, this.textMode);
    let cursor: { rid: bigint; tenant: string } | undefined;
    if (req.cursor) {
      const m = /^(\d+)~(.*)$/s.exec(Buffer.from(req.cursor, 'base64url').toString());
      if (!m) throw new RangeError('invalid cursor');
      cursor = { rid: BigInt(m[1]!), tenant: m[2]! };
    }
    const lo = usToRowid(req.startMs * 1000);
    const hi = usToRowid(req.endMs * 1000) + 1023n;
    const deadline = performance.now() + this.options.maxQueryTimeMs;
    const out: { file: DayFile; conn: Conn; row: RawRow }[] = [];
    const archivedDays: string[] = [];
    const errors: { file: string; error: string }[] = [];
    const files = this.files(tenants, req.startMs, req.endMs, backward);
    let examined = 0;
    // Files of the same day (several tenants) are merged by rowid, so the page boundary is exact.
    for (let i = 0; i < files.length && out.length < req.limit; ) {
      const day = files[i]!.day;
      const dayRows: { file: DayFile; conn: Conn; row: RawRow }[] = [];
      for (; i < files.length && files[i]!.day === day; i++) {
        const f = files[i]!;
        if (f.archived) {
          archivedDays.push(`${f.tenant}/${f.day}`);
          continue;
        }
        let conn: Conn;
        try {
          conn = this.conn(f.path);
        } catch (err) {
          errors.push({ file: `${f.tenant}/${f.day}`, error: err instanceof Error ? err.message : String(err) });
          continue;
        }
        let fLo = lo;
        let fHi = hi;
        if (cursor) {
          // Order is (rowid, tenant); rows at the cursor's rowid in a "later" tenant are still to come.
          const inclusive = backward ? f.tenant < cursor.tenant : f.tenant > cursor.tenant;
          if (backward) fHi = fHi < cursor.rid ? fHi : inclusive ? cursor.rid : cursor.rid - 1n;
          else fLo = fLo > cursor.rid ? fLo : inclusive ? cursor.rid : cursor.rid + 1n;
        }
        if (fHi < fLo) continue;
        const need = req.limit - out.length;
        try {
          examined += this.runFile(conn, plan, fLo, fHi, backward, need, deadline, examined, (row) => dayRows.push({ file: f, conn, row }));
        } catch (err) {
          if (err instanceof QueryTooExpensiveError) throw err;
          errors.push({ file: `${f.tenant}/${f.day}`, error: err instanceof Error ? err.message : String(err) });
        }
      }
      dayRows.sort((a, b) => {
        const d = a.row.rid < b.row.rid ? -1 : a.row.rid > b.row.rid ? 1 : a.file.tenant < b.file.tenant ? -1 : 1;
        return backward ? -d : d;
      });
      for (const r of dayRows) {
        if (out.length >= req.limit) break;
        out.push(r);
      }
    }
    const last = out[out.length - 1];
    const next = out.length >= req.limit && last ? Buffer.from(`${last.row.rid}~${last.file.tenant}`).toString('base64url') : undefined;
    return { rows: out, result: { cursor: next, archivedDays, errors } };
  }

  /** Runs the plan on one file in rowid chunks, checking the deadline; returns the rows examined (estimate). */
  private runFile(c: Conn, plan: ReturnType<typeof planSql>, lo: bigint, hi: bigint, backward: boolean, limit: number, deadline: number, examinedBefore: number, emit: (r: RawRow) => void): number {
    const order = backward ? 'DESC' : 'ASC';
    if (plan.ftsMatch !== undefined) {
      const sql = `SELECT ${COLS} FROM fts CROSS JOIN logs l ON l.rowid = fts.rowid WHERE fts MATCH ? AND fts.rowid BETWEEN ? AND ? AND (${plan.where}) ORDER BY fts.rowid ${order} LIMIT ?`;
      const stmt = c.db.prepare(sql).safeIntegers(true);
      let n = 0;
      for (const r of stmt.iterate(plan.ftsMatch, lo, hi, ...plan.params, limit) as IterableIterator<RawRow>) {
        emit(normalize(r));
        if (++n % 256 === 0 && performance.now() > deadline) throw tooSlow(this.options.maxQueryTimeMs);
      }
      return 0;
    }
    const sql = `SELECT ${COLS} FROM logs l WHERE l.rowid BETWEEN ? AND ? AND (${plan.where}) ORDER BY l.rowid ${order} LIMIT ?`;
    const stmt = c.db.prepare(sql).safeIntegers(true);
    const countStmt = plan.where === '1' ? undefined : c.db.prepare('SELECT coalesce(sum(count), 0) AS n FROM rollup WHERE minute BETWEEN ? AND ?');
    const chunk = BigInt(CHUNK_US) * 1024n;
    let examined = 0;
    let left = limit;
    let a = backward ? hi : lo;
    while (left > 0 && (backward ? a >= lo : a <= hi)) {
      const cLo = backward ? (a - chunk + 1n > lo ? a - chunk + 1n : lo) : a;
      const cHi = backward ? a : a + chunk - 1n < hi ? a + chunk - 1n : hi;
      if (countStmt) {
        const mLo = Number(cLo / 1024n / 60_000_000n);
        const mHi = Number(cHi / 1024n / 60_000_000n);
        examined += Number((countStmt.get(mLo, mHi) as { n: number | bigint }).n);
        if (examinedBefore + examined > this.options.maxRows) {
          throw new QueryTooExpensiveError(`the query would examine more than ${this.options.maxRows} records`, 'add a word, a service or a severity condition, or narrow start/end');
        }
      }
      for (const r of stmt.iterate(cLo, cHi, ...plan.params, left) as IterableIterator<RawRow>) {
        emit(normalize(r));
        left--;
      }
      if (performance.now() > deadline) throw tooSlow(this.options.maxQueryTimeMs);
      a = backward ? cLo - 1n : cHi + 1n;
    }
    return examined;
  }

  query(req: QueryRequest, access: TenantAccess): QueryResult {
    const { rows, result } = this.rows(req, access);
    return { ...result, records: rows.map((r) => this.toRecord(r.file.tenant, r.conn, r.row)) };
  }

  /** The same rows as OTLP model objects (for round-trip checks and exporters of stored data). */
  queryOtlp(req: QueryRequest, access: TenantAccess): { tenant: string; resource: Resource; scope: InstrumentationScope; record: LogRecord }[] {
    const { rows } = this.rows(req, access);
    return rows.map(({ file, conn, row }) => {
      const res = this.resource(conn, row.resource_id);
      const sc = this.scope(conn, row.scope_id);
      return {
        tenant: file.tenant,
        resource: { attributes: decodeAttributes(res.attrs, res.types), droppedAttributesCount: 0 },
        scope: { name: sc.name, version: sc.version, attributes: decodeAttributes(sc.attrs, sc.types), droppedAttributesCount: 0 },
        record: rowToLogRecord(row),
      };
    });
  }

  private toRecord(tenant: string, c: Conn, r: RawRow): StoredRecord {
    const res = this.resource(c, r.resource_id);
    const sc = this.scope(c, r.scope_id);
    const attributes = r.attrs === null ? {} : (JSON.parse(r.attrs) as Record<string, unknown>);
    return {
      tenant,
      id: String(r.rid),
      time: r.t !== '0' ? nsToIso(r.t) : r.o !== '0' ? nsToIso(r.o) : nsToIso(((r.rid >> 10n) * 1000n).toString()),
      timestamp: r.t !== '0' ? r.t : r.o !== '0' ? r.o : ((r.rid >> 10n) * 1000n).toString(),
      time_unix_nano: r.t,
      observed_time_unix_nano: r.o,
      severity_number: r.severity,
      severity_text: r.severity_text ?? '',
      level: severityLevel(r.severity),
      body: r.body_json !== null ? (JSON.parse(r.body_json) as { v: unknown }).v : r.body,
      service: res.service,
      // Parsed once per resource and shared by its records (answers are serialized, never mutated).
      resource: (res.parsed ??= res.attrs === null ? {} : (JSON.parse(res.attrs) as Record<string, unknown>)),
      scope: { name: sc.name, version: sc.version },
      attributes,
      trace_id: r.trace_id || null,
      span_id: r.span_id || null,
      correlation_id: r.correlation_id,
      retention_class: r.retention_class,
      retention_days: r.retention_days,
      flags: r.flags ?? 0,
      event_name: r.event_name,
    };
  }

  /** Counts per severity level per step. From the per-minute rollup when the query allows, else from rows. */
  histogram(req: { node: QueryNode; startMs: number; endMs: number; stepMs: number; tenants?: readonly string[] | undefined }, access: TenantAccess): { step_ms: number; source: 'rollup' | 'rows'; buckets: { start: number; counts: Record<string, number> }[] } {
    this.checkRange(req.startMs, req.endMs);
    const step = Math.max(1000, Math.floor(req.stepMs));
    if ((req.endMs - req.startMs) / step > 11_000) throw new RangeError('too many steps: use a larger step');
    const tenants = this.resolveTenants(access, req.tenants);
    const rollup = step % 60_000 === 0 ? planRollup(req.node) : undefined;
    const counts = new Map<number, Record<string, number>>();
    const add = (start: number, sev: number, n: number): void => {
      let c = counts.get(start);
      if (!c) counts.set(start, (c = {}));
      const lvl = severityLevel(sev);
      c[lvl] = (c[lvl] ?? 0) + n;
    };
    const deadline = performance.now() + this.options.maxQueryTimeMs;
    for (const c of this.openDays(tenants, req.startMs, req.endMs)) {
      if (rollup) {
        const sql = `SELECT minute, severity, sum(count) AS n FROM rollup WHERE minute BETWEEN ? AND ? AND (${rollup.where}) GROUP BY minute, severity`;
        for (const r of c.db.prepare(sql).all(Math.floor(req.startMs / 60_000), Math.floor((req.endMs - 1) / 60_000), ...rollup.params) as { minute: number; severity: number; n: number }[]) {
          add(Math.floor((r.minute * 60_000) / step) * step, r.severity, r.n);
        }
      } else {
        const plan = planSql(req.node, this.textMode);
        const from = matchFrom(plan);
        const sql = `SELECT ((l.rowid >> 10) / CAST(? AS INTEGER)) AS b, l.severity AS severity, count(*) AS n FROM ${from} l.rowid BETWEEN ? AND ? AND (${plan.where}) GROUP BY b, severity`;
        const params: SqlParam[] = [step * 1000];
        if (plan.ftsMatch !== undefined) params.push(plan.ftsMatch);
        params.push(usToRowid(req.startMs * 1000), usToRowid(req.endMs * 1000) + 1023n, ...plan.params);
        for (const r of c.db.prepare(sql).all(...params) as { b: number; severity: number; n: number }[]) add(r.b * step, r.severity, r.n);
      }
      if (performance.now() > deadline) throw tooSlow(this.options.maxQueryTimeMs);
    }
    const buckets: { start: number; counts: Record<string, number> }[] = [];
    for (let t = Math.floor(req.startMs / step) * step; t < req.endMs; t += step) buckets.push({ start: t, counts: counts.get(t) ?? {} });
    return { step_ms: step, source: rollup ? 'rollup' : 'rows', buckets };
  }

  /** Field names seen in the range: built-ins, then record and resource attribute keys. */
  fields(req: { startMs: number; endMs: number; tenants?: readonly string[] | undefined }, access: TenantAccess): { name: string; kind: 'builtin' | 'attribute' | 'resource' }[] {
    this.checkRange(req.startMs, req.endMs);
    const out = new Map<string, 'builtin' | 'attribute' | 'resource'>();
    for (const b of ['service', 'severity', 'severity_text', 'body', 'trace_id', 'span_id', 'correlation_id', 'scope', 'event_name', 'retention_class', 'retention_days']) out.set(b, 'builtin');
    for (const f of this.files(this.resolveTenants(access, req.tenants), req.startMs, req.endMs, false)) {
      if (f.archived) continue;
      try {
        for (const r of this.conn(f.path).db.prepare('SELECT kind, key FROM fields').all() as { kind: string; key: string }[]) {
          if (r.kind === 'attr' && (r.key === 'correlation_id' || r.key === 'retention.class' || r.key === 'retention.days')) continue;
          out.set(r.kind === 'attr' ? `attributes.${r.key}` : `resource.${r.key}`, r.kind === 'attr' ? 'attribute' : 'resource');
        }
      } catch {
        // unreadable file: its fields are missing from the list
      }
    }
    return [...out].map(([name, kind]) => ({ name, kind }));
  }

  /** Most frequent values of a field in the range, with counts. */
  fieldValues(req: { field: string; startMs: number; endMs: number; limit: number; tenants?: readonly string[] | undefined }, access: TenantAccess): { value: string | number | boolean | null; count: number }[] {
    this.checkRange(req.startMs, req.endMs);
    const counts = new Map<string, { value: string | number | boolean | null; count: number }>();
    const add = (v: string | number | boolean | null, n: number): void => {
      const k = `${typeof v}:${String(v)}`;
      const e = counts.get(k);
      if (e) e.count += n;
      else counts.set(k, { value: v, count: n });
    };
    const f0 = req.field;
    const mLo = Math.floor(req.startMs / 60_000);
    const mHi = Math.floor(req.endMs / 60_000);
    const lo = usToRowid(req.startMs * 1000);
    const hi = usToRowid(req.endMs * 1000) + 1023n;
    const deadline = performance.now() + this.options.maxQueryTimeMs;
    for (const c of this.openDays(this.resolveTenants(access, req.tenants), req.startMs, req.endMs)) {
      if (f0 === 'service' || f0 === 'service.name' || f0 === 'service_name') {
        for (const r of c.db.prepare('SELECT service AS v, sum(count) AS n FROM rollup WHERE minute BETWEEN ? AND ? GROUP BY service').all(mLo, mHi) as { v: string; n: number }[]) add(r.v, r.n);
      } else if (f0 === 'severity' || f0 === 'level') {
        for (const r of c.db.prepare('SELECT severity AS v, sum(count) AS n FROM rollup WHERE minute BETWEEN ? AND ? GROUP BY severity').all(mLo, mHi) as { v: number; n: number }[]) add(f0 === 'level' ? severityLevel(r.v) : r.v, r.n);
      } else if (f0.startsWith('resource.')) {
        const sql = 'SELECT json_extract(r.attrs, ?) AS v, x.n AS n FROM (SELECT resource_id, count(*) AS n FROM logs WHERE rowid BETWEEN ? AND ? GROUP BY resource_id) x JOIN resources r ON r.id = x.resource_id';
        for (const r of c.db.prepare(sql).all(jsonPath(f0.slice(9)), lo, hi) as { v: string | number | null; n: number }[]) if (r.v !== null) add(r.v, r.n);
      } else {
        const col = f0 === 'trace_id' || f0 === 'span_id' ? `lower(hex(${f0}))` : ['severity_text', 'correlation_id', 'retention_class', 'retention_days', 'event_name'].includes(f0) ? f0 : f0 === 'retention.class' ? 'retention_class' : 'json_extract(attrs, ?)';
        const key = f0.startsWith('attributes.') ? f0.slice(11) : f0;
        const params: SqlParam[] = col.startsWith('json_extract') ? [jsonPath(key)] : [];
        const sql = `SELECT ${col} AS v, count(*) AS n FROM logs WHERE rowid BETWEEN ? AND ? GROUP BY v ORDER BY n DESC LIMIT 1000`;
        for (const r of c.db.prepare(sql).all(...params, lo, hi) as { v: string | number | null; n: number }[]) if (r.v !== null) add(r.v, r.n);
      }
      if (performance.now() > deadline) throw tooSlow(this.options.maxQueryTimeMs);
    }
    return [...counts.values()].sort((a, b) => b.count - a.count).slice(0, req.limit);
  }

  /** Loki streams (label sets) with records matching the query in the range. */
  series(req: { node: QueryNode; startMs: number; endMs: number; tenants?: readonly string[] | undefined }, access: TenantAccess): Record<string, string>[] {
    this.checkRange(req.startMs, req.endMs);
    const plan = planSql(req.node, this.textMode);
    const seen = new Map<string, Record<string, string>>();
    const lo = usToRowid(req.startMs * 1000);
    const hi = usToRowid(req.endMs * 1000) + 1023n;
    for (const c of this.openDays(this.resolveTenants(access, req.tenants), req.startMs, req.endMs)) {
      const from = matchFrom(plan);
      const params: SqlParam[] = plan.ftsMatch !== undefined ? [plan.ftsMatch] : [];
      const sql = `SELECT l.resource_id AS rid, l.severity AS sev FROM ${from} l.rowid BETWEEN ? AND ? AND (${plan.where}) GROUP BY 1, 2 LIMIT 10000`;
      for (const r of c.db.prepare(sql).all(...params, lo, hi, ...plan.params) as { rid: number; sev: number }[]) {
        const labels = streamLabels(this.resource(c, r.rid).attrs, r.sev);
        seen.set(JSON.stringify(labels), labels);
      }
    }
    return [...seen.values()];
  }

  /**
   * Record counts per time bucket and stream (resource + level), for metric queries (count_over_time,
   * rate): `bucketMs` wide buckets aligned to the epoch.
   */
  countStreams(req: { node: QueryNode; startMs: number; endMs: number; bucketMs: number; tenants?: readonly string[] | undefined }, access: TenantAccess): { start: number; labels: Record<string, string>; count: number }[] {
    this.checkRange(req.startMs, req.endMs);
    const bucket = Math.max(1, Math.floor(req.bucketMs));
    const plan = planSql(req.node, this.textMode);
    const lo = usToRowid(req.startMs * 1000);
    const hi = usToRowid(req.endMs * 1000) + 1023n;
    const out: { start: number; labels: Record<string, string>; count: number }[] = [];
    const deadline = performance.now() + this.options.maxQueryTimeMs;
    for (const c of this.openDays(this.resolveTenants(access, req.tenants), req.startMs, req.endMs)) {
      const from = matchFrom(plan);
      const params: SqlParam[] = [bucket * 1000];
      if (plan.ftsMatch !== undefined) params.push(plan.ftsMatch);
      const sql = `SELECT ((l.rowid >> 10) / CAST(? AS INTEGER)) AS b, l.resource_id AS rid, l.severity AS sev, count(*) AS n FROM ${from} l.rowid BETWEEN ? AND ? AND (${plan.where}) GROUP BY b, rid, sev`;
      for (const r of c.db.prepare(sql).all(...params, lo, hi, ...plan.params) as { b: number; rid: number; sev: number; n: number }[]) {
        out.push({ start: r.b * bucket, labels: streamLabels(this.resource(c, r.rid).attrs, r.sev), count: r.n });
      }
      if (performance.now() > deadline) throw tooSlow(this.options.maxQueryTimeMs);
    }
    return out;
  }

  /** Label names of the streams in the range (Loki `/labels`). */
  labelNames(req: { startMs: number; endMs: number; tenants?: readonly string[] | undefined }, access: TenantAccess): string[] {
    const names = new Set<string>(['service_name', 'level']);
    for (const f of this.fields(req, access)) if (f.kind === 'resource') names.add(f.name === 'resource.service.name' ? 'service_name' : labelName(f.name.slice(9)));
    return [...names].sort();
  }

  /** Stream labels of a stored record (Loki view). */
  labelsOf(rec: StoredRecord): Record<string, string> {
    return streamLabels(Object.keys(rec.resource).length ? JSON.stringify(rec.resource) : null, rec.severity_number);
  }
}

/** Loki stream labels: resource attributes (sanitized names, string form), `service_name`, `level`. */
export function streamLabels(resourceAttrs: string | null, severity: number): Record<string, string> {
  const out: Record<string, string> = {};
  if (resourceAttrs !== null) {
    const obj = JSON.parse(resourceAttrs) as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue; // JSON scalars only
      out[k === 'service.name' ? 'service_name' : labelName(k)] = String(v);
    }
  }
  if (severity > 0) out.level = severityLevel(severity);
  return out;
}

/** The FROM clause (and the start of WHERE) of a scan of `logs l`, through the full-text index when the plan uses it. */
function matchFrom(plan: { ftsMatch?: string | undefined }): string {
  return plan.ftsMatch !== undefined ? 'fts CROSS JOIN logs l ON l.rowid = fts.rowid WHERE fts MATCH ? AND' : 'logs l WHERE';
}

function tooSlow(ms: number): QueryTooExpensiveError {
  return new QueryTooExpensiveError(`the query ran longer than max_query_time (${ms} ms)`, 'add a word, a service or a severity condition, or narrow start/end');
}

function normalize(r: RawRow): RawRow {
  // safeIntegers gives bigint for every integer column; only the rowid needs it.
  const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  const num = (v: unknown): number => Number(v);
  r.severity = num(r.severity);
  r.resource_id = num(r.resource_id);
  r.scope_id = num(r.scope_id);
  r.retention_days = n(r.retention_days);
  r.flags = n(r.flags);
  r.dropped = n(r.dropped);
  return r;
}

function rowToLogRecord(r: RawRow): LogRecord {
  const attributes: KeyValue[] = decodeAttributes(r.attrs, r.attr_types);
  if (r.correlation_id !== null) attributes.push({ key: 'correlation_id', value: { stringValue: r.correlation_id } });
  if (r.retention_class !== null) attributes.push({ key: 'retention.class', value: { stringValue: r.retention_class } });
  if (r.retention_days !== null) attributes.push({ key: 'retention.days', value: { intValue: r.retention_days } });
  return {
    timeUnixNano: r.t === '0' ? ZERO_NANOS : nanosFromDecimal(r.t),
    observedTimeUnixNano: r.o === '0' ? ZERO_NANOS : nanosFromDecimal(r.o),
    severityNumber: r.severity,
    severityText: r.severity_text ?? '',
    body: r.body_json !== null ? decodeBody(r.body_json) : r.body !== null ? { stringValue: r.body } : null,
    attributes,
    droppedAttributesCount: r.dropped ?? 0,
    flags: r.flags ?? 0,
    traceId: r.trace_id ? idFromHex(r.trace_id, 16) : new Uint8Array(0),
    spanId: r.span_id ? idFromHex(r.span_id, 8) : new Uint8Array(0),
    eventName: r.event_name ?? '',
  };
}

export { LEVEL_NAMES };
