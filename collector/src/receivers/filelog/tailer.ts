/**
 * The file tailer behind `filelog`. Each poll: expand the globs, stat every match, recognise files by
 * device+inode and by fingerprint (their first `fingerprint_size` bytes), read what is new in turns of
 * `read_chunk_size` per file, hand the entries to the pipeline in batches, and save every file's
 * committed offset once the pipeline has taken the batch.
 *
 * Rotation:
 * - rename: same inode under a new name (or under no matched name: the open handle is read to its end);
 * - copytruncate: same inode, size below the offset or first bytes changed → the old state is retired
 *   (kept for fingerprint matching, so the copy continues where we stopped) and the file starts over;
 * - compression: a `.gz` whose decompressed first bytes match a known file continues at its offset.
 * The same matching runs at start against the saved checkpoint, so a file rotated while the collector
 * was down is read to its end and nothing is read twice.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip, type Gunzip } from 'node:zlib';
import fg from 'fast-glob';
import { nowNanos, type KeyValue, type LogRecord } from '@tributary/otlp';
import type { ComponentId } from '../../component.js';
import { errorMessage } from '../../errors.js';
import { RateLimitedLog, type Logger } from '../../telemetry/logger.js';
import type { BoundCounter, Telemetry } from '../../telemetry/metrics.js';
import type { CheckpointStore } from '../common/checkpoint-store.js';
import { compileGoRegex, OperatorChain } from '../common/operators/index.js';
import { batchOf, entriesToBatch, kv, newEntry, stringRecord, type Entry } from '../common/records.js';
import type { ReceiverSink } from '../common/sink.js';
import type { FilelogConfig } from './config.js';

const INDEX_PREFIX = 64;
/** A file not seen for this long (and at least UNSEEN_POLLS polls) is forgotten. */
const FORGET_AFTER_MS = 5 * 60_000;
const UNSEEN_POLLS = 50;
const NO_EXCLUSIONS: ReadonlySet<Tracked> = new Set();

interface Tracked {
  /** `dev:ino` while the file is known on disk; '' once retired. */
  key: string;
  path: string;
  /** Fingerprint bytes; empty for a state restored from a checkpoint until the file is seen again. */
  fp: Buffer;
  fpHash: string;
  fpLen: number;
  /** Committed: everything before it was accepted by the pipeline. Decompressed bytes for gzip. */
  offset: number;
  size: number;
  mtimeMs: number;
  gz: boolean;
  fh: FileHandle | undefined;
  lastSeenPoll: number;
  lastSeenAt: number;
  attrs: KeyValue[];
  /** When an unterminated tail was first seen unchanged (force_flush_period). */
  pendingSince: number;
  pendingSize: number;
  /** truncate mode: skip bytes up to the next newline. */
  skipping: boolean;
  /** Key of the fingerprint index this state is listed under, and the same bytes in base64 for the checkpoint. */
  indexKey: string | undefined;
  p64: string;
  /** gzip: fully read at this (size, mtime). */
  gzDoneSize: number;
}

interface SavedFile { key: string; path: string; fp_hash: string; fp_len: number; p64: string; offset: number; size: number; mtime: number; gz: boolean; gz_done: number }

interface Pending {
  records: LogRecord[];
  entries: Entry[];
  commits: Map<Tracked, number>;
  bytes: number;
}

interface Metrics {
  files: BoundCounter;
  rotations: BoundCounter;
  truncations: BoundCounter;
  oversize: BoundCounter;
  invalidEncoding: BoundCounter;
  openErrors: BoundCounter;
  readErrors: BoundCounter;
  bytesRead: BoundCounter;
  skippedOverLimit: BoundCounter;
  deleted: BoundCounter;
}

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('base64');

export class Tailer {
  private readonly tracked: Tracked[] = [];
  private readonly byKey = new Map<string, Tracked>();
  private readonly index = new Map<string, Tracked[]>();
  private pollNo = 0;
  private openCount = 0;
  private readonly chain: OperatorChain | undefined;
  private readonly startRe: RegExp | undefined;
  private readonly endRe: RegExp | undefined;
  private readonly staticAttrs: KeyValue[];
  private readonly resource: KeyValue[];
  private readonly nl: Buffer;
  private readonly unit: number;
  private readonly decoder: ((b: Buffer, s: number, e: number) => string) | undefined;
  private readonly m: Metrics;
  private readonly warn: RateLimitedLog;
  private readonly errWarn: RateLimitedLog;
  private pending: Pending = { records: [], entries: [], commits: new Map(), bytes: 0 };
  private big: Buffer | undefined;
  private readonly chunk: Buffer;
  private stopped = false;
  /** The set of known files changed since the checkpoint was saved. */
  private dirty = false;

