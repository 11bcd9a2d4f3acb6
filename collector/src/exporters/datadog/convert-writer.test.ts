/**
 * The direct writer of convertToDatadog against the plain object path (datadogItemsJson): the request
 * bodies must be the same bytes, including property order, escaping and numbers, for records it writes
 * itself and for those it hands to the object path.
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { nanosFromDecimal, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { goldenBatch, kv, str, testRecord } from '../testdata/golden-records.js';
import { convertToDatadog, datadogItemsJson, type DatadogConvertOptions } from './convert.js';

const s = str;
const rec = testRecord;

function batch(records: Partial<LogRecord>[], resource: KeyValue[] = [kv('service.name', s('api')), kv('host.name', s('h'))], scope: KeyValue[] = []): ResourceLogs[] {
  return [{ resource: { attributes: resource, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: 'x', version: '', attributes: scope, droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records.map(rec) }] }];
}

/** Bodies of one routing group: the reference items joined as the JSON array. */
function expectSameBody(rls: ResourceLogs[], options: DatadogConvertOptions = {}): void {
  const { requests } = convertToDatadog(rls, options);
  expect(requests).toHaveLength(1);
  expect(requests[0]!.body).toBe(`[${datadogItemsJson(rls, options).join(',')}]`);
  expect(requests[0]!.bytes).toBe(Buffer.byteLength(requests[0]!.body));
  expect(requests[0]!.bodyBytes.equals(Buffer.from(requests[0]!.body))).toBe(true);
}

const TRICKY_STRINGS = ['', 'héllo wörld', '✅🚀', 'q"uo\\te', 'ctl\u0001\n\t\u001f', 'lone \ud800 high', 'lone \udc00 low', '<&>\u2028', 'x'.repeat(70), `${'é'.repeat(60)}\ud83d`];

describe('datadog direct writer = object path', () => {
  it('the golden batch', () => {
    expectSameBody(goldenBatch().resourceLogs);
  });

  it('every value type and tricky strings', () => {
    const values: AnyValue[] = [
      ...TRICKY_STRINGS.map(s), { boolValue: true }, { boolValue: false }, { intValue: 7 }, { intValue: -3 }, { intValue: Long.fromString('9007199254740993') },
      { intValue: Long.fromString('-12') }, { intValue: NaN }, { doubleValue: 0.1 }, { doubleValue: -0 }, { doubleValue: 1e21 }, { doubleValue: 1.5e-7 }, { doubleValue: NaN },
      { doubleValue: Infinity }, { bytesValue: new Uint8Array([1, 2, 250]) }, {}, { arrayValue: { values: [s('a'), { intValue: 2 }, { kvlistValue: { values: [kv('k', s('v')), kv('1', s('one'))] } }] } },
    ];
    expectSameBody(batch(values.map((v, i) => ({ attributes: [kv('v', v), kv(`k${i}`, v)], body: v, severityText: i % 2 ? '' : 'wärn', eventName: i % 3 ? '' : 'ev' }))));
  });

  it('names the writer leaves to the object path: duplicates, array indices, late names, maps, id attributes', () => {
    expectSameBody(batch([
      { attributes: [kv('a', s('1')), kv('a', s('2'))] },
      { attributes: [kv('b', s('x')), kv('7', s('seven'))] },
      { attributes: [kv('hostname', s('rec')), kv('service', s('rec'))] },
      { attributes: [kv('m', { kvlistValue: { values: [kv('x', s('1'))] } }), kv('m.x', s('2'))] },
      { attributes: [kv('trace_id', s('0123456789abcdef0123456789abcdef')), kv('span_id', s('0123456789abcdef'))] },
      { attributes: [kv('trace_id', s('not-hex')), kv('msg', s('from attr')), kv('Level', s('CRIT'))] },
      { attributes: [kv('__proto__', s('p')), kv('service.name', s('shadowed'))] },
      { attributes: [kv('a', s('1'))] },
    ]));
  });

  it('resource and scope attributes, including ones the late fields take', () => {
    expectSameBody(batch([{ attributes: [kv('status', s('s'))] }, {}], [kv('service.name', s('api')), kv('9', s('n')), kv('message', s('res'))], [kv('scope.k', s('v'))]));
    expectSameBody(batch([{ attributes: [kv('x', s('1'))] }], [kv('service.name', s('api'))], [kv('x', { intValue: 1 })]));
  });

  it('timestamps: observed fallback, none, small and year-boundary values', () => {
    expectSameBody(batch([
      { timeUnixNano: nanosFromDecimal('0'), observedTimeUnixNano: nanosFromDecimal('1705314601000000500') },
      { timeUnixNano: nanosFromDecimal('0') },
      { timeUnixNano: nanosFromDecimal('999999') },
      { timeUnixNano: nanosFromDecimal('4294967296000') },
      { timeUnixNano: nanosFromDecimal('1735689599999999999') },
      { traceId: new Uint8Array(16), spanId: new Uint8Array(0), severityNumber: 0, severityText: '' },
    ]));
  });
});
