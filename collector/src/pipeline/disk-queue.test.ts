import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeExportRequest, type ResourceLogs } from '@tributary/otlp';
import type { LogsBatch } from '../component.js';
import { silentLogger } from '../telemetry/logger.js';
import { BoundCounter } from '../telemetry/metrics.js';
import { crc32 } from './disk-queue-crc32.js';
import { describeDirectoryError, DiskBatchQueue, FILE_HEADER_BYTES, FRAME_HEADER_BYTES, type DiskBatchQueueOptions } from './disk-queue.js';
import { DirectoryLockedError, LOCK_FILE } from './dir-lock.js';

function numbered(ids: number[]): LogsBatch {
  const rl = {
    resource: { attributes: [], droppedAttributesCount: 0 },
    scopeLogs: [{ scope: null, schemaUrl: '', logRecords: ids.map((id) => ({
      timeUnixNano: 0, observedTimeUnixNano: 0, severityNumber: 9, severityText: '', body: { stringValue: `rec-${id}` }, attributes: [],
      droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
    })) }],
    schemaUrl: '',
  } as unknown as ResourceLogs;
  return { resourceLogs: [rl], recordCount: ids.length, receivedAt: performance.now() };
}
const idsOf = (b: LogsBatch): number[] =>
  b.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => Number(String(r.body?.stringValue).slice(4)))));

const dirs: string[] = [];
/** Every queue a test opened: those left open on purpose (a simulated crash) are closed here, not by GC. */
const opened: DiskBatchQueue[] = [];
afterEach(async () => {
  for (const q of opened.splice(0)) await q.release();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(over: Partial<DiskBatchQueueOptions> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'trib-dq-'));
  dirs.push(dir);
  const corrupt = new BoundCounter();
  const recovered = new BoundCounter();
  const dropped: number[] = [];
  const opts: DiskBatchQueueOptions = {
    directory: join(dir, 'otlphttp%2Fa'), capacity: 1000, maxBytes: 1 << 30, segmentBytes: 1 << 20, fsync: false,
    compactOnStart: true, compactOnRebound: true, dropOldest: false, onDrop: (b) => dropped.push(b.recordCount),
    logger: silentLogger, corruptRecords: corrupt, recoveredRecords: recovered, ...over,
  };
  // Reopening without release() stands for a restart after SIGKILL: the old holder's lock is gone with it.
  const open = async (o: Partial<DiskBatchQueueOptions> = {}): Promise<DiskBatchQueue> => {
    await rm(join(opts.directory, LOCK_FILE), { force: true });
    const q = await DiskBatchQueue.open({ ...opts, ...o });
    opened.push(q);
    return q;
  };
  return { opts, corrupt, recovered, dropped, open };
}

async function drain(q: DiskBatchQueue, ack = true): Promise<number[][]> {
  const out: number[][] = [];
  while (q.size > 0) {
    const item = (await q.take())!;
    out.push(idsOf(item.batch));
    if (ack) await q.ack(item);
  }
  return out;
}

describe('crc32', () => {
  it('matches the IEEE CRC-32 check value and zlib', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const data = Buffer.from('tributary disk queue '.repeat(50));
    const chained = crc32(data, crc32(data, 0, 0, 100), 100);
    expect(chained).toBe(crc32(data));
    const z = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
    if (z) expect(crc32(data)).toBe(z(data));
  });
});