  constructor(
    private readonly id: ComponentId,
    private readonly cfg: FilelogConfig,
    private readonly sink: ReceiverSink,
    private readonly store: CheckpointStore,
    private readonly logger: Logger,
    telemetry: Telemetry,
  ) {
    this.chain = cfg.operators.length > 0 ? new OperatorChain(cfg.operators, id, telemetry, logger) : undefined;
    this.startRe = cfg.multiline?.line_start_pattern !== undefined ? compileGoRegex(cfg.multiline.line_start_pattern) : undefined;
    this.endRe = cfg.multiline?.line_end_pattern !== undefined ? compileGoRegex(cfg.multiline.line_end_pattern) : undefined;
    this.staticAttrs = Object.entries(cfg.attributes).map(([k, v]) => kv(k, v));
    this.resource = Object.entries(cfg.resource).map(([k, v]) => kv(k, v));
    const enc = cfg.encoding;
    this.unit = enc === 'utf-16le' || enc === 'utf-16be' ? 2 : 1;
    this.nl = enc === 'utf-16le' ? Buffer.from([0x0a, 0]) : enc === 'utf-16be' ? Buffer.from([0, 0x0a]) : Buffer.from([0x0a]);
    if (enc === 'utf-16be') {
      const td = new TextDecoder('utf-16be');
      this.decoder = (b, s, e) => td.decode(b.subarray(s, e));
    } else if (enc === 'utf-16le') this.decoder = (b, s, e) => b.toString('utf16le', s, e);
    else if (enc === 'ascii') this.decoder = (b, s, e) => b.toString('ascii', s, e);
    else if (enc === 'latin1' || enc === 'iso-8859-1') this.decoder = (b, s, e) => b.toString('latin1', s, e);
    else if (enc === 'nop') this.decoder = undefined;
    else this.decoder = (b, s, e) => b.toString('utf8', s, e);
    const c = (name: string, help: string): BoundCounter => telemetry.counter(name, help).bind({ receiver: id.id });
    this.m = {
      files: c('tributary_filelog_files_opened_total', 'Files filelog started to track.'),
      rotations: c('tributary_filelog_rotations_total', 'Files found again under another name or compressed (rotation by rename).'),
      truncations: c('tributary_filelog_truncations_total', 'Files found truncated or rewritten in place (copytruncate).'),
      oversize: c('tributary_filelog_oversize_entries_total', 'Entries longer than max_log_size (split or truncated as configured).'),
      invalidEncoding: c('tributary_filelog_invalid_encoding_entries_total', 'Entries with bytes invalid in the configured encoding (replaced by U+FFFD).'),
      openErrors: c('tributary_filelog_open_errors_total', 'Files matched but not readable (permissions, vanished).'),
      readErrors: c('tributary_filelog_read_errors_total', 'Reads that failed (I/O error, corrupt gzip).'),
      bytesRead: c('tributary_filelog_bytes_read_total', 'Bytes read from files (decompressed for gzip).'),
      skippedOverLimit: c('tributary_filelog_files_deferred_total', 'Files left for a later poll because max_concurrent_files handles were open.'),
      deleted: c('tributary_filelog_files_deleted_total', 'Files removed by delete_after_read.'),
    };
    telemetry.gauge('tributary_filelog_files_tracked', 'Files filelog knows (open or not).').track({ receiver: id.id }, () => this.byKey.size);
    telemetry.gauge('tributary_filelog_files_open', 'File handles filelog holds open.').track({ receiver: id.id }, () => this.openCount);
    this.warn = new RateLimitedLog(logger);
    this.errWarn = new RateLimitedLog(logger);
    this.chunk = Buffer.allocUnsafe(cfg.read_chunk_size);
  }

  /** Loads the checkpoint; throws a clear error when it is unreadable. */
  restore(): void {
    const doc = this.store.load() as { version?: number; files?: SavedFile[] } | undefined;
    if (doc === undefined) return;
    if (doc.version !== 1 || !Array.isArray(doc.files)) throw new Error(`filelog ${this.id.id}: checkpoint ${this.store.location} has an unknown format`);
    const now = Date.now();
    for (const f of doc.files) {
      const t: Tracked = {
        key: f.key, path: f.path, fp: Buffer.alloc(0), fpHash: f.fp_hash, fpLen: f.fp_len, offset: f.offset, size: f.size, mtimeMs: f.mtime,
        gz: f.gz, fh: undefined, lastSeenPoll: 0, lastSeenAt: now, attrs: [], pendingSince: 0, pendingSize: -1, skipping: false, gzDoneSize: f.gz_done, indexKey: undefined, p64: '',
      };
      this.addTracked(t, Buffer.from(f.p64, 'base64'));
    }
    this.logger.info('filelog resumed from checkpoint', { files: doc.files.length, checkpoint: this.store.location });
  }

