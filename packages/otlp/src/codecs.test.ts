import Long from 'long';
import { describe, expect, it } from 'vitest';
import {
  anyValueAsString, countLogRecords, decodeExportRequest, decodeExportRequestJson, decodeExportResponseJson,
  encodeExportRequest, encodeExportRequestJson, encodeExportResponseJson, idFromHex, idToHex, nanosFromDecimal,
  nanosToDecimal, nanosToIso, nanosToMillis, nanosToSecondsAndNanos, OtlpJsonError, type ExportLogsServiceRequest,
} from './index.js';

function sample(): ExportLogsServiceRequest {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }], droppedAttributesCount: 0 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeLogs: [{
        scope: { name: 'lib', version: '1.2.3', attributes: [{ key: 's', value: { boolValue: true } }], droppedAttributesCount: 0 },
        schemaUrl: '',
        logRecords: [{
          timeUnixNano: nanosFromDecimal('1700000000123456789'),
          observedTimeUnixNano: nanosFromDecimal('1700000000987654321'),
          severityNumber: 17,
          severityText: 'ERROR',
          body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'boom <&>' } }, { key: 'n', value: { arrayValue: { values: [{ intValue: Long.fromString('-9007199254740993') }, { doubleValue: 1.5 }, { bytesValue: Buffer.from([1, 2, 255]) }] } } }] } },
          attributes: [{ key: 'http.status', value: { intValue: 500 } }, { key: 'ok', value: { boolValue: false } }, { key: 'empty', value: {} }],
          droppedAttributesCount: 2,
          flags: 1,
          traceId: idFromHex('437ab4d83468c540bb0f3398a39faa59', 16),
          spanId: idFromHex('2e26da881214cd7c', 8),
          eventName: 'checkout.failed',
        }],
      }],
    }],
  };
}

describe('nanosecond timestamps', () => {
  it('converts to decimal exactly across the 64-bit range', () => {
    for (const s of ['0', '1', '4294967295', '4294967296', '1700000000123456789', '18446744073709551615', '999999999999999999']) {
      expect(nanosToDecimal(Long.fromString(s, true))).toBe(s);
    }
  });
  it('splits into seconds + nanos and renders RFC 3339 with nanoseconds', () => {
    const t = nanosFromDecimal('1705314600000000001');
    expect(nanosToSecondsAndNanos(t)).toEqual({ seconds: 1705314600, nanos: 1 });
    expect(nanosToIso(t)).toBe('2024-01-15T10:30:00.000000001Z');
    expect(nanosToMillis(nanosFromDecimal('1705314600123000000'))).toBe(1705314600123);
    // Whole milliseconds exact for every value (a single double of the nanoseconds rounded 1 in 8 down).
    for (let ms = 1_796_423_734_000; ms < 1_796_423_734_400; ms++) expect(Math.floor(nanosToMillis(nanosFromDecimal(`${ms}000000`)))).toBe(ms);
    expect(nanosToMillis(nanosFromDecimal('1796423734449500000'))).toBe(1796423734449.5);
  });
  it('rejects overflow and garbage', () => {
    expect(() => nanosFromDecimal('18446744073709551616')).toThrow(/overflows/);
    expect(() => nanosFromDecimal('12a')).toThrow(/invalid/);
  });
});

