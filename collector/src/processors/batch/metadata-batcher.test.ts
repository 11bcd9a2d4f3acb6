import { describe, expect, it } from 'vitest';
import type { CreateSettings, LogsBatch } from '../../component.js';
import { PermanentError } from '../../errors.js';
import { silentLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { batchProcessorConfigSchema, batchProcessorFactory } from './index.js';

const settings = (): CreateSettings => ({ id: { type: 'batch', name: '', id: 'batch' }, logger: silentLogger, telemetry: new Telemetry() });

function batch(tenant: string | undefined, n: number): LogsBatch {
  const logRecords = Array.from({ length: n }, () => ({
    timeUnixNano: 1n, observedTimeUnixNano: 1n, severityNumber: 9, severityText: '', body: { stringValue: tenant ?? '-' },
    attributes: [], droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  }));
  return {
    resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords }] }],
    recordCount: n,
    receivedAt: 0,
    metadata: tenant === undefined ? { 'user-agent': 'x' } : { 'x-tenant': tenant, 'user-agent': 'x' },
  } as unknown as LogsBatch;
}

describe('batch metadata_keys', () => {
  it('batches per distinct metadata value and passes those values on; over the cardinality limit → permanent error', async () => {
    const out: LogsBatch[] = [];
    const config = batchProcessorConfigSchema.parse({ timeout: '1h', send_batch_size: 1000, metadata_keys: ['X-Tenant'], metadata_cardinality_limit: 3 });
    const p = batchProcessorFactory.create(settings(), config, { consume: (b) => (out.push(b), Promise.resolve()) });
    await p.consume(batch('acme', 2));
    await p.consume(batch('globex', 3));
    await p.consume(batch('acme', 1));
    await p.consume(batch(undefined, 1));
    await expect(p.consume(batch('initech', 1))).rejects.toBeInstanceOf(PermanentError);
    await p.shutdown();
    const byTenant = out.map((b) => [b.metadata?.['x-tenant'] ?? '(none)', b.recordCount]).sort();
    expect(byTenant).toEqual([['(none)', 1], ['acme', 3], ['globex', 3]]);
    // Only the listed keys travel on.
    expect(out.every((b) => b.metadata?.['user-agent'] === undefined)).toBe(true);
  });
});
