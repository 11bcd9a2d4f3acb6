/**
 * Upstream's pinned Datadog log items. Inputs and expected items are rebuilt from generateTranslatorTestCases /
 * TestTranslator and TestDeriveStatus in DataDog/datadog-agent pkg/opentelemetry-mapping-go/otlp/logs/transform_test.go
 * (commit 72179be800082f9c62ea8efd87cd0e93ba6f4a8a). Upstream's translator is built there with the otel source "test";
 * the exporter's is "datadog_exporter", and the exporter (not the translator) adds `ddsource`, so both are
 * normalized before comparing. Items are compared as the intake sees them: one flat JSON object.
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { anyValueFrom, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { convertToDatadogItems, statusFromSeverityNumber, type DatadogItem } from './convert.js';

const str = (s: string): AnyValue => ({ stringValue: s });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
const attrs = (o: Record<string, unknown>): KeyValue[] => Object.entries(o).map(([k, v]) => kv(k, anyValueFrom(v)));

/** Upstream's ids: trace 08 02 03 04 05 06 07 08 00 00 00 00 0a 00 00 00, span = its low 8 bytes. */
const TRACE = Uint8Array.from([0x08, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0, 0, 0, 0, 0x0a, 0, 0, 0]);
const SPAN = TRACE.slice(8);
/** Hex of TRACE / SPAN; Datadog's ids: the low 64 bits of the trace, the span, as unsigned decimals (0x0a000000). */
const HEX_IDS = { 'otel.trace_id': '0802030405060708000000000a000000', 'otel.span_id': '000000000a000000', 'dd.trace_id': '167772160', 'dd.span_id': '167772160' };

function record(fields: Partial<LogRecord>): LogRecord {
  return {
    timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO, severityNumber: 0, severityText: '', body: null, attributes: [],
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '', ...fields,
  };
}