describe('DiskBatchQueue', () => {
  it('keeps unacknowledged batches across a reopen and forgets acknowledged ones', async () => {
    const s = await setup();
    const q = await s.open();
    for (let i = 0; i < 10; i++) expect(await q.offer(numbered([i * 2, i * 2 + 1]))).toBe(true);
    expect(q.size).toBe(10);
    expect(q.records).toBe(20);
    // Take 4, ack 3 (the 4th is "in flight" when the process dies).
    for (let i = 0; i < 4; i++) {
      const item = (await q.take())!;
      if (i < 3) await q.ack(item);
    }
    // No release(): as after SIGKILL.
    const q2 = await s.open();
    expect(q2.recovery.batches).toBe(7);
    expect(s.recovered.value).toBe(14);
    expect(q2.records).toBe(14);
    expect((await drain(q2)).flat()).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    await q2.release();
    const q3 = await s.open();
    expect(q3.size).toBe(0);
    await q3.release();
    // Everything acknowledged: compaction left no segment behind.
    expect((await readdir(s.opts.directory)).filter((n) => n.endsWith('.log'))).toEqual([]);
  });

  it('groups concurrent offers into one write and resolves each only once written', async () => {
    const s = await setup();
    const q = await s.open();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => q.offer(numbered([i]))));
    expect(results.every(Boolean)).toBe(true);
    const files = (await readdir(s.opts.directory)).filter((n) => n.endsWith('.log'));
    expect(files).toHaveLength(1);
    const size = (await stat(join(s.opts.directory, files[0]!))).size;
    expect(size).toBeGreaterThan(50 * FRAME_HEADER_BYTES);
    expect((await drain(q)).flat()).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await q.release();
  });

  it('hands a batch straight to a waiting taker', async () => {
    const s = await setup();
    const q = await s.open();
    const taking = q.take();
    await q.offer(numbered([42]));
    const item = await taking;
    expect(idsOf(item!.batch)).toEqual([42]);
    await q.ack(item!);
    await q.close();
    expect(await q.take()).toBeUndefined();
    await q.release();
  });

  it('reads batches back from disk when they are not cached', async () => {
    const s = await setup({ memoryCacheBytes: 0 });
    const q = await s.open();
    await q.offer(numbered([1, 2, 3]));
    const item = (await q.take())!;
    expect(idsOf(item.batch)).toEqual([1, 2, 3]);
    expect(item.batch.recordCount).toBe(3);
    await q.release();
  });

  it('a torn tail: keeps the good records, truncates, reports and counts the damage', async () => {
    const s = await setup();
    const q = await s.open();
    for (let i = 0; i < 5; i++) await q.offer(numbered([i]));
    const seg = join(s.opts.directory, (await readdir(s.opts.directory)).find((n) => n.endsWith('.log'))!);
    const full = (await stat(seg)).size;
    await truncate(seg, full - 7); // cut into the last record
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string, f?: Record<string, unknown>) => warnings.push(`${m} ${JSON.stringify(f)}`) };
    const q2 = await s.open({ logger: logger });
    expect(q2.recovery.corruptRecords).toBe(1);
    expect(q2.recovery.truncatedBytes).toBeGreaterThan(0);
    expect(s.corrupt.value).toBe(1);
    expect(warnings.join('\n')).toMatch(/torn or corrupt tail.*"offset":\d+/);
    expect((await drain(q2)).flat()).toEqual([0, 1, 2, 3]);
    await q2.release();
    expect((await stat(seg).catch(() => undefined))?.size ?? 0).toBeLessThan(full);
  });

  it('a bit flip inside a record: that record is skipped, the ones after it are kept', async () => {
    const s = await setup();
    const q = await s.open();
    for (let i = 0; i < 3; i++) await q.offer(numbered([i]));
    const seg = join(s.opts.directory, (await readdir(s.opts.directory)).find((n) => n.endsWith('.log'))!);
    const data = await readFile(seg);
    const second = FILE_HEADER_BYTES + FRAME_HEADER_BYTES + data.readUInt32LE(FILE_HEADER_BYTES + 4);
    const secondPayload = second + FRAME_HEADER_BYTES + 2;
    data[secondPayload]! ^= 0x40;
    await writeFile(seg, data);
    const q2 = await s.open();
    expect(s.corrupt.value).toBe(1);
    expect((await drain(q2)).flat()).toEqual([0, 2]);
    await q2.release();
  });

  it('garbage in a header: reading resumes at the next frame, only the damaged record is lost', async () => {
    const s = await setup();
    const q = await s.open();
    for (let i = 0; i < 3; i++) await q.offer(numbered([i]));
    const seg = join(s.opts.directory, (await readdir(s.opts.directory)).find((n) => n.endsWith('.log'))!);
    const data = await readFile(seg);
    const second = FILE_HEADER_BYTES + FRAME_HEADER_BYTES + data.readUInt32LE(FILE_HEADER_BYTES + 4);
    data.writeUInt32LE(0xfffffff0, second + 4); // second record's length lies
    await writeFile(seg, data);
    const q2 = await s.open();
    expect(s.corrupt.value).toBe(1);
    expect((await drain(q2)).flat()).toEqual([0, 2]);
    await q2.release();
  });

  it('is bounded by capacity and by bytes: full refuses (back-pressure)', async () => {
    const s = await setup({ capacity: 3 });
    const q = await s.open();
    for (let i = 0; i < 3; i++) expect(await q.offer(numbered([i]))).toBe(true);
    expect(await q.offer(numbered([3]))).toBe(false);
    await q.release();

    const s2 = await setup({ maxBytes: 100 });
    const q2 = await s2.open();
    expect(await q2.offer(numbered([1]))).toBe(true);
    expect(await q2.offer(numbered(Array.from({ length: 20 }, (_, i) => i)))).toBe(false);
    // Acknowledging frees the bytes again.
    await q2.ack((await q2.take())!);
    expect(q2.bytes).toBe(0);
    expect(await q2.offer(numbered([2]))).toBe(true);
    await q2.release();
  });

  it('drop_oldest evicts the oldest batch (reported to onDrop) and the eviction survives a reopen', async () => {
    const s = await setup({ capacity: 2, dropOldest: true });
    const q = await s.open();
    for (let i = 0; i < 4; i++) expect(await q.offer(numbered([i]))).toBe(true);
    expect(s.dropped).toEqual([1, 1]);
    expect(q.size).toBe(2);
    const q2 = await s.open();
    expect((await drain(q2)).flat()).toEqual([2, 3]);
    await q2.release();
  });

  it('rotates segments and deletes each once fully acknowledged', async () => {
    const s = await setup({ segmentBytes: 200 });
    const q = await s.open();
    for (let i = 0; i < 30; i++) await q.offer(numbered([i]));
    const before = (await readdir(s.opts.directory)).filter((n) => n.endsWith('.log')).length;
    expect(before).toBeGreaterThan(3);
    expect((await drain(q)).flat()).toHaveLength(30);
    await q.release();
    expect((await readdir(s.opts.directory)).filter((n) => n.endsWith('.log'))).toEqual([]);
  });

  it('fsync mode writes and recovers the same way', async () => {
    const s = await setup({ fsync: true });
    const q = await s.open();
    await Promise.all([q.offer(numbered([1])), q.offer(numbered([2]))]);
    const q2 = await s.open();
    expect((await drain(q2)).flat().sort()).toEqual([1, 2]);
    await q2.release();
    await q.release();
  });
});

