/**
 * Golden tests for the Splunk HEC converter. Every expected value below was written by hand from
 * upstream logdata_to_splunk.go, not produced by the code under test.
 */
import { describe, expect, it } from 'vitest';
import { nanosFromDecimal, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { goldenBatch } from '../testdata/golden-records.js';
import { convertToHec, convertToHecEvents, EMPTY_BODY_REASON, hecTime } from './convert.js';

const RES_FIELDS = {
  'service.name': 'checkout',
  'service.namespace': 'shop',
  'service.version': '1.4.2',
  'service.instance.id': 'pod-7',
  'deployment.environment': 'prod',
  'k8s.pod.name': 'checkout-7d9f',
  'telemetry.sdk.language': 'nodejs',
};
const IDS = { trace_id: '437ab4d83468c540bb0f3398a39faa59', span_id: '2e26da881214cd7c' };
const INFO = { 'otel.log.severity.text': 'INFO', 'otel.log.severity.number': 9 };
const TIME = 1705314600.123;

/** Parsed JSON of each event (undefined = the record is not sent). */
const EXPECTED: Record<string, unknown> = {
  'string-body': {
    time: TIME, host: 'web-1', event: 'GET /checkout 500 in 12ms',
    fields: {
      ...RES_FIELDS, 'golden.case': 'string-body', 'http.method': 'GET', 'http.status_code': 500, duration_ms: 12.5, 'cache.hit': false,
      ...IDS, 'otel.log.severity.text': 'ERROR', 'otel.log.severity.number': 17,
    },
  },
  'map-body': {
    time: TIME, host: 'web-1', event: { msg: 'order placed', order: { id: 1042, total: 99.95 }, tags: ['a', 'b'] },
    fields: { ...RES_FIELDS, 'golden.case': 'map-body', 'user.id': 'u-17', ...IDS, ...INFO },
  },
  'array-body': { time: TIME, host: 'web-1', event: ['one', 2, true], fields: { ...RES_FIELDS, 'golden.case': 'array-body', ...IDS, ...INFO } },
  'bytes-body': { time: TIME, host: 'web-1', event: '3q2+7w==', fields: { ...RES_FIELDS, 'golden.case': 'bytes-body', ...IDS, ...INFO } },
  'empty-body': undefined,
  'empty-string-body': undefined,
  // No observed-time fallback: `time` is left out.
  'no-timestamp': { host: 'web-1', event: 'case no-timestamp', fields: { ...RES_FIELDS, 'golden.case': 'no-timestamp', ...IDS, ...INFO } },
  'no-timestamps': { host: 'web-1', event: 'case no-timestamps', fields: { ...RES_FIELDS, 'golden.case': 'no-timestamps', ...IDS, ...INFO } },
  'zero-ids': { time: TIME, host: 'web-1', event: 'case zero-ids', fields: { ...RES_FIELDS, 'golden.case': 'zero-ids', ...INFO } },
  'no-ids': { time: TIME, host: 'web-1', event: 'case no-ids', fields: { ...RES_FIELDS, 'golden.case': 'no-ids', ...INFO } },
  'nested-attributes': {
    time: TIME, host: 'web-1', event: 'case nested-attributes',
    fields: {
      ...RES_FIELDS, 'golden.case': 'nested-attributes',
      'http.request.method': 'POST', 'http.request.headers.x-id': 'abc', 'http.status': 201,
      list: '[1,[2]]', html: '<b>&</b>', ...IDS, ...INFO,
    },
  },
  'non-ascii': {
    time: TIME, host: 'web-1', event: 'Grüße, 世界! 🚀 naïve café',
    fields: { ...RES_FIELDS, 'golden.case': 'non-ascii', city: 'Zürich', emoji: '✅', ...IDS, ...INFO },
  },
  'severity-text-only': {
    time: TIME, host: 'web-1', event: 'case severity-text-only',
    fields: { ...RES_FIELDS, 'golden.case': 'severity-text-only', ...IDS, 'otel.log.severity.text': 'warning' },
  },
  event: {
    time: TIME, host: 'web-1', event: 'case event',
    fields: { ...RES_FIELDS, 'golden.case': 'event', 'event.name': 'checkout.completed', ...IDS, ...INFO },
  },
};

const SEVERITY_TEXTS = ['', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4',
  'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4'];

function caseOf(rec: LogRecord): string {
  return rec.attributes[0]!.value!.stringValue!;
}

describe('splunk_hec convert (golden)', () => {
  const batch = goldenBatch();
  const records = batch.resourceLogs[0]!.scopeLogs.flatMap((sl) => sl.logRecords);
  const events = convertToHecEvents(batch.resourceLogs);
  const byCase = new Map(records.map((r, i) => [caseOf(r), events[i] === undefined ? undefined : JSON.parse(JSON.stringify(events[i]))]));

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`case ${name}`, () => {
      expect(byCase.has(name)).toBe(true);
      expect(byCase.get(name)).toEqual(expected);
    });
  }

  it('severity cases: text when not empty, number (an int) when not 0', () => {
    for (let n = 0; n <= 24; n++) {
      const fields: Record<string, unknown> = { ...RES_FIELDS, 'golden.case': `severity-${n}`, ...IDS };
      if (n > 0) {
        fields['otel.log.severity.text'] = SEVERITY_TEXTS[n];
        fields['otel.log.severity.number'] = n;
      }
      expect(byCase.get(`severity-${n}`)).toEqual({ time: TIME, host: 'web-1', event: `severity ${n}`, fields });
    }
  });

  it('the golden batch is one request of concatenated events (no array, no separator); empty bodies are rejected', () => {
    const { requests, rejected } = convertToHec(batch.resourceLogs);
    expect(requests).toHaveLength(1);
    const body = requests[0]!.body;
    expect(body.startsWith('{"time":1705314600.123,"host":"web-1","event":"GET /checkout 500 in 12ms","fields":{')).toBe(true);
    expect(body).not.toContain('}\n{');
    expect(body).toContain('}{"time"');
    const parsed = JSON.parse(`[${body.replaceAll('}{"', '},{"')}]`) as unknown[];
    expect(parsed).toHaveLength(14 + 25 - 2);
    expect(parsed[0]).toEqual(EXPECTED['string-body']);
    expect(rejected.map((r) => [caseOf(r.ref.lr), r.reason])).toEqual([['empty-body', EMPTY_BODY_REASON], ['empty-string-body', EMPTY_BODY_REASON]]);
  });
});

