/**
 * The persistent exporter queue (`sending_queue.storage: file_storage`). One directory per exporter:
 *
 *   LOCK               `<pid> <start time>` of the process using the directory (pipeline/dir-lock.ts)
 *   seg-00000001.log   "TRBQ" u32 2, then append-only frames:
 *                      [u32 marker][u32 payload length][u32 log records][u32 frame index]
 *                      [u32 log records before this frame in the segment][u32 CRC-32][payload]
 *   seg-00000001.ack   append-only u32 indexes of frames in that segment that were acknowledged
 *
 * The payload is the batch as an OTLP ExportLogsServiceRequest in protobuf. The CRC covers the header
 * fields after the marker and the payload. The marker lets recovery find the next frame after damage;
 * the frame index and the running record count say exactly how many batches and log records a damaged
 * stretch held. Segments written before the marker existed (no "TRBQ" header: frames of
 * [u32 length][u32 log records][u32 CRC-32][payload]) are still read. `offer()` resolves only after the record is written (and fdatasync'd when
 * `fsync` is on), so a receiver acknowledges only data that survives SIGKILL. Concurrent offers are
 * grouped into one write (and one fsync). Acks are not fsync'd: a lost ack only means a resend
 * (at-least-once). A segment is deleted once every record in it is acknowledged (compaction).
 *
 * On open every segment is scanned and its CRCs checked. Damage is reported with the file and byte
 * offset; reading resumes at the next intact frame, and the batches and log records lost in between
 * are counted. Damage that runs to the end of the file is cut off. Writing always starts a new segment,
 * so frame indexes in older segments never change.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { countLogRecords, decodeExportRequest, encodeExportRequest } from '@tributary/otlp';
import type { LogsBatch } from '../component.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { BoundCounter } from '../telemetry/metrics.js';
import type { BatchQueue, QueuedBatch } from './batch-queue.js';
import { crc32 } from './disk-queue-crc32.js';
import { lockDirectory, type DirLock } from './dir-lock.js';

/** Frame header of segments written before frame markers: [u32 length][u32 log records][u32 CRC-32]. */
export const V1_HEADER_BYTES = 12;
/** "TRBQ" + u32 format version, at the start of every segment with frame markers. */
export const FILE_HEADER_BYTES = 8;
export const FRAME_HEADER_BYTES = 24;
/** "TFRM" little-endian: starts every frame, so recovery can find the next one after damage. */
export const FRAME_MARKER = 0x4d524654;
const FILE_MAGIC = 0x51425254; // "TRBQ"
const FORMAT_VERSION = 2;
const MARKER_BYTES = Buffer.from([0x54, 0x46, 0x52, 0x4d]);
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
  /** Log records lost to damage (known exactly from the frames around it; a damaged tail at least). */
  lostRecords?: BoundCounter;
  /** Batches written in this run are kept in memory (no disk read on take) up to this many payload bytes. */
  memoryCacheBytes?: number;
}

interface Segment {
  readonly num: number;
  readonly path: string;
  readonly ackPath: string;
  /** 1: frames without markers (older segments); 2: file header and frame markers. */
  readonly version: 1 | 2;
  /** Log records written to the segment so far (frames carry the running count). */
  logRecords: number;
  /** Records in the segment (written or recovered, including corrupt ones that were skipped). */
  count: number;
  acked: number;
  size: number;
  /** One open per segment, shared by concurrent first reads. */
  readFh?: Promise<FileHandle> | undefined;
  ackFh?: FileHandle | undefined;
  deleted: boolean;
}

