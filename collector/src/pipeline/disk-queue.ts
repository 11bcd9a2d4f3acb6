/**
 * The persistent exporter queue (`sending_queue.storage: file_storage`). One directory per exporter:
 *
 *   seg-00000001.log   append-only records: [u32 payload length][u32 log records][u32 CRC-32][payload]
 *   seg-00000001.ack   append-only u32 indexes of records in that segment that were acknowledged
 *
 * The payload is the batch as an OTLP ExportLogsServiceRequest in protobuf. The CRC covers the length,
 * the count and the payload. `offer()` resolves only after the record is written (and fdatasync'd when
 * `fsync` is on), so a receiver acknowledges only data that survives SIGKILL. Concurrent offers are
 * grouped into one write (and one fsync). Acks are not fsync'd: a lost ack only means a resend
 * (at-least-once). A segment is deleted once every record in it is acknowledged (compaction).
 *
 * On open every segment is scanned and its CRCs checked; a torn or corrupt record is reported (with
 * its byte offset) and counted, the good records before it are kept and the file is cut there (a
 * corrupt record whose length is still sound is skipped instead, keeping those after it). Writing
 * always starts a new segment, so record indexes in older segments never change.
 */
import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { countLogRecords, decodeExportRequest, encodeExportRequest } from '@tributary/otlp';
import type { LogsBatch } from '../component.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { BoundCounter } from '../telemetry/metrics.js';
import type { BatchQueue, QueuedBatch } from './batch-queue.js';
import { crc32 } from './disk-queue-crc32.js';

export const HEADER_BYTES = 12;
/** A payload longer than this is treated as a corrupt length field. */
const MAX_RECORD_BYTES = 1 << 30;
const SEGMENT_RE = /^seg-(\d{8,})\.log$/;

export interface DiskBatchQueueOptions {
  /** The exporter's own directory (created if missing). */
  directory: string;
  /** Maximum batches queued (not counting those taken and not yet acknowledged). */
  capacity: number;
  /** Maximum bytes of unacknowledged payload on disk. */
  maxBytes: number;
  /** A new segment is started once the current one reaches this size. */
  segmentBytes: number;
  /** fdatasync each group write before acknowledging it. */
  fsync: boolean;
  /** Delete fully acknowledged segments found at start. */
  compactOnStart: boolean;
  /** Delete segments as soon as every record in them is acknowledged. */
  compactOnRebound: boolean;
  dropOldest: boolean;
  onDrop: (batch: LogsBatch) => void;
  logger: Logger;
  /** Counters for damage found at open; owned by the caller so labels stay consistent. */
  corruptRecords?: BoundCounter;
  recoveredRecords?: BoundCounter;
  /** Batches written in this run are kept in memory (no disk read on take) up to this many payload bytes. */
  memoryCacheBytes?: number;
}

interface Segment {
  readonly num: number;
  readonly path: string;
  readonly ackPath: string;
  /** Records in the segment (written or recovered, including corrupt ones that were skipped). */
  count: number;
  acked: number;
  size: number;
  readFh?: FileHandle | undefined;
  ackFh?: FileHandle | undefined;
  deleted: boolean;
}

interface Entry {
  readonly seg: Segment;
  readonly idx: number;
  /** Byte offset of the record's header in the segment. */
  readonly offset: number;
  readonly len: number;
  readonly count: number;
  batch: LogsBatch | undefined;
}

interface PendingOffer {
  payload: Uint8Array;
  count: number;
  batch: LogsBatch;
  resolve: (ok: boolean) => void;
  reject: (err: unknown) => void;
}

export interface RecoveryReport {
  segments: number;
  records: number;
  batches: number;
  corruptRecords: number;
  truncatedBytes: number;
}

function segName(num: number): string {
  return `seg-${String(num).padStart(8, '0')}`;
}

/**
 * A queued batch on disk: logs as an ExportLogsServiceRequest (which never starts with 0xFF), traces /
 * metrics as 0xFF, 'T' or 'M', the item count (uint32 LE), then the concatenated requests.
 */
const OPAQUE_MARK = 0xff;

