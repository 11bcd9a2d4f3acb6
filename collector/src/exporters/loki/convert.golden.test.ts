/**
 * Golden tests of `convertToLokiPush`. Expected labels, lines and timestamps are written by hand from
 * upstream pkg/translator/loki and Loki's push API docs; protobuf bodies are decoded
 * with a reflection type built from the .proto description, independent of the hand-written encoder.
 */
import { describe, expect, it } from 'vitest';
import Long from 'long';
import { nanosFromDecimal, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { goldenRequest, GOLDEN_SPAN_ID, GOLDEN_TRACE_ID } from '../testdata/golden-records.js';
import { convertToLokiPush, escapeLabelValue, formatLabels, normalizeLabelName, type LokiConvertOptions } from './convert.js';
import { PushRequestType } from './logproto.js';

const NOW = nanosFromDecimal('1700000000000000042');
const BASE: LokiConvertOptions = {
  defaultLabels: { exporter: true, job: true, instance: true, level: true },
  lineFormat: 'json', maxLineSize: 256 * 1024, maxRequestBytes: 4 * 1024 * 1024, encoding: 'protobuf',
};

interface DecodedEntry { timestamp: { seconds: Long | number; nanos: number }; line: string }
interface DecodedStream { labels: string; entries: DecodedEntry[] }

function decode(body: Buffer): DecodedStream[] {
  const msg = PushRequestType.decode(body) as unknown as { streams: DecodedStream[] };
  return msg.streams;
}

/** case name → { labels, line, seconds, nanos } from the decoded protobuf body. */
function golden(o: Partial<LokiConvertOptions> = {}): Map<string, { labels: string; line: string; seconds: number; nanos: number }> {
  const res = convertToLokiPush(goldenRequest().resourceLogs, { ...BASE, ...o }, NOW);
  expect(res.requests).toHaveLength(1);
  expect(res.rejected).toEqual([]);
  const out = new Map<string, { labels: string; line: string; seconds: number; nanos: number }>();
  const streams = decode(res.requests[0]!.body);
  for (const s of streams) {
    for (const e of s.entries) {
      const seconds = Number(e.timestamp.seconds.toString());
      const parsed = o.lineFormat === 'json' || o.lineFormat === undefined ? (JSON.parse(e.line) as { attributes?: Record<string, unknown> }) : undefined;
      const name = parsed ? String(parsed.attributes?.['golden.case']) : /golden\.case=(\S+)/.exec(e.line)?.[1] ?? e.line;
      out.set(name, { labels: s.labels, line: e.line, seconds, nanos: e.timestamp.nanos });
    }
  }
  return out;
}

const RESOURCES = {
  'deployment.environment': 'prod', 'host.name': 'web-1', 'k8s.pod.name': 'checkout-7d9f', 'service.instance.id': 'pod-7',
  'service.name': 'checkout', 'service.namespace': 'shop', 'service.version': '1.4.2', 'telemetry.sdk.language': 'nodejs',
};
const SCOPE = { name: 'golden-scope', version: '2.0.0' };

describe('loki convert: labels and streams', () => {
  const g = golden();

  it('default labels exporter/job/instance/level, sorted, Prometheus format', () => {
    expect(g.get('string-body')!.labels).toBe('{exporter="OTLP", instance="pod-7", job="shop/checkout", level="ERROR"}');
    expect(g.get('map-body')!.labels).toBe('{exporter="OTLP", instance="pod-7", job="shop/checkout", level="INFO"}');
    expect(g.get('severity-22')!.labels).toBe('{exporter="OTLP", instance="pod-7", job="shop/checkout", level="FATAL2"}');
    expect(g.get('severity-3')!.labels).toBe('{exporter="OTLP", instance="pod-7", job="shop/checkout", level="TRACE3"}');
    // severity number 0: no level label (the text alone does not make one)
    expect(g.get('severity-text-only')!.labels).toBe('{exporter="OTLP", instance="pod-7", job="shop/checkout"}');
  });

  it('one stream per distinct label set', () => {
    const res = convertToLokiPush(goldenRequest().resourceLogs, BASE, NOW);
    const streams = decode(res.requests[0]!.body);
    const labels = streams.map((s) => s.labels);
    expect(new Set(labels).size).toBe(labels.length);
    // 24 severity levels + the no-level stream
    expect(labels).toHaveLength(25);
    const info = streams.find((s) => s.labels.endsWith('level="INFO"}'))!;
    // 13 golden cases at INFO (all but string-body and severity-text-only) + severity-9
    expect(info.entries).toHaveLength(12 + 1);
  });

  it('default labels can be switched off', () => {
    const gg = golden({ defaultLabels: { exporter: false, job: true, instance: false, level: false } });
    expect(gg.get('string-body')!.labels).toBe('{job="shop/checkout"}');
  });

  it('a record that would get no label at all still gets exporter="OTLP" (Loki refuses empty label sets)', () => {
    const res = convertToLokiPush(tree([rec(0, {}, 'x', 0)], {}), { ...BASE, defaultLabels: { exporter: false, job: true, instance: true, level: true } }, NOW);
    expect(decode(res.requests[0]!.body)[0]!.labels).toBe('{exporter="OTLP"}');
  });

  it('label helpers: normalization and value escaping', () => {
    expect(normalizeLabelName('http.status_code')).toBe('http_status_code');
    expect(normalizeLabelName('k8s-pod')).toBe('k8s_pod');
    expect(normalizeLabelName('1st')).toBe('key_1st');
    expect(normalizeLabelName('_x')).toBe('key_x');
    expect(normalizeLabelName('__x')).toBe('__x');
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(formatLabels([['a', 'x'], ['b', 'say "hi"']])).toBe('{a="x", b="say \\"hi\\""}');
  });
});

describe('loki convert: json line format (default)', () => {
  const g = golden();

  it('string body with ids, severity, flags, attributes, resources, scope', () => {
    expect(JSON.parse(g.get('string-body')!.line)).toEqual({
      body: 'GET /checkout 500 in 12ms', traceid: GOLDEN_TRACE_ID, spanid: GOLDEN_SPAN_ID, severity: 'ERROR', flags: 1,
      attributes: { 'golden.case': 'string-body', 'http.method': 'GET', 'http.status_code': 500, duration_ms: 12.5, 'cache.hit': false },
      resources: RESOURCES, instrumentation_scope: SCOPE,
    });
  });

  it('bodies keep their JSON type; bytes are base64; empty body omitted; "" kept', () => {
    expect(JSON.parse(g.get('map-body')!.line).body).toEqual({ msg: 'order placed', order: { id: 1042, total: 99.95 }, tags: ['a', 'b'] });
    expect(JSON.parse(g.get('array-body')!.line).body).toEqual(['one', 2, true]);
    expect(JSON.parse(g.get('bytes-body')!.line).body).toBe('3q2+7w==');
    expect(JSON.parse(g.get('empty-body')!.line)).not.toHaveProperty('body');
    expect(JSON.parse(g.get('empty-string-body')!.line).body).toBe('');
  });

  it('zero/absent ids and zero flags are omitted; the level attribute is not in the line', () => {
    const z = JSON.parse(g.get('zero-ids')!.line) as Record<string, unknown>;
    expect(z).not.toHaveProperty('traceid');
    expect(z).not.toHaveProperty('spanid');
    expect(z).not.toHaveProperty('flags');
    expect(JSON.parse(g.get('no-ids')!.line)).not.toHaveProperty('traceid');
    expect(JSON.parse(g.get('string-body')!.line).attributes).not.toHaveProperty('level');
  });

  it('Go JSON rules: map keys sorted, <>& escaped, non-ASCII kept', () => {
    // record attributes arrive unsorted (golden.case, http.method, http.status_code, duration_ms, cache.hit)
    expect(g.get('string-body')!.line).toContain('"attributes":{"cache.hit":false,"duration_ms":12.5,"golden.case":"string-body","http.method":"GET","http.status_code":500}');
    expect(g.get('map-body')!.line.startsWith('{"body":{"msg":"order placed","order":{"id":1042,"total":99.95},"tags":["a","b"]},')).toBe(true);
    const line = g.get('nested-attributes')!.line;
    expect(line).toContain('"html":"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"');
    expect(line).toContain('"attributes":{"golden.case":"nested-attributes","html":');
    expect(JSON.parse(line).attributes.http).toEqual({ request: { headers: { 'x-id': 'abc' }, method: 'POST' }, status: 201 });
    expect(JSON.parse(g.get('non-ascii')!.line).body).toBe('Grüße, 世界! 🚀 naïve café');
  });

  it('timestamps: time, else observed, else now (ns precision)', () => {
    expect(g.get('string-body')).toMatchObject({ seconds: 1705314600, nanos: 123456789 });
    expect(g.get('no-timestamp')).toMatchObject({ seconds: 1705314601, nanos: 500 });
    expect(g.get('no-timestamps')).toMatchObject({ seconds: 1700000000, nanos: 42 });
  });
});

describe('loki convert: logfmt and raw', () => {
  // Upstream's EncodeLogfmt (pkg/translator/loki/encode.go, contrib 0690ac45) parses a string body with
  // go-logfmt, where bare words are keys: `GET /checkout 500 in 12ms` becomes `GET= /checkout= …`.
  it('logfmt: a string body as go-logfmt reads it, then traceID/spanID/severity/flags/attribute_/resource_/scope', () => {
    const g = golden({ lineFormat: 'logfmt' });
    expect(g.get('string-body')!.line).toBe(
      'GET= /checkout= 500= in= 12ms= traceID=437ab4d83468c540bb0f3398a39faa59 spanID=2e26da881214cd7c severity=ERROR flags=1 ' +
      'attribute_golden.case=string-body attribute_http.method=GET attribute_http.status_code=500 attribute_duration_ms=12.5 attribute_cache.hit=false ' +
      'resource_service.name=checkout resource_service.namespace=shop resource_service.version=1.4.2 resource_service.instance.id=pod-7 ' +
      'resource_deployment.environment=prod resource_host.name=web-1 resource_k8s.pod.name=checkout-7d9f resource_telemetry.sdk.language=nodejs ' +
      'instrumentation_scope_name=golden-scope instrumentation_scope_version=2.0.0',
    );
    expect(g.get('map-body')!.line.startsWith('msg="order placed" order_id=1042 order_total=99.95 tags_0=a tags_1=b traceID=')).toBe(true);
    expect(g.get('nested-attributes')!.line).toContain('attribute_http_request_method=POST attribute_http_request_headers_x-id=abc attribute_http_status=201 attribute_list_0=1 attribute_list_1_0=2 attribute_html=<b>&</b>');
  });

  it('logfmt: a body that already is logfmt is kept as is', () => {
    const rls = tree([rec(0, {}, 'level=info user="a b" took=3ms')]);
    const res = convertToLokiPush(rls, { ...BASE, lineFormat: 'logfmt' }, NOW);
    expect(decode(res.requests[0]!.body)[0]!.entries[0]!.line.startsWith('level=info user="a b" took=3ms attribute_n=0')).toBe(true);
  });

  it('logfmt, as upstream: msg= only when the body is not logfmt; slice bodies as body_N; doubles as Go prints them; first line only', () => {
    const line = (body: LogRecord['body']): string => {
      const r = rec(0);
      r.body = body;
      r.attributes = [];
      return decode(convertToLokiPush(tree([r]), { ...BASE, lineFormat: 'logfmt' }, NOW).requests[0]!.body)[0]!.entries[0]!.line;
    };
    expect(line(str('unterminated "quote'))).toMatch(/^msg="unterminated \\"quote"/);
    expect(line(str('a=1 b="x y"\nsecond=line'))).toMatch(/^a=1 b="x y" resource_/);
    expect(line({ arrayValue: { values: [str('a'), { intValue: 2 }, { doubleValue: 1234567.5 }] } })).toMatch(/^body_0=a body_1=2 body_2=1\.2345675e\+06 /);
    expect(line({ kvlistValue: { values: [{ key: 'severity', value: str('x') }, { key: 'path', value: str('C:\\tmp') }] } })).toMatch(/^severity=x path=C:\\tmp /);
    expect(line(str('null'))).toMatch(/^null= /);
  });

  it('raw: the body as a string', () => {
    const g = golden({ lineFormat: 'raw' });
    const lines = [...g.keys()];
    expect(lines).toContain('GET /checkout 500 in 12ms');
    expect(lines).toContain('{"msg":"order placed","order":{"id":1042,"total":99.95},"tags":["a","b"]}');
  });
});

// ------------------------------------------------------------------------------------------------

const str = (s: string) => ({ stringValue: s });
function rec(n: number, attrs: Record<string, string> = {}, body = `record ${n}`, sev = 9): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal('1705314600000000000'), observedTimeUnixNano: Long.UZERO, severityNumber: sev, severityText: '',
    body: str(body), attributes: [{ key: 'n', value: { intValue: n } }, ...Object.entries(attrs).map(([key, v]) => ({ key, value: str(v) }))],
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  };
}
function tree(records: LogRecord[], resourceAttrs: Record<string, string> = { 'service.name': 'api' }): ResourceLogs[] {
  return [{
    resource: { attributes: Object.entries(resourceAttrs).map(([key, v]) => ({ key, value: str(v) })), droppedAttributesCount: 0 }, schemaUrl: '',
    scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records }],
  }];
}