interface Entry {
  readonly seg: Segment;
  readonly idx: number;
  /** Byte offset of the frame in the segment (for messages). */
  readonly offset: number;
  /** Byte offset of the payload. */
  readonly dataOffset: number;
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
  /** Damaged batches (frames) found, whose records are lost. */
  corruptRecords: number;
  /** Log records in those frames. */
  lostRecords: number;
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

interface SegmentScan {
  entries: Entry[];
  /** Indexes of lost frames (acknowledged so the segment can be compacted). */
  skipped: number[];
  /** Frames in the segment, lost ones included. */
  count: number;
  lostBatches: number;
  lostRecords: number;
  /** Where the file is cut (damage to the end), if anywhere. */
  cutAt: number | undefined;
}

/** A count field above this is garbage, not a batch. */
const MAX_PLAUSIBLE_COUNT = 1 << 24;

function checkRecordV1(data: Buffer, off: number): 'ok' | 'torn' | 'crc' {
  if (off + V1_HEADER_BYTES > data.length) return 'torn';
  const len = data.readUInt32LE(off);
  if (len > MAX_RECORD_BYTES) return 'crc';
  if (off + V1_HEADER_BYTES + len > data.length) return 'torn';
  const want = data.readUInt32LE(off + 8);
  const got = crc32(data, crc32(data, 0, off, off + 8), off + V1_HEADER_BYTES, off + V1_HEADER_BYTES + len);
  return got === want ? 'ok' : 'crc';
}

/** An intact frame at `off` whose index is not before `minIdx` (frames only move forward). */
function checkFrameV2(data: Buffer, off: number, minIdx: number): 'ok' | 'torn' | 'bad' {
  if (off + FRAME_HEADER_BYTES > data.length) return 'torn';
  if (data.readUInt32LE(off) !== FRAME_MARKER) return 'bad';
  const len = data.readUInt32LE(off + 4);
  if (len > MAX_RECORD_BYTES) return 'bad';
  if (off + FRAME_HEADER_BYTES + len > data.length) return 'torn';
  if (data.readUInt32LE(off + 12) < minIdx) return 'bad';
  const got = crc32(data, crc32(data, 0, off + 4, off + 20), off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len);
  return got === data.readUInt32LE(off + 20) ? 'ok' : 'bad';
}

/** Frames and log records a damaged tail held, from the frame headers still plausible in it (a lower bound). */
function tailEstimate(data: Buffer, off: number): { frames: number; records: number } {
  let frames = 0;
  let records = 0;
  let p = off + 4 > data.length || data.readUInt32LE(off) === FRAME_MARKER ? off : data.indexOf(MARKER_BYTES, off);
  // The damage itself is at least one frame.
  if (p !== off) frames = 1;
  while (p >= 0 && p < data.length) {
    frames++;
    if (p + 12 <= data.length) {
      const count = data.readUInt32LE(p + 8);
      if (count <= MAX_PLAUSIBLE_COUNT) records += count;
    }
    const len = p + 8 <= data.length ? data.readUInt32LE(p + 4) : -1;
    const next = len >= 0 && len <= MAX_RECORD_BYTES ? p + FRAME_HEADER_BYTES + len : p + 1;
    p = next >= data.length ? -1 : data.indexOf(MARKER_BYTES, next);
  }
  return { frames: Math.max(frames, 1), records };
}

async function closeReader(seg: Segment): Promise<void> {
  const p = seg.readFh;
  seg.readFh = undefined;
  if (p !== undefined) await p.then((fh) => fh.close()).catch(() => undefined);
}

/**
 * Creates the queue directory and checks it can be written, with an error that says so: a read-only
 * directory or file system otherwise surfaces as a confusing `ENOENT … mkdir` or a failure on first write.
 */
export async function ensureWritableDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true });
  } catch (err) {
    throw await describeDirectoryError(directory, err);
  }
  try {
    await access(directory, constants.W_OK);
  } catch (err) {
    throw await describeDirectoryError(directory, err);
  }
}

