import Long from 'long';
import { describe, expect, it } from 'vitest';
import { RecordingConsumer, testSettings } from '../../../../test/kit/index.js';
import { keyValuesToRaw, type ResourceLogs } from '@tributary/otlp';
import { type LogsBatch } from '../../component.js';
import { MetricNames, Telemetry } from '../../telemetry/metrics.js';
import { resourceConfigSchema } from './config.js';
import { ResourceProcessor } from './resource-processor.js';

function rl(attrs: Record<string, string> | null): ResourceLogs {
  return {
    resource: attrs === null ? null : { attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })), droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [{
      timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO, severityNumber: 9, severityText: '', body: null,
      attributes: [{ key: 'rec', value: { stringValue: 'untouched' } }], droppedAttributesCount: 0, flags: 0,
      traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
    }] }],
  };
}

describe('resource processor', () => {
  it('applies the actions to each resource once, creating a missing resource; record attributes untouched', async () => {
    const telemetry = new Telemetry();
    const next = new RecordingConsumer();
    const out = next.batches;
    const p = new ResourceProcessor(testSettings('resource', telemetry), resourceConfigSchema.parse({
      attributes: [
        { key: 'cloud.availability_zone', action: 'upsert', value: 'zone-1' },
        { key: 'tenant', action: 'insert', from_context: 'x-tenant' },
        { key: 'host.name', action: 'delete' },
        { key: 'service.instance.id', action: 'hash' },
        { key: 'service.name', action: 'extract', pattern: '^(?P<team>[a-z]+)-' },
      ],
    }), next);
    const batch: LogsBatch = {
      resourceLogs: [rl({ 'service.name': 'shop-api', 'host.name': 'h1', 'service.instance.id': 'i-1', 'cloud.availability_zone': 'old' }), rl(null)],
      recordCount: 2, receivedAt: 0, metadata: { 'x-tenant': 'acme' },
    };
    await p.consume(batch);
    const [a, b] = batch.resourceLogs.map((r) => keyValuesToRaw(r.resource!.attributes));
    expect(a).toEqual({
      'service.name': 'shop-api', 'service.instance.id': expect.stringMatching(/^[0-9a-f]{64}$/), 'cloud.availability_zone': 'zone-1', tenant: 'acme', team: 'shop',
    });
    expect(b).toEqual({ 'cloud.availability_zone': 'zone-1', tenant: 'acme' });
    expect(keyValuesToRaw(batch.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes)).toEqual({ rec: 'untouched' });
    expect(out).toHaveLength(1);
    expect(telemetry.counter(MetricNames.processorOutgoing, '').total({ processor: 'resource' })).toBe(2);
  });

  it('uses the upstream `attributes` key and rejects `actions`', () => {
    expect(resourceConfigSchema.safeParse({ actions: [{ key: 'a', action: 'delete' }] }).success).toBe(false);
    expect(resourceConfigSchema.safeParse({ attributes: [{ key: 'a', action: 'delete' }] }).success).toBe(true);
  });
});