function encodePayload(batch: LogsBatch): Uint8Array {
  const o = batch.opaque;
  if (o === undefined) return encodeExportRequest({ resourceLogs: batch.resourceLogs });
  const head = Buffer.alloc(6);
  head[0] = OPAQUE_MARK;
  head[1] = o.signal === 'traces' ? 0x54 : 0x4d;
  head.writeUInt32LE(batch.recordCount, 2);
  return Buffer.concat([head, ...o.requests]);
}

function decodePayload(buf: Buffer): LogsBatch {
  if (buf.length >= 6 && buf[0] === OPAQUE_MARK) {
    return {
      resourceLogs: [],
      recordCount: buf.readUInt32LE(2),
      receivedAt: performance.now(),
      opaque: { signal: buf[1] === 0x54 ? 'traces' : 'metrics', requests: [buf.subarray(6)] },
    };
  }
  const resourceLogs = decodeExportRequest(buf).resourceLogs;
  return { resourceLogs, recordCount: countLogRecords(resourceLogs), receivedAt: performance.now() };
}

export class DiskBatchQueue implements BatchQueue {
  readonly persistent = true;
  readonly capacity: number;
  private readonly o: DiskBatchQueueOptions;
  private readonly segments = new Map<number, Segment>();
  /** Entries ready to be taken, oldest first; `head` avoids O(n) shifts. */
  private ready: Entry[] = [];
  private head = 0;
  private recordCount = 0;
  private liveBytes = 0;
  private cachedBytes = 0;
  private readonly pending: PendingOffer[] = [];
  private pendingBytes = 0;
  private flushing = false;
  private writer: Segment | undefined;
  private writeFh: FileHandle | undefined;
  private readonly waiters: ((item: QueuedBatch | undefined) => void)[] = [];
  private ackChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private released = false;
  private lastRecovery: RecoveryReport = { segments: 0, records: 0, batches: 0, corruptRecords: 0, truncatedBytes: 0 };

  private constructor(options: DiskBatchQueueOptions) {
    this.o = options;
    this.capacity = options.capacity;
  }

  /** Opens the queue in `options.directory`, recovering what a previous run left there. */
  static async open(options: DiskBatchQueueOptions): Promise<DiskBatchQueue> {
    const q = new DiskBatchQueue(options);
    await mkdir(options.directory, { recursive: true });
    await q.recover();
    return q;
  }

  get size(): number {
    return this.ready.length - this.head + this.pending.length;
  }

  get records(): number {
    return this.recordCount;
  }

  /** Bytes of unacknowledged payload (on disk or being written). */
  get bytes(): number {
    return this.liveBytes + this.pendingBytes;
  }

  get recovery(): RecoveryReport {
    return this.lastRecovery;
  }

  // ---------------------------------------------------------------- recovery

  private async recover(): Promise<void> {
    const names = (await readdir(this.o.directory)).filter((n) => SEGMENT_RE.test(n));
    const nums = names.map((n) => Number(SEGMENT_RE.exec(n)![1])).sort((a, b) => a - b);
    const report: RecoveryReport = { segments: 0, records: 0, batches: 0, corruptRecords: 0, truncatedBytes: 0 };
    for (const num of nums) await this.recoverSegment(num, report);
    this.lastRecovery = report;
    const next = nums.length ? nums[nums.length - 1]! + 1 : 1;
    await this.startSegment(next);
    this.o.recoveredRecords?.add(report.records);
    if (report.batches > 0 || report.corruptRecords > 0) {
      this.o.logger.info('disk queue recovered', {
        directory: this.o.directory,
        segments: report.segments,
        batches: report.batches,
        records: report.records,
        corrupt_records: report.corruptRecords,
        truncated_bytes: report.truncatedBytes,
      });
    }
  }