  private addTracked(t: Tracked, prefix: Buffer): void {
    this.dirty = true;
    this.tracked.push(t);
    if (t.key !== '') this.byKey.set(t.key, t);
    this.indexAdd(t, prefix);
  }

  private indexAdd(t: Tracked, prefix: Buffer): void {
    if (prefix.length === 0) return;
    const k = prefix.subarray(0, INDEX_PREFIX).toString('latin1');
    let list = this.index.get(k);
    if (!list) this.index.set(k, (list = []));
    list.push(t);
    t.indexKey = k;
    t.p64 = prefix.subarray(0, INDEX_PREFIX).toString('base64');
  }

  private indexRemove(t: Tracked): void {
    const k = t.indexKey;
    if (k === undefined) return;
    t.indexKey = undefined;
    const list = this.index.get(k);
    if (!list) return;
    const i = list.indexOf(t);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.index.delete(k);
  }

  /** The tracked state whose fingerprint is a prefix of `fp` (longest wins), if any. */
  private findByFingerprint(fp: Buffer, exclude: ReadonlySet<Tracked>): Tracked | undefined {
    let best: Tracked | undefined;
    const check = (list: Tracked[] | undefined): void => {
      if (!list) return;
      for (const t of list) {
        if (exclude.has(t) || t.fpLen === 0 || t.fpLen > fp.length) continue;
        if (best && best.fpLen >= t.fpLen) continue;
        const same = t.fp.length > 0 ? fp.subarray(0, t.fpLen).equals(t.fp) : sha1(fp.subarray(0, t.fpLen)) === t.fpHash;
        if (same) best = t;
      }
    };
    // Every tracked state is indexed under its first min(64, fpLen) bytes.
    for (let n = Math.min(INDEX_PREFIX, fp.length); n >= 1; n--) {
      check(this.index.get(fp.subarray(0, n).toString('latin1')));
      if (n < INDEX_PREFIX && best) break;
    }
    return best;
  }

  private setFingerprint(t: Tracked, fp: Buffer): void {
    this.indexRemove(t);
    t.fp = Buffer.from(fp);
    t.fpLen = fp.length;
    t.fpHash = sha1(fp);
    this.indexAdd(t, t.fp);
  }

  private attrsFor(p: string): KeyValue[] {
    const out: KeyValue[] = [];
    if (this.cfg.include_file_name) out.push(kv('log.file.name', path.basename(p)));
    if (this.cfg.include_file_path) out.push(kv('log.file.path', p));
    if (this.cfg.include_file_name_resolved || this.cfg.include_file_path_resolved) {
      let real = p;
      try {
        real = fs.realpathSync(p);
      } catch {
        // vanished: keep the matched path
      }
      if (this.cfg.include_file_name_resolved) out.push(kv('log.file.name_resolved', path.basename(real)));
      if (this.cfg.include_file_path_resolved) out.push(kv('log.file.path_resolved', real));
    }
    out.push(...this.staticAttrs);
    return out;
  }

  private isGz(p: string): boolean {
    return this.cfg.compression === 'gzip' || (this.cfg.compression === 'auto' && p.endsWith('.gz'));
  }

