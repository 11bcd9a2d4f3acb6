/**
 * Rotated backups of the file exporter, with lumberjack's naming: `logs.jsonl` rotates to
 * `logs-2024-01-15T10-30-00.000.jsonl` (UTC, or local time with `localtime`), optionally gzip-compressed
 * to `….jsonl.gz`. The "mill" keeps at most `max_backups`, deletes those older than `max_days` and
 * compresses the rest; it runs in the background after each rotation and at start.
 */
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

const DAY_MS = 86_400_000;

export interface BackupPolicy {
  /** Keep at most this many backups (0 = all). */
  maxBackups: number;
  /** Delete backups older than this many days (0 = never). */
  maxDays: number;
  compress: boolean;
  localtime: boolean;
}

export interface BackupFile {
  name: string;
  /** Rotation time from the name, ms since the epoch. */
  time: number;
  compressed: boolean;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `2006-01-02T15-04-05.000` in UTC or local time. */
export function formatBackupTime(ms: number, localtime: boolean): string {
  const d = new Date(ms);
  if (localtime) {
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}-${pad(d.getMinutes())}-${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Names and finds the backups of one log file. Everything path-dependent is computed once here. */
export class BackupSet {
  readonly dir: string;
  private readonly prefix: string;
  private readonly ext: string;
  private readonly pattern: RegExp;

  constructor(readonly filePath: string, private readonly policy: BackupPolicy) {
    this.dir = path.dirname(filePath);
    const base = path.basename(filePath);
    this.ext = path.extname(base);
    this.prefix = `${base.slice(0, base.length - this.ext.length)}-`;
    this.pattern = new RegExp(
      `^${escapeRegExp(this.prefix)}(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2})-(\\d{2})-(\\d{2})\\.(\\d{3})${escapeRegExp(this.ext)}(\\.gz)?$`,
    );
  }

  /** Path for a backup rotated at `ms`, moved forward a millisecond at a time past existing names. */
  async nextBackupPath(ms: number): Promise<string> {
    for (let t = ms; ; t++) {
      const p = path.join(this.dir, `${this.prefix}${formatBackupTime(t, this.policy.localtime)}${this.ext}`);
      if (!(await exists(p)) && !(await exists(`${p}.gz`))) return p;
    }
  }

  /** Parses a directory entry; undefined when it is not one of our backups. */
  parse(name: string): BackupFile | undefined {
    const m = this.pattern.exec(name);
    if (!m) return undefined;
    const [y, mo, d, h, mi, s, ms] = [m[1], m[2], m[3], m[4], m[5], m[6], m[7]].map(Number) as [number, number, number, number, number, number, number];
    const time = this.policy.localtime ? new Date(y, mo - 1, d, h, mi, s, ms).getTime() : Date.UTC(y, mo - 1, d, h, mi, s, ms);
    return { name, time, compressed: m[8] !== undefined };
  }

  /** Backups, newest first. */
  async list(): Promise<BackupFile[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return [];
    }
    const out: BackupFile[] = [];
    for (const n of names) {
      const b = this.parse(n);
      if (b) out.push(b);
    }
    return out.sort((a, b) => b.time - a.time);
  }

  /** One pass of the mill: enforce max_backups and max_days, then compress. Returns deleted names. */
  async mill(now: number): Promise<string[]> {
    // A backup and its .gz (left by an interrupted compression) count as one, as in lumberjack.
    const groups = new Map<string, BackupFile[]>();
    for (const b of await this.list()) {
      const key = b.compressed ? b.name.slice(0, -3) : b.name;
      const g = groups.get(key);
      if (g) g.push(b);
      else groups.set(key, [b]);
    }
    const { maxBackups, maxDays, compress } = this.policy;
    const removed: string[] = [];
    let index = 0;
    for (const [key, files] of groups) {
      const tooMany = maxBackups > 0 && index >= maxBackups;
      const tooOld = maxDays > 0 && files[0]!.time < now - maxDays * DAY_MS;
      index++;
      if (tooMany || tooOld) {
        for (const f of files) {
          await fsp.rm(path.join(this.dir, f.name), { force: true });
          removed.push(f.name);
        }
      } else if (compress && files.some((f) => !f.compressed)) {
        await gzipFile(path.join(this.dir, key));
      }
    }
    return removed;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Compresses `src` to `src.gz` and removes `src`; a half-written .gz is removed on failure. */
export async function gzipFile(src: string): Promise<void> {
  const dst = `${src}.gz`;
  try {
    await pipeline(createReadStream(src), createGzip(), createWriteStream(dst));
  } catch (err) {
    await fsp.rm(dst, { force: true }).catch(() => {});
    throw err;
  }
  await fsp.rm(src, { force: true });
}