describe('protobuf and JSON codecs', () => {
  it('round-trips every field through protobuf', () => {
    const back = decodeExportRequest(encodeExportRequest(sample()));
    expect(encodeExportRequestJson(back)).toBe(encodeExportRequestJson(sample()));
    const rec = back.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(nanosToDecimal(rec.timeUnixNano)).toBe('1700000000123456789');
    expect(idToHex(rec.traceId)).toBe('437ab4d83468c540bb0f3398a39faa59');
    expect(countLogRecords(back.resourceLogs)).toBe(1);
  });

  it('decodes 64-bit timestamps and int64 values to the same Longs as protobufjs, at every width', () => {
    const stamps = ['0', '1', '4294967295', '4294967296', '9007199254740993', '1700000000123456789', '18446744073709551615'];
    const ints = ['0', '1', '127', '128', '16383', '16384', '268435455', '268435456', '-1', '-268435456', '9223372036854775807', '-9223372036854775808'];
    const req = sample();
    const rec = req.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    const records = stamps.map((t) => ({ ...rec, timeUnixNano: Long.fromString(t, true), observedTimeUnixNano: Long.fromString(t, true) }));
    records[0]!.attributes = ints.map((v) => ({ key: v, value: { intValue: Long.fromString(v, false) } }));
    req.resourceLogs[0]!.scopeLogs[0]!.logRecords = records;
    const got = decodeExportRequest(encodeExportRequest(req)).resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(got.map((r) => [r.timeUnixNano.toString(), r.timeUnixNano.unsigned, r.observedTimeUnixNano.toString()])).toEqual(stamps.map((t) => [t, true, t]));
    const decodedInts = got[0]!.attributes.map((a) => a.value!.intValue as Long);
    expect(decodedInts.map((v) => [v.toString(), v.unsigned, Long.isLong(v)])).toEqual(ints.map((v) => [v, false, true]));
    // A timestamp cut short is a decode error, not a wrong value.
    const bytes = encodeExportRequest({ resourceLogs: [{ ...req.resourceLogs[0]!, scopeLogs: [{ ...req.resourceLogs[0]!.scopeLogs[0]!, logRecords: [{ ...rec, attributes: [], body: undefined }] }] }] });
    const at = Buffer.from(bytes).indexOf(0x19); // field 3 (time_unix_nano), fixed64
    expect(() => decodeExportRequest(bytes.subarray(0, at + 5))).toThrow();
  });

  it('writes OTLP/JSON: hex ids, lowerCamelCase, int64 as strings, enums as integers, defaults omitted', () => {
    const json = JSON.parse(encodeExportRequestJson(sample()));
    const rec = json.resourceLogs[0].scopeLogs[0].logRecords[0];
    expect(rec).toMatchObject({
      timeUnixNano: '1700000000123456789', observedTimeUnixNano: '1700000000987654321', severityNumber: 17,
      severityText: 'ERROR', traceId: '437ab4d83468c540bb0f3398a39faa59', spanId: '2e26da881214cd7c', flags: 1,
      droppedAttributesCount: 2, eventName: 'checkout.failed',
    });
    expect(rec.attributes[0]).toEqual({ key: 'http.status', value: { intValue: '500' } });
    expect(rec.attributes[2]).toEqual({ key: 'empty', value: {} });
    expect(rec.body.kvlistValue.values[1].value.arrayValue.values).toEqual([
      { intValue: '-9007199254740993' }, { doubleValue: 1.5 }, { bytesValue: 'AQL/' },
    ]);
    expect(json.resourceLogs[0].scopeLogs[0].schemaUrl).toBeUndefined();
  });

  it('JSON decode is the inverse of encode, and accepts snake_case, numbers for int64 and enum names', () => {
    const text = encodeExportRequestJson(sample());
    expect(encodeExportRequestJson(decodeExportRequestJson(text))).toBe(text);
    const alt = decodeExportRequestJson({
      resource_logs: [{ scope_logs: [{ log_records: [{ time_unix_nano: 1700000000000, severity_number: 'SEVERITY_NUMBER_WARN', body: { int_value: 7 }, trace_id: '' }] }] }],
    });
    const r = alt.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(nanosToDecimal(r.timeUnixNano)).toBe('1700000000000');
    expect(r.severityNumber).toBe(13);
    expect(anyValueAsString(r.body)).toBe('7');
    expect(r.traceId.length).toBe(0);
  });

  it('names the path of malformed JSON values', () => {
    const bad = (v: unknown): string => {
      try { decodeExportRequestJson(v); } catch (e) { expect(e).toBeInstanceOf(OtlpJsonError); return (e as Error).message; }
      return 'no error';
    };
    expect(bad({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: 'xyz' }] }] }] })).toBe('resourceLogs[0].scopeLogs[0].logRecords[0].traceId: must be 32 hex characters, got 3');
    expect(bad({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: [{ key: 'a', value: { intValue: 'ten' } }] }] }] }] }))
      .toMatch(/logRecords\[0\]\.attributes\[0\]\.value\.intValue: must be a 64-bit integer/);
    expect(bad({ resourceLogs: {} })).toBe('resourceLogs: must be an array');
    let deep: unknown = { stringValue: 'x' };
    for (let i = 0; i < 200; i++) deep = { kvlistValue: { values: [{ key: 'k', value: deep }] } };
    expect(bad({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: deep }] }] }] })).toMatch(/nesting deeper than 100/);
  });

  it('encodes partial success responses', () => {
    expect(encodeExportResponseJson({})).toBe('{}');
    const s = encodeExportResponseJson({ partialSuccess: { rejectedLogRecords: 3, errorMessage: 'bad id' } });
    expect(JSON.parse(s)).toEqual({ partialSuccess: { rejectedLogRecords: '3', errorMessage: 'bad id' } });
    expect(decodeExportResponseJson(s).partialSuccess).toEqual({ rejectedLogRecords: 3, errorMessage: 'bad id' });
  });
});

describe('AsString', () => {
  it('follows pdata: sorted keys, Go escaping, base64 bytes', () => {
    expect(anyValueAsString({ kvlistValue: { values: [{ key: 'b', value: { stringValue: '<x>' } }, { key: 'a', value: { intValue: 1 } }] } }))
      .toBe('{"a":1,"b":"\\u003cx\\u003e"}');
    expect(anyValueAsString({ doubleValue: 0.1 })).toBe('0.1');
    expect(anyValueAsString({ bytesValue: Buffer.from('hi') })).toBe('aGk=');
    expect(anyValueAsString(undefined)).toBe('');
  });
});
