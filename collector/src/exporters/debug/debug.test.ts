import { describe, expect, it } from 'vitest';
import { testSettings } from '../../../../test/kit/index.js';
import Long from 'long';
import { anyValueFrom, idFromHex, keyValuesFrom, nanosFromDecimal } from '@tributary/otlp';
import type { LogRecord, ResourceLogs } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';



import { debugExporterConfigSchema, debugExporterFactory, DebugSender } from './index.js';
import { severityName } from './format.js';

function record(over: Partial<LogRecord> = {}): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal('1581452773000000789'),
    observedTimeUnixNano: Long.UZERO,
    severityNumber: 9,
    severityText: 'Info',
    body: { stringValue: 'hello' },
    attributes: keyValuesFrom({ app: 'server', n: 1 }),
    droppedAttributesCount: 0,
    flags: 1,
    traceId: idFromHex('0102030405060708090a0b0c0d0e0f10', 16),
    spanId: idFromHex('0102030405060708', 8),
    eventName: '',
    ...over,
  };
}

function batchOf(records: LogRecord[]): LogsBatch {
  const rls: ResourceLogs[] = [{
    resource: { attributes: keyValuesFrom({ 'service.name': 'svc' }), droppedAttributesCount: 0 },
    schemaUrl: 'https://opentelemetry.io/schemas/1.4.0',
    scopeLogs: [{ scope: { name: 'lib', version: '1.2', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records }],
  }];
  return { resourceLogs: rls, recordCount: records.length, receivedAt: 0 };
}

const signal = new AbortController().signal;

function sender(verbosity: 'basic' | 'normal' | 'detailed', extra: { now?: () => number; initial?: number; thereafter?: number } = {}) {
  const out: string[] = [];
  const s = new DebugSender({
    name: 'debug', verbosity, samplingInitial: extra.initial ?? 2, samplingThereafter: extra.thereafter ?? 1,
    write: (t) => out.push(t), ...(extra.now ? { now: extra.now } : {}),
  });
  return { s, out };
}

describe('debug exporter config', () => {
  it('has upstream defaults, queue off, and rejects unknown keys', () => {
    const c = debugExporterConfigSchema.parse({});
    expect(c.verbosity).toBe('basic');
    expect(c.sampling_initial).toBe(2);
    expect(c.sampling_thereafter).toBe(1);
    expect(c.sending_queue.enabled).toBe(false);
    expect(c.sending_queue.queue_size).toBe(1000);
    expect(c.timeout).toBe(5000);
    expect(() => debugExporterConfigSchema.parse({ verbosity: 'loud' })).toThrow();
    expect(() => debugExporterConfigSchema.parse({ colour: true })).toThrow();
    const sender = debugExporterFactory.create(
      testSettings('debug'),
      debugExporterConfigSchema.parse({ verbosity: 'detailed' }),
    );
    expect(sender).toBeInstanceOf(DebugSender);
  });
});

describe('DebugSender', () => {
  it('basic: one summary line', async () => {
    const { s, out } = sender('basic');
    await s.send(batchOf([record(), record()]), signal);
    expect(out).toEqual(['LogsExporter {"kind": "exporter", "data_type": "logs", "name": "debug", "#resource logs": 1, "#log records": 2}\n']);
  });

  it('normal: resource and scope lines, then one line per record with body and key=value attributes', async () => {
    const { s, out } = sender('normal');
    await s.send(batchOf([record(), record({ body: anyValueFrom({ a: [1, 'x'] }), attributes: [] })]), signal);
    const lines = out.join('').split('\n');
    // As upstream: the body and the attributes joined by one space, so a record without attributes ends in a space.
    expect(lines.slice(1)).toEqual(['ResourceLog #0 [https://opentelemetry.io/schemas/1.4.0] service.name=svc', 'ScopeLog #0 lib@1.2', 'hello app=server n=1', '{"a":[1,"x"]} ', '']);
  });

  it('detailed: the upstream-style dump', async () => {
    const { s, out } = sender('detailed');
    await s.send(batchOf([record({ body: anyValueFrom({ k: true }) })]), signal);
    const text = out.join('');
    expect(text.split('\n').slice(1).join('\n')).toBe(
      [
        'ResourceLog #0',
        'Resource SchemaURL: https://opentelemetry.io/schemas/1.4.0',
        'Resource attributes:',
        '     -> service.name: Str(svc)',
        'ScopeLogs #0',
        'ScopeLogs SchemaURL: ',
        'InstrumentationScope lib 1.2',
        'LogRecord #0',
        'ObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC',
        'Timestamp: 2020-02-11 20:26:13.000000789 +0000 UTC',
        'SeverityText: Info',
        'SeverityNumber: Info(9)',
        'Body: Map({"k":true})',
        'Attributes:',
        '     -> app: Str(server)',
        '     -> n: Int(1)',
        'Trace ID: 0102030405060708090a0b0c0d0e0f10',
        'Span ID: 0102030405060708',
        'Flags: 1',
        '',
      ].join('\n'),
    );
  });

  it('names severities like pdata', () => {
    expect(severityName(0)).toBe('Unspecified(0)');
    expect(severityName(10)).toBe('Info2(10)');
    expect(severityName(17)).toBe('Error(17)');
    expect(severityName(24)).toBe('Fatal4(24)');
  });

  it('samples per second: first N, then every Mth, window resets after a second', async () => {
    let now = 10_000;
    const { s, out } = sender('basic', { now: () => now, initial: 2, thereafter: 3 });
    for (let i = 0; i < 8; i++) await s.send(batchOf([record()]), signal);
    // Calls 1, 2 (initial), then 5 and 8 (every 3rd after the first 2).
    expect(out.length).toBe(4);
    now += 1000;
    await s.send(batchOf([record()]), signal);
    expect(out.length).toBe(5);
    const none = sender('basic', { now: () => 0, initial: 1, thereafter: 0 });
    for (let i = 0; i < 5; i++) await none.s.send(batchOf([record()]), signal);
    expect(none.out.length).toBe(1);
  });
});