// ---- hand-built records for the remaining rules ----

const s = (v: string): AnyValue => ({ stringValue: v });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

function rec(fields: Partial<LogRecord> = {}): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal('1700000000000000000'), observedTimeUnixNano: nanosFromDecimal('0'),
    severityNumber: 0, severityText: '', body: s('hello'), attributes: [], droppedAttributesCount: 0, flags: 0,
    traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '', ...fields,
  };
}

function rl(resource: KeyValue[], records: Partial<LogRecord>[]): ResourceLogs {
  return { resource: { attributes: resource, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records.map(rec) }] };
}

const parse = (body: string): Record<string, unknown>[] => JSON.parse(`[${body.replaceAll('}{"time"', '},{"time"')}]`) as Record<string, unknown>[];

describe('splunk_hec convert (rules)', () => {
  it('time is seconds rounded to the millisecond (1001990000 ns → 1.002), 0 → left out', () => {
    expect(hecTime(nanosFromDecimal('1001990000'))).toBe(1.002);
    expect(hecTime(nanosFromDecimal('1500000'))).toBe(0.002);
    expect(hecTime(nanosFromDecimal('1499999'))).toBe(0.001);
    expect(hecTime(nanosFromDecimal('1705314600123456789'))).toBe(1705314600.123);
    expect(hecTime(nanosFromDecimal('1705314600999500000'))).toBe(1705314601);
    expect(hecTime(nanosFromDecimal('0'))).toBeUndefined();
    // Rounds to 0 s: omitted, as upstream's `time,omitempty` (exporter/splunkhecexporter/logdata_to_splunk.go, contrib a16cbac0).
    expect(hecTime(nanosFromDecimal('499999'))).toBeUndefined();
    expect(hecTime(nanosFromDecimal('500000'))).toBe(0.001);
  });

  it('metadata: config defaults, then resource attributes, then record attributes; not copied into fields; host defaults to "unknown"', () => {
    const [a, b, c] = convertToHecEvents([
      rl([kv('com.splunk.index', s('res_idx')), kv('com.splunk.hec.access_token', s('tok-2'))], [
        {},
        { attributes: [kv('com.splunk.index', s('rec_idx')), kv('com.splunk.source', s('rec_src')), kv('host.name', s('h1'))] },
      ]),
      rl([], [{}]),
    ], { source: 'cfg_src', sourcetype: 'cfg_st', index: 'cfg_idx' });
    expect(JSON.parse(JSON.stringify(a))).toEqual({ time: 1700000000, host: 'unknown', source: 'cfg_src', sourcetype: 'cfg_st', index: 'res_idx', event: 'hello' });
    expect(JSON.parse(JSON.stringify(b))).toEqual({ time: 1700000000, host: 'h1', source: 'rec_src', sourcetype: 'cfg_st', index: 'rec_idx', event: 'hello' });
    expect(JSON.parse(JSON.stringify(c))).toEqual({ time: 1700000000, host: 'unknown', source: 'cfg_src', sourcetype: 'cfg_st', index: 'cfg_idx', event: 'hello' });
  });

  it('attribute names and severity field names are configurable', () => {
    const [e] = convertToHecEvents([rl([kv('my.index', s('i1')), kv('com.splunk.index', s('ignored-as-metadata'))], [{ severityText: 'WARN', severityNumber: 13, attributes: [kv('machine', s('m1'))] }])], {
      keys: { index: 'my.index', host: 'machine', source: 'com.splunk.source', sourcetype: 'com.splunk.sourcetype' },
      severityTextKey: 'level', severityNumberKey: 'sev',
    });
    expect(JSON.parse(JSON.stringify(e))).toEqual({ time: 1700000000, host: 'm1', index: 'i1', event: 'hello', fields: { 'com.splunk.index': 'ignored-as-metadata', level: 'WARN', sev: 13 } });
  });

  it('records are grouped per token / index / source / sourcetype; the token attribute is never emitted', () => {
    const { requests } = convertToHec([
      rl([kv('com.splunk.hec.access_token', s('tok-A'))], [{}, { attributes: [kv('com.splunk.index', s('audit'))] }, {}]),
      rl([], [{ attributes: [kv('com.splunk.sourcetype', s('nginx'))] }, {}]),
    ]);
    expect(requests.map((r) => [r.token, r.index, r.sourcetype, r.refs.length])).toEqual([
      ['tok-A', '', '', 2], ['tok-A', 'audit', '', 1], [undefined, '', 'nginx', 1], [undefined, '', '', 1],
    ]);
    for (const r of requests) expect(r.body).not.toContain('tok-A');
  });

  it('index_by_retention_class maps retention.class to an index unless an index attribute is set', () => {
    const events = convertToHecEvents([rl([], [
      { attributes: [kv('retention.class', s('audit')), kv('retention.days', { intValue: -1 })] },
      { attributes: [kv('retention.class', s('debug'))] },
      { attributes: [kv('retention.class', s('audit')), kv('com.splunk.index', s('explicit'))] },
    ])], { index: 'main', indexByRetentionClass: { audit: 'audit_forever' } });
    expect(events.map((e) => e!.index)).toEqual(['audit_forever', 'main', 'explicit']);
    expect(events[0]!.fields).toEqual({ 'retention.class': 'audit', 'retention.days': -1 });
  });

  it('splits at max_content_length_logs measured on the body; an event larger than the limit alone is rejected', () => {
    const records: Partial<LogRecord>[] = [];
    for (let i = 0; i < 10; i++) records.push({ body: s(`${i}`.padEnd(300, '.')) });
    records.splice(4, 0, { body: s('x'.repeat(2000)) });
    const { requests, rejected } = convertToHec([rl([], records)], { maxContentLength: 1000 });
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatch(/larger than max_content_length_logs \(1000\)/);
    // Each event is 302 + 45 bytes of JSON (8+10+1+7+9+1+8 prefix, 1 closing brace): two fit in 1000 bytes, three do not.
    const one = JSON.stringify({ time: 1700000000, host: 'unknown', event: '0'.padEnd(300, '.') }).length;
    expect(one).toBe(347);
    expect(requests.map((r) => r.refs.length)).toEqual([2, 2, 2, 2, 2]);
    for (const r of requests) {
      expect(r.bytes).toBe(Buffer.byteLength(r.body));
      expect(r.bytes).toBeLessThanOrEqual(1000);
    }
    expect(requests.flatMap((r) => parse(r.body).map((e) => (e['event'] as string)[0]))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('max_content_length_logs 0 = unlimited; max_event_size still rejects', () => {
    const { requests, rejected } = convertToHec([rl([], [{ body: s('a'.repeat(5000)) }, { body: s('b'.repeat(50)) }])], { maxContentLength: 0, maxEventSize: 1000 });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.refs).toHaveLength(1);
    expect(rejected[0]!.reason).toMatch(/max_event_size/);
  });

  it('export_raw: body.AsString() + "\\n" per record, grouped with host too', () => {
    const { requests, rejected } = convertToHec([rl([kv('host.name', s('h1'))], [
      { body: s('line one') }, { body: { kvlistValue: { values: [kv('b', { intValue: 1 }), kv('a', s('<x>'))] } } }, { body: s('') },
    ])], { raw: true, index: 'main' });
    expect(rejected).toHaveLength(1);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ host: 'h1', index: 'main', body: 'line one\n{"a":"\\u003cx\\u003e","b":1}\n' });
  });

  it('map body keeps its JSON type; nested map attributes are flattened with null for empty values', () => {
    const [e] = convertToHecEvents([rl([], [{
      body: { kvlistValue: { values: [kv('n', { intValue: 5 }), kv('bytes', { bytesValue: new Uint8Array([1, 2]) })] } },
      attributes: [kv('m', { kvlistValue: { values: [kv('e', {}), kv('arr', { arrayValue: { values: [s('x'), { intValue: 2 }] } })] } }), kv('skip', {})],
    }])]);
    expect(JSON.parse(JSON.stringify(e))).toEqual({ time: 1700000000, host: 'unknown', event: { n: 5, bytes: 'AQI=' }, fields: { 'm.e': null, 'm.arr': ['x', 2] } });
  });
});

