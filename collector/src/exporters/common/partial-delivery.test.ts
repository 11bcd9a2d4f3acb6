import { describe, expect, it } from 'vitest';
import type { LogRecord, ResourceLogs } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { batchFromRefs, recordsOf, sendInOrder, SplitSendOutcome, type RecordRef } from './partial-delivery.js';

function record(body: string): LogRecord {
  return { body: { stringValue: body }, attributes: [] } as unknown as LogRecord;
}

function batch(): LogsBatch {
  const resourceLogs: ResourceLogs[] = [
    { resource: { attributes: [] }, schemaUrl: 'r0', scopeLogs: [{ scope: null, schemaUrl: 's0', logRecords: [record('a'), record('b')] }, { scope: null, schemaUrl: 's1', logRecords: [record('c')] }] },
    { resource: null, schemaUrl: 'r1', scopeLogs: [{ scope: null, schemaUrl: 's2', logRecords: [record('d')] }] },
  ] as unknown as ResourceLogs[];
  return { resourceLogs, recordCount: 4, receivedAt: 123, metadata: { 'x-tenant': 'acme' } };
}

const bodies = (b: LogsBatch | undefined): string[] => (b ? recordsOf(b.resourceLogs).map((r) => (r.lr.body as { stringValue: string }).stringValue) : []);

describe('batchFromRefs', () => {
  it('keeps resource, scope, receivedAt and metadata; counts a record once; undefined when empty', () => {
    const b = batch();
    const refs = recordsOf(b.resourceLogs);
    const sub = batchFromRefs([refs[3]!, refs[0]!, refs[0]!, refs[2]!], b)!;
    expect(sub.recordCount).toBe(3);
    expect(sub.receivedAt).toBe(123);
    expect(sub.metadata).toBe(b.metadata);
    expect(sub.resourceLogs.map((r) => r.schemaUrl)).toEqual(['r1', 'r0']);
    expect(sub.resourceLogs[1]!.resource).toBe(b.resourceLogs[0]!.resource);
    expect(sub.resourceLogs[1]!.scopeLogs.map((s) => s.schemaUrl)).toEqual(['s0', 's1']);
    expect(sub.resourceLogs[1]!.scopeLogs[0]!.logRecords[0]).toBe(refs[0]!.lr);
    expect(b.resourceLogs[0]!.scopeLogs[0]!.logRecords).toHaveLength(2); // the source is untouched
    expect(batchFromRefs([], b)).toBeUndefined();
  });
});

describe('SplitSendOutcome', () => {
  it('nothing failed: returns; all retryable: rethrows the error; all rejected: PermanentError', () => {
    const b = batch();
    const refs = recordsOf(b.resourceLogs);
    new SplitSendOutcome('x', 4).finish(b);
    const all = new SplitSendOutcome('x', 4);
    const err = new ThrottledError('slow down', { retryAfterMs: 5 });
    all.addRetry(refs, err);
    expect(() => all.finish(b)).toThrow(err);
    const bad = new SplitSendOutcome('x', 4);
    bad.addRejected(refs, 'too big');
    expect(() => bad.finish(b)).toThrow(PermanentError);
  });

  it('a mix: PartialSendError with only the records still to send, metadata kept, longest Retry-After', () => {
    const b = batch();
    const refs: RecordRef[] = recordsOf(b.resourceLogs);
    const o = new SplitSendOutcome('x', 4);
    o.addRetry([refs[1]!], new RetryableError('503', { retryAfterMs: 10 }));
    o.addRetry([refs[2]!], new RetryableError('503', { retryAfterMs: 30 }));
    o.addRejectedOne(refs[3]!, 'bad');
    let caught: unknown;
    try {
      o.finish(b);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PartialSendError);
    const p = caught as PartialSendError;
    expect(p.message).toMatch(/1 of 4 records accepted/);
    expect(bodies(p.retry)).toEqual(['b', 'c']);
    expect(bodies(p.rejected)).toEqual(['d']);
    expect(p.retry!.metadata).toEqual({ 'x-tenant': 'acme' });
    expect(p.retryAfterMs).toBe(30);
  });
});

describe('sendInOrder', () => {
  const requests = (b: LogsBatch) => {
    const refs = recordsOf(b.resourceLogs);
    return [{ refs: refs.slice(0, 2) }, { refs: refs.slice(2, 3) }, { refs: refs.slice(3) }];
  };

  it('the first request failing retryably: that error as is (the whole batch is retried)', async () => {
    const b = batch();
    const err = new RetryableError('down');
    await expect(sendInOrder('x', b, requests(b), [], () => Promise.reject(err))).rejects.toBe(err);
  });

  it('a later request failing for good: delivered ones are not resent, it is rejected, the rest retried', async () => {
    const b = batch();
    let n = 0;
    const err = await sendInOrder('x', b, requests(b), [], () => (n++ === 1 ? Promise.reject(new PermanentError('400')) : Promise.resolve())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialSendError);
    const p = err as PartialSendError;
    expect(p.message).toBe('x: request 2 of 3 failed: 400');
    expect(bodies(p.rejected)).toEqual(['c']);
    expect(bodies(p.retry)).toEqual(['d']); // not attempted: sent again with the retry
    expect(n).toBe(2);
  });

  it('a retryable failure part-way: the failed request and the rest are retried, converted rejects go to rejected', async () => {
    const b = batch();
    const refs = recordsOf(b.resourceLogs);
    let n = 0;
    const reqs = requests(b).slice(0, 2);
    const err = await sendInOrder('x', b, reqs, [{ ref: refs[3]!, reason: 'empty body' }], () =>
      n++ === 1 ? Promise.reject(new ThrottledError('429', { retryAfterMs: 7 })) : Promise.resolve(),
    ).catch((e: unknown) => e);
    const p = err as PartialSendError;
    expect(p).toBeInstanceOf(PartialSendError);
    expect(bodies(p.retry)).toEqual(['c']);
    expect(bodies(p.rejected)).toEqual(['d']);
    expect(p.retryAfterMs).toBe(7);
    expect(p.retry!.metadata).toBe(b.metadata);
  });
});