describe('DiskBatchQueue with traces / metrics', () => {
  it('keeps opaque batches (signal, item count, request bytes) across a reopen, next to log batches', async () => {
    const s = await setup();
    const q = await s.open();
    const req = Uint8Array.from([0x0a, 0x03, 0x12, 0x01, 0x00]);
    expect(await q.offer({ resourceLogs: [], recordCount: 7, receivedAt: 0, opaque: { signal: 'traces', requests: [req, req] } })).toBe(true);
    expect(await q.offer(numbered([1, 2]))).toBe(true);
    expect(await q.offer({ resourceLogs: [], recordCount: 3, receivedAt: 0, opaque: { signal: 'metrics', requests: [req] } })).toBe(true);
    await q.close();
    const q2 = await s.open();
    const a = (await q2.take())!;
    expect(a.batch.opaque?.signal).toBe('traces');
    expect(a.batch.recordCount).toBe(7);
    expect(Buffer.concat(a.batch.opaque!.requests.map((r) => Buffer.from(r)))).toEqual(Buffer.concat([req, req]));
    await q2.ack(a);
    const b = (await q2.take())!;
    expect(idsOf(b.batch)).toEqual([1, 2]);
    await q2.ack(b);
    const c = (await q2.take())!;
    expect(c.batch).toMatchObject({ recordCount: 3, opaque: { signal: 'metrics' } });
    await q2.ack(c);
    await q2.close();
  });
});

