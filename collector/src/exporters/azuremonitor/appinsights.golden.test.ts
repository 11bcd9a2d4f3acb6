/**
 * Upstream's pinned Application Insights log envelopes. Cases rebuilt from opentelemetry-collector-contrib
 * exporter/azuremonitorexporter/logexporter_test.go (commit 9ff8b211a1a8e20fa2e580e33ce1c9a6be261add):
 * getTestLogs' four records, TestLogRecordToEnvelope, TestToAiSeverityLevel, TestLogDataAttributesMapping,
 * the resource / instrumentation scope / cloud tag tests, TestHandleEventData, TestSetAttributesAsProperties
 * and TestHandleExceptionDataWithDetails.
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { idFromHex, nanosFromDecimal, type AnyValue, type KeyValue, type LogRecord } from '@tributary/otlp';
import { aiSeverityLevel, recordToEnvelope } from './appinsights.js';

const str = (s: string): AnyValue => ({ stringValue: s });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
/** testLogTime: 2020-02-11T20:26:13.000000789Z */
const TEST_LOG_TIME = nanosFromDecimal('1581452773000000789');
const TRACE = '0102030405060708090a0b0c0d0e0f10';
const SPAN = '0102030405060708';
const RESOURCE = { attributes: [kv('service.name', str('foo')), kv('service.namespace', str('ns1')), kv('service.instance.id', str('112345'))], droppedAttributesCount: 0 };
const SCOPE = { name: 'myinstrumentationlib', version: '1.0', attributes: [], droppedAttributesCount: 0 };
const MESSAGE_ONLY = { customEvents: false, exceptionEvents: false };
/** timeNow in the upstream test: 2021-12-11T10:09:08.000000001Z (here at millisecond precision). */
const NOW = (): number => Date.UTC(2021, 11, 11, 10, 9, 8);

function rec(fields: Partial<LogRecord>): LogRecord {
  return {
    timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO, severityNumber: 9, severityText: 'Information', body: str('Message Body'), attributes: [],
    droppedAttributesCount: 0, flags: 1, traceId: idFromHex(TRACE, 16), spanId: idFromHex(SPAN, 8), eventName: '', ...fields,
  };
}

/** getTestLogs: time set; only observed time; neither; time set and a map body. */
const TEST_LOGS = [
  rec({ timeUnixNano: TEST_LOG_TIME }),
  rec({ observedTimeUnixNano: TEST_LOG_TIME }),
  rec({}),
  rec({ timeUnixNano: TEST_LOG_TIME, body: { kvlistValue: { values: [kv('key1', str('value1')), kv('key2', { boolValue: true })] } } }),
];

