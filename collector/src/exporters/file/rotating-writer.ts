/**
 * Appends lines to a file with group commit: one write in flight at a time; lines offered meanwhile
 * are concatenated and written together as soon as it completes. `write()` resolves when its bytes
 * are in the OS (not necessarily on disk: an fdatasync runs every `flushIntervalMs` when something was
 * written, or after every write when it is 0). Rotates by size (lumberjack semantics) and, optionally,
 * when the date changes. Only the write loop touches the file descriptor, so rotation, fsync and
 * writes never race.
 */
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { BackupSet } from './backups.js';

export interface RotatingWriterOptions {
  path: string;
  /** Keep existing content at open (true) or truncate it (false). */
  append: boolean;
  /** Rotate before a write would make the file larger than this (0 = never by size). */
  maxBytes: number;
  /** Rotate when the date (UTC, or local with `localtime`) changes. */
  daily: boolean;
  maxBackups: number;
  maxDays: number;
  localtime: boolean;
  compress: boolean;
  /** How often to fdatasync when something was written (0 = after every write, before acknowledging). */
  flushIntervalMs: number;
  /** Wall clock in ms (rotation times and names); Date.now by default. */
  now?: () => number;
  /** Reports failures of background work (compression, cleanup, periodic fsync). */
  onBackgroundError?: (what: string, err: unknown) => void;
}

/** Lines waiting for the next write, and the promise all their senders wait on. */
interface Group {
  /** Encoded chunks in order; written with one writev. */
  chunks: Buffer[];
  bytes: number;
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { chunks: [], bytes: 0, promise, resolve, reject };
}

/** A filesystem failure with the file it concerns. */
export class FileWriteError extends Error {
  override name = 'FileWriteError';
  constructor(readonly action: string, readonly filePath: string, readonly code: string, cause: unknown) {
    super(`${action} ${filePath} failed: ${code}${cause instanceof Error ? ` (${cause.message})` : ''}`, { cause });
  }
}

function codeOf(err: unknown): string {
  const c = (err as NodeJS.ErrnoException | null)?.code;
  return typeof c === 'string' ? c : 'EUNKNOWN';
}

const NEWLINE = Buffer.from('\n');

/** Whether the file's last byte (at size - 1) is a newline. */
function endsWithNewline(file: string, size: number): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    fs.closeSync(fd);
  }
}
/** writev takes at most IOV_MAX (1024 on Linux) buffers per call. */
const IOV_MAX = 1024;

export class RotatingFileWriter {
  readonly filePath: string;
  private readonly backups: BackupSet;
  private readonly now: () => number;
  private fd: number | undefined;
  private size = 0;
  private dirty = false;
  private nextDayAt = Infinity;
  private pending: Group | undefined;
  private running = false;
  private syncWanted = false;
  private closed = false;
  private opened = false;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Background mill runs, chained so they never overlap. */
  private mill: Promise<void> = Promise.resolve();

  constructor(private readonly options: RotatingWriterOptions) {
    this.filePath = path.resolve(options.path);
    this.now = options.now ?? Date.now;
    this.backups = new BackupSet(this.filePath, {
      maxBackups: options.maxBackups,
      maxDays: options.maxDays,
      compress: options.compress,
      localtime: options.localtime,
    });
  }

  /** Creates parent directories, opens (truncating unless `append`), starts the fsync timer. */
  async open(): Promise<void> {
    await this.openFile();
    if (this.options.flushIntervalMs > 0 && this.timer === undefined) {
      this.timer = setInterval(() => this.requestSync(), this.options.flushIntervalMs);
      this.timer.unref();
    }
    if (this.options.maxBytes > 0 || this.options.daily) this.runMill();
  }

  /** Appends `line` and a newline. Resolves once written to the OS; rejects with FileWriteError. */
  write(line: string): Promise<void> {
    const buf = Buffer.from(line, 'utf8');
    return this.writeChunks([buf, NEWLINE]);
  }

  /**
   * Appends already encoded chunks (the caller ends them with a newline). Encoding a line in pieces
   * avoids building, flattening and converting one huge string per batch.
   */
  writeChunks(chunks: readonly Buffer[]): Promise<void> {
    if (this.closed) return Promise.reject(new FileWriteError('write to', this.filePath, 'ECLOSED', new Error('writer is closed')));
    let g = this.pending;
    if (g === undefined) g = this.pending = newGroup();
    for (let i = 0; i < chunks.length; i++) {
      g.chunks.push(chunks[i]!);
      g.bytes += chunks[i]!.length;
    }
    if (!this.running) void this.run();
    return g.promise;
  }

  /** Bytes in the current file. */
  get currentSize(): number {
    return this.size;
  }

  /** Waits until everything offered so far is written and fdatasync'ed. */
  async flush(): Promise<void> {
    this.syncWanted = true;
    if (!this.running) void this.run();
    await this.idle();
  }

