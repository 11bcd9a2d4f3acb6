/**
 * Upstream's pinned Loki lines. The record (exampleLog) and the expected JSON and logfmt lines are rebuilt from
 * opentelemetry-collector-contrib pkg/translator/loki/encode_test.go (commit 355081bffa89b6d6f72acc00f394f2155be19bea):
 * TestEncodeJsonWith{String,Map}Body, TestSerializeComplexBody and TestEncodeLogfmtWith{String,Map,Slice}Body /
 * ComplexAttributes.
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import type { AnyValue, KeyValue, LogRecord, ResourceLogs } from '@tributary/otlp';
import { convertToLokiPush, type LokiConvertOptions } from './convert.js';
import { PushRequestType } from './logproto.js';

const str = (s: string): AnyValue => ({ stringValue: s });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
const map = (...kvs: KeyValue[]): AnyValue => ({ kvlistValue: { values: kvs } });
const list = (...vs: AnyValue[]): AnyValue => ({ arrayValue: { values: vs } });
const NOW = Long.fromString('1700000000000000000', true);

/** exampleLog: body "Example log", severity text "error", two attributes, trace 01020304…, span 05060708…. */
function exampleLog(body: AnyValue | null = str('Example log'), extraAttrs: KeyValue[] = [], extraResource: KeyValue[] = []): ResourceLogs[] {
  const lr: LogRecord = {
    timeUnixNano: NOW, observedTimeUnixNano: Long.UZERO, severityNumber: 0, severityText: 'error', body,
    attributes: [kv('attr1', str('1')), kv('attr2', str('2')), ...extraAttrs], droppedAttributesCount: 0, flags: 0,
    traceId: Uint8Array.from([1, 2, 3, 4, ...new Array<number>(12).fill(0)]), spanId: Uint8Array.from([5, 6, 7, 8, 0, 0, 0, 0]), eventName: '',
  };
  return [{
    resource: { attributes: [kv('host.name', str('something')), ...extraResource], droppedAttributesCount: 0 }, schemaUrl: '',
    scopeLogs: [{ scope: { name: 'example-logger-name', version: 'v1', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [lr] }],
  }];
}

function line(rls: ResourceLogs[], lineFormat: LokiConvertOptions['lineFormat']): string {
  const o: LokiConvertOptions = {
    defaultLabels: { exporter: true, job: true, instance: true, level: true },
    lineFormat, maxLineSize: 256 * 1024, maxRequestBytes: 4 * 1024 * 1024, encoding: 'protobuf',
  };
  const res = convertToLokiPush(rls, o, NOW);
  const msg = PushRequestType.decode(res.requests[0]!.body) as unknown as { streams: { entries: { line: string }[] }[] };
  return msg.streams[0]!.entries[0]!.line;
}

const JSON_TAIL = '"traceid":"01020304000000000000000000000000","spanid":"0506070800000000","severity":"error","attributes":{"attr1":"1","attr2":"2"},' +
  '"resources":{"host.name":"something"},"instrumentation_scope":{"name":"example-logger-name","version":"v1"}}';
const LOGFMT_TAIL = 'traceID=01020304000000000000000000000000 spanID=0506070800000000 severity=error attribute_attr1=1 attribute_attr2=2 ' +
  'resource_host.name=something instrumentation_scope_name=example-logger-name instrumentation_scope_version=v1';

const COMPLEX = map(
  kv('keystr', str('val')), kv('keyint', { doubleValue: 1 }), kv('keybool', { boolValue: true }), kv('keynull', {}),
  kv('keyarr', list(str('a'), str('b'))), kv('keymap', map(kv('key', str('val')))), kv('keyempty', {}),
);

describe('loki: upstream encode_test.go lines', () => {
  it('TestEncodeJsonWithStringBody', () => {
    expect(line(exampleLog(), 'json')).toBe(`{"body":"Example log",${JSON_TAIL}`);
  });

  it('TestEncodeJsonWithMapBody', () => {
    expect(line(exampleLog(map(kv('key1', str('value')), kv('key2', str('value')))), 'json')).toBe(`{"body":{"key1":"value","key2":"value"},${JSON_TAIL}`);
  });

  it.each([
    ['string', str('a'), '"a"', 'a='],
    ['int', { intValue: 1 }, '1', 'msg=1'],
    ['double', { doubleValue: 1.1 }, '1.1', 'msg=1.1'],
    ['bool', { boolValue: true }, 'true', 'msg=true'],
    ['simple map', map(kv('key', str('val'))), '{"key":"val"}', 'key=val'],
    ['complex map', COMPLEX, '{"keyarr":["a","b"],"keybool":true,"keyempty":null,"keyint":1,"keymap":{"key":"val"},"keynull":null,"keystr":"val"}',
      'keystr=val keyint=1 keybool=true keyarr_0=a keyarr_1=b keymap_key=val'],
    ['slice', list(str('a'), str('b')), '["a","b"]', 'body_0=a body_1=b'],
    ['bytes', { bytesValue: Buffer.from('abc') }, '"YWJj"', 'msg=abc'],
  ] as [string, AnyValue, string, string][])('TestSerializeComplexBody: %s body (json and logfmt)', (_name, body, json, logfmt) => {
    expect(line(exampleLog(body), 'json')).toBe(`{"body":${json},${JSON_TAIL}`);
    expect(line(exampleLog(body), 'logfmt')).toBe(`${logfmt} ${LOGFMT_TAIL}`);
  });

  it('TestSerializeComplexBody: an empty body is left out', () => {
    expect(line(exampleLog(null), 'json')).toBe(`{${JSON_TAIL}`);
    expect(line(exampleLog(null), 'logfmt')).toBe(LOGFMT_TAIL);
  });

  it('TestEncodeLogfmtWithStringBody: a logfmt body is kept as its pairs', () => {
    expect(line(exampleLog(str('msg="hello world"')), 'logfmt')).toBe(`msg="hello world" ${LOGFMT_TAIL}`);
  });

  it('TestEncodeLogfmtWithMapBody', () => {
    expect(line(exampleLog(map(kv('key1', str('value')), kv('key2', str('value')))), 'logfmt')).toBe(`key1=value key2=value ${LOGFMT_TAIL}`);
  });

  it('TestEncodeLogfmtWithSliceBody', () => {
    expect(line(exampleLog(list(str('value'), { boolValue: true }, { intValue: 123 })), 'logfmt')).toBe(`body_0=value body_1=true body_2=123 ${LOGFMT_TAIL}`);
  });

  it('TestEncodeLogfmtWithComplexAttributes: slices and maps in attributes and resources flatten with _', () => {
    const slice = (): AnyValue => list(str('fooo'), map(kv('slice', list({ boolValue: true })), kv('foo', str('bar'))), map(kv('nested', str('deeply nested')), kv('uint', { intValue: 123 })));
    expect(line(exampleLog(str('Example log'), [kv('aslice', slice())], [kv('bslice', slice())]), 'logfmt')).toBe(
      'Example= log= traceID=01020304000000000000000000000000 spanID=0506070800000000 severity=error attribute_attr1=1 attribute_attr2=2 ' +
      'attribute_aslice_0=fooo attribute_aslice_1_slice_0=true attribute_aslice_1_foo=bar attribute_aslice_2_nested="deeply nested" attribute_aslice_2_uint=123 ' +
      'resource_host.name=something resource_bslice_0=fooo resource_bslice_1_slice_0=true resource_bslice_1_foo=bar resource_bslice_2_nested="deeply nested" ' +
      'resource_bslice_2_uint=123 instrumentation_scope_name=example-logger-name instrumentation_scope_version=v1',
    );
  });
});
