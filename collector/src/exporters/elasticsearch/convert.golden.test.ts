/**
 * Golden tests of `convertToBulk`. Every expected document below is written by hand from upstream
 * and the upstream elasticsearchexporter docs (DOCUMENT_STRUCTURE.md, README), not produced by the code.
 * Bodies are compared as parsed JSON.
 */
import { describe, expect, it } from 'vitest';
import Long from 'long';
import { nanosFromDecimal, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { goldenRequest, GOLDEN_SPAN_ID, GOLDEN_TRACE_ID } from '../testdata/golden-records.js';
import { convertToBulk, dedotJson, otelTimestamp, sanitizeDataStreamPart, type EsConvertOptions } from './convert.js';

const NOW = nanosFromDecimal('1700000000000000000'); // 2023-11-14T22:13:20Z

function ndjson(body: Buffer): unknown[] {
  const text = body.toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as unknown);
}

/** Converts the golden request; returns `case → [action, document]`. */
function convertGolden(options: Partial<EsConvertOptions>): Map<string, [unknown, Record<string, unknown>]> {
  const res = convertToBulk(goldenRequest().resourceLogs, { mode: 'otel', maxRequestBytes: 5_000_000, nowNanos: NOW, ...options });
  expect(res.requests).toHaveLength(1);
  const lines = ndjson(res.requests[0]!.body);
  const out = new Map<string, [unknown, Record<string, unknown>]>();
  for (let i = 0; i < lines.length; i += 2) {
    const rec = res.requests[0]!.records[i / 2]!.lr;
    const name = rec.attributes[0]!.value!.stringValue!;
    out.set(name, [lines[i], lines[i + 1] as Record<string, unknown>]);
  }
  return out;
}

const RESOURCE_ATTRS = {
  'service.name': 'checkout', 'service.namespace': 'shop', 'service.version': '1.4.2', 'service.instance.id': 'pod-7',
  'deployment.environment': 'prod', 'host.name': 'web-1', 'k8s.pod.name': 'checkout-7d9f', 'telemetry.sdk.language': 'nodejs',
};
const OTEL_RESOURCE = { attributes: RESOURCE_ATTRS, schema_url: 'https://opentelemetry.io/schemas/1.26.0' };
const OTEL_SCOPE = { name: 'golden-scope', version: '2.0.0', attributes: { 'scope.attr': 's' } };
const DS = { type: 'logs', dataset: 'generic.otel', namespace: 'default' };
const ACTION = { create: { _index: 'logs-generic.otel-default' } };
// 1705314600123456789 ns = 1705314600123 ms + 456789 ns; observed 1705314601000000500 = …000 ms + 000500 ns
const TS = '1705314600123.456789';
const OBS = '1705314601000.000500';

