/**
 * Upstream's pinned ClickHouse rows. The record and expected row are rebuilt from verifyExportLogs /
 * simpleLogs in opentelemetry-collector-contrib exporter/clickhouseexporter/exporter_logs_integration_test.go
 * (commit 3759309c31cb9de067da5e2cc4a21310c5a4a822); the fill rules (time else observed time, hex ids or
 * "", AsString body and attribute values, ServiceName from the resource) from exporter_logs.go
 * (commit 0801b46527ecbbe63c5d63d9547c7390a924ad2b).
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { nanosFromDecimal, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { convertToClickHouseRows } from './convert.js';

const str = (s: string): AnyValue => ({ stringValue: s });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
const NOW = nanosFromDecimal('1700000000000000001');
/** 2023-01-02T03:04:05.123456789Z */
const T = nanosFromDecimal('1672628645123456789');

/** simpleLogs: schema URLs, service.name, a named scope with an attribute; record i has ids 01 02 03 i. */
function simpleLogs(count: number): ResourceLogs[] {
  const records: LogRecord[] = [];
  for (let i = 0; i < count; i++) {
    records.push({
      timeUnixNano: T, observedTimeUnixNano: T, severityNumber: 18, severityText: 'error', body: str('error message'),
      attributes: [kv('service.namespace', str('default'))], droppedAttributesCount: 0, flags: 0,
      traceId: Uint8Array.from([1, 2, 3, i, ...new Array<number>(12).fill(0)]), spanId: Uint8Array.from([1, 2, 3, i, 0, 0, 0, 0]), eventName: '',
    });
  }
  return [{
    resource: { attributes: [kv('service.name', str('test-service'))], droppedAttributesCount: 0 },
    schemaUrl: 'https://opentelemetry.io/schemas/1.4.0',
    scopeLogs: [{
      scope: { name: 'io.opentelemetry.contrib.clickhouse', version: '1.0.0', attributes: [kv('lib', str('clickhouse'))], droppedAttributesCount: 0 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.7.0',
      logRecords: records,
    }],
  }];
}

function rows(rls: ResourceLogs[]): Record<string, unknown>[] {
  return convertToClickHouseRows(rls, 'modern', NOW).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('clickhouse convert: upstream verifyExportLogs row', () => {
  it('the first row has every upstream column with upstream values', () => {
    const got = rows(simpleLogs(3));
    expect(got).toHaveLength(3);
    expect(got[0]).toEqual({
      Timestamp: '1672628645.123456789',
      TraceId: '01020300000000000000000000000000',
      SpanId: '0102030000000000',
      TraceFlags: 0,
      SeverityText: 'error',
      SeverityNumber: 18,
      ServiceName: 'test-service',
      Body: 'error message',
      ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.4.0',
      ResourceAttributes: { 'service.name': 'test-service' },
      ScopeSchemaUrl: 'https://opentelemetry.io/schemas/1.7.0',
      ScopeName: 'io.opentelemetry.contrib.clickhouse',
      ScopeVersion: '1.0.0',
      ScopeAttributes: { lib: 'clickhouse' },
      LogAttributes: { 'service.namespace': 'default' },
      // Tributary's columns (README "Differences from upstream"): the event name and the retention tags.
      EventName: '',
      RetentionClass: '',
      RetentionDays: 0,
    });
    expect(got.map((r) => [r['TraceId'], r['SpanId']])).toEqual([
      ['01020300000000000000000000000000', '0102030000000000'],
      ['01020301000000000000000000000000', '0102030100000000'],
      ['01020302000000000000000000000000', '0102030200000000'],
    ]);
  });

  it('no timestamp: the observed timestamp is used; the severity and flags are stored as numbers', () => {
    const rls = simpleLogs(1);
    const r = rls[0]!.scopeLogs[0]!.logRecords[0]!;
    r.timeUnixNano = Long.UZERO;
    r.observedTimeUnixNano = nanosFromDecimal('1672628646000000007');
    r.flags = 1;
    expect(rows(rls)[0]).toMatchObject({ Timestamp: '1672628646.000000007', TraceFlags: 1, SeverityNumber: 18 });
  });

  it('typed attribute values become AsString; a map body is its JSON; an absent body is ""', () => {
    const rls = simpleLogs(2);
    const [a, b] = rls[0]!.scopeLogs[0]!.logRecords;
    a!.attributes = [kv('n', { intValue: 5 }), kv('ok', { boolValue: true }), kv('d', { doubleValue: 1.5 }), kv('m', { kvlistValue: { values: [kv('z', str('1')), kv('a', { intValue: 2 })] } })];
    a!.body = { kvlistValue: { values: [kv('msg', str('hi')), kv('code', { intValue: 7 })] } };
    b!.body = null;
    const [ra, rb] = rows(rls);
    expect(ra!['LogAttributes']).toEqual({ n: '5', ok: 'true', d: '1.5', m: '{"a":2,"z":"1"}' });
    expect(ra!['Body']).toBe('{"code":7,"msg":"hi"}');
    expect(rb!['Body']).toBe('');
  });
});
