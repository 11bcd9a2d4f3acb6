import { createHash } from 'node:crypto';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { RecordingConsumer, testSettings } from '../../../../test/kit/index.js';
import { anyValueFrom, keyValuesToRaw, type LogRecord } from '@tributary/otlp';
import { type LogsBatch } from '../../component.js';
import { MetricNames, Telemetry } from '../../telemetry/metrics.js';
import { AttributesProcessor } from './attributes-processor.js';
import { attributesConfigSchema } from './config.js';

function rec(attrs: Record<string, unknown>): LogRecord {
  return {
    timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO, severityNumber: 9, severityText: '', body: { stringValue: 'x' },
    attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: anyValueFrom(v) })),
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  };
}

async function run(actions: unknown[], records: LogRecord[], metadata?: LogsBatch['metadata']) {
  const telemetry = new Telemetry();
  const next = new RecordingConsumer();
  const out = next.batches;
  const p = new AttributesProcessor(testSettings('attributes/x', telemetry), attributesConfigSchema.parse({ actions }), next);
  await p.consume({ resourceLogs: [{ resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records }] }], recordCount: records.length, receivedAt: 0, metadata });
  return { out, telemetry, attrs: records.map((r) => keyValuesToRaw(r.attributes)) };
}

describe('attributes processor', () => {
  it('insert only adds, update only changes, upsert does both', async () => {
    const { attrs } = await run([
      { key: 'env', action: 'insert', value: 'prod' },
      { key: 'region', action: 'update', value: 'eu' },
      { key: 'team', action: 'upsert', value: 'core' },
      { key: 'limits', action: 'insert', value: { max: 5, tags: ['a'] } },
    ], [rec({ env: 'dev', team: 'web' }), rec({ region: 'us' })]);
    expect(attrs[0]).toEqual({ env: 'dev', team: 'core', limits: { max: 5, tags: ['a'] } });
    expect(attrs[1]).toEqual({ region: 'eu', env: 'prod', team: 'core', limits: { max: 5, tags: ['a'] } });
  });

  it('inserted values are not shared between records', async () => {
    const records = [rec({}), rec({})];
    await run([{ key: 'k', action: 'insert', value: 'v' }], records);
    expect(records[0]!.attributes[0]!.value).not.toBe(records[1]!.attributes[0]!.value);
  });

  it('from_attribute copies another attribute; from_context reads request metadata', async () => {
    const { attrs } = await run([
      { key: 'user', action: 'upsert', from_attribute: 'enduser.id' },
      { key: 'tenant', action: 'insert', from_context: 'metadata.x-tenant' },
      { key: 'agent', action: 'insert', from_context: 'User-Agent' },
      { key: 'missing', action: 'insert', from_context: 'metadata.nope' },
    ], [rec({ 'enduser.id': 42 })], { 'x-tenant': 'acme', 'user-agent': ['a', 'b'] });
    expect(attrs[0]).toEqual({ 'enduser.id': 42, user: 42, tenant: 'acme', agent: 'a;b' });
  });

  it('delete by key or key pattern; hash is SHA-256 hex', async () => {
    const { attrs } = await run([
      { key: 'debug', action: 'delete' },
      { pattern: '^tmp\\.', action: 'delete' },
      { key: 'email', action: 'hash' },
    ], [rec({ debug: true, 'tmp.a': 1, 'tmp.b': 2, keep: 'yes', email: 'a@b.io' })]);
    expect(attrs[0]).toEqual({ keep: 'yes', email: createHash('sha256').update('a@b.io').digest('hex') });
  });

  it('extract puts named groups into attributes; convert changes types', async () => {
    const { attrs } = await run([
      { key: 'http.url', action: 'extract', pattern: '^(?P<http_protocol>\\w+)://(?P<http_domain>[^/]+)(?P<http_path>/[^?]*)' },
      { key: 'status', action: 'convert', converted_type: 'int' },
      { key: 'ratio', action: 'convert', converted_type: 'double' },
      { key: 'code', action: 'convert', converted_type: 'string' },
      { key: 'bad', action: 'convert', converted_type: 'int' },
    ], [rec({ 'http.url': 'https://shop.example.com/cart/1?x=2', status: '404', ratio: '0.5', code: 7, bad: 'n/a' })]);
    expect(attrs[0]).toEqual({
      'http.url': 'https://shop.example.com/cart/1?x=2', status: 404, ratio: 0.5, code: '7', bad: 'n/a',
      http_protocol: 'https', http_domain: 'shop.example.com', http_path: '/cart/1',
    });
  });

  it('counts records in and out', async () => {
    const { telemetry, out } = await run([{ key: 'a', action: 'delete' }], [rec({ a: 1 }), rec({})]);
    expect(out).toHaveLength(1);
    expect(telemetry.counter(MetricNames.processorIncoming, '').total({ processor: 'attributes/x' })).toBe(2);
    expect(telemetry.counter(MetricNames.processorOutgoing, '').total({ processor: 'attributes/x' })).toBe(2);
  });

  it('validates actions like upstream', () => {
    const bad = (a: unknown): boolean => !attributesConfigSchema.safeParse({ actions: [a] }).success;
    expect(bad({ key: 'a', action: 'insert' })).toBe(true);
    expect(bad({ key: 'a', action: 'insert', value: 1, from_attribute: 'b' })).toBe(true);
    expect(bad({ action: 'delete' })).toBe(true);
    expect(bad({ key: 'a', action: 'extract', pattern: '(\\w+)' })).toBe(true);
    expect(bad({ key: 'a', action: 'extract', pattern: '(?P<x>' })).toBe(true);
    expect(bad({ key: 'a', action: 'convert' })).toBe(true);
    expect(bad({ key: 'a', action: 'rename', value: 1 })).toBe(true);
    expect(bad({ key: 'a', action: 'upsert', value: 1 })).toBe(false);
    expect(attributesConfigSchema.safeParse({ actions: [] }).success).toBe(false);
  });
});