describe('elasticsearch convert: otel mapping mode (default)', () => {
  const docs = convertGolden({});

  it('string body, severity, ids, typed attributes', () => {
    expect(docs.get('string-body')).toEqual([ACTION, {
      '@timestamp': TS, observed_timestamp: OBS, data_stream: DS,
      severity_text: 'ERROR', severity_number: 17, trace_id: GOLDEN_TRACE_ID, span_id: GOLDEN_SPAN_ID,
      attributes: { 'golden.case': 'string-body', 'http.method': 'GET', 'http.status_code': 500, duration_ms: 12.5, 'cache.hit': false },
      resource: OTEL_RESOURCE, scope: OTEL_SCOPE,
      body: { text: 'GET /checkout 500 in 12ms' },
    }]);
  });

  it('map body → body.structured; array of scalars → structured.value; bytes → text (base64)', () => {
    expect(docs.get('map-body')![1]['body']).toEqual({ structured: { msg: 'order placed', order: { id: 1042, total: 99.95 }, tags: ['a', 'b'] } });
    expect(docs.get('map-body')![1]['attributes']).toEqual({ 'golden.case': 'map-body', 'user.id': 'u-17' });
    expect(docs.get('array-body')![1]['body']).toEqual({ structured: { value: ['one', 2, true] } });
    expect(docs.get('bytes-body')![1]['body']).toEqual({ text: '3q2+7w==' });
  });

  it('empty body is left out; empty string body is text ""', () => {
    expect(docs.get('empty-body')![1]).not.toHaveProperty('body');
    expect(docs.get('empty-string-body')![1]['body']).toEqual({ text: '' });
  });

  it('timestamps: observed fallback, then now; observed_timestamp always written', () => {
    expect(docs.get('no-timestamp')![1]['@timestamp']).toBe(OBS);
    expect(docs.get('no-timestamps')![1]['@timestamp']).toBe('1700000000000.0');
    expect(docs.get('no-timestamps')![1]['observed_timestamp']).toBe('0.0');
  });

  it('all-zero and absent ids are left out', () => {
    for (const c of ['zero-ids', 'no-ids']) {
      expect(docs.get(c)![1]).not.toHaveProperty('trace_id');
      expect(docs.get(c)![1]).not.toHaveProperty('span_id');
    }
  });

  it('nested attributes stay nested (not flattened), non-ASCII and HTML characters kept', () => {
    expect(docs.get('nested-attributes')![1]['attributes']).toEqual({
      'golden.case': 'nested-attributes',
      http: { request: { method: 'POST', headers: { 'x-id': 'abc' } }, status: 201 },
      list: [1, [2]],
      html: '<b>&</b>',
    });
    expect(docs.get('non-ascii')![1]['body']).toEqual({ text: 'Grüße, 世界! 🚀 naïve café' });
    expect(docs.get('non-ascii')![1]['attributes']).toEqual({ 'golden.case': 'non-ascii', city: 'Zürich', emoji: '✅' });
  });

  it('severity number 0 and empty text are left out; event_name from the event name', () => {
    const sev = docs.get('severity-text-only')![1];
    expect(sev['severity_text']).toBe('warning');
    expect(sev).not.toHaveProperty('severity_number');
    expect(docs.get('severity-0')![1]).not.toHaveProperty('severity_text');
    expect(docs.get('severity-24')![1]).toMatchObject({ severity_text: 'FATAL4', severity_number: 24 });
    expect(docs.get('event')![1]['event_name']).toBe('checkout.completed');
    // a scope without version/attributes writes only its name
    expect(docs.get('severity-5')![1]['scope']).toEqual({ name: 'severity-scope' });
  });
});

