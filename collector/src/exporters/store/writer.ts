/**
 * The store's write side (runs in the writer worker; plain synchronous code so tests can run it in
 * process). One transaction per day file per batch: rows, FTS entries, the per-minute rollup, field names
 * and retention-class counts commit together.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { F, STRIDE, tenantDirName, type FlatTenantBatch, type FlatValue } from './encode.js';
import { ddl, registerFunctions, type Db } from './schema.js';

export interface WriterOptions {
  readonly directory: string;
  readonly tokenizer: 'unicode61' | 'trigram';
  readonly synchronous: 'normal' | 'full';
  /** Open day files kept (the rest are closed, least recently used first). */
  readonly maxOpenFiles: number;
  /** Days for records without `retention.days`. */
  readonly defaultDays: number;
  /** Called when a damaged day file was moved aside (to `aside`) and replaced by a fresh one. */
  readonly onCorrupt?: ((file: string, aside: string) => void) | undefined;
}

interface OpenFile {
  readonly db: Db;
  readonly path: string;
  readonly resourceIds: Map<string, number>;
  readonly scopeIds: Map<string, number>;
  readonly insertLog: Database.Statement;
  readonly insertFts: Database.Statement;
  readonly insertResource: Database.Statement;
  readonly insertScope: Database.Statement;
  readonly upsertRollup: Database.Statement;
  readonly insertField: Database.Statement;
  readonly upsertClass: Database.Statement;
  k: number;
  /** Input µs of the last row, and the µs/k it was stored under. */
  lastInUs: number;
  lastUs: number;
  lastK: number;
}

export interface WriteResult {
  readonly records: number;
  readonly files: number;
  /** Row ids per tenant batch, in the batch's row order (for live tail ids that resume from the store). */
  readonly rids: BigInt64Array[];
}

function isPkConflict(err: unknown): boolean {
  const code = err instanceof Error ? (err as { code?: string }).code : undefined;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_ROWID';
}

export class StoreWriter {
  private readonly open = new Map<string, OpenFile>();

  constructor(private readonly options: WriterOptions) {
    fs.mkdirSync(options.directory, { recursive: true });
  }

  filePath(tenant: string, day: string): string {
    return path.join(this.options.directory, tenantDirName(tenant), `${day}.db`);
  }