  /** One poll: find, match, read to the end in fair turns, commit. */
  async poll(): Promise<void> {
    const first = this.pollNo === 0;
    const pollNo = ++this.pollNo;
    const now = Date.now();
    let paths: string[];
    try {
      paths = await fg(this.cfg.include, { ignore: this.cfg.exclude, absolute: true, onlyFiles: true, dot: true, suppressErrors: true, followSymbolicLinks: true, unique: true });
    } catch (e) {
      this.errWarn.warn('filelog: glob failed', { error: errorMessage(e) });
      return;
    }
    paths.sort();
    this.logger.debug('filelog poll', { poll: pollNo, paths: paths.length, tracked: this.tracked.length });
    const seenKeys = new Set<string>();
    const fresh: { p: string; st: fs.Stats; key: string }[] = [];
    const toRead: Tracked[] = [];
    // Phase 1: files we know by inode (renames land here; truncation detected here, before copies are matched).
    for (const p of paths) {
      let st: fs.Stats;
      try {
        st = await fs.promises.stat(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.openError(p, e);
        continue;
      }
      if (!st.isFile()) continue;
      const key = `${st.dev}:${st.ino}`;
      if (seenKeys.has(key)) continue; // two names (hard links, symlink) for one file
      seenKeys.add(key);
      const t = this.byKey.get(key);
      if (!t) {
        fresh.push({ p, st, key });
        continue;
      }
      if (t.path !== p) {
        this.logger.debug('filelog: file renamed', { from: t.path, to: p });
        t.path = p;
        t.attrs = this.attrsFor(p);
        this.m.rotations.add(1);
      }
      if (t.attrs.length === 0 && (this.cfg.include_file_name || this.cfg.include_file_path || this.staticAttrs.length > 0)) t.attrs = this.attrsFor(p);
      t.lastSeenPoll = pollNo;
      t.lastSeenAt = now;
      if (t.gz !== this.isGz(p)) {
        // Same inode, now compressed in place is impossible (gzip writes a new file); a plain file renamed to .gz is read as gzip from here.
        t.gz = this.isGz(p);
      }
      if (t.gz) {
        if (t.gzDoneSize === st.size && t.mtimeMs === st.mtimeMs) continue;
        t.size = st.size;
        t.mtimeMs = st.mtimeMs;
        toRead.push(t);
        continue;
      }
      const changed = st.size !== t.size || st.mtimeMs !== t.mtimeMs;
      if (!changed && st.size === t.offset && t.fh === undefined) continue;
      if (!(await this.ensureOpen(t))) continue;
      if (st.size < t.offset || (changed && !(await this.sameStart(t)))) {
        // copytruncate (or rewritten in place): keep the old state for the copy, start this file over.
        this.m.truncations.add(1);
        this.logger.debug('filelog: file truncated or rewritten; starting it over', { path: p, offset: t.offset, size: st.size });
        const fh = t.fh;
        t.fh = undefined;
        this.retire(t);
        const nt = this.newTracked(key, p, 0, st);
        nt.fh = fh;
        this.addTracked(nt, Buffer.alloc(0));
        toRead.push(nt);
        continue;
      }
      t.size = st.size;
      t.mtimeMs = st.mtimeMs;
      toRead.push(t);
    }
    // Phase 2: known files no longer matched (renamed out of the globs, deleted): read what is left, let go.
    for (const t of [...this.byKey.values()]) {
      if (seenKeys.has(t.key)) continue;
      if (t.fh) {
        await this.readToEnd([t], now);
        await this.closeFh(t);
      }
      // Known but gone: keep it for fingerprint matching (its copy or .gz may appear), by fingerprint only.
      this.byKey.delete(t.key);
      t.key = '';
      this.dirty = true;
    }
    // Phase 3: files new by inode: a rotated copy/compressed file of a known one, or really new.
    const matchedNow = new Set<Tracked>();
    for (const f of fresh) {
      const gz = this.isGz(f.p);
      let fp: Buffer | undefined;
      let fh: FileHandle | undefined;
      try {
        if (gz) fp = await this.gzFingerprint(f.p);
        else {
          if (!this.reserveHandle(true)) {
            // Out of handles: read what is open now, so those handles can be let go, then go on.
            await this.readToEnd(toRead, now);
            toRead.length = 0;
            if (!this.reserveHandle()) continue;
          }
          fh = await fs.promises.open(f.p, 'r');
          this.openCount++;
          const b = Buffer.allocUnsafe(Math.min(this.cfg.fingerprint_size, Math.max(f.st.size, 1)));
          const { bytesRead } = await fh.read(b, 0, b.length, 0);
          fp = b.subarray(0, bytesRead);
        }
      } catch (e) {
        if (fh) await this.closeHandle(fh);
        this.openError(f.p, e);
        continue;
      }
      if (fp === undefined || fp.length === 0) {
        // Empty (or a .gz still being written): nothing to recognise it by yet.
        if (fh) await this.closeHandle(fh);
        continue;
      }
      // A state still live on disk under another inode with the same start is the same data (a copy).
      const match = this.findByFingerprint(fp, matchedNow);
      if (match && match.key !== '' && match.key !== f.key && seenKeys.has(match.key)) {
        if (fh) await this.closeHandle(fh);
        continue;
      }
      // Two new files with the same start in one poll (a rotated copy and its .gz while gzip runs): the
      // second is the same data, not a new file. The next poll sees which of them is left.
      if (!match && matchedNow.size > 0) {
        const taken = this.findByFingerprint(fp, NO_EXCLUSIONS);
        if (taken && matchedNow.has(taken)) {
          this.logger.debug('filelog: same start as a file matched in this poll; deciding next poll', { path: f.p, key: f.key, as: taken.path });
          if (fh) await this.closeHandle(fh);
          continue;
        }
      }
      let t: Tracked;
      this.logger.debug('filelog: new file', { path: f.p, key: f.key, matched: match?.path, offset: match?.offset, match_key: match?.key });
      if (match) {
        matchedNow.add(match);
        this.dirty = true;
        if (match.key !== '') this.byKey.delete(match.key);
        match.key = f.key;
        if (match.path !== f.p) this.m.rotations.add(1);
        match.path = f.p;
        match.attrs = this.attrsFor(f.p);
        match.gz = gz;
        match.size = f.st.size;
        match.mtimeMs = f.st.mtimeMs;
        match.lastSeenPoll = pollNo;
        match.lastSeenAt = now;
        if (match.fh) await this.closeFh(match);
        match.fh = fh;
        if (match.fp.length === 0 || fp.length > match.fp.length) this.setFingerprint(match, fp.subarray(0, Math.max(match.fpLen, fp.length)));
        this.byKey.set(f.key, match);
        t = match;
      } else {
        const startAtEnd = first && this.cfg.start_at === 'end';
        t = this.newTracked(f.key, f.p, startAtEnd && !gz ? f.st.size : 0, f.st);
        t.gz = gz;
        t.fh = fh;
        this.addTracked(t, Buffer.alloc(0));
        this.setFingerprint(t, fp);
        this.m.files.add(1);
        if (startAtEnd && gz) {
          t.gzDoneSize = f.st.size;
          continue;
        }
      }
      toRead.push(t);
    }
    await this.readToEnd(toRead, now);
    await this.afterRead(toRead);
    this.forget(now);
    if (this.dirty || first) this.save();
  }

  private newTracked(key: string, p: string, offset: number, st: fs.Stats): Tracked {
    return {
      key, path: p, fp: Buffer.alloc(0), fpHash: '', fpLen: 0, offset, size: st.size, mtimeMs: st.mtimeMs, gz: false, fh: undefined,
      lastSeenPoll: this.pollNo, lastSeenAt: Date.now(), attrs: this.attrsFor(p), pendingSince: 0, pendingSize: -1, skipping: false, gzDoneSize: -1, indexKey: undefined, p64: '',
    };
  }

  private retire(t: Tracked): void {
    if (t.key !== '' && this.byKey.get(t.key) === t) this.byKey.delete(t.key);
    t.key = '';
  }

  private forget(now: number): void {
    for (let i = this.tracked.length - 1; i >= 0; i--) {
      const t = this.tracked[i]!;
      if (t.key !== '') continue;
      if (this.pollNo - t.lastSeenPoll < UNSEEN_POLLS || now - t.lastSeenAt < FORGET_AFTER_MS) continue;
      this.tracked.splice(i, 1);
      this.indexRemove(t);
    }
  }

  private openError(p: string, e: unknown): void {
    this.m.openErrors.add(1);
    this.errWarn.warn('filelog: cannot read file', { path: p, error: errorMessage(e) });
  }

  /** Makes room for one more handle under max_concurrent_files by closing idle ones; false when full. */
  private reserveHandle(quiet = false): boolean {
    if (this.openCount < this.cfg.max_concurrent_files) return true;
    if (quiet) return false;
    for (const t of this.tracked) {
      if (this.openCount < this.cfg.max_concurrent_files) break;
      if (t.fh && t.offset >= t.size && t.pendingSince === 0) {
        const fh = t.fh;
        t.fh = undefined;
        this.openCount--;
        void fh.close().catch(() => undefined);
      }
    }
    if (this.openCount < this.cfg.max_concurrent_files) return true;
    this.m.skippedOverLimit.add(1);
    this.warn.warn('filelog: max_concurrent_files handles are open; more files wait for a later poll', { max_concurrent_files: this.cfg.max_concurrent_files });
    return false;
  }

  private async ensureOpen(t: Tracked): Promise<boolean> {
    if (t.fh) return true;
    if (!this.reserveHandle()) return false;
    try {
      t.fh = await fs.promises.open(t.path, 'r');
      this.openCount++;
    } catch (e) {
      this.openError(t.path, e);
      return false;
    }
    // Opened by path: check it is still the file we know (a restored or closed state).
    const st = await t.fh.stat();
    if (`${st.dev}:${st.ino}` !== t.key) {
      await this.closeFh(t);
      return false;
    }
    return true;
  }

  /** Does the file still start with the bytes we fingerprinted? */
  private async sameStart(t: Tracked): Promise<boolean> {
    if (!t.fh || t.fpLen === 0) return true;
    const b = Buffer.allocUnsafe(t.fpLen);
    const { bytesRead } = await t.fh.read(b, 0, t.fpLen, 0);
    if (bytesRead < t.fpLen) return false;
    return t.fp.length > 0 ? b.equals(t.fp) : sha1(b) === t.fpHash;
  }

  private async closeHandle(fh: FileHandle): Promise<void> {
    this.openCount--;
    await fh.close().catch(() => undefined);
  }

  private async closeFh(t: Tracked): Promise<void> {
    const fh = t.fh;
    t.fh = undefined;
    if (fh) await this.closeHandle(fh);
  }

  private async gzFingerprint(p: string): Promise<Buffer | undefined> {
    const want = this.cfg.fingerprint_size;
    const parts: Buffer[] = [];
    let got = 0;
    let complete = false;
    const stream = gunzipFile(p, 64 * 1024);
    try {
      for await (const c of stream as AsyncIterable<Buffer>) {
        parts.push(c);
        got += c.length;
        if (got >= want) break;
      }
      complete = true;
    } catch {
      // Truncated (still being written) or corrupt: usable only if enough came out already.
    } finally {
      stream.destroy();
    }
    const all = Buffer.concat(parts);
    if (all.length >= want) return all.subarray(0, want);
    return complete ? all : undefined;
  }

  /** Reads every file in `files` to its end, one chunk per file per turn. */
  private async readToEnd(files: Tracked[], now: number): Promise<void> {
    let active = files.filter((t) => !t.gz);
    for (const t of files) if (t.gz && !this.stopped) await this.readGz(t);
    while (active.length > 0 && !this.stopped) {
      const next: Tracked[] = [];
      for (const t of active) {
        if (this.stopped) return;
        let more = false;
        try {
          more = await this.readChunk(t, now);
        } catch (e) {
          this.m.readErrors.add(1);
          this.errWarn.warn('filelog: read failed', { path: t.path, error: errorMessage(e) });
        }
        if (this.pending.records.length + this.pending.entries.length >= this.cfg.max_batch_size) await this.flush();
        if (more) next.push(t);
      }
      active = next;
    }
    await this.flush();
  }

  /** Position reading continues from: committed offset plus what is waiting in the pending batch. */
  private readPos(t: Tracked): number {
    return this.pending.commits.get(t) ?? t.offset;
  }

  /** Reads one chunk; returns true when the file may have more right now. */
  private async readChunk(t: Tracked, now: number): Promise<boolean> {
    const fh = t.fh;
    if (!fh) return false;
    const pos = this.readPos(t);
    let buf = this.chunk;
    let { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) return false;
    let full = bytesRead === buf.length;
    if (full && buf.indexOf(this.nl, 0) < 0 && buf.length < this.cfg.max_log_size) {
      // One line longer than a chunk: read up to max_log_size at once.
      buf = this.big ??= Buffer.allocUnsafe(this.cfg.max_log_size);
      ({ bytesRead } = await fh.read(buf, 0, buf.length, pos));
      full = bytesRead === buf.length;
    }
    // The file must still start as fingerprinted *after* the read: then what we read is not content
    // written after a truncation (copytruncate racing this read). Otherwise leave it to the next poll.
    const fb = Buffer.allocUnsafe(this.cfg.fingerprint_size);
    const r = await fh.read(fb, 0, fb.length, 0);
    if (t.fpLen > 0 && (r.bytesRead < t.fpLen || !(t.fp.length > 0 ? fb.subarray(0, t.fpLen).equals(t.fp) : sha1(fb.subarray(0, t.fpLen)) === t.fpHash))) {
      t.size = -1;
      t.mtimeMs = -1;
      return false;
    }
    if (r.bytesRead > t.fpLen) this.setFingerprint(t, fb.subarray(0, r.bytesRead));
    this.m.bytesRead.add(bytesRead);
    const consumed = this.scan(t, buf, bytesRead, pos, false);
    if (consumed > 0) {
      t.pendingSince = 0;
      t.pendingSize = -1;
      return full;
    }
    // Nothing complete in what we read.
    if (full) {
      // No entry end within max_log_size bytes: emit max_log_size bytes as one entry.
      this.m.oversize.add(1);
      this.emitRange(t, buf, 0, Math.min(bytesRead, this.cfg.max_log_size), pos + Math.min(bytesRead, this.cfg.max_log_size));
      if (this.cfg.max_log_size_behavior === 'truncate') t.skipping = true;
      return true;
    }
    // An unterminated tail at EOF: emit it once it stayed unchanged for force_flush_period.
    const size = pos + bytesRead;
    if (t.pendingSize !== size) {
      t.pendingSize = size;
      t.pendingSince = now;
      return false;
    }
    if (this.cfg.force_flush_period > 0 && now - t.pendingSince >= this.cfg.force_flush_period) {
      this.scan(t, buf, bytesRead, pos, true);
      t.pendingSince = 0;
      t.pendingSize = -1;
    }
    return false;
  }

  /** Reads a gzip file from its (decompressed) offset to its end; a truncated stream is retried next poll. */
  private async readGz(t: Tracked): Promise<void> {
    const stream = gunzipFile(t.path, 256 * 1024);
    let at = 0;
    let carry: Buffer = Buffer.alloc(0);
    let carryStart = t.offset;
    let ok = false;
    try {
      for await (const c of stream as AsyncIterable<Buffer>) {
        if (this.stopped) return;
        const end = at + c.length;
        if (end <= t.offset) {
          at = end;
          continue;
        }
        const piece = at < t.offset ? c.subarray(t.offset - at) : c;
        at = end;
        this.m.bytesRead.add(piece.length);
        const buf = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
        const consumed = this.scan(t, buf, buf.length, carryStart, false);
        carry = Buffer.from(buf.subarray(consumed));
        carryStart += consumed;
        if (carry.length >= this.cfg.max_log_size) {
          this.m.oversize.add(1);
          this.emitRange(t, carry, 0, this.cfg.max_log_size, carryStart + this.cfg.max_log_size);
          carryStart += this.cfg.max_log_size;
          carry = Buffer.from(carry.subarray(this.cfg.max_log_size));
        }
        if (this.pending.records.length + this.pending.entries.length >= this.cfg.max_batch_size) await this.flush();
      }
      ok = true;
    } catch (e) {
      this.m.readErrors.add(1);
      this.errWarn.warn('filelog: gzip file is truncated or corrupt; complete lines are kept, the rest is retried at the next poll', { path: t.path, error: errorMessage(e) });
    } finally {
      stream.destroy();
    }
    if (ok) {
      if (carry.length > 0) this.scan(t, carry, carry.length, carryStart, true);
      await this.flush();
      t.gzDoneSize = t.size;
    } else await this.flush();
  }

  /**
   * Splits `buf[0..len)` (file bytes from `base`) into entries and queues them; returns the bytes
   * consumed (the end of the last complete entry). `final` also emits the unterminated rest.
   */
  private scan(t: Tracked, buf: Buffer, len: number, base: number, final: boolean): number {
    const nl = this.nl;
    const unit = this.unit;
    let lineStart = 0;
    let consumed = 0;
    if (t.skipping) {
      const i = this.findNl(buf, 0, len);
      if (i < 0) {
        this.setCommit(t, base + len);
        return len;
      }
      t.skipping = false;
      lineStart = i + unit;
      consumed = lineStart;
      this.setCommit(t, base + consumed);
    }
    const multi = this.startRe !== undefined || this.endRe !== undefined;
    let entryStart = lineStart;
    for (;;) {
      const i = this.findNl(buf, lineStart, len);
      if (i < 0) break;
      const lineEnd = i;
      if (!multi) {
        if (lineEnd - lineStart > this.cfg.max_log_size) this.emitOversize(t, buf, lineStart, lineEnd, base, base + i + nl.length);
        else this.emitRange(t, buf, lineStart, lineEnd, base + i + nl.length);
        lineStart = i + nl.length;
        consumed = lineStart;
        continue;
      }
      if (this.startRe) {
        // A line matching the start pattern ends the entry before it.
        if (lineStart > entryStart && this.startRe.test(this.decode(buf, lineStart, lineEnd))) {
          this.emitRange(t, buf, entryStart, lineStart - nl.length, base + lineStart);
          entryStart = lineStart;
          consumed = lineStart;
        }
        lineStart = i + nl.length;
      } else {
        const ls = lineStart;
        lineStart = i + nl.length;
        if (this.endRe!.test(this.decode(buf, ls, lineEnd))) {
          this.emitRange(t, buf, entryStart, lineEnd, base + lineStart);
          entryStart = lineStart;
          consumed = lineStart;
        }
      }
      if (multi && lineEnd - entryStart > this.cfg.max_log_size) {
        this.m.oversize.add(1);
        this.emitRange(t, buf, entryStart, entryStart + this.cfg.max_log_size, base + entryStart + this.cfg.max_log_size);
        entryStart = entryStart + this.cfg.max_log_size;
        consumed = entryStart;
      }
    }
    if (final && consumed < len) {
      let end = len;
      if (len >= unit && this.isNlAt(buf, len - unit)) end = len - unit;
      if (end > consumed) this.emitRange(t, buf, multi ? entryStart : consumed, end, base + len);
      else this.setCommit(t, base + len);
      consumed = len;
    }
    return consumed;
  }

  /** An entry longer than max_log_size: split into pieces, or its first piece only (truncate). */
  private emitOversize(t: Tracked, buf: Buffer, s: number, e: number, base: number, commitTo: number): void {
    this.m.oversize.add(1);
    const max = this.cfg.max_log_size;
    if (this.cfg.max_log_size_behavior === 'truncate') {
      this.emitRange(t, buf, s, s + max, commitTo);
      return;
    }
    for (let p = s; p < e; p += max) {
      const q = Math.min(p + max, e);
      this.emitRange(t, buf, p, q, q === e ? commitTo : base + q);
    }
  }

  private findNl(buf: Buffer, from: number, len: number): number {
    let i = buf.indexOf(this.nl, from);
    if (this.unit === 2) while (i >= 0 && (i - from) % 2 !== 0) i = buf.indexOf(this.nl, i + 1);
    return i >= 0 && i + this.nl.length <= len ? i : -1;
  }

  private isNlAt(buf: Buffer, i: number): boolean {
    return this.unit === 1 ? buf[i] === 0x0a : buf[i] === this.nl[0] && buf[i + 1] === this.nl[1];
  }

  private decode(buf: Buffer, s: number, e: number): string {
    return this.decoder ? this.decoder(buf, s, e) : buf.toString('latin1', s, e);
  }

  private setCommit(t: Tracked, pos: number): void {
    this.pending.commits.set(t, pos);
  }

  /** Queues bytes [s, e) of `buf` as one entry; `commitTo` is the file position after it. */
  private emitRange(t: Tracked, buf: Buffer, s: number, e: number, commitTo: number): void {
    this.setCommit(t, commitTo);
    // A CR before the newline belongs to the line ending.
    if (this.unit === 1 && e > s && buf[e - 1] === 0x0d) e--;
    let body: string | Uint8Array;
    if (this.decoder) {
      let text = this.decoder(buf, s, e);
      if (!this.cfg.preserve_leading_whitespaces) text = text.trimStart();
      if (!this.cfg.preserve_trailing_whitespaces) text = text.trimEnd();
      if (text.length === 0) return;
      if (text.includes('\uFFFD')) {
        this.m.invalidEncoding.add(1);
        this.warn.warn('filelog: entry has bytes that are not valid in the configured encoding; they were replaced with U+FFFD', { path: t.path, encoding: this.cfg.encoding });
      }
      body = text;
    } else {
      if (e === s) return;
      body = Buffer.from(buf.subarray(s, e));
    }
    if (this.chain) {
      const entry = newEntry(body);
      for (const a of t.attrs) entry.attributes[a.key] = a.value?.stringValue ?? '';
      const out = this.chain.process(entry, t.path);
      if (out) this.pending.entries.push(out);
    } else {
      const attrs = t.attrs.slice();
      const rec = typeof body === 'string' ? stringRecord(body, attrs, OBSERVED_PLACEHOLDER) : { ...stringRecord('', attrs, OBSERVED_PLACEHOLDER), body: { bytesValue: body } };
      this.pending.records.push(rec);
    }
    this.pending.bytes += e - s;
  }

  /** Hands the pending batch to the pipeline; commits offsets and saves the checkpoint once accepted. */
  private async flush(): Promise<void> {
    const p = this.pending;
    if (p.records.length === 0 && p.entries.length === 0) {
      if (p.commits.size > 0) {
        this.pending = { records: [], entries: [], commits: new Map(), bytes: 0 };
        this.commit(p);
      }
      return;
    }
    this.pending = { records: [], entries: [], commits: new Map(), bytes: 0 };
    const observed = nowNanos();
    let result: 'accepted' | 'refused' | 'stopped';
    if (p.records.length > 0) {
      for (const r of p.records) r.observedTimeUnixNano = observed;
      result = await this.sink.deliver(batchOf(p.records, this.resource));
      if (result === 'stopped') return;
    }
    if (p.entries.length > 0) {
      result = await this.sink.deliver(entriesToBatch(p.entries, observed, this.resource));
      if (result === 'stopped') return;
    }
    this.commit(p);
  }

  private commit(p: Pending): void {
    for (const [t, pos] of p.commits) t.offset = pos;
    this.save();
  }

  save(): void {
    const files: SavedFile[] = [];
    for (const t of this.tracked) {
      if (t.fpLen === 0) continue;
      files.push({
        key: t.key, path: t.path, fp_hash: t.fpHash, fp_len: t.fpLen, p64: t.p64,
        offset: t.offset, size: t.size, mtime: t.mtimeMs, gz: t.gz, gz_done: t.gzDoneSize,
      });
    }
    this.dirty = false;
    try {
      this.store.save({ version: 1, files });
    } catch (e) {
      this.errWarn.warn('filelog: cannot save checkpoint; a restart may read some lines again', { checkpoint: this.store.location, error: errorMessage(e) });
    }
  }

  private async afterRead(files: Tracked[]): Promise<void> {
    if (!this.cfg.delete_after_read || this.stopped) return;
    for (const t of files) {
      if (t.key === '') continue;
      const done = t.gz ? t.gzDoneSize === t.size : t.offset >= t.size && t.pendingSince === 0;
      if (!done) continue;
      try {
        await fs.promises.unlink(t.path);
        this.m.deleted.add(1);
        await this.closeFh(t);
      } catch (e) {
        this.errWarn.warn('filelog: delete_after_read could not delete a file', { path: t.path, error: errorMessage(e) });
      }
    }
  }

  /** Stops reading at the next chunk; what is in flight finishes and is committed. */
  halt(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const t of this.tracked) await this.closeFh(t);
  }
}

const OBSERVED_PLACEHOLDER = nowNanos();

/** A gunzip stream over a file whose read errors (vanished file) surface on the stream itself. */
function gunzipFile(p: string, highWaterMark: number): Gunzip {
  const gz = createGunzip();
  const rs = fs.createReadStream(p, { highWaterMark });
  rs.on('error', (e) => gz.destroy(e));
  gz.on('close', () => rs.destroy());
  return rs.pipe(gz);
}