describe('elasticsearch convert: ecs mapping mode', () => {
  const docs = convertGolden({ mode: 'ecs' });

  it('resource conversion table, dedot, renames, trace/span, severity, message', () => {
    expect(docs.get('string-body')).toEqual([{ create: { _index: 'logs-generic-default' } }, {
      '@timestamp': '2024-01-15T10:30:00.123456789Z',
      service: { name: 'checkout', namespace: 'shop', version: '1.4.2', node: { name: 'pod-7' }, environment: 'prod', language: { name: 'nodejs' } },
      host: { hostname: 'web-1', name: 'web-1' },
      kubernetes: { pod: { name: 'checkout-7d9f' } },
      scope: { attr: 's' },
      golden: { case: 'string-body' },
      http: { method: 'GET', status_code: 500 },
      duration_ms: 12.5,
      cache: { hit: false },
      data_stream: { type: 'logs', dataset: 'generic', namespace: 'default' },
      trace: { id: GOLDEN_TRACE_ID },
      span: { id: GOLDEN_SPAN_ID },
      event: { severity: 17 },
      log: { level: 'ERROR' },
      message: 'GET /checkout 500 in 12ms',
    }]);
  });

  it('event.name → event.action; nested map attributes flattened then dedotted', () => {
    expect(docs.get('event')![1]['event']).toEqual({ action: 'checkout.completed', severity: 9 });
    expect(docs.get('nested-attributes')![1]['http']).toEqual({ request: { method: 'POST', headers: { 'x-id': 'abc' } }, status: 201 });
  });

  it('exception.* → error.*; a record attribute under a resource object merges into it (record wins)', () => {
    const rls = tree([rec(0, { 'exception.type': 'TypeError', 'exception.message': 'x is undefined', 'service.name': 'override', 'service.extra': 'e' })],
      { 'service.name': 'api', 'host.name': 'h1', 'telemetry.sdk.name': 'opentelemetry', 'os.type': 'linux' });
    const doc = ndjson(convertToBulk(rls, { mode: 'ecs', maxRequestBytes: 1e6 }).requests[0]!.body)[1] as Record<string, unknown>;
    expect(doc['error']).toEqual({ type: 'TypeError', message: 'x is undefined' });
    expect(doc['service']).toEqual({ name: 'override', extra: 'e' });
    expect(doc['host']).toEqual({ hostname: 'h1', name: 'h1', os: { platform: 'linux' } });
    expect(doc).not.toHaveProperty('telemetry');
  });

  // Upstream's resourceAttrsConversionMap / logRecordAttrsConversionMap (exporter/elasticsearchexporter/model.go,
  // semconv v1.40 version): cases written here from that table.
  it('the newer ECS resource mappings: sdk version, process, client/source, faas; host.name kept when host.hostname is set', () => {
    const rls = tree([rec(0, { 'http.response.body.size': 512 })], {
      'service.name': 'api', 'telemetry.sdk.name': 'opentelemetry', 'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.version': '2.1.0',
      'telemetry.distro.name': 'x', 'process.parent_pid': 1, 'process.executable.name': 'node', 'process.command_line': 'node app.js',
      'client.address': '10.0.0.1', 'source.address': '10.0.0.2', 'faas.instance': 'i-1', 'faas.trigger': 'http',
      'host.name': 'short', 'host.hostname': 'long.example.com',
    });
    const doc = ndjson(convertToBulk(rls, { mode: 'ecs', maxRequestBytes: 1e6 }).requests[0]!.body)[1] as Record<string, unknown>;
    expect(doc['service']).toEqual({ name: 'api', language: { name: 'nodejs', version: '2.1.0' } });
    expect(doc['process']).toEqual({ parent: { pid: 1 }, title: 'node', args: 'node app.js' });
    expect(doc['client']).toEqual({ ip: '10.0.0.1' });
    expect(doc['source']).toEqual({ ip: '10.0.0.2' });
    expect(doc['faas']).toEqual({ id: 'i-1', trigger: { type: 'http' } });
    expect(doc['host']).toEqual({ name: 'short', hostname: 'long.example.com' });
    expect(doc['http']).toEqual({ response: { encoded_body_size: 512 } });
    expect(doc).not.toHaveProperty('telemetry');
  });

  it('dedot: a value and an object under the same key → value goes to .value; later duplicates win', () => {
    expect(JSON.parse(dedotJson([['a', '1'], ['a.b', '2'], ['c.d', '3'], ['c', '4'], ['e', '5'], ['e', '6']]))).toEqual({
      a: { value: 1, b: 2 }, c: { d: 3, value: 4 }, e: 6,
    });
  });
});

describe('elasticsearch convert: none / raw / bodymap', () => {
  it('none: flat dotted keys with Attributes./Resource./Scope. prefixes', () => {
    const [action, doc] = convertGolden({ mode: 'none' }).get('string-body')!;
    expect(action).toEqual({ create: { _index: 'logs-generic-default' } });
    expect(doc).toEqual({
      '@timestamp': '2024-01-15T10:30:00.123456789Z',
      'Attributes.data_stream.type': 'logs', 'Attributes.data_stream.dataset': 'generic', 'Attributes.data_stream.namespace': 'default',
      Body: 'GET /checkout 500 in 12ms', SeverityText: 'ERROR', SeverityNumber: 17, TraceFlags: 1,
      TraceId: GOLDEN_TRACE_ID, SpanId: GOLDEN_SPAN_ID,
      'Attributes.golden.case': 'string-body', 'Attributes.http.method': 'GET', 'Attributes.http.status_code': 500,
      'Attributes.duration_ms': 12.5, 'Attributes.cache.hit': false,
      'Resource.service.name': 'checkout', 'Resource.service.namespace': 'shop', 'Resource.service.version': '1.4.2',
      'Resource.service.instance.id': 'pod-7', 'Resource.deployment.environment': 'prod', 'Resource.host.name': 'web-1',
      'Resource.k8s.pod.name': 'checkout-7d9f', 'Resource.telemetry.sdk.language': 'nodejs',
      'Scope.name': 'golden-scope', 'Scope.version': '2.0.0', 'Scope.scope.attr': 's',
    });
  });

  it('raw: log attributes at the top level without prefix', () => {
    const doc = convertGolden({ mode: 'raw' }).get('string-body')![1];
    expect(doc['http.method']).toBe('GET');
    expect(doc).not.toHaveProperty('Attributes.http.method');
    expect(doc['Resource.service.name']).toBe('checkout');
  });

  it('bodymap: the map body is the document; other bodies are rejected, not sent', () => {
    const res = convertToBulk(goldenRequest().resourceLogs, { mode: 'bodymap', maxRequestBytes: 5_000_000 });
    const lines = ndjson(res.requests[0]!.body);
    expect(lines).toEqual([{ create: { _index: 'logs-generic-default' } }, { msg: 'order placed', order: { id: 1042, total: 99.95 }, tags: ['a', 'b'] }]);
    expect(res.rejected).toHaveLength(goldenRequest().resourceLogs[0]!.scopeLogs.reduce((n, s) => n + s.logRecords.length, 0) - 1);
    expect(res.rejected[0]!.reason).toMatch(/not a map/);
  });
});