  private openFile(tenant: string, day: string): OpenFile {
    const p = this.filePath(tenant, day);
    let f = this.open.get(p);
    if (f) {
      // A day file deleted under us (by hand, or by retention in another process): reopen a fresh one.
      if (fs.existsSync(p)) {
        this.open.delete(p);
        this.open.set(p, f); // most recently used last
        return f;
      }
      this.closeFile(p);
    }
    fs.mkdirSync(path.dirname(p), { recursive: true });
    let db: Db;
    try {
      db = this.initDb(p);
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!/^SQLITE_(NOTADB|CORRUPT)/.test(code)) throw err;
      // A damaged day file is set aside (kept for an operator, never deleted) and a fresh one started,
      // so new records are not refused because of old damage.
      const aside = `${p}.corrupt-${Date.now()}`;
      for (const suffix of ['', '-wal', '-shm']) if (fs.existsSync(p + suffix)) fs.renameSync(p + suffix, aside + suffix);
      this.options.onCorrupt?.(p, aside);
      db = this.initDb(p);
    }
    const resourceIds = new Map<string, number>();
    for (const r of db.prepare('SELECT id, attrs, types FROM resources').all() as { id: number; attrs: string | null; types: string | null }[]) resourceIds.set(`${r.attrs}\u0000${r.types}`, r.id);
    const scopeIds = new Map<string, number>();
    for (const s of db.prepare('SELECT id, name, version, attrs, types FROM scopes').all() as { id: number; name: string; version: string; attrs: string | null; types: string | null }[]) {
      scopeIds.set(`${s.name}\u0000${s.version}\u0000${s.attrs}\u0000${s.types}`, s.id);
    }
    f = {
      db, path: p, resourceIds, scopeIds,
      insertLog: db.prepare(`INSERT INTO logs(rowid, time_ns, observed_ns, severity, severity_text, body, body_json, resource_id, scope_id, attrs, attr_types, trace_id, span_id, correlation_id, retention_class, retention_days, flags, event_name, dropped)
        VALUES (CAST(? AS INTEGER) * 1024 + CAST(? AS INTEGER), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, unhex(?), unhex(?), ?, ?, ?, ?, ?, ?)`),
      insertFts: db.prepare('INSERT INTO fts(rowid, body, attrs) VALUES (last_insert_rowid(), ?, ?)'),
      insertResource: db.prepare('INSERT INTO resources(service, attrs, types) VALUES (?, ?, ?)'),
      insertScope: db.prepare('INSERT INTO scopes(name, version, attrs, types) VALUES (?, ?, ?, ?)'),
      upsertRollup: db.prepare('INSERT INTO rollup(minute, service, severity, count) VALUES (?, ?, ?, ?) ON CONFLICT(minute, service, severity) DO UPDATE SET count = count + excluded.count'),
      insertField: db.prepare('INSERT OR IGNORE INTO fields(kind, key) VALUES (?, ?)'),
      upsertClass: db.prepare('INSERT INTO classes(class, days, count) VALUES (?, ?, ?) ON CONFLICT(class) DO UPDATE SET days = max(days, excluded.days), count = count + excluded.count'),
      k: Math.floor(Math.random() * 1024),
      lastInUs: -1,
      lastUs: -1,
      lastK: 0,
    };
    this.open.set(p, f);
    while (this.open.size > this.options.maxOpenFiles) this.closeFile(this.open.keys().next().value as string);
    return f;
  }

  private initDb(p: string): Db {
    const db = new Database(p);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('busy_timeout = 5000');
      db.exec(ddl(this.options.tokenizer));
      registerFunctions(db);
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  closeFile(p: string): void {
    const f = this.open.get(p);
    if (!f) return;
    this.open.delete(p);
    try {
      f.db.close();
    } catch {
      // already closed or broken: nothing to flush
    }
  }

  /** Closes every open file whose path starts with `prefix` (before retention or archival touches them). */
  closeMatching(pred: (p: string) => boolean): void {
    for (const p of [...this.open.keys()]) if (pred(p)) this.closeFile(p);
  }

  /** Writes a flattened batch. Throws on a database error (the caller decides retryable vs permanent). */
  write(batches: readonly FlatTenantBatch[]): WriteResult {
    let records = 0;
    let files = 0;
    const rids: BigInt64Array[] = [];
    for (const tb of batches) {
      const rows = tb.rows;
      const n = rows.length / STRIDE;
      const ids = new BigInt64Array(n);
      rids.push(ids);
      // Records of a batch usually share one day; group indexes by day without copying rows.
      const byDay = new Map<string, number[]>();
      for (let i = 0; i < n; i++) {
        const day = rows[i * STRIDE + F.day] as string;
        let list = byDay.get(day);
        if (!list) byDay.set(day, (list = []));
        list.push(i);
      }
      for (const [day, idx] of byDay) {
        this.writeDay(this.openFile(tb.tenant, day), tb, idx, ids);
        records += idx.length;
        files++;
      }
    }
    return { records, files, rids };
  }

  private writeDay(f: OpenFile, tb: FlatTenantBatch, idx: readonly number[], ids: BigInt64Array): void {
    const rows = tb.rows;
    const resIds = new Map<number, number>();
    const scopeIds = new Map<number, number>();
    const rollup = new Map<string, number>();
    const classes = new Map<string, [number, number]>();
    const defaultDays = this.options.defaultDays;
    const tx = f.db.transaction(() => {
      for (let j = 0; j < idx.length; j++) {
        const o = idx[j]! * STRIDE;
        const ri = rows[o + F.resource] as number;
        let rid = resIds.get(ri);
        if (rid === undefined) {
          const r = tb.resources[ri]!;
          const key = `${r.attrs}\u0000${r.types}`;
          rid = f.resourceIds.get(key);
          if (rid === undefined) {
            rid = Number(f.insertResource.run(r.service, r.attrs, r.types).lastInsertRowid);
            f.resourceIds.set(key, rid);
          }
          resIds.set(ri, rid);
        }
        const si = rows[o + F.scope] as number;
        let sid = scopeIds.get(si);
        if (sid === undefined) {
          const s = tb.scopes[si]!;
          const key = `${s.name}\u0000${s.version}\u0000${s.attrs}\u0000${s.types}`;
          sid = f.scopeIds.get(key);
          if (sid === undefined) {
            sid = Number(f.insertScope.run(s.name, s.version, s.attrs, s.types).lastInsertRowid);
            f.scopeIds.set(key, sid);
          }
          scopeIds.set(si, sid);
        }
        ids[idx[j]!] = this.insertRow(f, rows, o, rid, sid);
        const sev = rows[o + F.severity] as number;
        const service = tb.resources[ri]!.service ?? '';
        const minute = Math.floor((rows[o + F.rowUs] as number) / 60_000_000);
        const rk = `${minute}\u0000${sev}\u0000${service}`;
        rollup.set(rk, (rollup.get(rk) ?? 0) + 1);
        const cls = (rows[o + F.retentionClass] as string | null) ?? '';
        const days = (rows[o + F.retentionDays] as number | null) ?? defaultDays;
        const c = classes.get(cls);
        if (c) {
          c[0] = Math.max(c[0], days < 0 ? Infinity : days);
          c[1]++;
        } else classes.set(cls, [days < 0 ? Infinity : days, 1]);
      }
      for (const [k, count] of rollup) {
        const a = k.indexOf('\u0000');
        const b = k.indexOf('\u0000', a + 1);
        f.upsertRollup.run(Number(k.slice(0, a)), k.slice(b + 1), Number(k.slice(a + 1, b)), count);
      }
      for (const key of tb.attrKeys) f.insertField.run('attr', key);
      for (const key of tb.resourceKeys) f.insertField.run('resource', key);
      for (const [cls, [days, count]] of classes) f.upsertClass.run(cls, days === Infinity ? -1 : days, count);
    });
    tx.immediate();
  }

  private insertRow(f: OpenFile, rows: readonly FlatValue[], o: number, rid: number, sid: number): bigint {
    let us = rows[o + F.rowUs] as number;
    let k: number;
    if (us === f.lastInUs) {
      // A run of records in one microsecond takes consecutive k, spilling into the next microsecond.
      us = f.lastUs;
      k = f.lastK + 1;
      if (k > 1023) {
        us++;
        k = 0;
      }
    } else {
      f.lastInUs = us;
      k = f.k;
      f.k = (f.k + 1) & 1023;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        f.insertLog.run(
          us, k,
          rows[o + F.timeNs], rows[o + F.observedNs], rows[o + F.severity], rows[o + F.severityText],
          rows[o + F.body], rows[o + F.bodyJson], rid, sid, rows[o + F.attrs], rows[o + F.attrTypes],
          rows[o + F.traceId], rows[o + F.spanId], rows[o + F.correlationId], rows[o + F.retentionClass],
          rows[o + F.retentionDays], rows[o + F.flags], rows[o + F.eventName], rows[o + F.dropped],
        );
        break;
      } catch (err) {
        // Same microsecond and k as a stored row (e.g. after a restart): another k, then the next microsecond.
        if (!isPkConflict(err) || attempt > 4096) throw err;
        k = Math.floor(Math.random() * 1024);
        if (attempt % 8 === 7) us++;
      }
    }
    f.lastUs = us;
    f.lastK = k;
    f.insertFts.run(rows[o + F.body], rows[o + F.ftsAttrs]);
    return BigInt(us) * 1024n + BigInt(k);
  }

  /** Checkpoints and closes every file (shutdown). */
  close(): void {
    for (const p of [...this.open.keys()]) {
      const f = this.open.get(p);
      try {
        f?.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // best effort: WAL is replayed on next open anyway
      }
      this.closeFile(p);
    }
  }
}
