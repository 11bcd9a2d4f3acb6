import { describe, expect, it } from 'vitest';
import type { CreateSettings, LogsBatch } from '../../component.js';
import { RetryableError } from '../../errors.js';
import { silentLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { BatchProcessor, batchProcessorConfigSchema } from './index.js';

const settings = (): CreateSettings => ({ id: { type: 'batch', name: '', id: 'batch' }, logger: silentLogger, telemetry: new Telemetry() });
const traces = (n: number, tag: number): LogsBatch => ({ resourceLogs: [], recordCount: n, receivedAt: 0, opaque: { signal: 'traces', requests: [Uint8Array.from([tag])] } });

describe('batch processor: traces / metrics (whole requests)', () => {
  it('groups whole requests up to send_batch_size, never splits one over send_batch_max_size', async () => {
    const out: LogsBatch[] = [];
    const p = new BatchProcessor(settings(), batchProcessorConfigSchema.parse({ send_batch_size: 10, send_batch_max_size: 12, timeout: '1h' }), { consume: (b) => (out.push(b), Promise.resolve()) });
    await p.consume(traces(4, 1));
    await p.consume(traces(4, 2));
    expect(out).toHaveLength(0);
    await p.consume(traces(6, 3)); // 4+4+6 > 12: the first two go alone, then 6 waits
    expect(out.map((b) => [b.recordCount, b.opaque?.requests.map((r) => r[0])])).toEqual([[8, [1, 2]]]);
    await p.consume(traces(20, 4)); // larger than the max on its own: sent whole
    await p.shutdown();
    expect(out.map((b) => b.recordCount)).toEqual([8, 6, 20]);
    expect(out.every((b) => b.opaque?.signal === 'traces' && b.resourceLogs.length === 0)).toBe(true);
  });

  it('wait_for_result: callers get the downstream answer', async () => {
    let fail = true;
    const p = new BatchProcessor(settings(), batchProcessorConfigSchema.parse({ send_batch_size: 1, wait_for_result: true }), {
      consume: () => (fail ? Promise.reject(new RetryableError('queue full')) : Promise.resolve()),
    });
    await expect(p.consume(traces(3, 1))).rejects.toThrow('queue full');
    fail = false;
    await expect(p.consume(traces(3, 2))).resolves.toBeUndefined();
    await p.shutdown();
  });
});
