/**
 * Retention, archival and the size cap, run by the writer worker on a timer (never on the write path):
 * - a day file whose every retention class has expired is deleted whole;
 * - an expired class inside a file that must stay is deleted in chunks of rows (off the hot path);
 * - `archive.after`: a closed day file is checkpointed, gzipped to `<day>.db.gz` (with its class list in
 *   `<day>.classes.json`) and removed;
 * - `max_size`: while a tenant's files exceed it, the oldest day goes first.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { listDays, listTenants, fileBytes, removeDayFile, type DayFile } from './schema.js';
import { tenantDirName } from './encode.js';

export interface MaintenanceOptions {
  readonly directory: string;
  readonly defaultDays: number;
  /** Archive day files older than this many ms (0 = never). */
  readonly archiveAfterMs: number;
  /** Bytes per tenant (0 = no cap). */
  readonly maxSizeBytes: number;
}

export interface MaintenanceEvent {
  readonly action: 'expired_file' | 'expired_class' | 'archived' | 'size_cap';
  readonly tenant: string;
  readonly day: string;
  readonly records: number;
  readonly bytes: number;
  readonly class?: string | undefined;
}

const DAY_MS = 86_400_000;

function classesOf(f: DayFile): { class: string; days: number; count: number }[] {
  if (f.archived) {
    try {
      return JSON.parse(fs.readFileSync(f.path.replace(/\.db\.gz$/, '.classes.json'), 'utf8')) as { class: string; days: number; count: number }[];
    } catch {
      return [];
    }
  }
  const db = new Database(f.path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT class, days, count FROM classes').all() as { class: string; days: number; count: number }[];
  } finally {
    db.close();
  }
}

/**
 * One pass. `release(path)` closes the writer's (and readers') handles on a file before it is changed.
 * Returns what it did, for logs and metrics.
 */
export async function runMaintenance(o: MaintenanceOptions, nowMs: number, release: (p: string) => void): Promise<MaintenanceEvent[]> {
  const events: MaintenanceEvent[] = [];
  const today = new Date(nowMs).toISOString().slice(0, 10);
  for (const tenant of listTenants(o.directory)) {
    const dir = path.join(o.directory, tenantDirName(tenant));
    for (const f of listDays(dir, tenant)) {
      const dayEnd = Date.parse(`${f.day}T00:00:00Z`) + DAY_MS;
      let classes: { class: string; days: number; count: number }[];
      try {
        classes = classesOf(f);
      } catch {
        continue; // unreadable: left for an operator, never deleted blindly
      }
      const expired = (days: number): boolean => days >= 0 && dayEnd + days * DAY_MS <= nowMs;
      if (classes.length > 0 && classes.every((c) => expired(c.days))) {
        const bytes = fileBytes(f.path);
        release(f.path);
        removeDayFile(f.path);
        events.push({ action: 'expired_file', tenant, day: f.day, records: classes.reduce((n, c) => n + c.count, 0), bytes });
        continue;
      }
      if (!f.archived) {
        for (const c of classes) {
          if (c.count === 0 || !expired(c.days)) continue;
          release(f.path);
          const n = deleteClass(f.path, c.class);
          events.push({ action: 'expired_class', tenant, day: f.day, records: n, bytes: 0, class: c.class || undefined });
        }
      }
      if (!f.archived && o.archiveAfterMs > 0 && f.day < today && dayEnd + o.archiveAfterMs <= nowMs) {
        release(f.path);
        const bytes = await archive(f.path, classes);
        events.push({ action: 'archived', tenant, day: f.day, records: classes.reduce((n, c) => n + c.count, 0), bytes });
      }
    }
    if (o.maxSizeBytes > 0) {
      let days = listDays(dir, tenant);
      let total = days.reduce((n, f) => n + fileBytes(f.path), 0);
      // Never delete today's file for size: it is the one being written.
      while (total > o.maxSizeBytes && days.length > 0 && days[0]!.day < today) {
        const f = days[0]!;
        const bytes = fileBytes(f.path);
        let records = 0;
        try {
          records = classesOf(f).reduce((n, c) => n + c.count, 0);
        } catch {
          // counted as 0
        }
        release(f.path);
        removeDayFile(f.path);
        events.push({ action: 'size_cap', tenant, day: f.day, records, bytes });
        total -= bytes;
        days = days.slice(1);
      }
    }
  }
  return events;
}

function deleteClass(p: string, cls: string): number {
  const db = new Database(p, { fileMustExist: true });
  let total = 0;
  try {
    db.pragma('busy_timeout = 5000');
    // Row ids exceed 2^53: read them as bigint or the deletes would miss.
    const pick = (cls === '' ? db.prepare('SELECT rowid AS r FROM logs WHERE retention_class IS NULL LIMIT 5000') : db.prepare('SELECT rowid AS r FROM logs WHERE retention_class = ? LIMIT 5000')).safeIntegers(true);
    const delLog = db.prepare('DELETE FROM logs WHERE rowid = ?');
    const delFts = db.prepare('DELETE FROM fts WHERE rowid = ?');
    for (;;) {
      const ids = (cls === '' ? pick.all() : pick.all(cls)) as { r: bigint }[];
      if (ids.length === 0) break;
      db.transaction(() => {
        for (const { r } of ids) {
          delLog.run(r);
          delFts.run(r);
        }
      })();
      total += ids.length;
    }
    db.prepare('UPDATE classes SET count = 0 WHERE class = ?').run(cls);
  } finally {
    db.close();
  }
  return total;
}

async function archive(p: string, classes: unknown): Promise<number> {
  const db = new Database(p, { fileMustExist: true });
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
  const gz = `${p}.gz`;
  const tmp = `${gz}.tmp`;
  await pipeline(fs.createReadStream(p), zlib.createGzip({ level: 6 }), fs.createWriteStream(tmp));
  fs.writeFileSync(p.replace(/\.db$/, '.classes.json'), JSON.stringify(classes));
  fs.renameSync(tmp, gz);
  removeDayFile(p);
  // removeDayFile also took the classes file: write it again next to the archive.
  fs.writeFileSync(p.replace(/\.db$/, '.classes.json'), JSON.stringify(classes));
  return fs.statSync(gz).size;
}
