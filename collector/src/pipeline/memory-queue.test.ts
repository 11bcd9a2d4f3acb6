import { describe, expect, it } from 'vitest';
import type { LogsBatch } from '../component.js';
import { MemoryBatchQueue } from './memory-queue.js';

const batch = (n: number): LogsBatch => ({ resourceLogs: [], recordCount: n, receivedAt: 0 });

describe('MemoryBatchQueue', () => {
  it('is FIFO across wrap-around and tracks size and records', async () => {
    const q = new MemoryBatchQueue({ capacity: 3 });
    const out: number[] = [];
    for (let round = 0; round < 5; round++) {
      expect(await q.offer(batch(round * 10 + 1))).toBe(true);
      expect(await q.offer(batch(round * 10 + 2))).toBe(true);
      expect(q.size).toBe(2);
      expect(q.records).toBe(round * 20 + 3);
      out.push((await q.take())!.batch.recordCount, (await q.take())!.batch.recordCount);
    }
    expect(out).toEqual([1, 2, 11, 12, 21, 22, 31, 32, 41, 42]);
    expect(q.size).toBe(0);
    expect(q.records).toBe(0);
  });

  it('refuses when full unless drop_oldest, which evicts and reports the oldest', async () => {
    const q = new MemoryBatchQueue({ capacity: 2 });
    expect(await q.offer(batch(1))).toBe(true);
    expect(await q.offer(batch(2))).toBe(true);
    expect(await q.offer(batch(3))).toBe(false);
    expect(q.capacity).toBe(2);

    const dropped: number[] = [];
    const d = new MemoryBatchQueue({ capacity: 2, dropOldest: true, onDrop: (b) => dropped.push(b.recordCount) });
    for (const n of [1, 2, 3, 4]) expect(await d.offer(batch(n))).toBe(true);
    expect(dropped).toEqual([1, 2]);
    expect(d.records).toBe(7);
    expect((await d.take())!.batch.recordCount).toBe(3);
  });

  it('hands an offered batch to a waiting taker', async () => {
    const q = new MemoryBatchQueue({ capacity: 1 });
    const a = q.take();
    const b = q.take();
    await q.offer(batch(7));
    await q.offer(batch(8));
    expect((await a)!.batch.recordCount).toBe(7);
    expect((await b)!.batch.recordCount).toBe(8);
    expect(q.size).toBe(0);
  });

  it('close: refuses new batches, drains what is left, then returns undefined; releases waiters', async () => {
    const q = new MemoryBatchQueue({ capacity: 4 });
    const waiting = new MemoryBatchQueue({ capacity: 1 });
    const w = waiting.take();
    await waiting.close();
    expect(await w).toBeUndefined();

    await q.offer(batch(1));
    await q.offer(batch(2));
    await q.close();
    expect(await q.offer(batch(3))).toBe(false);
    expect((await q.take())!.batch.recordCount).toBe(1);
    expect((await q.take())!.batch.recordCount).toBe(2);
    expect(await q.take()).toBeUndefined();
  });

  it('handles a full 100k-batch ring (offerSync/poll)', async () => {
    const q = new MemoryBatchQueue({ capacity: 100_000 });
    const b = batch(1);
    for (let i = 0; i < 100_000; i++) q.offerSync(b);
    for (let i = 0; i < 100_000; i++) q.poll();
    expect(q.size).toBe(0);
    expect(q.records).toBe(0);
  });
});