/**
 * Test_mapLogRecordToSplunkEvent of opentelemetry-collector-contrib exporter/splunkhecexporter/logdata_to_splunk_test.go
 * (commit 805969d2b32d701d423ba89edfba81bc6d0c1842), its cases rebuilt: record time 123 ns (rounds to 0 s, so
 * `time` is left out), config source "source" / sourcetype "sourcetype" unless the case says otherwise.
 */
describe('splunk_hec convert: upstream Test_mapLogRecordToSplunkEvent cases', () => {
  const TS = nanosFromDecimal('123');
  const CFG = { source: 'source', sourcetype: 'sourcetype' };
  const APP = [kv('com.splunk.source', s('myapp')), kv('com.splunk.sourcetype', s('myapp-type')), kv('host.name', s('myhost'))];
  const one = (resource: KeyValue[], lr: Partial<LogRecord>, options: Parameters<typeof convertToHecEvents>[1] = CFG): unknown => {
    const events = convertToHecEvents([rl(resource, [{ timeUnixNano: TS, ...lr }])], options);
    expect(events).toHaveLength(1);
    return JSON.parse(JSON.stringify(events[0] ?? null)) as unknown;
  };
  const APP_EVENT = { host: 'myhost', source: 'myapp', sourcetype: 'myapp-type' };

  it('valid / with_name: source, sourcetype and host from record attributes; the rest in fields', () => {
    expect(one([], { body: s('mylog'), attributes: [...APP, kv('custom', s('custom'))] })).toEqual({ ...APP_EVENT, event: 'mylog', fields: { custom: 'custom' } });
  });

  it('with_hec_token: the token attribute is not a field; host "unknown"; config source/sourcetype', () => {
    expect(one([], { body: s('mylog'), attributes: [kv('com.splunk.hec.access_token', s('mytoken'))] })).toEqual({ host: 'unknown', source: 'source', sourcetype: 'sourcetype', event: 'mylog' });
  });

  it('non-string attribute: a double field keeps its number type', () => {
    expect(one([], { body: s('mylog'), attributes: [...APP, kv('foo', { doubleValue: 123 })] })).toEqual({ ...APP_EVENT, event: 'mylog', fields: { foo: 123 } });
  });

  it('with_config: no metadata attributes → the config values, host "unknown"', () => {
    expect(one([], { body: s('mylog'), attributes: [kv('custom', s('custom'))] })).toEqual({ host: 'unknown', source: 'source', sourcetype: 'sourcetype', event: 'mylog', fields: { custom: 'custom' } });
  });

  it('with_custom_mapping: renamed metadata attributes and severity fields', () => {
    const got = one([], {
      body: s('mylog'), severityText: 'DEBUG', severityNumber: 5,
      attributes: [kv('custom', s('custom')), kv('mysource', s('mysource')), kv('mysourcetype', s('mysourcetype')), kv('myindex', s('myindex')), kv('myhost', s('myhost'))],
    }, { keys: { source: 'mysource', sourcetype: 'mysourcetype', index: 'myindex', host: 'myhost' }, severityTextKey: 'myseverity', severityNumberKey: 'myseveritynum' });
    expect(got).toEqual({ host: 'myhost', source: 'mysource', sourcetype: 'mysourcetype', index: 'myindex', event: 'mylog', fields: { custom: 'custom', myseverity: 'DEBUG', myseveritynum: 5 } });
  });

  it('with span and trace id: hex span_id / trace_id fields (the empty body is not sent: README "Differences from upstream")', () => {
    const [e] = convertToHecEvents([rl([], [{ timeUnixNano: nanosFromDecimal('0'), body: s('x'),
      spanId: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 50]), traceId: Uint8Array.from([...new Array<number>(15).fill(0), 100]) }])], CFG);
    expect(e!.fields).toEqual({ span_id: '0000000000000032', trace_id: '00000000000000000000000000000064' });
    expect(e!.time).toBeUndefined();
    expect(convertToHecEvents([rl([], [{ body: null }])], CFG)).toEqual([undefined]);
  });

  it.each([
    ['double', { doubleValue: 42 }, 42],
    ['int', { intValue: 42 }, 42],
    ['bool', { boolValue: true }, true],
    ['map', { kvlistValue: { values: [kv('23', { doubleValue: 45 }), kv('foo', s('bar'))] } }, { 23: 45, foo: 'bar' }],
    ['array', { arrayValue: { values: [s('foo')] } }, ['foo']],
  ] as [string, AnyValue, unknown][])('with %s body: the event keeps the JSON type', (_name, body, event) => {
    expect(one([], { body, attributes: [...APP, kv('custom', s('custom'))] })).toEqual({ ...APP_EVENT, event, fields: { custom: 'custom' } });
  });

  it('log resource attribute: metadata from resource attributes (index too); other resource attributes are fields', () => {
    const resource = [
      kv('resourceAttr1', s('some_string')), kv('com.splunk.sourcetype', s('myapp-type-from-resource-attr')), kv('com.splunk.index', s('index-resource')),
      kv('com.splunk.source', s('myapp-resource')), kv('host.name', s('myhost-resource')),
    ];
    expect(one(resource, { body: s('mylog') }, {})).toEqual({
      host: 'myhost-resource', source: 'myapp-resource', sourcetype: 'myapp-type-from-resource-attr', index: 'index-resource', event: 'mylog', fields: { resourceAttr1: 'some_string' },
    });
  });

  it('with severity: otel.log.severity.text and otel.log.severity.number (an int)', () => {
    expect(one([], { body: s('mylog'), severityText: 'DEBUG', severityNumber: 5, attributes: [...APP, kv('custom', s('custom'))] })).toEqual({
      ...APP_EVENT, event: 'mylog', fields: { custom: 'custom', 'otel.log.severity.number': 5, 'otel.log.severity.text': 'DEBUG' },
    });
  });
});
