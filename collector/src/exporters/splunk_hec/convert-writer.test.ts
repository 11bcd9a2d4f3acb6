/**
 * The direct writer of convertToHec against the plain object path (JSON.stringify of convertToHecEvents):
 * the request bodies must be the same bytes, including property order, escaping and numbers.
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { nanosFromDecimal, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { goldenBatch, kv, str, testRecord } from '../testdata/golden-records.js';
import { convertToHec, convertToHecEvents, type HecConvertOptions } from './convert.js';

const s = str;
const rec = testRecord;

function batch(records: Partial<LogRecord>[], resource: KeyValue[] = [kv('service.name', s('api')), kv('host.name', s('h'))]): ResourceLogs[] {
  return [{ resource: { attributes: resource, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records.map(rec) }] }];
}

/** One routing group: the body is the reference events concatenated. */
function expectSameBody(rls: ResourceLogs[], options: HecConvertOptions = {}): void {
  const { requests } = convertToHec(rls, options);
  expect(requests).toHaveLength(1);
  const events = convertToHecEvents(rls, options).filter((e) => e !== undefined);
  expect(requests[0]!.body).toBe(events.map((e) => JSON.stringify(e)).join(''));
  expect(requests[0]!.bytes).toBe(Buffer.byteLength(requests[0]!.body));
  expect(requests[0]!.bodyBytes.equals(Buffer.from(requests[0]!.body))).toBe(true);
}

const TRICKY_STRINGS = ['x', 'héllo wörld', '✅🚀', 'q"uo\\te', 'ctl\u0001\n\t\u001f', 'lone \ud800 high', 'lone \udc00 low', '<&>\u2028', 'x'.repeat(70), `${'é'.repeat(60)}\ud83d`];

describe('splunk_hec direct writer = object path', () => {
  it('the golden batch', () => {
    const rls = goldenBatch().resourceLogs;
    const { requests } = convertToHec(rls);
    expect(requests[0]!.body).toBe(convertToHecEvents(rls).filter((e) => e !== undefined).map((e) => JSON.stringify(e)).join(''));
  });

  it('every value type as body and field, tricky strings', () => {
    const values: AnyValue[] = [
      ...TRICKY_STRINGS.map(s), { boolValue: true }, { boolValue: false }, { intValue: 7 }, { intValue: -3 }, { intValue: Long.fromString('9007199254740993') },
      { intValue: NaN }, { doubleValue: 0.1 }, { doubleValue: -0 }, { doubleValue: 1e21 }, { doubleValue: NaN }, { doubleValue: -Infinity },
      { bytesValue: new Uint8Array([1, 2, 250]) }, { arrayValue: { values: [s('a'), { intValue: 2 }] } }, { arrayValue: { values: [{ arrayValue: { values: [] } }] } },
      { kvlistValue: { values: [kv('b', s('1')), kv('2', s('two'))] } },
    ];
    expectSameBody(batch(values.map((v, i) => ({ attributes: [kv('v', v), kv(`k${i}`, v), kv('empty', {})], body: v, severityText: i % 2 ? '' : 'wärn', severityNumber: i % 3 }))));
  });

  it('names the writer leaves to the object path: duplicates, index-like, resource and fixed field names, maps', () => {
    expectSameBody(batch([
      { attributes: [kv('a', s('1')), kv('a', s('2'))] },
      { attributes: [kv('b', s('x')), kv('7', s('seven'))] },
      { attributes: [kv('service.name', s('rec')), kv('span_id', s('rec'))] },
      { attributes: [kv('m', { kvlistValue: { values: [kv('x', s('1'))] } }), kv('m.x', s('2'))] },
      { attributes: [kv('__proto__', s('p'))] },
      { attributes: [kv('a', s('1'))], severityText: '', severityNumber: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(16) },
    ]));
    expectSameBody(batch([{}], [kv('9', s('n')), kv('span_id', s('r'))]));
    expectSameBody(batch([{}]), { severityTextKey: '5' });
  });

  it('time: rounding to the millisecond, trailing zeros, 0 left out', () => {
    for (const t of ['0', '499999', '500000', '1001990000', '1705314600999500000', '1705314600100000000', '1705314600000000001', '18446744073709551615']) {
      expectSameBody(batch([{ timeUnixNano: nanosFromDecimal(t), attributes: [] }], []));
    }
  });

  it('no fields at all', () => {
    expectSameBody(batch([{ severityText: '', severityNumber: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), attributes: [kv('e', {})] }], []));
  });
});