describe('azuremonitor Application Insights: upstream logexporter_test.go', () => {
  it('TestLogRecordToEnvelope: MessageData, time (else observed, else now) as RFC3339Nano, body AsString, Information, operation tags, sdk version', () => {
    const expected = [
      ['2020-02-11T20:26:13.000000789Z', 'Message Body'],
      ['2020-02-11T20:26:13.000000789Z', 'Message Body'],
      ['2021-12-11T10:09:08Z', 'Message Body'],
      ['2020-02-11T20:26:13.000000789Z', '{"key1":"value1","key2":true}'],
    ];
    TEST_LOGS.forEach((lr, i) => {
      const e = recordToEnvelope(lr, RESOURCE, SCOPE, 'ikey', MESSAGE_ONLY, NOW);
      expect(e.name).toBe('Microsoft.ApplicationInsights.Message');
      expect(e.time).toBe(expected[i]![0]);
      expect(e.data.baseType).toBe('MessageData');
      expect(e.data.baseData['message']).toBe(expected[i]![1]);
      expect(e.data.baseData['severityLevel']).toBe(1);
      expect(e.tags['ai.operation.id']).toBe(TRACE);
      expect(e.tags['ai.operation.parentId']).toBe(SPAN);
      expect(e.tags['ai.internal.sdkVersion']).toContain('otelc-');
    });
  });

  it('TestToAiSeverityLevel', () => {
    const table: [number, number][] = [[1, 0], [8, 0], [9, 1], [12, 1], [13, 2], [16, 2], [17, 3], [20, 3], [21, 4], [24, 4], [0, 1]];
    for (const [sn, level] of table) expect(aiSeverityLevel(sn), `severity ${sn}`).toBe(level);
  });

  it('TestLogDataAttributesMapping / TestSetAttributesAsProperties: attribute values as strings', () => {
    const lr = rec({ attributes: [kv('attribute_1', { intValue: 10 }), kv('attribute_2', str('value_2')), kv('attribute_3', { boolValue: true }), kv('attribute_4', { doubleValue: 1.2 }), kv('double_key', { doubleValue: 4.56 })] });
    expect(recordToEnvelope(lr, RESOURCE, SCOPE, 'k', MESSAGE_ONLY, NOW).data.baseData['properties']).toMatchObject({
      attribute_1: '10', attribute_2: 'value_2', attribute_3: 'true', attribute_4: '1.2', double_key: '4.56',
    });
  });

  it('resource attributes, instrumentation scope and cloud tags', () => {
    const e = recordToEnvelope(TEST_LOGS[1]!, RESOURCE, SCOPE, 'k', MESSAGE_ONLY, NOW);
    expect(e.data.baseData['properties']).toMatchObject({
      'service.name': 'foo', 'service.namespace': 'ns1', 'service.instance.id': '112345',
      'instrumentationlibrary.name': 'myinstrumentationlib', 'instrumentationlibrary.version': '1.0',
    });
    expect(e.tags['ai.cloud.role']).toBe('ns1.foo');
    expect(e.tags['ai.cloud.roleInstance']).toBe('112345');
  });

  it('TestHandleEventData: the event name from microsoft.custom_event.name, else the marker attribute; every attribute a property', () => {
    const options = { customEvents: true, exceptionEvents: false };
    const custom = recordToEnvelope(rec({ attributes: [kv('microsoft.custom_event.name', str('CustomEvent')), kv('test_attribute', str('test_value'))] }), RESOURCE, SCOPE, 'k', options, NOW);
    expect(custom.name).toBe('Microsoft.ApplicationInsights.Event');
    expect(custom.data).toEqual({ baseType: 'EventData', baseData: { ver: 2, name: 'CustomEvent', properties: { 'microsoft.custom_event.name': 'CustomEvent', test_attribute: 'test_value' } } });
    const marker = recordToEnvelope(rec({ attributes: [kv('APPLICATION_INSIGHTS_EVENT_MARKER_ATTRIBUTE', str('MarkerEvent')), kv('test_attribute', str('test_value'))] }), RESOURCE, SCOPE, 'k', options, NOW);
    expect(marker.data.baseData).toEqual({ ver: 2, name: 'MarkerEvent', properties: { APPLICATION_INSIGHTS_EVENT_MARKER_ATTRIBUTE: 'MarkerEvent', test_attribute: 'test_value' } });
    // Without either attribute the record is not an event at all.
    expect(recordToEnvelope(rec({ attributes: [kv('test_attribute', str('test_value'))] }), RESOURCE, SCOPE, 'k', options, NOW).data.baseType).toBe('MessageData');
  });

  it('TestHandleExceptionDataWithDetails: problemId from the severity text, one exception with type, message and stack; resource attributes as properties', () => {
    const options = { customEvents: false, exceptionEvents: true };
    const full = recordToEnvelope(rec({
      severityNumber: 17, severityText: 'RuntimeError',
      attributes: [kv('exception.type', str('TypeError')), kv('exception.message', str("Cannot read property 'undefined'")), kv('exception.stacktrace', str('at Object.method (/path/file.js:10)\nat Object.method2 (/path/file2.js:20)'))],
    }), { attributes: [kv('service.name', str('testService')), kv('custom.attr', str('value'))], droppedAttributesCount: 0 }, { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, 'k', options, NOW);
    expect(full.name).toBe('Microsoft.ApplicationInsights.Exception');
    expect(full.data.baseType).toBe('ExceptionData');
    expect(full.data.baseData).toMatchObject({
      problemId: 'RuntimeError', severityLevel: 3,
      exceptions: [{ typeName: 'TypeError', message: "Cannot read property 'undefined'", hasFullStack: true, stack: 'at Object.method (/path/file.js:10)\nat Object.method2 (/path/file2.js:20)' }],
      properties: { 'service.name': 'testService', 'custom.attr': 'value' },
    });
    const minimal = recordToEnvelope(rec({ severityNumber: 21, severityText: 'FatalError', attributes: [kv('exception.type', str('SystemError')), kv('exception.message', str('System crash'))] }),
      { attributes: [], droppedAttributesCount: 0 }, null, 'k', options, NOW);
    expect(minimal.data.baseData).toMatchObject({ problemId: 'FatalError', severityLevel: 4, exceptions: [{ typeName: 'SystemError', message: 'System crash' }] });
    expect(Object.keys(minimal.data.baseData['properties'] as object).length).toBeGreaterThan(0);
  });
});