describe('DiskBatchQueue: one process per directory', () => {
  it('a second open of a held directory is refused, naming the directory and the holding pid', async () => {
    const s = await setup();
    const q = await s.open();
    await q.offer(numbered([1]));
    const err = await DiskBatchQueue.open(s.opts).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryLockedError);
    expect((err as Error).message).toContain(s.opts.directory);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    // The refused open touched nothing: the holder still has its batch.
    expect((await drain(q)).flat()).toEqual([1]);
    await q.release();
    // Released: the lock file is gone and the directory can be opened again.
    expect(await readdir(s.opts.directory)).not.toContain(LOCK_FILE);
    const q2 = await DiskBatchQueue.open(s.opts);
    await q2.release();
  });

  it('a stale lock (its process is gone, or the pid was reused) is taken over', async () => {
    const s = await setup();
    await mkdir(s.opts.directory, { recursive: true });
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((r) => child.once('exit', r));
    await writeFile(join(s.opts.directory, LOCK_FILE), `${deadPid} 123 abc\n`);
    const q = await DiskBatchQueue.open(s.opts);
    expect((await readFile(join(s.opts.directory, LOCK_FILE), 'utf8')).split(' ')[0]).toBe(String(process.pid));
    await q.release();
    // Our own pid with another start time: a previous run in a restarted container.
    await writeFile(join(s.opts.directory, LOCK_FILE), `${process.pid} 1 abc\n`);
    const q2 = await DiskBatchQueue.open(s.opts);
    await q2.release();
  });

  it('a directory that cannot be written is reported as such', async () => {
    const s = await setup();
    await mkdir(join(s.opts.directory, '..'), { recursive: true });
    const file = join(s.opts.directory, '..', 'a-file');
    await writeFile(file, 'x');
    await expect(DiskBatchQueue.open({ ...s.opts, directory: join(file, 'q') })).rejects.toThrow(/a-file exists and is not a directory/);
    // For real: a read-only parent, opened by an unprivileged process (root ignores permissions).
    const ro = join(s.opts.directory, '..', 'ro');
    await mkdir(ro, { recursive: true, mode: 0o555 });
    await chmod(join(s.opts.directory, '..'), 0o755);
    await chmod(ro, 0o555);
    const script = `import(${JSON.stringify(new URL('../../dist/pipeline/disk-queue.js', import.meta.url).href)}).then((m) => m.DiskBatchQueue.open({ directory: ${JSON.stringify(join(ro, 'q'))}, capacity: 1, maxBytes: 1e6, segmentBytes: 1e6, fsync: false, compactOnStart: true, compactOnRebound: true, dropOldest: false, onDrop() {}, logger: { info() {}, warn() {}, error() {}, debug() {}, child() { return this; } } })).then(() => console.log('opened'), (e) => console.log(e.message))`;
    const asRoot = process.getuid?.() === 0;
    const out = await new Promise<string>((resolve) => {
      const args = asRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script] : ['-e', script];
      const child = spawn(asRoot ? 'setpriv' : process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      child.on('error', (e) => resolve(`spawn failed: ${e.message}`));
      child.on('exit', () => resolve(text));
    });
    if (out.startsWith('spawn failed')) console.log(`disk-queue: cannot run as an unprivileged user (${out}); the real read-only check is skipped`);
    else expect(out).toContain(`disk queue directory ${join(ro, 'q')} cannot be created: ${ro} is read-only (EACCES)`);
    const rofs = Object.assign(new Error('EROFS: read-only file system, mkdir'), { code: 'EROFS' });
    expect((await describeDirectoryError('/ro/q', rofs)).message).toBe('disk queue directory /ro/q is on a read-only file system (EROFS)');
    const eacces = Object.assign(new Error("ENOENT: no such file or directory, mkdir '/x'"), { code: 'EACCES' });
    expect((await describeDirectoryError(join(s.opts.directory, 'sub'), eacces)).message).toMatch(/read-only \(EACCES\)/);
  });
});