  private async recoverSegment(num: number, report: RecoveryReport): Promise<void> {
    const base = join(this.o.directory, segName(num));
    const seg: Segment = { num, path: `${base}.log`, ackPath: `${base}.ack`, count: 0, acked: 0, size: 0, deleted: false };
    const data = await readFile(seg.path);
    const acked = new Set<number>();
    try {
      const ackBuf = await readFile(seg.ackPath);
      // A torn trailing index (partial u32) is ignored: that record is resent (a duplicate at worst).
      for (let i = 0; i + 4 <= ackBuf.length; i += 4) acked.add(ackBuf.readUInt32LE(i));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const entries: Entry[] = [];
    const skipped: number[] = [];
    let off = 0;
    let idx = 0;
    let cutAt: number | undefined;
    while (off < data.length) {
      const check = this.checkRecord(data, off);
      if (check === 'ok') {
        const len = data.readUInt32LE(off);
        if (!acked.has(idx)) entries.push({ seg, idx, offset: off, len, count: data.readUInt32LE(off + 4), batch: undefined });
        off += HEADER_BYTES + len;
        idx++;
        continue;
      }
      report.corruptRecords++;
      this.o.corruptRecords?.add(1);
      // A bad payload under a sound length: skip just that record if the next one (or the end) lines up.
      const len = off + 8 <= data.length ? data.readUInt32LE(off) : -1;
      const next = off + HEADER_BYTES + len;
      if (check === 'crc' && len >= 0 && next <= data.length && (next === data.length || this.checkRecord(data, next) === 'ok')) {
        this.o.logger.warn('disk queue: corrupt record skipped', { segment: seg.path, offset: off, bytes: HEADER_BYTES + len });
        skipped.push(idx);
        off = next;
        idx++;
        continue;
      }
      this.o.logger.warn('disk queue: torn or corrupt tail, keeping the records before it', {
        segment: seg.path,
        offset: off,
        truncated_bytes: data.length - off,
        reason: check,
      });
      report.truncatedBytes += data.length - off;
      cutAt = off;
      break;
    }
    if (cutAt !== undefined) {
      const fh = await open(seg.path, 'r+');
      try {
        await fh.truncate(cutAt);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
    seg.count = idx;
    seg.size = cutAt ?? data.length;
    seg.acked = seg.count - entries.length;
    report.segments++;
    if (entries.length === 0 && this.o.compactOnStart) {
      await this.deleteSegment(seg);
      return;
    }
    this.segments.set(num, seg);
    // Skipped corrupt records are acknowledged so the segment can still be compacted away.
    for (const i of skipped) if (!acked.has(i)) await this.appendAck(seg, i);
    for (const e of entries) {
      this.ready.push(e);
      this.recordCount += e.count;
      this.liveBytes += e.len;
      report.records += e.count;
      report.batches++;
    }
  }

  private checkRecord(data: Buffer, off: number): 'ok' | 'torn' | 'crc' {
    if (off + HEADER_BYTES > data.length) return 'torn';
    const len = data.readUInt32LE(off);
    if (len > MAX_RECORD_BYTES) return 'crc';
    if (off + HEADER_BYTES + len > data.length) return 'torn';
    const want = data.readUInt32LE(off + 8);
    const got = crc32(data, crc32(data, 0, off, off + 8), off + HEADER_BYTES, off + HEADER_BYTES + len);
    return got === want ? 'ok' : 'crc';
  }

  // ---------------------------------------------------------------- writing

  offer(batch: LogsBatch): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const payload = encodePayload(batch);
    if (this.size >= this.capacity || this.bytes + payload.length > this.o.maxBytes) {
      if (!this.o.dropOldest || !this.evictOldest(payload.length)) return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ payload, count: batch.recordCount, batch, resolve, reject });
      this.pendingBytes += payload.length;
      this.recordCount += batch.recordCount;
      if (!this.flushing) void this.flush();
    });
  }

  /** drop_oldest: frees room by acknowledging the oldest queued batches. False if that cannot make room. */
  private evictOldest(need: number): boolean {
    while (this.size >= this.capacity || this.bytes + need > this.o.maxBytes) {
      if (this.head >= this.ready.length) return false;
      const e = this.ready[this.head]!;
      this.ready[this.head++] = undefined as unknown as Entry;
      this.recordCount -= e.count;
      this.o.onDrop(e.batch ?? { resourceLogs: [], recordCount: e.count, receivedAt: performance.now() });
      void this.ack({ batch: e.batch ?? { resourceLogs: [], recordCount: e.count, receivedAt: 0 }, ackToken: e });
    }
    return true;
  }

  /** Writes every pending offer in one go (one fsync), then hands them to takers. */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0);
        let groupBytes = 0;
        for (const p of group) groupBytes += p.payload.length;
        this.pendingBytes -= groupBytes;
        try {
          await this.writeGroup(group);
        } catch (err) {
          for (const p of group) this.recordCount -= p.count;
          for (const p of group) p.reject(err);
          this.o.logger.warn('disk queue write failed', { directory: this.o.directory, error: errorMessage(err) });
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async writeGroup(group: PendingOffer[]): Promise<void> {
    const seg = this.writer!;
    const fh = this.writeFh!;
    const buffers: Uint8Array[] = [];
    const entries: Entry[] = [];
    let off = seg.size;
    let idx = seg.count;
    for (const p of group) {
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      header.writeUInt32LE(p.payload.length, 0);
      header.writeUInt32LE(p.count, 4);
      header.writeUInt32LE(crc32(p.payload, crc32(header, 0, 0, 8)), 8);
      buffers.push(header, p.payload);
      entries.push({ seg, idx: idx++, offset: off, len: p.payload.length, count: p.count, batch: undefined });
      off += HEADER_BYTES + p.payload.length;
    }
    try {
      let written = 0;
      const total = off - seg.size;
      // writev may write less than asked: finish with plain writes.
      const r = await fh.writev(buffers, seg.size);
      written = r.bytesWritten;
      if (written < total) {
        const rest = Buffer.concat(buffers).subarray(written);
        let pos = seg.size + written;
        let o = 0;
        while (o < rest.length) {
          const w = await fh.write(rest, o, rest.length - o, pos);
          o += w.bytesWritten;
          pos += w.bytesWritten;
        }
      }
      if (this.o.fsync) await fh.datasync();
    } catch (err) {
      // Cut what may have been half written and move to a fresh segment, so later records stay readable.
      await fh.truncate(seg.size).catch(() => undefined);
      await this.rotate().catch(() => undefined);
      throw err;
    }
    seg.size = off;
    seg.count = idx;
    const cacheLimit = this.o.memoryCacheBytes ?? 16 * 1024 * 1024;
    for (let i = 0; i < group.length; i++) {
      const p = group[i]!;
      const e = entries[i]!;
      this.liveBytes += e.len;
      if (this.cachedBytes + e.len <= cacheLimit) {
        e.batch = p.batch;
        this.cachedBytes += e.len;
      }
      const w = this.waiters.shift();
      if (w !== undefined) {
        this.recordCount -= e.count;
        void this.materialize(e).then(w, () => w(undefined));
      } else {
        this.ready.push(e);
      }
      p.resolve(true);
    }
    if (seg.size >= this.o.segmentBytes) await this.rotate();
  }

  private async startSegment(num: number): Promise<void> {
    const base = join(this.o.directory, segName(num));
    const seg: Segment = { num, path: `${base}.log`, ackPath: `${base}.ack`, count: 0, acked: 0, size: 0, deleted: false };
    this.writeFh = await open(seg.path, 'w', 0o600);
    this.writer = seg;
    this.segments.set(num, seg);
  }

  private async rotate(): Promise<void> {
    const old = this.writer!;
    const fh = this.writeFh;
    this.writeFh = undefined;
    await fh?.close();
    await this.startSegment(old.num + 1);
    if (old.acked === old.count && this.o.compactOnRebound) this.enqueueDelete(old);
  }

  // ---------------------------------------------------------------- reading and acknowledging

  take(): Promise<QueuedBatch | undefined> {
    if (this.head < this.ready.length) {
      const e = this.ready[this.head]!;
      this.ready[this.head++] = undefined as unknown as Entry;
      if (this.head > 1024 && this.head * 2 > this.ready.length) {
        this.ready = this.ready.slice(this.head);
        this.head = 0;
      }
      this.recordCount -= e.count;
      return this.materialize(e);
    }
    if (this.closed && this.pending.length === 0) return Promise.resolve(undefined);
    return new Promise<QueuedBatch | undefined>((resolve) => this.waiters.push(resolve));
  }

  /** The batch of an entry: from memory if cached, else read and decoded from its segment. */
  private async materialize(e: Entry): Promise<QueuedBatch | undefined> {
    if (e.batch !== undefined) {
      this.cachedBytes -= e.len;
      const batch = e.batch;
      e.batch = undefined;
      return { batch, ackToken: e };
    }
    try {
      const seg = e.seg;
      seg.readFh ??= await open(seg.path, 'r');
      const buf = Buffer.allocUnsafe(e.len);
      let got = 0;
      while (got < e.len) {
        const r = await seg.readFh.read(buf, got, e.len - got, e.offset + HEADER_BYTES + got);
        if (r.bytesRead === 0) throw new Error(`unexpected end of ${seg.path} at ${e.offset + HEADER_BYTES + got}`);
        got += r.bytesRead;
      }
      return { batch: decodePayload(buf), ackToken: e };
    } catch (err) {
      // Unreadable although its CRC was good at open (the file changed under us): report, count, skip.
      this.o.corruptRecords?.add(1);
      this.o.logger.warn('disk queue: cannot read a queued batch, skipping it', { segment: e.seg.path, offset: e.offset, error: errorMessage(err) });
      await this.ack({ batch: { resourceLogs: [], recordCount: 0, receivedAt: 0 }, ackToken: e });
      return this.take();
    }
  }

  ack(item: QueuedBatch): Promise<void> {
    const e = item.ackToken as Entry | undefined;
    if (e === undefined) return Promise.resolve();
    const seg = e.seg;
    this.liveBytes -= e.len;
    if (e.batch !== undefined) {
      this.cachedBytes -= e.len;
      e.batch = undefined;
    }
    seg.acked++;
    const p = this.ackChain.then(async () => {
      if (seg.deleted) return;
      if (seg.acked === seg.count && seg !== this.writer && this.o.compactOnRebound) {
        await this.deleteSegment(seg);
        return;
      }
      await this.appendAck(seg, e.idx);
    });
    this.ackChain = p.catch(() => undefined);
    return p;
  }

  private async appendAck(seg: Segment, idx: number): Promise<void> {
    seg.ackFh ??= await open(seg.ackPath, 'a', 0o600);
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(idx, 0);
    await seg.ackFh.write(b);
  }

  private enqueueDelete(seg: Segment): void {
    this.ackChain = this.ackChain.then(() => this.deleteSegment(seg)).catch((err: unknown) => {
      this.o.logger.warn('disk queue: cannot delete a segment', { segment: seg.path, error: errorMessage(err) });
    });
  }

  private async deleteSegment(seg: Segment): Promise<void> {
    if (seg.deleted) return;
    seg.deleted = true;
    this.segments.delete(seg.num);
    await seg.readFh?.close().catch(() => undefined);
    await seg.ackFh?.close().catch(() => undefined);
    seg.readFh = seg.ackFh = undefined;
    await rm(seg.path, { force: true });
    await rm(seg.ackPath, { force: true });
  }

  /** Stop accepting; take() returns what is left, then undefined. Files stay open until release(). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pending.length === 0) {
      for (const w of this.waiters.splice(0)) w(undefined);
    }
    // Let in-progress writes finish so their offers settle.
    while (this.flushing) await new Promise((r) => setImmediate(r));
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  /** Closes every file. What was not acknowledged stays on disk for the next open. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.close();
    await this.ackChain;
    const fh = this.writeFh;
    this.writeFh = undefined;
    await fh?.close();
    const w = this.writer;
    // An empty segment of this run is noise on disk: remove it.
    if (w && w.count === 0 && !w.deleted) await this.deleteSegment(w);
    else if (w && w.acked === w.count && this.o.compactOnRebound) await this.deleteSegment(w);
    for (const seg of this.segments.values()) {
      await seg.readFh?.close().catch(() => undefined);
      await seg.ackFh?.close().catch(() => undefined);
      seg.readFh = seg.ackFh = undefined;
    }
  }
}