/** Turns a mkdir/access failure into an error naming the directory (or the ancestor) and the real cause. */
export async function describeDirectoryError(directory: string, err: unknown): Promise<Error> {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  // Find the nearest existing ancestor: mkdir -p reports ENOENT when a parent cannot be created.
  let existing = directory;
  for (;;) {
    const st = await stat(existing).catch(() => undefined);
    if (st !== undefined) {
      if (!st.isDirectory()) return new Error(`disk queue directory ${directory}: ${existing} exists and is not a directory`, { cause: err });
      break;
    }
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  if (code === 'EROFS') return new Error(`disk queue directory ${directory} is on a read-only file system (EROFS)`, { cause: err });
  // The real reason: mkdir -p reports ENOENT where a parent could not be created (read-only, no permission).
  const accessCode = await access(existing, constants.W_OK).then(() => undefined, (e: unknown) => (e as NodeJS.ErrnoException).code);
  const denied = accessCode === 'EACCES' || accessCode === 'EPERM' || accessCode === 'EROFS';
  if (denied || code === 'EACCES' || code === 'EPERM') {
    const which = existing === directory ? 'is read-only' : `cannot be created: ${existing} is read-only`;
    return new Error(`disk queue directory ${directory} ${which} (${denied ? accessCode : code}); give the collector a writable file_storage directory`, { cause: err });
  }
  return new Error(`disk queue directory ${directory}: ${errorMessage(err)}`, { cause: err });
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
  private lock: DirLock | undefined;
  private lastRecovery: RecoveryReport = { segments: 0, records: 0, batches: 0, corruptRecords: 0, lostRecords: 0, truncatedBytes: 0 };

  private constructor(options: DiskBatchQueueOptions) {
    this.o = options;
    this.capacity = options.capacity;
  }

  /** Opens the queue in `options.directory`, recovering what a previous run left there. */
  static async open(options: DiskBatchQueueOptions): Promise<DiskBatchQueue> {
    const q = new DiskBatchQueue(options);
    await ensureWritableDirectory(options.directory);
    q.lock = await lockDirectory(options.directory);
    try {
      await q.recover();
    } catch (err) {
      await q.release().catch(() => undefined);
      throw err;
    }
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
    const nums: number[] = [];
    for (const n of await readdir(this.o.directory)) {
      const m = SEGMENT_RE.exec(n);
      if (m?.[1] !== undefined) nums.push(Number(m[1]));
    }
    nums.sort((a, b) => a - b);
    const report: RecoveryReport = { segments: 0, records: 0, batches: 0, corruptRecords: 0, lostRecords: 0, truncatedBytes: 0 };
    for (const num of nums) await this.recoverSegment(num, report);
    this.lastRecovery = report;
    const last = nums[nums.length - 1];
    await this.startSegment(last === undefined ? 1 : last + 1);
    this.o.recoveredRecords?.add(report.records);
    this.o.corruptRecords?.add(report.corruptRecords);
    this.o.lostRecords?.add(report.lostRecords);
    if (report.batches > 0 || report.corruptRecords > 0) {
      this.o.logger.info('disk queue recovered', {
        directory: this.o.directory,
        segments: report.segments,
        batches: report.batches,
        records: report.records,
        corrupt_records: report.corruptRecords,
        lost_log_records: report.lostRecords,
        truncated_bytes: report.truncatedBytes,
      });
    }
  }

  private async recoverSegment(num: number, report: RecoveryReport): Promise<void> {
    const base = join(this.o.directory, segName(num));
    const path = `${base}.log`;
    const data = await readFile(path);
    const version = data.length >= 4 && data.readUInt32LE(0) === FILE_MAGIC ? 2 : data.length === 0 ? 2 : 1;
    const seg: Segment = { num, path, ackPath: `${base}.ack`, version, logRecords: 0, count: 0, acked: 0, size: 0, deleted: false };
    const acked = new Set<number>();
    try {
      const ackBuf = await readFile(seg.ackPath);
      // A torn trailing index (partial u32) is ignored: that record is resent (a duplicate at worst).
      for (let i = 0; i + 4 <= ackBuf.length; i += 4) acked.add(ackBuf.readUInt32LE(i));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const scan = version === 2 ? this.scanV2(seg, data) : this.scanV1(seg, data);
    if (scan.cutAt !== undefined && scan.cutAt < data.length) {
      report.truncatedBytes += data.length - scan.cutAt;
      const fh = await open(seg.path, 'r+');
      try {
        await fh.truncate(scan.cutAt);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
    report.corruptRecords += scan.lostBatches;
    report.lostRecords += scan.lostRecords;
    const entries = scan.entries.filter((e) => !acked.has(e.idx));
    seg.count = scan.count;
    seg.size = scan.cutAt ?? data.length;
    seg.acked = seg.count - entries.length;
    report.segments++;
    if (entries.length === 0 && this.o.compactOnStart) {
      await this.deleteSegment(seg);
      return;
    }
    this.segments.set(num, seg);
    // Lost frames are acknowledged so the segment can still be compacted away.
    for (const i of scan.skipped) if (!acked.has(i)) await this.appendAck(seg, i);
    for (const e of entries) {
      this.ready.push(e);
      this.recordCount += e.count;
      this.liveBytes += e.len;
      report.records += e.count;
      report.batches++;
    }
  }

  /** Frames with markers: on damage, resume at the next intact frame; its index says what was lost. */
  private scanV2(seg: Segment, data: Buffer): SegmentScan {
    const out: SegmentScan = { entries: [], skipped: [], count: 0, lostBatches: 0, lostRecords: 0, cutAt: undefined };
    if (data.length < FILE_HEADER_BYTES) {
      // A header torn by a crash right after the file was created: nothing was written after it.
      out.cutAt = 0;
      return out;
    }
    let off = FILE_HEADER_BYTES;
    let nextIdx = 0;
    let recordsSoFar = 0;
    while (off < data.length) {
      if (checkFrameV2(data, off, nextIdx) === 'ok') {
        const idx = data.readUInt32LE(off + 12);
        const before = data.readUInt32LE(off + 16);
        if (idx > nextIdx) {
          // A damaged stretch ended here: the frames (and records) between are lost, and exactly known.
          const lostRecords = Math.max(0, before - recordsSoFar);
          out.lostBatches += idx - nextIdx;
          out.lostRecords += lostRecords;
          for (let i = nextIdx; i < idx; i++) out.skipped.push(i);
        }
        const len = data.readUInt32LE(off + 4);
        const count = data.readUInt32LE(off + 8);
        out.entries.push({ seg, idx, offset: off, dataOffset: off + FRAME_HEADER_BYTES, len, count, batch: undefined });
        nextIdx = idx + 1;
        recordsSoFar = before + count;
        off += FRAME_HEADER_BYTES + len;
        continue;
      }
      // Damage at `off`: find the next intact frame.
      let next = data.indexOf(MARKER_BYTES, off + 1);
      while (next >= 0 && checkFrameV2(data, next, nextIdx) !== 'ok') next = data.indexOf(MARKER_BYTES, next + 1);
      if (next >= 0) {
        const idx = data.readUInt32LE(next + 12);
        const lost = Math.max(0, data.readUInt32LE(next + 16) - recordsSoFar);
        this.o.logger.warn('disk queue: damaged frames skipped, reading resumes at the next intact frame', {
          segment: seg.path, offset: off, bytes: next - off, lost_batches: idx - nextIdx, lost_log_records: lost,
        });
        off = next;
        continue;
      }
      // Damage runs to the end: count what the remaining frame headers claim (at least), cut it off.
      const tail = tailEstimate(data, off);
      out.lostBatches += tail.frames;
      out.lostRecords += tail.records;
      for (let i = 0; i < tail.frames; i++) out.skipped.push(nextIdx + i);
      nextIdx += tail.frames;
      this.o.logger.warn('disk queue: torn or corrupt tail, keeping the records before it', {
        segment: seg.path, offset: off, truncated_bytes: data.length - off, lost_batches: tail.frames, lost_log_records: tail.records,
      });
      out.cutAt = off;
      break;
    }
    out.count = nextIdx;
    seg.logRecords = recordsSoFar;
    return out;
  }

  /** Segments written before frame markers existed: a sound length lets one bad record be skipped; else cut. */
  private scanV1(seg: Segment, data: Buffer): SegmentScan {
    const out: SegmentScan = { entries: [], skipped: [], count: 0, lostBatches: 0, lostRecords: 0, cutAt: undefined };
    let off = 0;
    let idx = 0;
    while (off < data.length) {
      const check = checkRecordV1(data, off);
      if (check === 'ok') {
        const len = data.readUInt32LE(off);
        out.entries.push({ seg, idx, offset: off, dataOffset: off + V1_HEADER_BYTES, len, count: data.readUInt32LE(off + 4), batch: undefined });
        off += V1_HEADER_BYTES + len;
        idx++;
        continue;
      }
      out.lostBatches++;
      const len = off + 8 <= data.length ? data.readUInt32LE(off) : -1;
      const next = off + V1_HEADER_BYTES + len;
      if (check === 'crc' && len >= 0 && next <= data.length && (next === data.length || checkRecordV1(data, next) === 'ok')) {
        out.lostRecords += data.readUInt32LE(off + 4);
        this.o.logger.warn('disk queue: corrupt record skipped', { segment: seg.path, offset: off, bytes: V1_HEADER_BYTES + len });
        out.skipped.push(idx);
        off = next;
        idx++;
        continue;
      }
      if (off + 8 <= data.length) out.lostRecords += Math.min(data.readUInt32LE(off + 4), MAX_PLAUSIBLE_COUNT);
      this.o.logger.warn('disk queue: torn or corrupt tail, keeping the records before it', {
        segment: seg.path, offset: off, truncated_bytes: data.length - off, reason: check,
      });
      out.cutAt = off;
      break;
    }
    out.count = idx;
    return out;
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
    let records = seg.logRecords;
    for (const p of group) {
      const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      header.writeUInt32LE(FRAME_MARKER, 0);
      header.writeUInt32LE(p.payload.length, 4);
      header.writeUInt32LE(p.count, 8);
      header.writeUInt32LE(idx, 12);
      header.writeUInt32LE(records >>> 0, 16);
      header.writeUInt32LE(crc32(p.payload, crc32(header, 0, 4, 20)), 20);
      buffers.push(header, p.payload);
      entries.push({ seg, idx: idx++, offset: off, dataOffset: off + FRAME_HEADER_BYTES, len: p.payload.length, count: p.count, batch: undefined });
      off += FRAME_HEADER_BYTES + p.payload.length;
      records += p.count;
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
    seg.logRecords = records;
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
    const seg: Segment = { num, path: `${base}.log`, ackPath: `${base}.ack`, version: 2, logRecords: 0, count: 0, acked: 0, size: 0, deleted: false };
    const fh = await open(seg.path, 'w', 0o600);
    const header = Buffer.allocUnsafe(FILE_HEADER_BYTES);
    header.writeUInt32LE(FILE_MAGIC, 0);
    header.writeUInt32LE(FORMAT_VERSION, 4);
    try {
      await fh.write(header, 0, FILE_HEADER_BYTES, 0);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    seg.size = FILE_HEADER_BYTES;
    this.writeFh = fh;
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
      // Set before awaiting, so concurrent first reads share one open.
      seg.readFh ??= open(seg.path, 'r');
      const fh = await seg.readFh;
      const buf = Buffer.allocUnsafe(e.len);
      let got = 0;
      while (got < e.len) {
        const r = await fh.read(buf, got, e.len - got, e.dataOffset + got);
        if (r.bytesRead === 0) throw new Error(`unexpected end of ${seg.path} at ${e.dataOffset + got}`);
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
    await closeReader(seg);
    await seg.ackFh?.close().catch(() => undefined);
    seg.ackFh = undefined;
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
      await closeReader(seg);
      await seg.ackFh?.close().catch(() => undefined);
      seg.ackFh = undefined;
    }
    await this.lock?.release();
    this.lock = undefined;
  }
}