describe('loki convert: hints, tenants, retention, limits', () => {
  it('loki.resource.labels / loki.attribute.labels promote attributes to labels and remove them (and the hints) from the line', () => {
    const rls = tree([rec(0, { 'http.method': 'GET', 'user.id': 'u1', 'loki.attribute.labels': 'http.method' })], {
      'service.name': 'api', 'k8s.namespace.name': 'prod', 'cloud.region': 'eu-west-1', 'loki.resource.labels': 'k8s.namespace.name, cloud.region',
    });
    const res = convertToLokiPush(rls, BASE, NOW);
    const [s] = decode(res.requests[0]!.body);
    expect(s!.labels).toBe('{cloud_region="eu-west-1", exporter="OTLP", http_method="GET", job="api", k8s_namespace_name="prod", level="INFO"}');
    expect(JSON.parse(s!.entries[0]!.line)).toEqual({ body: 'record 0', attributes: { n: 0, 'user.id': 'u1' }, resources: { 'service.name': 'api' } });
  });

  // Upstream's TestLogsToLokiRequestWithGroupingByTenant (pkg/translator/loki, the releases whose translator
  // made the tenant attribute a label), its three cases rebuilt here: the hint may sit on the record; the
  // resource's hint and tenant value win; no value → no tenant. `tenant.id` becomes the label `tenant_id`;
  // the attribute stays in the line (its key is not a label name), the hint does not.
  it('loki.tenant as upstream: record hint, resource wins, missing value; the tenant is a label', () => {
    const tenantsOf = (rls: ResourceLogs[]): Map<string, [string[], unknown[]]> => {
      const out = new Map<string, [string[], unknown[]]>();
      for (const r of convertToLokiPush(rls, { ...BASE, defaultLabels: { exporter: true, job: false, instance: false, level: false } }, NOW).requests) {
        const streams = decode(r.body);
        out.set(r.tenant ?? '', [streams.map((x) => x.labels), streams[0]!.entries.map((e) => JSON.parse(e.line) as unknown)]);
      }
      return out;
    };
    const r1 = rec(0, { 'loki.tenant': 'tenant.id', 'tenant.id': '1' }, '');
    const r2 = rec(0, { 'loki.tenant': 'tenant.id', 'tenant.id': '2' }, '');
    for (const r of [r1, r2]) r.body = null;
    expect(tenantsOf(tree([r1, r2], {}))).toEqual(new Map([
      ['1', [['{exporter="OTLP", tenant_id="1"}'], [{ attributes: { n: 0, 'tenant.id': '1' } }]]],
      ['2', [['{exporter="OTLP", tenant_id="2"}'], [{ attributes: { n: 0, 'tenant.id': '2' } }]]],
    ]));
    const r3 = rec(0, { 'loki.tenant': 'tenant.id' }, '');
    r3.body = null;
    expect(tenantsOf(tree([r3], {}))).toEqual(new Map([['', [['{exporter="OTLP"}'], [{ attributes: { n: 0 } }]]]]));
    const r4 = rec(0, { 'loki.tenant': 'tenant.id', 'tenant.id': '11' }, '');
    r4.body = null;
    expect(tenantsOf(tree([r4], { 'loki.tenant': 'tenant.id', 'tenant.id': '1' }))).toEqual(new Map([
      ['1', [['{exporter="OTLP", tenant_id="1"}'], [{ attributes: { n: 0, 'tenant.id': '11' }, resources: { 'tenant.id': '1' } }]]],
    ]));
  });

  it('a tenant attribute whose key is a label name becomes that label and leaves the line', () => {
    const onResource = convertToLokiPush(tree([rec(0)], { 'service.name': 'api', 'loki.tenant': 'org', org: 'a' }), BASE, NOW);
    const [s1] = decode(onResource.requests[0]!.body);
    expect(onResource.requests[0]!.tenant).toBe('a');
    expect(s1!.labels).toBe('{exporter="OTLP", job="api", level="INFO", org="a"}');
    expect(JSON.parse(s1!.entries[0]!.line)).toEqual({ body: 'record 0', attributes: { n: 0 }, resources: { 'service.name': 'api' } });
    const onRecord = convertToLokiPush(tree([rec(1, { 'loki.tenant': 'org', org: 'b' })], { 'service.name': 'api' }), BASE, NOW);
    const [s2] = decode(onRecord.requests[0]!.body);
    expect(onRecord.requests[0]!.tenant).toBe('b');
    expect(s2!.labels).toBe('{exporter="OTLP", job="api", level="INFO", org="b"}');
    expect(JSON.parse(s2!.entries[0]!.line)).toEqual({ body: 'record 1', attributes: { n: 1 }, resources: { 'service.name': 'api' } });
  });

  it('loki.tenant names the attribute holding the tenant: one request per tenant', () => {
    const rls = tree([rec(0, { org: 'a' }), rec(1, { org: 'b' }), rec(2, { org: 'a' }), rec(3)], { 'service.name': 'api', 'loki.tenant': 'org' });
    const res = convertToLokiPush(rls, BASE, NOW);
    expect(res.requests.map((r) => [r.tenant, r.records.map((x) => Number(x.lr.attributes[0]!.value!.intValue))])).toEqual([
      ['a', [0, 2]], ['b', [1]], [undefined, [3]],
    ]);
  });

  it('retention.label puts retention.class in a label (record, else resource)', () => {
    const rls = tree([rec(0, { 'retention.class': 'audit' }), rec(1)], { 'service.name': 'api', 'retention.class': 'standard' });
    const res = convertToLokiPush(rls, { ...BASE, retentionLabel: 'retention' }, NOW);
    expect(decode(res.requests[0]!.body).map((s) => s.labels)).toEqual([
      '{exporter="OTLP", job="api", level="INFO", retention="audit"}',
      '{exporter="OTLP", job="api", level="INFO", retention="standard"}',
    ]);
  });

  it('lines over max_line_size are rejected; the rest is sent', () => {
    const res = convertToLokiPush(tree([rec(0), rec(1, {}, 'x'.repeat(2000)), rec(2)]), { ...BASE, lineFormat: 'raw', maxLineSize: 1000 }, NOW);
    expect(res.rejected.map((r) => Number(r.ref.lr.attributes[0]!.value!.intValue))).toEqual([1]);
    expect(res.rejected[0]!.reason).toMatch(/max_line_size/);
    expect(decode(res.requests[0]!.body)[0]!.entries.map((e) => e.line)).toEqual(['record 0', 'record 2']);
  });

  it('splits at maxRequestBytes measured on the encoded protobuf (and JSON) body', () => {
    const records = Array.from({ length: 2000 }, (_, n) => rec(n, { pod: `p${n % 7}`, 'loki.attribute.labels': 'pod' }, `line ${n} ${'y'.repeat(100)}`));
    for (const encoding of ['protobuf', 'json'] as const) {
      const res = convertToLokiPush(tree(records), { ...BASE, encoding, lineFormat: 'raw', maxRequestBytes: 16 * 1024 }, NOW);
      expect(res.requests.length).toBeGreaterThan(10);
      const seen: string[] = [];
      for (const r of res.requests) {
        expect(r.body.length).toBeLessThanOrEqual(16 * 1024);
        const streams = encoding === 'json'
          ? (JSON.parse(r.body.toString()) as { streams: { values: [string, string][] }[] }).streams.map((s) => s.values.map((v) => v[1]))
          : decode(r.body).map((s) => s.entries.map((e) => e.line));
        for (const s of streams) seen.push(...s);
        expect(streams.flat()).toHaveLength(r.records.length);
      }
      expect(seen.sort()).toEqual(records.map((_, n) => `line ${n} ${'y'.repeat(100)}`).sort());
    }
  });

  it('JSON encoding: Loki push JSON with ns timestamps as strings and labels as an object', () => {
    const res = convertToLokiPush(tree([rec(0)]), { ...BASE, encoding: 'json', lineFormat: 'raw' }, NOW);
    expect(JSON.parse(res.requests[0]!.body.toString())).toEqual({
      streams: [{ stream: { exporter: 'OTLP', job: 'api', level: 'INFO' }, values: [['1705314600000000000', 'record 0']] }],
    });
  });
});
