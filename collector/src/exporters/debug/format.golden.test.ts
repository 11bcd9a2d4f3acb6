/**
 * Upstream's pinned debug output for logs. Detailed: testdata/logs/one_record.out, two_records.out
 * (commits 21b54c94d3f29e11f4669d10194469506c5b7e50, 3a54566726b351d215f5ba341688052fcf78456c) and
 * log_with_event_name.out (commit 61e59cdd879e85dd1ce483b433b8188cc03b7e94) of open-telemetry/opentelemetry-collector
 * exporter/debugexporter/internal/otlptext, on pdata's testdata logs (rebuilt here). Normal: TestMarshalLogs of
 * exporter/debugexporter/internal/normal/logs_test.go (commit 88e8256a717c478e30d42f194989d0361b717aaa).
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { nanosFromDecimal, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { formatDetailed, formatNormal, goTimeString } from './format.js';

const str = (s: string): AnyValue => ({ stringValue: s });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
/** 2020-02-11T20:26:13.000000789Z */
const TS = nanosFromDecimal('1581452773000000789');

function rec(fields: Partial<LogRecord>): LogRecord {
  return {
    timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO, severityNumber: 0, severityText: '', body: null, attributes: [],
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '', ...fields,
  };
}

/** pdata testdata's log records 0 and 1. */
const RECORD0 = (): LogRecord => rec({
  timeUnixNano: TS, severityNumber: 9, severityText: 'Info', body: str('This is a log message'), droppedAttributesCount: 1,
  attributes: [kv('app', str('server')), kv('instance_num', { intValue: 1 })],
  traceId: Uint8Array.from([8, 4, 2, 1, ...new Array<number>(12).fill(0)]), spanId: Uint8Array.from([1, 2, 4, 8, 0, 0, 0, 0]),
});
const RECORD1 = (): LogRecord => rec({
  timeUnixNano: TS, severityNumber: 9, severityText: 'Info', body: str('something happened'), droppedAttributesCount: 1,
  attributes: [kv('customer', str('acme')), kv('env', str('dev'))],
});