describe('DiskBatchQueue: damage', () => {
  it('5 corruptions in 400 batches: reading resyncs, only the damaged batches are lost and counted in records', async () => {
    const s = await setup({ memoryCacheBytes: 0 });
    const q = await s.open();
    for (let i = 0; i < 400; i++) await q.offer(numbered([i * 3, i * 3 + 1, i * 3 + 2]));
    const seg = join(s.opts.directory, (await readdir(s.opts.directory)).find((n) => n.endsWith('.log'))!);
    const data = await readFile(seg);
    // Frame offsets, then damage 5 of them in different ways.
    const offsets: number[] = [];
    for (let off = FILE_HEADER_BYTES; off < data.length; off += FRAME_HEADER_BYTES + data.readUInt32LE(off + 4)) offsets.push(off);
    expect(offsets).toHaveLength(400);
    data.writeUInt32LE(0xfffffff0, offsets[10]! + 4); // length lies
    data[offsets[50]! + FRAME_HEADER_BYTES + 3]! ^= 0xff; // payload bit flips
    data.fill(0, offsets[120], offsets[120]! + 10); // marker and length zeroed
    data.writeUInt32LE(7, offsets[200]! + 8); // record count lies
    data.fill(0xab, offsets[300]! + 2, offsets[300]! + 30); // a smear across header and payload
    await writeFile(seg, data);
    const lost = new BoundCounter();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string, f?: Record<string, unknown>) => warnings.push(`${m} ${JSON.stringify(f)}`) };
    const q2 = await s.open({ lostRecords: lost, logger: logger });
    const damaged = [10, 50, 120, 200, 300];
    const expected = Array.from({ length: 400 }, (_, i) => i).filter((i) => !damaged.includes(i)).flatMap((i) => [i * 3, i * 3 + 1, i * 3 + 2]);
    expect((await drain(q2)).flat()).toEqual(expected);
    expect(s.corrupt.value).toBe(5);
    expect(lost.value).toBe(15);
    expect(q2.recovery.lostRecords).toBe(15);
    expect(warnings).toHaveLength(5);
    expect(warnings[0]).toContain(seg);
    expect(warnings[0]).toContain(`"offset":${offsets[10]}`);
    await q2.release();
    // The lost frames were acknowledged: after draining, the segment is compacted away.
    expect((await readdir(s.opts.directory)).filter((n) => n.endsWith('.log'))).toEqual([]);
  });

  it('still reads segments written before frame markers (and skips a bad record in them)', async () => {
    const s = await setup();
    await mkdir(s.opts.directory, { recursive: true });
    const frames: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const payload = Buffer.from(encodeExportRequest({ resourceLogs: numbered([i, i + 10]).resourceLogs }));
      const header = Buffer.alloc(12);
      header.writeUInt32LE(payload.length, 0);
      header.writeUInt32LE(2, 4);
      header.writeUInt32LE(crc32(payload, crc32(header, 0, 0, 8)), 8);
      if (i === 1) payload[1]! ^= 0x55;
      frames.push(header, payload);
    }
    await writeFile(join(s.opts.directory, 'seg-00000007.log'), Buffer.concat(frames));
    const lost = new BoundCounter();
    const q = await s.open({ lostRecords: lost });
    expect((await drain(q)).flat()).toEqual([0, 10, 2, 12]);
    expect(s.corrupt.value).toBe(1);
    expect(lost.value).toBe(2);
    // New writes go to a new segment in the current format.
    await q.offer(numbered([99]));
    const names = (await readdir(s.opts.directory)).filter((n) => n.endsWith('.log'));
    expect(names).toContain('seg-00000008.log');
    expect((await readFile(join(s.opts.directory, 'seg-00000008.log'))).subarray(0, 4).toString()).toBe('TRBQ');
    await q.release();
  });

  it('10 concurrent first reads of a recovered segment open it once', async () => {
    const s = await setup({ memoryCacheBytes: 0 });
    const q = await s.open();
    for (let i = 0; i < 10; i++) await q.offer(numbered([i]));
    const seg = join(s.opts.directory, (await readdir(s.opts.directory)).find((n) => n.endsWith('.log'))!);
    await q.release();
    const q2 = await s.open();
    const items = await Promise.all(Array.from({ length: 10 }, () => q2.take()));
    expect(items.map((it) => idsOf(it!.batch)).flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // File descriptors of this process open on that segment: one reader.
    const fds = await readdir('/proc/self/fd').catch(() => undefined);
    if (fds !== undefined) {
      let onSeg = 0;
      for (const fd of fds) if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === seg) onSeg++;
      expect(onSeg).toBe(1);
    }
    for (const it of items) await q2.ack(it!);
    await q2.release();
  });
});
