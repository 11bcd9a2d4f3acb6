/**
 * Golden tests for `convertToCloudLogging` on the shared record set. The expected entries are written by
 * hand from the Cloud Logging v2 REST reference (LogEntry, MonitoredResource,
 * HttpRequest, LogSplit; severity enum; proto3 JSON: int64 as strings, Duration as "1.5s").
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { nanosFromDecimal, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { goldenRequest } from '../testdata/golden-records.js';
import { googleCloudExporterConfigSchema } from './config.js';
import { cloudLoggingSeverity, convertToCloudLogging, MAX_ENTRY_BYTES, monitoredResource, pathEscape, splitText, type GoogleCloudConvertOptions } from './convert.js';

const NOW = nanosFromDecimal('1705314700000000000'); // 2024-01-15T10:31:40Z
const OPTIONS: GoogleCloudConvertOptions = { project: 'my-proj', defaultLogName: 'app', serviceResourceLabels: true, errorReportingType: false, retentionRouting: 'label' };

const RESOURCE = { type: 'generic_task', labels: { location: 'global', namespace: 'shop', job: 'checkout', task_id: 'pod-7' } };
const SERVICE_LABELS = { 'service.name': 'checkout', 'service.namespace': 'shop', 'service.instance.id': 'pod-7' };
const TRACE = { trace: 'projects/my-proj/traces/437ab4d83468c540bb0f3398a39faa59', spanId: '2e26da881214cd7c', traceSampled: true };

function golden(name: string, extra: Record<string, unknown>, labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    logName: 'projects/my-proj/logs/app',
    resource: RESOURCE,
    timestamp: '2024-01-15T10:30:00.123456789Z',
    severity: 'INFO',
    ...TRACE,
    labels: { instrumentation_source: 'golden-scope', instrumentation_version: '2.0.0', ...SERVICE_LABELS, 'golden.case': name, ...labels },
    textPayload: `case ${name}`,
    ...extra,
  };
}

function without<T extends Record<string, unknown>>(o: T, ...keys: string[]): Record<string, unknown> {
  const c: Record<string, unknown> = { ...o };
  for (const k of keys) delete c[k];
  return c;
}

/** Hand-written expected entries, by golden.case. */
const EXPECTED: Record<string, Record<string, unknown>> = {
  'string-body': golden('string-body', { severity: 'ERROR', textPayload: 'GET /checkout 500 in 12ms' }, { 'http.method': 'GET', 'http.status_code': '500', duration_ms: '12.5', 'cache.hit': 'false' }),
  'map-body': without(golden('map-body', { jsonPayload: { msg: 'order placed', order: { id: 1042, total: 99.95 }, tags: ['a', 'b'] } }, { 'user.id': 'u-17' }), 'textPayload'),
  'array-body': golden('array-body', { textPayload: '["one",2,true]' }),
  'bytes-body': golden('bytes-body', { textPayload: '3q2+7w==' }), // not a JSON object → AsString (base64)
  'empty-body': without(golden('empty-body', {}), 'textPayload'),
  'empty-string-body': without(golden('empty-string-body', {}), 'textPayload'),
  'no-timestamp': golden('no-timestamp', { timestamp: '2024-01-15T10:30:01.000000500Z' }),
  'no-timestamps': golden('no-timestamps', { timestamp: '2024-01-15T10:31:40.000000000Z' }),
  'zero-ids': without(golden('zero-ids', {}), 'trace', 'spanId', 'traceSampled'),
  'no-ids': without(golden('no-ids', {}), 'trace', 'spanId', 'traceSampled'),
  'nested-attributes': golden('nested-attributes', {}, {
    http: '{"request":{"headers":{"x-id":"abc"},"method":"POST"},"status":201}', list: '[1,[2]]', html: '<b>&</b>',
  }),
  'non-ascii': golden('non-ascii', { textPayload: 'Grüße, 世界! 🚀 naïve café' }, { city: 'Zürich', emoji: '✅' }),
  'severity-text-only': golden('severity-text-only', { severity: 'WARNING' }),
  event: golden('event', {}, { 'event.name': 'checkout.completed' }),
};