function translate(lr: Partial<LogRecord>, resource: KeyValue[] = [], scopeAttrs: KeyValue[] = []): DatadogItem {
  const rls: ResourceLogs[] = [{
    resource: { attributes: resource, droppedAttributesCount: 0 }, schemaUrl: '',
    scopeLogs: [{ scope: { name: '', version: '', attributes: scopeAttrs, droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [record(lr)] }],
  }];
  const items = convertToDatadogItems(rls);
  expect(items).toHaveLength(1);
  const item = JSON.parse(JSON.stringify(items[0])) as DatadogItem;
  expect(item['ddsource']).toBe('otlp_log_ingestion');
  delete item['ddsource'];
  item['ddtags'] = String(item['ddtags']).replace('otel_source:datadog_exporter', 'otel_source:test');
  return item;
}

const APP = kv('app', str('test'));
const SVC = kv('service.name', str('otlp_col'));
const DEBUG = { status: 'debug', 'otel.severity_number': '5' };

describe('datadog convert: upstream TestTranslator cases', () => {
  it('basic', () => {
    expect(translate({ attributes: [APP], severityNumber: 5 })).toEqual({ ddtags: 'otel_source:test', message: '', app: 'test', ...DEBUG });
  });

  it('resource: service from the resource, a service tag, service.name kept as an attribute', () => {
    expect(translate({ attributes: [APP], severityNumber: 5 }, [SVC])).toEqual({
      ddtags: 'service:otlp_col,otel_source:test', message: '', service: 'otlp_col', app: 'test', ...DEBUG, 'service.name': 'otlp_col',
    });
  });

  it('append tags: a ddtags attribute is appended to the resource tags', () => {
    expect(translate({ attributes: [APP, kv('ddtags', str('foo:bar'))], severityNumber: 5 }, [SVC])).toEqual({
      ddtags: 'service:otlp_col,foo:bar,otel_source:test', message: '', service: 'otlp_col', app: 'test', ...DEBUG, 'service.name': 'otlp_col',
    });
  });

  it('service: from the record attribute when the resource has none (no service tag)', () => {
    expect(translate({ attributes: [APP, SVC], severityNumber: 5 })).toEqual({
      ddtags: 'otel_source:test', message: '', service: 'otlp_col', app: 'test', ...DEBUG, 'service.name': 'otlp_col',
    });
  });

  it('trace: record ids as hex and as Datadog decimals', () => {
    const got = translate({ attributes: [APP, SVC], severityNumber: 5, traceId: TRACE, spanId: SPAN });
    expect(got).toEqual({
      ddtags: 'otel_source:test', message: '', service: 'otlp_col', app: 'test', ...DEBUG, 'service.name': 'otlp_col',
      ...HEX_IDS,
    });
  });

  it.each([
    ['trace from attributes', 'spanid', 'traceid', '437ab4d83468c540bb0f3398a39faa59', '13479048940416379481'],
    ['trace from attributes (underscore)', 'span_id', 'trace_id', '740112b325075be8c80a48de336ebc67', '14414413676535528551'],
  ])('%s', (_name, spanKey, traceKey, trace, ddTrace) => {
    expect(translate({ attributes: [APP, kv(spanKey, str('2e26da881214cd7c')), kv(traceKey, str(trace)), SVC], severityNumber: 5 })).toEqual({
      ddtags: 'otel_source:test', message: '', service: 'otlp_col', app: 'test', ...DEBUG, 'service.name': 'otlp_col',
      'otel.span_id': '2e26da881214cd7c', 'otel.trace_id': trace, 'dd.span_id': '3325585652813450620', 'dd.trace_id': ddTrace,
    });
  });

  it('trace from attributes decode error: the bad trace id is dropped, the span id kept', () => {
    expect(translate({ attributes: [APP, kv('spanid', str('2e26da881214cd7c')), kv('traceid', str('invalidtraceid')), SVC], severityNumber: 5 })).toEqual({
      ddtags: 'otel_source:test', message: '', service: 'otlp_col', app: 'test', ...DEBUG, 'service.name': 'otlp_col',
      'otel.span_id': '2e26da881214cd7c', 'dd.span_id': '3325585652813450620',
    });
  });

  it('trace from attributes size error: ids of the wrong length are dropped', () => {
    const longTrace = 'eb068afe5e53704f3b0dc3d3e1e397cb760549a7b58547db4f1dee845d9101f8db1ccf8fdd0976a9112f';
    expect(translate({ attributes: [APP, kv('spanid', str('2023675201651514964')), kv('traceid', str(longTrace)), SVC], severityNumber: 5 })).toEqual({
      ddtags: 'otel_source:test', message: '', service: 'otlp_col', app: 'test', ...DEBUG, 'service.name': 'otlp_col',
    });
  });

  it('SeverityText takes precedence for the status', () => {
    expect(translate({ attributes: [APP, SVC], severityText: 'alert', severityNumber: 5, traceId: TRACE, spanId: SPAN })).toMatchObject({
      status: 'alert', 'otel.severity_text': 'alert', 'otel.severity_number': '5',
    });
  });

  it('body: the message; severity 13 → warn', () => {
    expect(translate({ attributes: [APP, SVC], severityNumber: 13, body: str('This is log'), traceId: TRACE, spanId: SPAN })).toMatchObject({
      message: 'This is log', status: 'warn', 'otel.severity_number': '13',
    });
  });

  it('log-level: a level attribute is the status (and is not kept as an attribute); no severity fields', () => {
    const got = translate({ attributes: [APP, SVC, kv('level', str('error'))], body: str('This is log'), traceId: TRACE, spanId: SPAN });
    expect(got).toEqual({
      ddtags: 'otel_source:test', message: 'This is log', service: 'otlp_col', app: 'test', status: 'error', 'service.name': 'otlp_col',
      ...HEX_IDS,
    });
  });

  it('resource attributes in additional properties', () => {
    expect(translate({ attributes: [APP], severityNumber: 5 }, [SVC, kv('key', str('val'))])).toEqual({
      ddtags: 'service:otlp_col,otel_source:test', message: '', service: 'otlp_col', app: 'test', ...DEBUG, key: 'val', 'service.name': 'otlp_col',
    });
  });

  it('DD hostname and service are not overridden by resource attributes', () => {
    expect(translate({ attributes: [APP], severityNumber: 5 }, [kv('hostname', str('example_host')), kv('service', str('otlp_col'))])).toEqual({
      ddtags: 'service:otlp_col,otel_source:test', message: '', app: 'test', ...DEBUG, 'otel.service': 'otlp_col', 'otel.hostname': 'example_host',
    });
  });

  it('Nestings: maps flattened to dotted keys; no severity → status ""', () => {
    expect(translate({ attributes: attrs({ root: { nest1: { nest2: 'val' }, nest12: { nest22: { nest3: 'val2' } }, nest13: 'val3' } }) })).toEqual({
      ddtags: 'otel_source:test', message: '', 'root.nest1.nest2': 'val', 'root.nest12.nest22.nest3': 'val2', 'root.nest13': 'val3', status: '',
    });
  });

  it('Nil Map', () => {
    expect(translate({})).toEqual({ ddtags: 'otel_source:test', message: '', status: '' });
  });

  it('Too many nestings: depth 10 is written as the map\'s JSON string', () => {
    const deep = { nest1: { nest2: { nest3: { nest4: { nest5: { nest6: { nest7: { nest8: { nest9: { nest10: { nest11: { nest12: 'ok' } } } } } }, nest14: { nest15: 'ok2' } } } } } } };
    expect(translate({ attributes: attrs(deep) })).toEqual({
      ddtags: 'otel_source:test', message: '',
      'nest1.nest2.nest3.nest4.nest5.nest6.nest7.nest8.nest9.nest10': '{"nest11":{"nest12":"ok"}}',
      'nest1.nest2.nest3.nest4.nest5.nest14.nest15': 'ok2',
      status: '',
    });
  });

  it('Timestamps are formatted properly', () => {
    expect(translate({ timeUnixNano: Long.fromString('1700499303397000000', true), severityNumber: 5 })).toEqual({
      ddtags: 'otel_source:test', message: '', ...DEBUG, '@timestamp': '2023-11-20T16:55:03.397Z', 'otel.timestamp': '1700499303397000000',
    });
  });

  it('scope attributes are properties', () => {
    expect(translate({ body: str('hello world'), severityNumber: 5 }, [], [kv('otelcol.component.id', str('otlp')), kv('otelcol.component.kind', str('Receiver'))])).toEqual({
      ddtags: 'otel_source:test', message: 'hello world', ...DEBUG, 'otelcol.component.id': 'otlp', 'otelcol.component.kind': 'Receiver',
    });
  });

  it('array attributes: strings, maps, nested lists and slices of slices keep their structure', () => {
    expect(translate({ body: str('test array attribute'), severityNumber: 5, attributes: attrs({ test_array: ['value1', 'value2', 'value3'] }) })).toEqual({
      ddtags: 'otel_source:test', message: 'test array attribute', ...DEBUG, test_array: ['value1', 'value2', 'value3'],
    });
    const withMaps = [{ item_name: 'item1', value: 100 }, { item_name: 'item2', value: 200 }];
    expect(translate({ body: str('m'), severityNumber: 5, attributes: attrs({ array_with_maps: withMaps }) })['array_with_maps']).toEqual(withMaps);
    const nesting = [
      { month: 'January', categories: ['meetings', 'personal', 'holidays'], events: [{ title: 'Team Meeting', attendees: ['a', 'b', 'c'] }, { title: 'Project Review', attendees: ['d', 'e'] }] },
      { month: 'February', categories: ['conferences', 'workshops'], events: [{ title: 'Tech Conference', attendees: ['f', 'g', 'h'] }] },
    ];
    expect(translate({ body: str('n'), severityNumber: 5, attributes: attrs({ multiple_nesting: nesting }) })['multiple_nesting']).toEqual(nesting);
    const matrix = [0, 1, 2].map((row) => [0, 1].map((col) => ({ row, col, value: 'abcdef'[row * 2 + col] })));
    expect(translate({ body: str('s'), severityNumber: 5, attributes: attrs({ matrix }) })['matrix']).toEqual(matrix);
  });
});

describe('datadog convert: upstream TestDeriveStatus', () => {
  it.each([[3, 'trace'], [4, 'trace'], [5, 'debug'], [7, 'debug'], [8, 'debug'], [9, 'info'], [12, 'info'], [13, 'warn'], [16, 'warn'],
    [17, 'error'], [20, 'error'], [21, 'fatal'], [24, 'fatal'], [50, 'error']] as [number, string][])('severity %i → %s', (n, status) => {
    expect(statusFromSeverityNumber(n)).toBe(status);
  });
});