  /** Writes what is pending, fsyncs, closes, and waits for background compression/cleanup. */
  async close(): Promise<void> {
    if (this.closed) return this.mill;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) {
      await new Promise<void>((res, rej) => fs.close(fd, (err) => (err ? rej(new FileWriteError('close', this.filePath, codeOf(err), err)) : res())));
    }
    await this.mill;
  }

  /** Resolves when background compression/cleanup scheduled so far is done (tests, shutdown). */
  backgroundIdle(): Promise<void> {
    return this.mill;
  }

  private requestSync(): void {
    if (!this.dirty || this.closed) return;
    this.syncWanted = true;
    if (!this.running) void this.run();
  }

  private idle(): Promise<void> {
    if (!this.running && this.pending === undefined && !this.syncWanted) return Promise.resolve();
    return new Promise<void>((res) => this.idleWaiters.push(res));
  }

  /** The write loop: the only code that uses the descriptor after open. */
  private async run(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        const g = this.pending;
        if (g !== undefined) {
          this.pending = undefined;
          await this.writeGroup(g);
          continue;
        }
        if (this.syncWanted) {
          this.syncWanted = false;
          try {
            await this.sync();
          } catch (err) {
            this.options.onBackgroundError?.(`fsync ${this.filePath}`, err);
          }
          continue;
        }
        break;
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async writeGroup(g: Group): Promise<void> {
    try {
      const { chunks, bytes } = g;
      g.chunks = [];
      if (this.fd === undefined) await this.openFile();
      await this.rotateIfNeeded(bytes);
      this.writeAll(chunks, bytes);
      if (this.options.flushIntervalMs === 0) await this.sync();
      g.resolve();
    } catch (err) {
      g.reject(err instanceof FileWriteError ? err : new FileWriteError('write to', this.filePath, codeOf(err), err));
    }
  }

  /**
   * Synchronous on purpose: the caller's promise then settles in the same turn as the write, so a
   * receiver that saves its position once a batch is accepted (filelog) does so with no event-loop
   * turn in between, and a crash between "in the file" and "position saved" is as unlikely as it gets.
   * Page-cache writes of a batch take a few milliseconds; fdatasync stays asynchronous.
   */
  private writeAll(chunks: Buffer[], bytes: number): void {
    const fd = this.fd!;
    let off = 0;
    try {
      let i = 0;
      while (i < chunks.length) {
        const slice = chunks.slice(i, i + IOV_MAX);
        let want = 0;
        for (const c of slice) want += c.length;
        let n = fs.writevSync(fd, slice);
        off += n;
        if (n === want) {
          i += slice.length;
          continue;
        }
        // A short write: drop the fully written chunks and the written head of the next one.
        while (n >= chunks[i]!.length) n -= chunks[i++]!.length;
        chunks[i] = chunks[i]!.subarray(n);
      }
    } catch (err) {
      // Remove a partly written group so a retried batch does not leave a broken line behind.
      if (off > 0) {
        try {
          fs.ftruncateSync(fd, this.size);
        } catch {
          // the write error below says what went wrong
        }
      }
      throw new FileWriteError('write to', this.filePath, codeOf(err), err);
    }
    this.size += bytes;
    this.dirty = true;
  }

  private async sync(): Promise<void> {
    if (this.fd === undefined || !this.dirty) return;
    const fd = this.fd;
    this.dirty = false;
    await new Promise<void>((res, rej) =>
      fs.fdatasync(fd, (err) => (err ? rej(new FileWriteError('fsync', this.filePath, codeOf(err), err)) : res())),
    );
  }

  private async openFile(): Promise<void> {
    const truncate = !this.opened && !this.options.append;
    try {
      await fsp.mkdir(path.dirname(this.filePath), { recursive: true });
      // O_APPEND always: writes land at the end even after a truncate that undoes a partial write.
      const fd = await new Promise<number>((res, rej) => fs.open(this.filePath, 'a', 0o644, (err, d) => (err ? rej(err) : res(d))));
      try {
        if (truncate) await new Promise<void>((res, rej) => fs.ftruncate(fd, 0, (err) => (err ? rej(err) : res())));
        const st = await new Promise<fs.Stats>((res, rej) => fs.fstat(fd, (err, s) => (err ? rej(err) : res(s))));
        this.size = st.isFile() ? st.size : 0;
        // A line torn by a crash (SIGKILL mid-write) must not swallow the next line written here.
        if (this.size > 0 && !endsWithNewline(this.filePath, this.size)) {
          fs.writeSync(fd, NEWLINE);
          this.size += 1;
        }
      } catch (err) {
        fs.close(fd, () => {});
        throw err;
      }
      this.fd = fd;
      this.opened = true;
      this.dirty = false;
      this.nextDayAt = this.options.daily ? this.nextDayBoundary(this.now()) : Infinity;
    } catch (err) {
      throw new FileWriteError('open', this.filePath, codeOf(err), err);
    }
  }

  private nextDayBoundary(ms: number): number {
    const d = new Date(ms);
    if (this.options.localtime) d.setHours(24, 0, 0, 0);
    else d.setUTCHours(24, 0, 0, 0);
    return d.getTime();
  }

  private async rotateIfNeeded(incoming: number): Promise<void> {
    const max = this.options.maxBytes;
    const bySize = max > 0 && this.size > 0 && this.size + incoming > max;
    let byDay = false;
    if (this.nextDayAt !== Infinity) {
      const now = this.now();
      if (now >= this.nextDayAt) {
        byDay = this.size > 0;
        if (!byDay) this.nextDayAt = this.nextDayBoundary(now);
      }
    }
    if (bySize || byDay) await this.rotate();
  }

  private async rotate(): Promise<void> {
    const fd = this.fd!;
    this.fd = undefined;
    await this.sync().catch(() => {});
    await new Promise<void>((res) => fs.close(fd, () => res()));
    let backup: string;
    try {
      backup = await this.backups.nextBackupPath(this.now());
      await fsp.rename(this.filePath, backup);
    } catch (err) {
      // The file was moved away by someone else: nothing to keep, start a new one.
      if (codeOf(err) !== 'ENOENT') throw new FileWriteError('rotate', this.filePath, codeOf(err), err);
    }
    await this.openFile();
    this.runMill();
  }

  private runMill(): void {
    this.mill = this.mill
      .then(() => this.backups.mill(this.now()))
      .then(
        () => undefined,
        (err: unknown) => this.options.onBackgroundError?.(`rotating backups of ${this.filePath}`, err),
      );
  }
}