// ------------------------------------------------------------------------------------------------
// Routing, retention, logstash, limits

const str = (s: string) => ({ stringValue: s });
function rec(n: number, attrs: Record<string, string> = {}, timeNs = '1705314600123456789'): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal(timeNs), observedTimeUnixNano: Long.UZERO, severityNumber: 9, severityText: 'INFO',
    body: str(`record ${n}`), attributes: [{ key: 'n', value: { intValue: n } }, ...Object.entries(attrs).map(([key, v]) => ({ key, value: str(v) }))],
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  };
}
function tree(records: LogRecord[], resourceAttrs: Record<string, string> = {}, scopeAttrs: Record<string, string> = {}): ResourceLogs[] {
  return [{
    resource: { attributes: Object.entries(resourceAttrs).map(([key, v]) => ({ key, value: str(v) })), droppedAttributesCount: 0 }, schemaUrl: '',
    scopeLogs: [{ scope: { name: '', version: '', attributes: Object.entries(scopeAttrs).map(([key, v]) => ({ key, value: str(v) })), droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records }],
  }];
}
function indices(rls: ResourceLogs[], o: Partial<EsConvertOptions>): string[] {
  const res = convertToBulk(rls, { mode: 'otel', maxRequestBytes: 5_000_000, ...o });
  return res.requests.flatMap((r) => ndjson(r.body).filter((_, i) => i % 2 === 0).map((a) => (a as { create: { _index: string } }).create._index));
}

describe('elasticsearch convert: routing', () => {
  it('elasticsearch.index: record > scope > resource, removed from the document', () => {
    const rls = tree([rec(0, { 'elasticsearch.index': 'rec-idx' }), rec(1)], { 'elasticsearch.index': 'res-idx' }, { 'elasticsearch.index': 'scope-idx' });
    expect(indices(rls, {})).toEqual(['rec-idx', 'scope-idx']);
    const doc = ndjson(convertToBulk(rls, { mode: 'otel', maxRequestBytes: 1e6 }).requests[0]!.body)[1] as Record<string, Record<string, unknown>>;
    expect(doc['attributes']).toEqual({ n: 0 });
    expect(doc['resource']!['attributes']).toEqual({});
    expect(doc).not.toHaveProperty('data_stream');
  });

  it('data_stream.dataset / namespace attributes: logs-<dataset>[.otel]-<namespace>, sanitized, lifted to data_stream', () => {
    const rls = tree([rec(0, { 'data_stream.dataset': 'nginx' }), rec(1, { 'data_stream.namespace': 'Prod EU' }), rec(2)], { 'data_stream.dataset': 'app' });
    expect(indices(rls, {})).toEqual(['logs-nginx.otel-default', 'logs-app.otel-prod_eu', 'logs-app.otel-default']);
    expect(indices(rls, { mode: 'ecs' })).toEqual(['logs-nginx-default', 'logs-app-prod_eu', 'logs-app-default']);
    const doc = ndjson(convertToBulk(rls, { mode: 'otel', maxRequestBytes: 1e6 }).requests[0]!.body)[1] as Record<string, unknown>;
    expect(doc['data_stream']).toEqual({ type: 'logs', dataset: 'nginx.otel', namespace: 'default' });
    expect(doc['attributes']).toEqual({ n: 0 });
    expect(sanitizeDataStreamPart('a\\b/c*d?e"f<g>h|i j,k#l:m')).toBe('a_b_c_d_e_f_g_h_i_j_k_l_m');
  });

  it('logs_index: fixed index; logs_dynamic_index adds elasticsearch.index.prefix / suffix', () => {
    const rls = tree([rec(0, { 'elasticsearch.index.prefix': 'team-a-' }), rec(1, { 'elasticsearch.index.suffix': '-eu' })]);
    expect(indices(rls, { logsIndex: 'app-logs' })).toEqual(['app-logs', 'app-logs']);
    expect(indices(rls, { logsIndex: 'app-logs', dynamicIndex: true })).toEqual(['team-a-app-logs', 'app-logs-eu']);
  });

  it('logstash_format appends the record date (UTC) with the separator and date format', () => {
    const rls = tree([rec(0, {}, '1705314600123456789'), rec(1, {}, '1705363199999999999'), rec(2, {}, '1705363200000000000')]);
    expect(indices(rls, { logsIndex: 'app', logstash: { separator: '-', dateFormat: '%Y.%m.%d' } })).toEqual(['app-2024.01.15', 'app-2024.01.15', 'app-2024.01.16']);
    expect(indices(rls, { logsIndex: 'app', logstash: { separator: '_', dateFormat: '%y%m%d-%H' } })).toEqual(['app_240115-10', 'app_240115-23', 'app_240116-00']);
  });

  it('retention.class selects an index or the data stream namespace per class', () => {
    const rls = tree([rec(0, { 'retention.class': 'audit' }), rec(1, { 'retention.class': 'debug' }), rec(2, { 'retention.class': 'unmapped' }), rec(3)]);
    const classes = { audit: { index: 'audit-forever' }, debug: { namespace: 'short' } };
    expect(indices(rls, { retentionClasses: classes })).toEqual(['audit-forever', 'logs-generic.otel-short', 'logs-generic.otel-default', 'logs-generic.otel-default']);
    // retention.class is a normal attribute in the document (only the routing keys are removed)
    const doc = ndjson(convertToBulk(rls, { mode: 'otel', maxRequestBytes: 1e6, retentionClasses: classes }).requests[0]!.body)[1] as Record<string, unknown>;
    expect(doc['attributes']).toEqual({ n: 0, 'retention.class': 'audit' });
  });
});

describe('elasticsearch convert: limits', () => {
  it('splits bodies at maxRequestBytes (measured on the encoded NDJSON), keeping record order', () => {
    const records = Array.from({ length: 1000 }, (_, n) => rec(n, { pad: 'x'.repeat(200) }));
    const res = convertToBulk(tree(records), { mode: 'otel', maxRequestBytes: 20_000 });
    expect(res.requests.length).toBeGreaterThan(10);
    const seen: number[] = [];
    for (const r of res.requests) {
      expect(r.body.length).toBeLessThanOrEqual(20_000);
      const lines = ndjson(r.body);
      expect(lines.length).toBe(r.records.length * 2);
      for (let i = 1; i < lines.length; i += 2) seen.push((lines[i] as { attributes: { n: number } }).attributes.n);
    }
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, n) => n));
  });

  it('a document larger than the request limit is rejected, the rest is sent', () => {
    const res = convertToBulk(tree([rec(0), rec(1, { big: 'y'.repeat(5000) }), rec(2)]), { mode: 'otel', maxRequestBytes: 2000, maxDocumentBytes: 4000 });
    expect(res.rejected.map((r) => r.ref.lr.attributes[0]!.value!.intValue)).toEqual([1]);
    expect(res.rejected[0]!.reason).toMatch(/exceeds/);
    expect(res.requests.flatMap((r) => r.records.map((x) => x.lr.attributes[0]!.value!.intValue))).toEqual([0, 2]);
  });

  it('otel timestamps keep nanoseconds as a zero-padded fraction of milliseconds; a whole millisecond is <ms>.0 as upstream', () => {
    expect(otelTimestamp(nanosFromDecimal('1705314600000000000'))).toBe('1705314600000.0');
    expect(otelTimestamp(nanosFromDecimal('0'))).toBe('0.0');
    expect(otelTimestamp(nanosFromDecimal('1705314601000000500'))).toBe('1705314601000.000500');
    expect(otelTimestamp(nanosFromDecimal('999'))).toBe('0.000999');
  });
});