function logs(records: LogRecord[], resource: KeyValue[] = [kv('resource-attr', str('resource-attr-val-1'))], o: { schema?: string; scope?: ResourceLogs['scopeLogs'][number]['scope']; scopeSchema?: string } = {}): ResourceLogs[] {
  return [{
    resource: { attributes: resource, droppedAttributesCount: 0 }, schemaUrl: o.schema ?? '',
    scopeLogs: [{ scope: o.scope ?? { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: o.scopeSchema ?? '', logRecords: records }],
  }];
}

const HEAD = 'ResourceLog #0\nResource SchemaURL: \nResource attributes:\n     -> resource-attr: Str(resource-attr-val-1)\nScopeLogs #0\nScopeLogs SchemaURL: \nInstrumentationScope  \n';
const REC0 = 'ObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC\nTimestamp: 2020-02-11 20:26:13.000000789 +0000 UTC\nSeverityText: Info\nSeverityNumber: Info(9)\n';
const REC0_TAIL = 'Body: Str(This is a log message)\nAttributes:\n     -> app: Str(server)\n     -> instance_num: Int(1)\nTrace ID: 08040201000000000000000000000000\nSpan ID: 0102040800000000\nFlags: 0\n';

describe('debug exporter: upstream detailed output (otlptext)', () => {
  it('one_record.out', () => {
    expect(formatDetailed(logs([RECORD0()]))).toBe(`${HEAD}LogRecord #0\n${REC0}${REC0_TAIL}`);
  });

  it('two_records.out', () => {
    expect(formatDetailed(logs([RECORD0(), RECORD1()]))).toBe(
      `${HEAD}LogRecord #0\n${REC0}${REC0_TAIL}LogRecord #1\n${REC0}` +
      'Body: Str(something happened)\nAttributes:\n     -> customer: Str(acme)\n     -> env: Str(dev)\nTrace ID: \nSpan ID: \nFlags: 0\n',
    );
  });

  it('log_with_event_name.out', () => {
    const r = RECORD0();
    r.eventName = 'event_name';
    expect(formatDetailed(logs([r], []))).toBe(
      'ResourceLog #0\nResource SchemaURL: \nScopeLogs #0\nScopeLogs SchemaURL: \nInstrumentationScope  \n' +
      `LogRecord #0\n${REC0}EventName: event_name\n${REC0_TAIL}`,
    );
  });

  it('timestamps print as Go\'s Time.String(): fraction without trailing zeros, none when whole', () => {
    expect(goTimeString(nanosFromDecimal('1706032481000000153'))).toBe('2024-01-23 17:54:41.000000153 +0000 UTC');
    expect(goTimeString(nanosFromDecimal('1706032481120000000'))).toBe('2024-01-23 17:54:41.12 +0000 UTC');
    expect(goTimeString(Long.UZERO)).toBe('1970-01-01 00:00:00 +0000 UTC');
  });
});

describe('debug exporter: upstream normal output', () => {
  /** 2024-01-23T17:54:41.000000153Z, INFO, two attributes. */
  const single = (body = 'Single line log message'): LogRecord => rec({
    timeUnixNano: nanosFromDecimal('1706032481000000153'), severityNumber: 9, severityText: 'INFO', body: str(body),
    attributes: [kv('key1', str('value1')), kv('key2', str('value2'))],
  });

  it('empty logs', () => {
    expect(formatNormal([])).toBe('');
  });

  it('one log record', () => {
    expect(formatNormal(logs([single()], []))).toBe('ResourceLog #0\nScopeLog #0\nSingle line log message key1=value1 key2=value2\n');
  });

  it('one log record with resource and scope attributes', () => {
    const rls = logs([single()], [kv('resourceKey1', str('resourceValue1')), kv('resourceKey2', { boolValue: false })], {
      schema: 'https://opentelemetry.io/resource-schema-url', scopeSchema: 'http://opentelemetry.io/scope-schema-url',
      scope: { name: 'scope-name', version: '1.2.3', attributes: [kv('scopeKey1', str('scopeValue1')), kv('scopeKey2', { boolValue: true })], droppedAttributesCount: 0 },
    });
    expect(formatNormal(rls)).toBe(
      'ResourceLog #0 [https://opentelemetry.io/resource-schema-url] resourceKey1=resourceValue1 resourceKey2=false\n' +
      'ScopeLog #0 scope-name@1.2.3 [http://opentelemetry.io/scope-schema-url] scopeKey1=scopeValue1 scopeKey2=true\n' +
      'Single line log message key1=value1 key2=value2\n',
    );
  });

  it('multiline log', () => {
    expect(formatNormal(logs([single('First line of the log message\n  second line of the log message')], []))).toBe(
      'ResourceLog #0\nScopeLog #0\nFirst line of the log message\n  second line of the log message key1=value1 key2=value2\n',
    );
  });

  it('two log records', () => {
    const second = rec({ body: str('Multi-line\nlog message'), attributes: [kv('mykey2', str('myvalue2')), kv('mykey1', str('myvalue1'))] });
    expect(formatNormal(logs([single(), second], []))).toBe(
      'ResourceLog #0\nScopeLog #0\nSingle line log message key1=value1 key2=value2\nMulti-line\nlog message mykey2=myvalue2 mykey1=myvalue1\n',
    );
  });

  it('log with maps in body and attributes', () => {
    const r = rec({
      timeUnixNano: TS, severityNumber: 9, severityText: 'INFO',
      body: { kvlistValue: { values: [kv('app', str('CurrencyConverter')), kv('event', { kvlistValue: { values: [kv('operation', str('convert')), kv('result', str('success'))] } })] } },
      attributes: [
        kv('conversion', { kvlistValue: { values: [
          kv('source', { kvlistValue: { values: [kv('currency', str('USD')), kv('amount', { doubleValue: 34.22 })] } }),
          kv('destination', { kvlistValue: { values: [kv('currency', str('EUR'))] } }),
        ] } }),
        kv('service', str('payments')),
      ],
    });
    expect(formatNormal(logs([r], []))).toBe(
      'ResourceLog #0\nScopeLog #0\n{"app":"CurrencyConverter","event":{"operation":"convert","result":"success"}} ' +
      'conversion={"destination":{"currency":"EUR"},"source":{"amount":34.22,"currency":"USD"}} service=payments\n',
    );
  });
});