const SEVERITY_TABLE = [
  'DEFAULT', 'DEBUG', 'DEBUG', 'DEBUG', 'DEBUG', 'DEBUG', 'DEBUG', 'DEBUG', 'DEBUG', 'INFO', 'INFO', 'NOTICE', 'NOTICE',
  'WARNING', 'WARNING', 'WARNING', 'WARNING', 'ERROR', 'ERROR', 'ERROR', 'ERROR', 'CRITICAL', 'CRITICAL', 'ALERT', 'EMERGENCY',
];

function entriesOf(conv: ReturnType<typeof convertToCloudLogging>): Record<string, unknown>[] {
  return conv.requests.flatMap((r) => {
    const body = JSON.parse(r.body) as { entries: Record<string, unknown>[]; partialSuccess: boolean };
    expect(body.partialSuccess).toBe(true);
    expect(body.entries).toHaveLength(r.records.length);
    return body.entries;
  });
}

const str = (s: string): AnyValue => ({ stringValue: s });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

function rec(fields: Partial<LogRecord> = {}): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal('1705314600000000000'), observedTimeUnixNano: Long.UZERO, severityNumber: 9, severityText: '', body: str('x'),
    attributes: [], droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '', ...fields,
  };
}

function one(records: LogRecord[], resourceAttrs: KeyValue[] = []): ResourceLogs[] {
  return [{ resource: { attributes: resourceAttrs, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records }] }];
}

describe('convertToCloudLogging: golden records', () => {
  it('builds the expected LogEntry for every case', () => {
    const conv = convertToCloudLogging(goldenRequest().resourceLogs, OPTIONS, NOW);
    expect(conv.rejected).toEqual([]);
    expect(conv.requests).toHaveLength(1);
    const entries = entriesOf(conv);
    expect(entries).toHaveLength(14 + 25);
    const byCase = new Map(entries.map((e) => [(e.labels as Record<string, string>)['golden.case'], e]));
    for (const [name, expected] of Object.entries(EXPECTED)) expect(byCase.get(name), name).toEqual(expected);
    for (let n = 0; n <= 24; n++) {
      const e = byCase.get(`severity-${n}`)!;
      // DEFAULT is proto3's zero value: left out of the entry, as upstream's request has it.
      expect(e.severity, `severity ${n}`).toBe(n === 0 ? undefined : SEVERITY_TABLE[n]);
      expect(e.textPayload).toBe(`severity ${n}`);
      expect(e.labels).toEqual({ instrumentation_source: 'severity-scope', ...SERVICE_LABELS, 'golden.case': `severity-${n}` });
    }
  });
});

