/**
 * The shared record set every exporter's golden `convert` test runs on ("a shared set of records
 * covering string, map, array, bytes and empty bodies; all severities; missing timestamp; trace/span
 * present and all-zero; nested attributes; resource and scope attributes; non-ASCII text").
 * Expected outputs are written by hand from the upstream exporters and the vendor docs, next to each exporter.
 *
 * Records are identified by their `golden.case` attribute (always the first attribute).
 */
import Long from 'long';
import { idFromHex, nanosFromDecimal, type AnyValue, type ExportLogsServiceRequest, type KeyValue, type LogRecord } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';

export const GOLDEN_TRACE_ID = '437ab4d83468c540bb0f3398a39faa59';
export const GOLDEN_SPAN_ID = '2e26da881214cd7c';
/** 2024-01-15T10:30:00.123456789Z */
export const GOLDEN_TIME = '1705314600123456789';
/** 2024-01-15T10:30:01.000000500Z */
export const GOLDEN_OBSERVED = '1705314601000000500';

export const str = (s: string): AnyValue => ({ stringValue: s });
export const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

/** A plain INFO record with the golden ids and time, no attributes: the base for hand-made test records. */
export function testRecord(fields: Partial<LogRecord>): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal(GOLDEN_TIME), observedTimeUnixNano: nanosFromDecimal('0'),
    severityNumber: 9, severityText: 'INFO', body: str('hello'), attributes: [], droppedAttributesCount: 0, flags: 0,
    traceId: idFromHex(GOLDEN_TRACE_ID, 16), spanId: idFromHex(GOLDEN_SPAN_ID, 8), eventName: '', ...fields,
  };
}

function record(name: string, fields: Partial<LogRecord>): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal(GOLDEN_TIME),
    observedTimeUnixNano: nanosFromDecimal(GOLDEN_OBSERVED),
    severityNumber: 9,
    severityText: 'INFO',
    body: str(`case ${name}`),
    droppedAttributesCount: 0,
    flags: 1,
    traceId: idFromHex(GOLDEN_TRACE_ID, 16),
    spanId: idFromHex(GOLDEN_SPAN_ID, 8),
    eventName: '',
    ...fields,
    attributes: [kv('golden.case', str(name)), ...(fields.attributes ?? [])],
  };
}

/** Severity numbers 0..24 with the conventional text (empty for 0). */
export const SEVERITY_TEXTS = [
  '', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4',
  'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4',
];

/** The main cases, in this order (one ResourceLogs / ScopeLogs). */
export function goldenCases(): LogRecord[] {
  return [
    record('string-body', {
      body: str('GET /checkout 500 in 12ms'),
      severityNumber: 17,
      severityText: 'ERROR',
      attributes: [kv('http.method', str('GET')), kv('http.status_code', { intValue: 500 }), kv('duration_ms', { doubleValue: 12.5 }), kv('cache.hit', { boolValue: false })],
    }),
    record('map-body', {
      body: { kvlistValue: { values: [kv('msg', str('order placed')), kv('order', { kvlistValue: { values: [kv('id', { intValue: 1042 }), kv('total', { doubleValue: 99.95 })] } }), kv('tags', { arrayValue: { values: [str('a'), str('b')] } })] } },
      attributes: [kv('user.id', str('u-17'))],
    }),
    record('array-body', { body: { arrayValue: { values: [str('one'), { intValue: 2 }, { boolValue: true }] } } }),
    record('bytes-body', { body: { bytesValue: Buffer.from([0xde, 0xad, 0xbe, 0xef]) } }),
    record('empty-body', { body: null }),
    record('empty-string-body', { body: str('') }),
    record('no-timestamp', { timeUnixNano: Long.UZERO }),
    record('no-timestamps', { timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO }),
    record('zero-ids', { traceId: new Uint8Array(16), spanId: new Uint8Array(8), flags: 0 }),
    record('no-ids', { traceId: new Uint8Array(0), spanId: new Uint8Array(0), flags: 0 }),
    record('nested-attributes', {
      attributes: [
        kv('http', { kvlistValue: { values: [kv('request', { kvlistValue: { values: [kv('method', str('POST')), kv('headers', { kvlistValue: { values: [kv('x-id', str('abc'))] } })] } }), kv('status', { intValue: 201 })] } }),
        kv('list', { arrayValue: { values: [{ intValue: 1 }, { arrayValue: { values: [{ intValue: 2 }] } }] } }),
        kv('html', str('<b>&</b>')),
      ],
    }),
    record('non-ascii', { body: str('Grüße, 世界! 🚀 naïve café'), attributes: [kv('city', str('Zürich')), kv('emoji', str('✅'))] }),
    record('severity-text-only', { severityNumber: 0, severityText: 'warning' }),
    record('event', { eventName: 'checkout.completed', attributes: [kv('event.name', str('checkout.completed'))] }),
  ];
}

/** One record per severity number 0..24 (body `severity <n>`), for severity-mapping tables. */
export function severityCases(): LogRecord[] {
  return SEVERITY_TEXTS.map((text, n) => record(`severity-${n}`, { severityNumber: n, severityText: text, body: str(`severity ${n}`) }));
}

export const GOLDEN_RESOURCE_ATTRIBUTES: KeyValue[] = [
  kv('service.name', str('checkout')),
  kv('service.namespace', str('shop')),
  kv('service.version', str('1.4.2')),
  kv('service.instance.id', str('pod-7')),
  kv('deployment.environment', str('prod')),
  kv('host.name', str('web-1')),
  kv('k8s.pod.name', str('checkout-7d9f')),
  kv('telemetry.sdk.language', str('nodejs')),
];

/** The golden request: the main cases and the severity cases under one resource and scope. */
export function goldenRequest(): ExportLogsServiceRequest {
  return {
    resourceLogs: [{
      resource: { attributes: GOLDEN_RESOURCE_ATTRIBUTES, droppedAttributesCount: 0 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeLogs: [
        { scope: { name: 'golden-scope', version: '2.0.0', attributes: [kv('scope.attr', str('s'))], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: goldenCases() },
        { scope: { name: 'severity-scope', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: severityCases() },
      ],
    }],
  };
}

export function goldenBatch(): LogsBatch {
  const req = goldenRequest();
  let n = 0;
  for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return { resourceLogs: req.resourceLogs, recordCount: n, receivedAt: 0 };
}
