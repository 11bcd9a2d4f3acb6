import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../errors.js';
import { Metrics } from '../../telemetry/metric-names.js';
import { DeadLetterWriter, readDeadLetterFile } from '../dead-letter.js';
import { ExporterAccounting } from './accounting.js';
import { batchOf, ID, senderSettings } from './test-support.js';

describe('ExporterAccounting', () => {
  it('counts sent, enqueued, retries and drops by reason', async () => {
    const { settings, counter } = senderSettings();
    const a = new ExporterAccounting(settings, undefined);
    a.enqueued(5);
    a.sent(batchOf(5), 3);
    a.sent(batchOf(5), 0);
    a.retried();
    a.drop(batchOf(2), 'queue_full', undefined);
    await a.giveUp(batchOf(4), 'retries_exhausted', new Error('x'));
    await a.giveUp(batchOf(4), 'permanent', new PermanentError('some', { rejected: 1 }));
    expect(counter(Metrics.exporterEnqueued.name)).toBe(5);
    expect(counter(Metrics.exporterSent.name)).toBe(3);
    expect(counter(Metrics.exporterRetries.name)).toBe(1);
    expect(counter(Metrics.exporterSendFailed.name, { reason: 'queue_full' })).toBe(2);
    expect(counter(Metrics.exporterSendFailed.name, { reason: 'retries_exhausted' })).toBe(4);
    expect(counter(Metrics.exporterSendFailed.name, { reason: 'permanent' })).toBe(1);
  });

  it('with a dead-letter file, given-up records are written there instead of dropped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'acct-'));
    try {
      const { settings, counter } = senderSettings();
      const path = join(dir, 'dl.jsonl');
      const a = new ExporterAccounting(settings, new DeadLetterWriter(path, ID));
      await a.giveUp(batchOf(3), 'shutdown', new Error('stopping'));
      await a.close();
      expect(counter(Metrics.exporterDeadLettered.name, { reason: 'shutdown' })).toBe(3);
      expect(counter(Metrics.exporterSendFailed.name)).toBe(0);
      const entries = [];
      for await (const e of readDeadLetterFile(path)) entries.push(e);
      expect(entries).toHaveLength(1);
      expect(entries[0]!.reason).toBe('shutdown: stopping');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