describe('convertToCloudLogging: fields', () => {
  it('maps severity_text when the number is 0, and rejects numbers above 24', () => {
    expect(cloudLoggingSeverity(0, 'Notice')).toBe('NOTICE');
    expect(cloudLoggingSeverity(0, 'CRITICAL')).toBe('CRITICAL');
    expect(cloudLoggingSeverity(0, 'alert')).toBe('ALERT');
    expect(cloudLoggingSeverity(0, 'emergency')).toBe('EMERGENCY');
    expect(cloudLoggingSeverity(0, 'error3')).toBe('ERROR');
    expect(cloudLoggingSeverity(0, 'verbose')).toBe('DEFAULT');
    expect(cloudLoggingSeverity(0, 'Information')).toBe('INFO');
    expect(cloudLoggingSeverity(0, 'fatality')).toBe('CRITICAL');
    const conv = convertToCloudLogging(one([rec({ severityNumber: 25 }), rec()]), OPTIONS, NOW);
    expect(conv.rejected.map((r) => r.reason)).toEqual(['severity_number 25 is out of range']);
    expect(entriesOf(conv)).toHaveLength(1);
  });

  it('uses gcp.log_name (path-escaped) and gcp.project.id; gcp.* attributes are not labels', () => {
    const attrs = [kv('gcp.log_name', str('my/log name:1')), kv('gcp.trace_sampled', { boolValue: true }), kv('keep', str('me'))];
    const r = rec({ attributes: attrs, traceId: Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex') });
    const [e] = entriesOf(convertToCloudLogging(one([r], [kv('gcp.project.id', str('other-proj'))]), OPTIONS, NOW));
    expect(e!.logName).toBe('projects/other-proj/logs/my%2Flog%20name:1');
    expect(e!.trace).toBe('projects/other-proj/traces/0102030405060708090a0b0c0d0e0f10');
    expect(e!.traceSampled).toBe(true);
    expect(e!.labels).toEqual({ keep: 'me' });
    expect(pathEscape("a/b c!'()*$&+:=@")).toBe("a%2Fb%20c%21%27%28%29%2A$&+:=@");
  });

  it('rejects records with no log name when there is no default', () => {
    const conv = convertToCloudLogging(one([rec()]), { ...OPTIONS, defaultLogName: '' }, NOW);
    expect(conv.requests).toEqual([]);
    expect(conv.rejected[0]!.reason).toMatch(/no gcp.log_name/);
  });

  it('builds httpRequest from gcp.http_request (JSON string or map) and sourceLocation', () => {
    const http = JSON.stringify({ requestMethod: 'GET', requestUrl: 'https://x/y?z', requestSize: 12, status: 503, responseSize: '3400', userAgent: 'curl/8', remoteIp: '10.0.0.1', serverIp: '10.0.0.2', referer: 'https://r', latency: '1.5s', cacheHit: false, protocol: 'HTTP/2' });
    const r1 = rec({ attributes: [kv('gcp.http_request', str(http)), kv('gcp.source_location', { kvlistValue: { values: [kv('file', str('a.ts')), kv('line', { intValue: 42 }), kv('function', str('f'))] } })] });
    const r2 = rec({ attributes: [kv('gcp.http_request', { kvlistValue: { values: [kv('requestMethod', str('POST')), kv('status', { intValue: 201 }), kv('latency', str('120ms'))] } })] });
    const [e1, e2] = entriesOf(convertToCloudLogging(one([r1, r2]), OPTIONS, NOW));
    expect(e1!.httpRequest).toEqual({ requestMethod: 'GET', requestUrl: 'https://x/y?z', requestSize: '12', status: 503, responseSize: '3400', userAgent: 'curl/8', remoteIp: '10.0.0.1', serverIp: '10.0.0.2', referer: 'https://r', latency: '1.5s', cacheHit: false, protocol: 'HTTP/2' });
    expect(e1!.sourceLocation).toEqual({ file: 'a.ts', line: '42', function: 'f' });
    expect(e2!.httpRequest).toEqual({ requestMethod: 'POST', status: 201, latency: '0.12s' });
  });

  it('jsonPayload for bytes that hold a JSON object; Error Reporting type when configured', () => {
    const r1 = rec({ body: { bytesValue: Buffer.from('{"a":1}') } });
    const r2 = rec({ severityNumber: 17, body: str('boom\n  at f (a.js:1)') });
    const r3 = rec({ severityNumber: 9, body: str('fine') });
    const [e1, e2, e3] = entriesOf(convertToCloudLogging(one([r1, r2, r3]), { ...OPTIONS, errorReportingType: true }, NOW));
    expect(e1!.jsonPayload).toEqual({ a: 1 });
    expect(e2!.jsonPayload).toEqual({ message: 'boom\n  at f (a.js:1)', '@type': 'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent' });
    expect(e2!.textPayload).toBeUndefined();
    expect(e3!.textPayload).toBe('fine');
  });

  // Upstream's logging exporter (GoogleCloudPlatform/opentelemetry-operations-go) reads gcp.http_request
  // with Go's encoding/json (case-insensitive keys, int64 sizes) and derives the severity from the text
  // before deciding on Error Reporting; cases written here.
  it('gcp.http_request keys in any case; 64-bit sizes exact', () => {
    const big = '9007199254740993';
    const r1 = rec({ attributes: [kv('gcp.http_request', str(`{"REQUESTMETHOD":"GET","requestsize":${big},"ResponseSize":"${big}","Status":200,"cachefillbytes":12}`))] });
    const r2 = rec({ attributes: [kv('gcp.http_request', { kvlistValue: { values: [kv('requestSize', { intValue: Long.fromString(big) }), kv('remoteip', str('10.0.0.9'))] } })] });
    const [e1, e2] = entriesOf(convertToCloudLogging(one([r1, r2]), OPTIONS, NOW));
    expect(e1!.httpRequest).toEqual({ requestMethod: 'GET', requestSize: big, responseSize: big, status: 200, cacheFillBytes: '12' });
    expect(e2!.httpRequest).toEqual({ requestSize: big, remoteIp: '10.0.0.9' });
  });

  it('Error Reporting uses the severity derived from severity_text when the number is 0', () => {
    const r = rec({ severityNumber: 0, severityText: 'error', body: str('boom') });
    const [e] = entriesOf(convertToCloudLogging(one([r]), { ...OPTIONS, errorReportingType: true }, NOW));
    expect(e!.severity).toBe('ERROR');
    expect(e!.jsonPayload).toMatchObject({ message: 'boom', '@type': 'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent' });
  });

  it('retention_routing: label keeps retention.class as a label; log_name appends the class', () => {
    const r = rec({ attributes: [kv('retention.class', str('audit')), kv('retention.days', { intValue: -1 })] });
    const [byLabel] = entriesOf(convertToCloudLogging(one([r]), OPTIONS, NOW));
    expect(byLabel!.logName).toBe('projects/my-proj/logs/app');
    expect(byLabel!.labels).toEqual({ 'retention.class': 'audit', 'retention.days': '-1' });
    const [byName] = entriesOf(convertToCloudLogging(one([r]), { ...OPTIONS, retentionRouting: 'log_name' }, NOW));
    expect(byName!.logName).toBe('projects/my-proj/logs/app-audit');
  });

  // Cases from upstream's mapping rules (GoogleCloudPlatform/opentelemetry-operations-go
  // internal/resourcemapping/resourcemapping.go at a1ba9410), written here.
  it('maps resources to monitored resources', () => {
    expect(monitoredResource([kv('cloud.platform', str('gcp_kubernetes_engine')), kv('k8s.cluster.name', str('c1')), kv('k8s.namespace.name', str('ns')), kv('k8s.pod.name', str('p')), kv('k8s.container.name', str('ctr')), kv('cloud.availability_zone', str('europe-west1-b'))]))
      .toEqual({ type: 'k8s_container', labels: { location: 'europe-west1-b', cluster_name: 'c1', namespace_name: 'ns', pod_name: 'p', container_name: 'ctr' } });
    expect(monitoredResource([kv('cloud.platform', str('gcp_compute_engine')), kv('host.id', str('123')), kv('cloud.availability_zone', str('us-central1-a'))]))
      .toEqual({ type: 'gce_instance', labels: { zone: 'us-central1-a', instance_id: '123' } });
    expect(monitoredResource([kv('host.name', str('web-1'))])).toEqual({ type: 'generic_node', labels: { location: 'global', namespace: '', node_id: 'web-1' } });
    // gcp_compute_engine without host.id: still gce_instance, its labels empty.
    expect(monitoredResource([kv('cloud.platform', str('gcp_compute_engine'))])).toEqual({ type: 'gce_instance', labels: { zone: '', instance_id: '' } });
    // k8s attributes without the GKE platform: not a k8s type.
    expect(monitoredResource([kv('k8s.cluster.name', str('c1')), kv('k8s.pod.name', str('p')), kv('host.id', str('h'))]))
      .toEqual({ type: 'generic_node', labels: { location: 'global', namespace: '', node_id: 'h' } });
    // GKE, no pod/container/node: k8s_cluster; location falls back to the region, else "".
    expect(monitoredResource([kv('cloud.platform', str('gcp_kubernetes_engine')), kv('k8s.cluster.name', str('c1')), kv('cloud.region', str('europe-west1'))]))
      .toEqual({ type: 'k8s_cluster', labels: { location: 'europe-west1', cluster_name: 'c1' } });
    expect(monitoredResource([kv('cloud.platform', str('gcp_kubernetes_engine')), kv('k8s.node.name', str('n1'))]))
      .toEqual({ type: 'k8s_node', labels: { location: '', cluster_name: '', node_name: 'n1' } });
    expect(monitoredResource([kv('cloud.platform', str('aws_ec2')), kv('host.id', str('i-1')), kv('cloud.availability_zone', str('us-east-1a')), kv('cloud.account.id', str('123'))]))
      .toEqual({ type: 'aws_ec2_instance', labels: { instance_id: 'i-1', region: 'us-east-1a', aws_account: '123' } });
    // generic_task needs both service.name and service.instance.id.
    expect(monitoredResource([kv('service.name', str('api')), kv('service.instance.id', str('i-9')), kv('cloud.region', str('eu'))]))
      .toEqual({ type: 'generic_task', labels: { location: 'eu', namespace: '', job: 'api', task_id: 'i-9' } });
  });
});

describe('convertToCloudLogging: limits', () => {
  it('splits a text payload over 256 KB into entries ≤ 256,000 bytes tied by split{uid,index,totalSplits}', () => {
    const text = `${'é'.repeat(200_000)}${'"'.repeat(100_000)}${'z'.repeat(100_000)}`; // 700,000 bytes as JSON (é 2 B, \" 2 B)
    const conv = convertToCloudLogging(one([rec({ body: str(text) })]), OPTIONS, NOW);
    const entries = entriesOf(conv);
    expect(entries.length).toBe(3);
    for (const e of entries) expect(Buffer.byteLength(JSON.stringify(e))).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
    expect(entries.map((e) => (e.split as { index: number }).index)).toEqual(entries.map((_, i) => i));
    for (const e of entries) expect(e.split).toMatchObject({ uid: 'app-1705314600000000000', totalSplits: entries.length });
    expect(entries.map((e) => e.textPayload).join('')).toBe(text);
    expect(new Set(conv.requests.flatMap((r) => r.records)).size).toBe(1);
  });

  it('rejects a structured entry over the limit (cannot be split)', () => {
    const conv = convertToCloudLogging(one([rec({ body: { kvlistValue: { values: [kv('big', str('x'.repeat(300_000)))] } } })]), OPTIONS, NOW);
    expect(conv.rejected[0]!.reason).toMatch(/larger than 256000/);
  });

  it('starts a new request before 10,000,000 bytes', () => {
    const records = Array.from({ length: 120 }, (_, i) => rec({ body: str(`${i} ${'y'.repeat(200_000)}`) }));
    const conv = convertToCloudLogging(one(records), OPTIONS, NOW);
    expect(conv.requests.length).toBe(3);
    for (const r of conv.requests) expect(Buffer.byteLength(r.body)).toBeLessThan(10_000_000);
    expect(entriesOf(conv).map((e) => Number(String(e.textPayload).split(' ')[0]))).toEqual(records.map((_, i) => i));
  });

  it('splitText never exceeds the budget and never splits a surrogate pair', () => {
    const parts = splitText('🚀'.repeat(1000), 101);
    for (const p of parts) expect(Buffer.byteLength(JSON.stringify(p)) - 2).toBeLessThanOrEqual(101);
    expect(parts.join('')).toBe('🚀'.repeat(1000));
    expect(parts.every((p) => !/[\ud800-\udbff]$/.test(p))).toBe(true);
  });
});

describe('googlecloud config', () => {
  it('fills defaults and rejects unknown keys and bad URLs', () => {
    const c = googleCloudExporterConfigSchema.parse({ project: 'my-proj', log: { default_log_name: 'app' } });
    expect(c.log).toEqual({ endpoint: 'https://logging.googleapis.com', default_log_name: 'app', compression: 'none', service_resource_labels: true, error_reporting_type: false, retention_routing: 'label' });
    expect(c.timeout).toBe(5000);
    expect(googleCloudExporterConfigSchema.safeParse({ log: { endpoint: 'logging.googleapis.com:443' } }).error!.issues[0]!.path).toEqual(['log', 'endpoint']);
    expect(googleCloudExporterConfigSchema.safeParse({ bogus: true }).success).toBe(false);
  });
});
