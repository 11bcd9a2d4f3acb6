/**
 * Golden tests for the Datadog converter. Every expected value below was written by hand from
 * upstream transform.go (datadog-agent), not produced by the code under test.
 */
import { describe, expect, it } from 'vitest';
import { idFromHex, nanosFromDecimal, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { goldenBatch, GOLDEN_RESOURCE_ATTRIBUTES } from '../testdata/golden-records.js';
import { convertToDatadog, convertToDatadogItems, statusFromSeverityNumber, TRUNCATED_SUFFIX, type DatadogItem } from './convert.js';

const TAGS = 'service:checkout,version:1.4.2,service.instance.id:pod-7,env:prod,pod_name:checkout-7d9f,otel_source:datadog_exporter';

/** Fields every golden record shares: resource attributes (AsString), the scope attribute, named fields. */
const RESOURCE_PROPS = {
  'service.name': 'checkout',
  'service.namespace': 'shop',
  'service.version': '1.4.2',
  'service.instance.id': 'pod-7',
  'deployment.environment': 'prod',
  'host.name': 'web-1',
  'k8s.pod.name': 'checkout-7d9f',
  'telemetry.sdk.language': 'nodejs',
};
const IDS = {
  'dd.trace_id': '13479048940416379481',
  'otel.trace_id': '437ab4d83468c540bb0f3398a39faa59',
  'dd.span_id': '3325585652813450620',
  'otel.span_id': '2e26da881214cd7c',
};
const TIME = { 'otel.timestamp': '1705314600123456789', '@timestamp': '2024-01-15T10:30:00.123Z' };
const INFO = { 'otel.severity_text': 'INFO', 'otel.severity_number': '9', status: 'INFO' };
const NAMED = { ddsource: 'otlp_log_ingestion', ddtags: TAGS, hostname: 'web-1', service: 'checkout' };

const EXPECTED: Record<string, DatadogItem> = {
  'string-body': {
    'golden.case': 'string-body', 'http.method': 'GET', 'http.status_code': 500, duration_ms: 12.5, 'cache.hit': false,
    ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS,
    'otel.severity_text': 'ERROR', 'otel.severity_number': '17', status: 'ERROR', ...TIME,
    ...NAMED, message: 'GET /checkout 500 in 12ms',
  },
  'map-body': {
    'golden.case': 'map-body', 'user.id': 'u-17', ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS, ...INFO, ...TIME, ...NAMED,
    message: '{"msg":"order placed","order":{"id":1042,"total":99.95},"tags":["a","b"]}',
  },
  'array-body': { 'golden.case': 'array-body', ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS, ...INFO, ...TIME, ...NAMED, message: '["one",2,true]' },
  'bytes-body': { 'golden.case': 'bytes-body', ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS, ...INFO, ...TIME, ...NAMED, message: '3q2+7w==' },
  'empty-body': { 'golden.case': 'empty-body', ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS, ...INFO, ...TIME, ...NAMED, message: '' },
  'empty-string-body': { 'golden.case': 'empty-string-body', ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS, ...INFO, ...TIME, ...NAMED, message: '' },
  // Newest upstream falls back to the observed time (2024-01-15T10:30:01.000000500Z).
  'no-timestamp': {
    'golden.case': 'no-timestamp', ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS, ...INFO,
    'otel.timestamp': '1705314601000000500', '@timestamp': '2024-01-15T10:30:01.000Z', ...NAMED, message: 'case no-timestamp',
  },
  'no-timestamps': { 'golden.case': 'no-timestamps', ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS, ...INFO, ...NAMED, message: 'case no-timestamps' },
  'zero-ids': { 'golden.case': 'zero-ids', ...RESOURCE_PROPS, 'scope.attr': 's', ...INFO, ...TIME, ...NAMED, message: 'case zero-ids' },
  'no-ids': { 'golden.case': 'no-ids', ...RESOURCE_PROPS, 'scope.attr': 's', ...INFO, ...TIME, ...NAMED, message: 'case no-ids' },
  'nested-attributes': {
    'golden.case': 'nested-attributes',
    'http.request.method': 'POST', 'http.request.headers.x-id': 'abc', 'http.status': 201,
    list: [1, [2]], html: '<b>&</b>',
    ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS, ...INFO, ...TIME, ...NAMED, message: 'case nested-attributes',
  },
  'non-ascii': {
    'golden.case': 'non-ascii', city: 'Zürich', emoji: '✅', ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS, ...INFO, ...TIME, ...NAMED,
    message: 'Grüße, 世界! 🚀 naïve café',
  },
  'severity-text-only': {
    'golden.case': 'severity-text-only', ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS,
    'otel.severity_text': 'warning', status: 'warning', ...TIME, ...NAMED, message: 'case severity-text-only',
  },
  event: {
    'golden.case': 'event', 'event.name': 'checkout.completed', ...RESOURCE_PROPS, 'scope.attr': 's', ...IDS, ...INFO, ...TIME,
    'otel.event_name': 'checkout.completed', ...NAMED, message: 'case event',
  },
};

const SEVERITY_TEXTS = ['', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4',
  'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4'];

function byCase(items: DatadogItem[]): Map<string, DatadogItem> {
  return new Map(items.map((i) => [i['golden.case'] as string, i]));
}

describe('datadog convert (golden)', () => {
  const items = byCase(convertToDatadogItems(goldenBatch().resourceLogs));

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`case ${name}`, () => {
      expect(items.get(name)).toEqual(expected);
    });
  }

  it('severity cases: severity_text wins as status; number as a string; no scope attributes on the second scope', () => {
    for (let n = 0; n <= 24; n++) {
      const expected: DatadogItem = {
        'golden.case': `severity-${n}`, ...RESOURCE_PROPS, ...IDS, ...TIME, ...NAMED, message: `severity ${n}`,
        status: SEVERITY_TEXTS[n],
      };
      if (n > 0) {
        expected['otel.severity_text'] = SEVERITY_TEXTS[n];
        expected['otel.severity_number'] = String(n);
      }
      expect(items.get(`severity-${n}`)).toEqual(expected);
    }
  });

  it('status from severity_number when there is neither a status attribute nor a severity_text', () => {
    const expected: Record<number, string> = {
      1: 'trace', 4: 'trace', 5: 'debug', 8: 'debug', 9: 'info', 12: 'info', 13: 'warn', 16: 'warn',
      17: 'error', 20: 'error', 21: 'fatal', 24: 'fatal', 25: 'error',
    };
    for (const [n, status] of Object.entries(expected)) expect(statusFromSeverityNumber(Number(n))).toBe(status);
    const [item] = convertToDatadogItems([oneRecord({ severityText: '', severityNumber: 14 })]);
    expect(item!['status']).toBe('warn');
    expect(item!['otel.severity_number']).toBe('14');
    expect(item!['otel.severity_text']).toBeUndefined();
  });

  it('the whole golden batch is one request (one routing group) with every record, as a JSON array', () => {
    const { requests, rejected } = convertToDatadog(goldenBatch().resourceLogs);
    expect(rejected).toEqual([]);
    expect(requests).toHaveLength(1);
    const parsed = JSON.parse(requests[0]!.body) as DatadogItem[];
    expect(parsed).toHaveLength(14 + 25);
    expect(requests[0]!.ddtags).toBe(TAGS);
    expect(requests[0]!.bytes).toBe(Buffer.byteLength(requests[0]!.body));
    expect(byCase(parsed).get('string-body')).toEqual(EXPECTED['string-body']);
  });
});

