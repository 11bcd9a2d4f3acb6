import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResourceLogs } from '@tributary/otlp';
import type { LogsBatch } from '../component.js';
import { silentLogger } from '../telemetry/logger.js';
import { BoundCounter } from '../telemetry/metrics.js';
import { crc32 } from './disk-queue-crc32.js';
import { DiskBatchQueue, HEADER_BYTES, type DiskBatchQueueOptions } from './disk-queue.js';

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
afterEach(async () => {
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
  return { opts, corrupt, recovered, dropped, open: (o: Partial<DiskBatchQueueOptions> = {}) => DiskBatchQueue.open({ ...opts, ...o }) };
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
    expect(size).toBeGreaterThan(50 * HEADER_BYTES);
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
    const secondPayload = HEADER_BYTES + data.readUInt32LE(0) + HEADER_BYTES + 2;
    data[secondPayload]! ^= 0x40;
    await writeFile(seg, data);
    const q2 = await s.open();
    expect(s.corrupt.value).toBe(1);
    expect((await drain(q2)).flat()).toEqual([0, 2]);
    await q2.release();
  });

  it('garbage in the header: cut there, earlier records kept', async () => {
    const s = await setup();
    const q = await s.open();
    for (let i = 0; i < 3; i++) await q.offer(numbered([i]));
    const seg = join(s.opts.directory, (await readdir(s.opts.directory)).find((n) => n.endsWith('.log'))!);
    const data = await readFile(seg);
    data.writeUInt32LE(0xfffffff0, HEADER_BYTES + data.readUInt32LE(0)); // second record's length lies
    await writeFile(seg, data);
    const q2 = await s.open();
    expect(s.corrupt.value).toBe(1);
    expect((await drain(q2)).flat()).toEqual([0]);
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
