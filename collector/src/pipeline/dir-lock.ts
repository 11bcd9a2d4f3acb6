/**
 * One process per disk-queue directory. Two collectors appending to, compacting and truncating the same
 * segments lose acknowledged data, so the directory is locked while a queue is open: a `LOCK` file
 * created exclusively (`wx`) holding `<pid> <start time> <token>`. A lock whose process is gone (or whose
 * pid now belongs to another process, or to this one after a restart in a fresh pid namespace) is stale
 * and taken over. The file is removed on release (only if it is still ours) and, as a last resort, when
 * the process exits.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'LOCK';

/** Another live process holds the directory. */
export class DirectoryLockedError extends Error {
  override name = 'DirectoryLockedError';
  constructor(readonly directory: string, readonly pid: number) {
    super(`disk queue directory ${directory} is in use by another collector (pid ${pid}; lock file ${join(directory, LOCK_FILE)}): two processes on one queue directory would lose data; give each its own file_storage directory`);
  }
}

/** Locks taken by this module instance (path → content): removed on exit even when release() never ran. */
const held = new Map<string, string>();
let exitHook = false;

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22); undefined off Linux. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const selfStart = startTimeOf(process.pid);

/** The pid of the process the lock content names, if that process still runs and is not a recycled pid. */
function holderOf(content: string): number | undefined {
  const [pidText, start] = content.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined; // torn or empty: stale
  if (pid === process.pid) {
    // This process (another thread or component) holds it; a previous run with the same pid (a
    // restarted container) has another start time, or none known: stale.
    return start !== undefined && start !== '' && start === selfStart ? pid : undefined;
  }
  if (!alive(pid)) return undefined;
  if (start !== undefined && start !== '') {
    const now = startTimeOf(pid);
    if (now !== undefined && now !== start) return undefined; // pid reused by another process
  }
  return pid;
}

export interface DirLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Locks `directory` (which must exist) for this process; throws DirectoryLockedError when held. */
export async function lockDirectory(directory: string): Promise<DirLock> {
  const path = join(directory, LOCK_FILE);
  const content = `${process.pid} ${selfStart ?? ''} ${randomBytes(8).toString('hex')}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(content);
      } finally {
        await fh.close();
      }
      held.set(path, content);
      if (!exitHook) {
        exitHook = true;
        process.on('exit', () => {
          for (const [p, c] of held) {
            try {
              if (readFileSync(p, 'utf8') === c) unlinkSync(p);
            } catch {
              // already gone
            }
          }
        });
      }
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          held.delete(path);
          // Only our own lock: a holder that took over a lock it judged stale keeps its file.
          const now = await readFile(path, 'utf8').catch(() => undefined);
          if (now === content) await unlink(path).catch(() => undefined);
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let existing: string;
    try {
      existing = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw e;
    }
    const pid = holderOf(existing);
    if (pid !== undefined) throw new DirectoryLockedError(directory, pid);
    // Stale: remove it and try again (another starter racing us may win; then it is held).
    await unlink(path).catch(() => undefined);
  }
  throw new Error(`disk queue directory ${directory}: cannot take the lock file ${path} (it keeps reappearing)`);
}