// ---- hand-built records for the remaining rules ----

const s = (v: string): AnyValue => ({ stringValue: v });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

function rec(fields: Partial<LogRecord> = {}): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal('1700000000000000000'), observedTimeUnixNano: nanosFromDecimal('0'),
    severityNumber: 9, severityText: 'INFO', body: s('hello'), attributes: [], droppedAttributesCount: 0, flags: 0,
    traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '', ...fields,
  };
}

function oneRecord(fields: Partial<LogRecord> = {}, resource: KeyValue[] = [kv('service.name', s('api'))]): ResourceLogs {
  return { resource: { attributes: resource, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [rec(fields)] }] };
}

function many(n: number, make: (i: number) => Partial<LogRecord>, resource: KeyValue[] = [kv('service.name', s('api'))]): ResourceLogs {
  const logRecords: LogRecord[] = [];
  for (let i = 0; i < n; i++) logRecords.push(rec(make(i)));
  return { resource: { attributes: resource, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords }] };
}

describe('datadog convert (rules)', () => {
  it('dd.trace_id / dd.span_id are the low 64 bits / the span as unsigned decimals (worked values)', () => {
    const [item] = convertToDatadogItems([oneRecord({ traceId: idFromHex('437ab4d83468c540bb0f3398a39faa59', 16), spanId: idFromHex('2e26da881214cd7c', 8) })]);
    expect(item!['dd.trace_id']).toBe('13479048940416379481');
    expect(item!['dd.span_id']).toBe('3325585652813450620');
    // All-ones low half: 2^64 - 1.
    const [max] = convertToDatadogItems([oneRecord({ traceId: idFromHex('0000000000000000ffffffffffffffff', 16) })]);
    expect(max!['dd.trace_id']).toBe('18446744073709551615');
  });

  it('trace/span id attributes fill dd.* when the record has no ids; message/status attributes are remapped', () => {
    const [item] = convertToDatadogItems([oneRecord({
      attributes: [kv('TraceID', s('437ab4d83468c540bb0f3398a39faa59')), kv('span_id', s('2e26da881214cd7c')), kv('msg', s('from attr')), kv('Level', s('CRIT')), kv('trace_id', s('not-hex'))],
    })]);
    expect(item).toMatchObject({
      'dd.trace_id': '13479048940416379481', 'otel.trace_id': '437ab4d83468c540bb0f3398a39faa59',
      'dd.span_id': '3325585652813450620', 'otel.span_id': '2e26da881214cd7c', message: 'from attr', status: 'CRIT',
    });
    expect(item).not.toHaveProperty('msg');
    expect(item).not.toHaveProperty('Level');
  });

  it('ddtags attribute is appended after the resource tags; hostname/service resource keys are renamed', () => {
    const [item] = convertToDatadogItems([oneRecord({ attributes: [kv('ddtags', s('team:payments,tier:1'))] }, [
      kv('service.name', s('api')), kv('deployment.environment.name', s('staging')), kv('hostname', s('h')), kv('service', s('x')),
      kv('datadog.container.tag.team', s('core')), kv('container.id', s('c0ffee')), kv('datadog.host.name', s('dd-host')),
    ])]);
    // `service` is itself a Datadog tag name (KubernetesDDTags), so the raw resource attribute is a tag too.
    expect(item!['ddtags']).toBe('service:api,env:staging,service:x,container_id:c0ffee,team:core,team:payments,tier:1,otel_source:datadog_exporter');
    expect(item).toMatchObject({ 'otel.hostname': 'h', 'otel.service': 'x', hostname: 'dd-host', service: 'api' });
  });

  it('host and service fall back to record attributes, then to config hostname; ddsource from datadog.log.source', () => {
    const [a] = convertToDatadogItems([oneRecord({ attributes: [kv('host.name', s('rec-host')), kv('service.name', s('rec-svc')), kv('datadog.log.source', s('nginx'))] }, [])]);
    expect(a).toMatchObject({ hostname: 'rec-host', service: 'rec-svc', ddsource: 'nginx', ddtags: 'otel_source:datadog_exporter' });
    const [b] = convertToDatadogItems([oneRecord({}, [])], { hostname: 'cfg-host' });
    expect(b!['hostname']).toBe('cfg-host');
    expect(b).not.toHaveProperty('service');
  });

  it('retention_tags maps retention.class to extra ddtags and routes records per ddtags', () => {
    const rl = many(4, (i) => ({ attributes: [kv('retention.class', s(i % 2 ? 'audit' : 'debug')), kv('retention.days', { intValue: i % 2 ? -1 : 7 })] }));
    const { requests } = convertToDatadog([rl], { retentionTags: { audit: 'retention:forever' } });
    expect(requests.map((r) => [r.ddtags, r.refs.length])).toEqual([
      ['service:api,otel_source:datadog_exporter', 2],
      ['service:api,otel_source:datadog_exporter,retention:forever', 2],
    ]);
    const audit = JSON.parse(requests[1]!.body) as DatadogItem[];
    expect(audit.every((i) => i['retention.class'] === 'audit' && i['retention.days'] === -1)).toBe(true);
  });

  it('records are grouped per service / ddsource', () => {
    const rls = [many(2, () => ({})), many(3, () => ({}), [kv('service.name', s('web'))]), many(1, () => ({ attributes: [kv('datadog.log.source', s('nginx'))] }))];
    const { requests } = convertToDatadog(rls);
    expect(requests.map((r) => `${r.service}/${r.ddsource}/${r.refs.length}`)).toEqual(['api/otlp_log_ingestion/2', 'web/otlp_log_ingestion/3', 'api/nginx/1']);
  });

  it('at most 1000 items per request', () => {
    const { requests } = convertToDatadog([many(2500, (i) => ({ body: s(`r${i}`) }))]);
    expect(requests.map((r) => r.refs.length)).toEqual([1000, 1000, 500]);
    const all = requests.flatMap((r) => (JSON.parse(r.body) as DatadogItem[]).map((i) => i['message']));
    expect(all).toEqual(Array.from({ length: 2500 }, (_, i) => `r${i}`));
  });

  it('at most 5,000,000 bytes per request body, measured on the JSON', () => {
    const big = 'x'.repeat(600_000);
    const { requests } = convertToDatadog([many(20, () => ({ body: s(big) }))]);
    expect(requests.length).toBeGreaterThan(2);
    for (const r of requests) {
      expect(Buffer.byteLength(r.body)).toBe(r.bytes);
      expect(r.bytes).toBeLessThanOrEqual(5_000_000);
    }
    // 8 items of ~600 KB fit in 5 MB, 9 do not.
    expect(requests.map((r) => r.refs.length)).toEqual([8, 8, 4]);
  });

  it('a log over 1 MB is truncated (Datadog truncates too) with the ...TRUNCATED... marker; one that cannot fit is rejected', () => {
    const huge = 'é'.repeat(700_000); // 1.4 MB of UTF-8
    const tooManyAttrs = Array.from({ length: 1200 }, (_, i) => kv(`k${i}`, s('v'.repeat(1000))));
    const { requests, rejected } = convertToDatadog([many(3, (i) => (i === 0 ? { body: s(huge) } : i === 1 ? { attributes: tooManyAttrs } : {}))]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.ref.lr.attributes).toBe(tooManyAttrs);
    const items = JSON.parse(requests[0]!.body) as DatadogItem[];
    expect(items).toHaveLength(2);
    const msg = items[0]!['message'] as string;
    expect(msg.endsWith(TRUNCATED_SUFFIX)).toBe(true);
    expect(msg.startsWith('éé')).toBe(true);
    expect(msg).not.toContain('\uFFFD');
    expect(Buffer.byteLength(JSON.stringify(items[0]))).toBeLessThanOrEqual(1_000_000);
    expect(Buffer.byteLength(JSON.stringify(items[0]))).toBeGreaterThan(990_000);
  });

  it('int64 attributes beyond 2^53 keep their digits (as a string); non-finite doubles become AsString', () => {
    const [item] = convertToDatadogItems([oneRecord({ attributes: [kv('big', { intValue: nanosFromDecimal('9007199254740993') }), kv('nan', { doubleValue: NaN })] })]);
    expect(item!['nan']).toBe('json: unsupported value: NaN');
    expect(typeof item!['big']).toBe('string');
  });

  it('resource attributes in the golden set are all used', () => {
    expect(GOLDEN_RESOURCE_ATTRIBUTES).toHaveLength(Object.keys(RESOURCE_PROPS).length);
  });
});
