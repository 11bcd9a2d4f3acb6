/**
 * Every exporter's conversion gives the same bytes whatever the request came in as: OTLP/protobuf
 * (records kept in their bytes as WireLogRecords, as the receivers decode it), OTLP/protobuf decoded into
 * objects (decodeExportRequestTree), or OTLP/JSON (plain objects). One request full of edge values is
 * encoded once each way; every converter runs on a fresh decode per input (records decode lazily, so a
 * converter must never see a record another converter already read).
 */
import Long from 'long';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  decodeExportRequest, decodeExportRequestJson, decodeExportRequestTree, encodeExportRequest, encodeExportRequestJson,
  encodeResourceLogsJsonInto, idFromHex, JsonByteWriter, nanosFromDecimal, WireLogRecord,
  type AnyValue, type ExportLogsServiceRequest, type KeyValue, type LogRecord, type ResourceLogs,
} from '@tributary/otlp';
import { compileNameTemplate, convertToCloudWatchLogs } from '../collector/src/exporters/awscloudwatchlogs/index.js';
import { compileColumns, convertToIngestionRequests, DEFAULT_COLUMNS, recordToEnvelope } from '../collector/src/exporters/azuremonitor/index.js';
import { convertToClickHouseRows } from '../collector/src/exporters/clickhouse/index.js';
import { convertToDatadog } from '../collector/src/exporters/datadog/index.js';
import { formatDetailed, formatNormal } from '../collector/src/exporters/debug/index.js';
import { convertToBulk } from '../collector/src/exporters/elasticsearch/index.js';
import { MAPPING_MODES } from '../collector/src/exporters/elasticsearch/config.js';
import { convertToCloudLogging } from '../collector/src/exporters/googlecloud/index.js';
import { convertToLokiPush } from '../collector/src/exporters/loki/index.js';
import { compileSubject, encodeMessages, subjectFor } from '../collector/src/exporters/nats/index.js';
import { convertToHec } from '../collector/src/exporters/splunk_hec/index.js';
import { flattenBatch } from '../collector/src/exporters/store/encode.js';
import { TailHub, type TailRecord } from '../collector/src/tail/hub.js';
import { compileQuery } from '../collector/src/query/index.js';
import { LoadBalancingExporter, loadBalancingConfigSchema } from '../collector/src/exporters/loadbalancing/index.js';
import { AlertEngine } from '../collector/src/exporters/alerts/engine.js';
import { AlertsDatabase } from '../collector/src/exporters/alerts/history.js';
import { ruleSchema } from '../collector/src/exporters/alerts/config.js';
import { compileRule } from '../collector/src/exporters/alerts/rule.js';
import type { Notification } from '../collector/src/exporters/alerts/engine.js';
import { parseComponentId } from '../collector/src/component.js';
import { createLogger } from '../collector/src/telemetry/logger.js';
import { Telemetry } from '../collector/src/telemetry/metrics.js';

// ---------------------------------------------------------------- the request

/** 2024-01-15T12:00:00Z: "now" for every converter that takes one (records are from the hour before). */
const NOW_MS = 1_705_320_000_000;
const NOW_NS = nanosFromDecimal(`${NOW_MS}000000`);

const s = (v: string): AnyValue => ({ stringValue: v });
const i64 = (v: string): AnyValue => ({ intValue: Long.fromString(v) });
const kv = (key: string, value: AnyValue | null): KeyValue => ({ key, value });
const kvl = (...values: KeyValue[]): AnyValue => ({ kvlistValue: { values } });
const arr = (...values: AnyValue[]): AnyValue => ({ arrayValue: { values } });
const ns = (v: string): Long => nanosFromDecimal(v);

/** Text that every escaper has to get right: quotes, backslash, controls, HTML, line separators, astral and CJK. */
const NASTY = 'say "hi" \\ path C:\\tmp\ttab\nline\r\u0000\u0001\u001f\u007f <b>&amp;</b> \u2028\u2029 é ü 中文 😀 \uFEFF end';

/** Attribute values of every AnyValue kind, with the extremes of each. */
function everyKind(): KeyValue[] {
  return [
    kv('int.big', i64('9007199254740993')), // 2^53 + 1: not a double
    kv('int.max', i64('9223372036854775807')),
    kv('int.min', i64('-9223372036854775808')),
    kv('int.neg', i64('-42')),
    kv('int.zero', i64('0')),
    kv('double', { doubleValue: 12.5 }),
    kv('double.int', { doubleValue: 3 }),
    kv('double.nan', { doubleValue: NaN }),
    kv('double.inf', { doubleValue: Infinity }),
    kv('double.ninf', { doubleValue: -Infinity }),
    kv('double.tiny', { doubleValue: 5e-324 }),
    kv('double.huge', { doubleValue: 1.7976931348623157e308 }),
    kv('double.exp', { doubleValue: 1e21 }),
    kv('bool.t', { boolValue: true }),
    kv('bool.f', { boolValue: false }),
    kv('bytes', { bytesValue: Buffer.from([0, 1, 0xfe, 0xff, 0x22, 0x5c]) }),
    kv('bytes.empty', { bytesValue: Buffer.alloc(0) }),
    kv('str.empty', s('')),
    kv('str.nasty', s(NASTY)),
    kv('empty.value', {}),
    kv('no.value', null),
    kv('nested', kvl(kv('a', arr(i64('1'), s('x'), kvl(kv('deep', arr(arr({ boolValue: true }), {}))))), kv('b', kvl()), kv('c', arr()))),
    kv('dup', s('first')),
    kv('dup', s('second')),
    kv('42', s('digit key')),
    kv('1st', s('digit-led key')),
    kv('__proto__', s('proto key')),
    kv('', s('empty key')),
    kv('quote"key\\', s('v')),
  ];
}

function rec(fields: Partial<LogRecord>): LogRecord {
  return {
    timeUnixNano: ns('1705316400123456789'), observedTimeUnixNano: ns('1705316400200000000'),
    severityNumber: 9, severityText: 'INFO', body: s('order-4711 placed'), attributes: [], droppedAttributesCount: 0,
    flags: 1, traceId: idFromHex('437ab4d83468c540bb0f3398a39faa59', 16), spanId: idFromHex('2e26da881214cd7c', 8), eventName: '',
    ...fields,
  };
}

function request(): ExportLogsServiceRequest {
  const checkout: LogRecord[] = [
    rec({
      severityNumber: 17, severityText: 'ERROR', body: s(`order-4711 failed: ${NASTY}`), eventName: 'order.failed',
      attributes: [
        kv('http.method', s('POST')), kv('http.status_code', i64('500')), kv('retention.class', s('audit')), kv('retention.days', i64('400')),
        kv('log.category', s('audit')), kv('correlation_id', s('c-1')), kv('exception.type', s('TypeError')), kv('exception.message', s(NASTY)),
        kv('exception.stacktrace', s('at f (a.js:1:2)\nat g (b.js:3:4)')), kv('gcp.log_name', s('orders/errors')),
        kv('gcp.source_location', kvl(kv('file', s('a.js')), kv('line', i64('12')), kv('function', s('f')))), kv('gcp.trace_sampled', { boolValue: true }),
        kv('gcp.http_request', kvl(kv('requestMethod', s('POST')), kv('status', i64('500')), kv('requestUrl', s('https://x.test/a?b=<c>')))),
        kv('loki.attribute.labels', s('http.method')), kv('com.splunk.index', s('orders')), kv('com.splunk.source', s('svc')),
        kv('ddtags', s('team:payments,tier:1')), kv('datadog.log.source', s('nodejs')), kv('microsoft.custom_event.name', s('OrderFailed')),
        kv('data_stream.dataset', s('orders')), kv('event.name', s('order.failed')), kv('elasticsearch.index', s('orders-idx')),
        ...everyKind(),
      ],
    }),
    rec({
      severityNumber: 13, severityText: 'WARN', droppedAttributesCount: 3, flags: 0xffffffff,
      body: kvl(kv('msg', s('order-4711 slow')), kv('detail', kvl(kv('ms', { doubleValue: 1234.5 }), kv('ids', arr(i64('-1'), i64('1844674407370955161')))))),
      attributes: [kv('retention.class', s('debug')), kv('retention.days', i64('-1')), kv('user', kvl(kv('id', s('u-17')), kv('email', s('a@b.test'))))],
      traceId: new Uint8Array(0), spanId: new Uint8Array(0),
    }),
    rec({ body: arr(s('order-4711'), i64('2'), { boolValue: true }, { doubleValue: -0.5 }, {}, { bytesValue: Buffer.from('hi') }), traceId: new Uint8Array(16), spanId: new Uint8Array(8), flags: 0 }),
    rec({ body: { bytesValue: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]) }, severityNumber: 24, severityText: 'FATAL4' }),
    rec({ timeUnixNano: Long.UZERO, body: s('order-4711 observed only'), severityNumber: 5, severityText: '' }),
  ];
  const noScope: LogRecord[] = [
    rec({ timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO, body: null, severityNumber: 0, severityText: '', flags: 0, attributes: [kv('note', s('order-4711 no time, no body'))] }),
    rec({ body: {}, severityText: 'Emergency', severityNumber: 21, attributes: [kv('note', s('order-4711 empty AnyValue body'))] }),
    rec({ body: s('level=warn msg="order-4711 logfmt" k=v'), severityNumber: 14, severityText: 'warning', eventName: 'ev\u2028"x"' }),
    rec({ body: s('{"json":"order-4711","n":1}'), severityNumber: 25, severityText: 'OUT OF RANGE' }),
    rec({ body: s('order-4711 severity as text only'), severityNumber: 0, severityText: 'Error' }),
    rec({ body: i64('-9223372036854775808'), attributes: [kv('note', s('order-4711 int body'))] }),
    rec({ body: { doubleValue: NaN }, attributes: [kv('note', s('order-4711 nan body'))] }),
    rec({ body: { boolValue: false }, attributes: [kv('note', s('order-4711 bool body'))], timeUnixNano: ns('9223372036854775809') }),
    rec({ body: s(''), attributes: [kv('note', s('order-4711 empty string body'))] }),
  ];
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [
            kv('service.name', s('checkout ✓')), kv('service.namespace', s('shop')), kv('service.instance.id', s('pod-1')), kv('service.version', s('1.4.2')),
            kv('host.name', s('web-1')), kv('project.id', s('tenant-a')), kv('deployment.environment', s('prod')), kv('cloud.provider', s('gcp')),
            kv('cloud.platform', s('gcp_kubernetes_engine')), kv('cloud.region', s('europe-west1')), kv('cloud.availability_zone', s('europe-west1-b')),
            kv('k8s.cluster.name', s('c1')), kv('k8s.namespace.name', s('ns')), kv('k8s.pod.name', s('checkout-7d9f')), kv('container.id', s('abc123')),
            kv('loki.resource.labels', s('host.name')), kv('loki.tenant', s('org-1')), kv('com.splunk.sourcetype', s('otel:json')),
            kv('telemetry.sdk.language', s('nodejs')), kv('res.nested', kvl(kv('x', arr(i64('1'), { doubleValue: NaN })))),
          ],
          droppedAttributesCount: 2,
        },
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        scopeLogs: [
          { scope: { name: 'pino', version: '9.0.0', attributes: [kv('lib.attr', s('scope <v>')), kv('lib.int', i64('-7'))], droppedAttributesCount: 1 }, schemaUrl: 'https://s.test/1', logRecords: checkout },
          { scope: null, schemaUrl: '', logRecords: noScope },
        ],
      },
      {
        resource: { attributes: [kv('host.name', s('batch-ü')), kv('datadog.host.name', s('dd-host')), kv('aws.ecs.task.arn', s('arn:aws:ecs:x')), kv('loki.format', s('logfmt'))], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeLogs: [
          { scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [rec({ body: s('order-4711 from a resource without service.name'), severityNumber: 1, severityText: 'TRACE' })] },
          { scope: { name: 'other', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [] },
        ],
      },
      { resource: null, schemaUrl: '', scopeLogs: [{ scope: { name: 'bare', version: '0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [rec({ body: s('order-4711 no resource') })] }] },
    ],
  };
}

const PROTOBUF = encodeExportRequest(request());
// encodeExportRequestJson writes an absent KeyValue value as `"value":{}` (an empty AnyValue, so its
// protobuf differs); a client leaves the key out, which decodes to the absent value protobuf has.
const OTLP_JSON = encodeExportRequestJson(request()).replace('{"key":"no.value","value":{}}', '{"key":"no.value"}');
const RECORDS = 16;

/** The ways a request reaches an exporter. */
const INPUTS: Record<string, () => ExportLogsServiceRequest> = {
  // As the receivers decode protobuf: records in their bytes, read through getters.
  'protobuf (WireLogRecord)': () => {
    const req = decodeExportRequest(PROTOBUF);
    const recs = records(req);
    expect(recs).toHaveLength(RECORDS);
    for (const r of recs) {
      expect(r).toBeInstanceOf(WireLogRecord);
      expect((r as WireLogRecord).wireClean).toBe(true);
    }
    return req;
  },
  // Records in their bytes whose body and attributes a processor has read (no longer "clean").
  'protobuf (WireLogRecord, read before)': () => {
    const req = decodeExportRequest(PROTOBUF);
    let read = 0;
    for (const r of records(req)) {
      read += (r.body == null ? 0 : 1) + r.attributes.length;
      expect((r as WireLogRecord).wireClean).toBe(false);
    }
    expect(read).toBeGreaterThan(RECORDS);
    return req;
  },
  'protobuf (decoded tree)': () => decodeExportRequestTree(PROTOBUF),
  'OTLP/JSON': () => decodeExportRequestJson(OTLP_JSON),
};

function records(req: ExportLogsServiceRequest): LogRecord[] {
  return req.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

/** Names records by position (`r.s.l`), so references back to records compare across inputs. */
type Names = (lr: LogRecord) => string;

function namesOf(req: ExportLogsServiceRequest): Names {
  const m = new Map<LogRecord, string>();
  req.resourceLogs.forEach((rl, i) => rl.scopeLogs.forEach((sl, j) => sl.logRecords.forEach((lr, k) => m.set(lr, `${i}.${j}.${k}`))));
  return (lr) => m.get(lr) ?? 'unknown record';
}

/** Bytes as text, one char per byte: equal strings are equal bytes. */
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** JSON that keeps what JSON.stringify would lose (NaN, ±Infinity, bigint). */
const dump = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'number' && !Number.isFinite(x) ? `number:${x}` : x));

/** Where two outputs part, with some context (the whole outputs are long). */
function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return 'no difference';
  const at = (x: string): string => JSON.stringify(x.slice(Math.max(0, i - 60), i + 60));
  return `first difference at ${i}: ${at(a)} against ${at(b)}`;
}

/**
 * Runs `convert` on a fresh decode of each input and expects the same output from all; returns it. The
 * output names `order-4711`, which every record carries, so an empty conversion cannot pass.
 */
function sameOutput(convert: (rls: ResourceLogs[], name: Names) => string): string {
  const outs: Record<string, string> = {};
  for (const [input, decode] of Object.entries(INPUTS)) {
    const req = decode();
    outs[input] = convert(req.resourceLogs, namesOf(req));
  }
  const want = outs['protobuf (decoded tree)']!;
  for (const [input, out] of Object.entries(outs)) expect(out, `${input} against protobuf (decoded tree), ${firstDifference(out, want)}`).toBe(want);
  expect(want).toContain('order-4711');
  return want;
}

// ---------------------------------------------------------------- the exporters

describe('exporters give byte-identical output for OTLP/JSON and OTLP/protobuf input', () => {
  it('the request survives both encodings (the inputs agree before any exporter runs)', () => {
    const tree = decodeExportRequestTree(PROTOBUF);
    expect(records(tree)).toHaveLength(RECORDS);
    expect(OTLP_JSON).toContain('{"key":"no.value"}');
    expect(decodeExportRequest(PROTOBUF)).toEqual(tree);
    // OTLP/JSON decodes to plain objects, not the generated classes: that it carries the same request is
    // checked byte for byte by the otlphttp case (both re-encode to PROTOBUF).
  });

  it('file: OTLP/JSON line (encodeResourceLogsJsonInto)', () => {
    sameOutput((rls) => {
      const w = new JsonByteWriter(64);
      w.raw(Buffer.from('{"resourceLogs":['));
      rls.forEach((rl, i) => {
        if (i > 0) w.byte(0x2c);
        encodeResourceLogsJsonInto(rl, w);
      });
      w.raw(Buffer.from(']}\n'));
      return latin1(w.bytes());
    });
  });

  it('otlphttp encoding: proto (encodeExportRequest) and json (encodeExportRequestJson)', () => {
    const proto = sameOutput((rls) => latin1(encodeExportRequest({ resourceLogs: rls })));
    expect(proto).toBe(latin1(PROTOBUF));
    const json = sameOutput((rls) => encodeExportRequestJson({ resourceLogs: rls }));
    expect(json).toBe(encodeExportRequestJson(request()));
  });

  it('nats: subjects and messages (encodeMessages), whole and split to a small max_message_size', () => {
    const subject = compileSubject('logs.{service.name}.{host.name}');
    for (const max of [1 << 20, 1500]) {
      const out = sameOutput((rls, name) => {
        const msgs: Uint8Array[] = [];
        const oversize: ResourceLogs[] = [];
        encodeMessages(rls, max, msgs, oversize);
        return dump({ subjects: rls.map((rl) => subjectFor(subject, rl)), msgs: msgs.map(latin1), oversize: oversize.flatMap((rl) => records({ resourceLogs: [rl] }).map(name)) });
      });
      if (max < 2000) expect((JSON.parse(out) as { msgs: unknown[] }).msgs.length).toBeGreaterThan(2);
    }
  });

  it('awscloudwatchlogs: JSON and raw events, templated group and stream', () => {
    for (const rawLog of [false, true]) {
      const options = { rawLog, logGroup: compileNameTemplate('/app/{service.name}/{k8s.namespace.name}', 'group'), logStream: compileNameTemplate('{host.name}', 'stream'), defaultRetentionDays: 0 };
      sameOutput((rls, name) => {
        const conv = convertToCloudWatchLogs(rls, options, NOW_MS);
        return dump({ ...conv, calls: conv.calls.map((c) => ({ ...c, records: c.records.map((r) => name(r.lr)) })) });
      });
    }
  });

  it('azuremonitor: Logs Ingestion rows (default and extra columns, retention stream, split requests)', () => {
    const columns = compileColumns({ ...DEFAULT_COLUMNS, Status: 'attributes["http.status_code"]', Host: 'resource.attributes["host.name"]', Lib: 'scope.attributes["lib.attr"]', Nested: 'attributes["nested"]' });
    for (const maxRequestBytes of [1_000_000, 6000]) {
      sameOutput((rls, name) => {
        const res = convertToIngestionRequests(rls, { columns, streamName: 'Custom-Logs', retentionStreams: { audit: 'Custom-Audit' }, maxRequestBytes, now: NOW_NS });
        return dump({
          requests: res.requests.map((r) => ({ stream: r.stream, body: latin1(r.bodyBytes), records: r.records.map((x) => name(x.lr)) })),
          oversize: res.oversize.map((x) => name(x.lr)),
        });
      });
    }
  });

  it('azuremonitor: Application Insights envelopes (recordToEnvelope)', () => {
    for (const options of [{ customEvents: false, exceptionEvents: false }, { customEvents: true, exceptionEvents: true }]) {
      sameOutput((rls) => dump(rls.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((lr) => recordToEnvelope(lr, rl.resource, sl.scope, 'ikey', options, () => NOW_MS))))));
    }
  });

  it('clickhouse: JSONEachRow, modern and legacy layouts', () => {
    for (const layout of ['modern', 'legacy'] as const) sameOutput((rls) => convertToClickHouseRows(rls, layout, NOW_NS));
  });

  it('datadog: intake bodies (defaults, and small payload / item limits)', () => {
    for (const options of [{ hostname: 'collector-1', retentionTags: { audit: 'retention:400d', debug: 'retention:1d' } }, { maxPayloadBytes: 4000, maxItems: 3, maxItemBytes: 1500 }]) {
      sameOutput((rls, name) => {
        const conv = convertToDatadog(rls, options);
        return dump({
          requests: conv.requests.map((r) => ({ ddtags: r.ddtags, service: r.service, ddsource: r.ddsource, body: latin1(r.bodyBytes), refs: r.refs.map((x) => name(x.lr)) })),
          rejected: conv.rejected.map((x) => [name(x.ref.lr), x.reason]),
        });
      });
    }
  });

  it('debug: normal and detailed text', () => {
    sameOutput((rls) => formatNormal(rls));
    sameOutput((rls) => formatDetailed(rls));
  });

  it('elasticsearch: _bulk NDJSON in every mapping mode, data stream and index routing', () => {
    expect(MAPPING_MODES.length).toBeGreaterThanOrEqual(5);
    for (const mode of MAPPING_MODES) {
      for (const routing of [{ retentionClasses: { audit: { namespace: 'audit' } } }, { logsIndex: 'logs-%{service.name}', dynamicIndex: true, logstash: { separator: '-', dateFormat: '%Y.%m.%d' } }]) {
        sameOutput((rls, name) => {
          const res = convertToBulk(rls, { mode, maxRequestBytes: 5_000_000, nowNanos: NOW_NS, ...routing });
          return dump({
            requests: res.requests.map((r) => ({ body: latin1(r.body), records: r.records.map((x) => name(x.lr)) })),
            rejected: res.rejected.map((x) => [name(x.ref.lr), x.reason]),
          });
        });
      }
    }
  });

  it('googlecloud: entries:write bodies (retention as label or log name, error reporting on and off)', () => {
    for (const [retentionRouting, errorReportingType] of [['label', false], ['log_name', true]] as const) {
      const options = { project: 'my-proj', defaultLogName: 'app', serviceResourceLabels: true, errorReportingType, retentionRouting };
      sameOutput((rls, name) => {
        const conv = convertToCloudLogging(rls, options, NOW_NS);
        return dump({
          requests: conv.requests.map((r) => ({ body: latin1(r.bodyBytes), records: r.records.map((x) => name(x.lr)) })),
          rejected: conv.rejected.map((x) => [name(x.ref.lr), x.reason]),
        });
      });
    }
  });

  it('loki: push bodies for every line format, protobuf and JSON', () => {
    for (const lineFormat of ['json', 'logfmt', 'raw'] as const) {
      for (const encoding of ['protobuf', 'json'] as const) {
        const options = { defaultLabels: { exporter: true, job: true, instance: true, level: true }, lineFormat, encoding, maxLineSize: 0, maxRequestBytes: 4 * 1024 * 1024, retentionLabel: 'retention' };
        sameOutput((rls, name) => {
          const res = convertToLokiPush(rls, options, NOW_NS);
          return dump({
            requests: res.requests.map((r) => ({ tenant: r.tenant, body: latin1(r.body), records: r.records.map((x) => name(x.lr)) })),
            rejected: res.rejected.map((x) => [name(x.ref.lr), x.reason]),
          });
        });
      }
    }
  });

  it('splunk_hec: event and raw bodies', () => {
    for (const raw of [false, true]) {
      const options = { index: 'main', sourcetype: 'otel', maxContentLength: 2 * 1024 * 1024, indexByRetentionClass: { audit: 'audit_400d' }, raw };
      sameOutput((rls, name) => {
        const conv = convertToHec(rls, options);
        return dump({
          requests: conv.requests.map((r) => ({ token: r.token, index: r.index, source: r.source, sourcetype: r.sourcetype, host: r.host, body: latin1(r.bodyBytes), refs: r.refs.map((x) => name(x.lr)) })),
          rejected: conv.rejected.map((x) => [name(x.ref.lr), x.reason]),
        });
      });
    }
  });

  it('loadbalancing: the part each backend gets, for every routing key', async () => {
    const silent = createLogger({ level: 'error', encoding: 'text', write: () => undefined });
    for (const routing of [{ routing_key: 'traceID' }, { routing_key: 'service' }, { routing_key: 'resource' }, { routing_key: 'attributes', routing_attributes: ['http.method', 'host.name', 'nested'] }]) {
      // Backends on ports nothing listens on: routing never connects (gRPC clients connect on first call).
      const config = loadBalancingConfigSchema.parse({ ...routing, protocol: { otlp: { tls: { insecure: true } } }, resolver: { static: { hostnames: ['127.0.0.1:9', '127.0.0.1:10', '127.0.0.1:11', '127.0.0.1:12'] } } });
      const lb = new LoadBalancingExporter({ id: parseComponentId('loadbalancing'), logger: silent, telemetry: new Telemetry() }, config);
      await lb.start();
      try {
        const out = sameOutput((rls) => {
          const { backends, parts } = lb.route({ resourceLogs: rls, recordCount: RECORDS, receivedAt: 0 });
          return dump(backends.map((b, e) => [b.endpoint, parts.counts[e], latin1(encodeExportRequest({ resourceLogs: parts.batch(e, 0).resourceLogs }))]));
        });
        // Records of other traces land elsewhere: the split itself is compared, not one whole part.
        if (routing.routing_key === 'traceID') expect((JSON.parse(out) as [string, number][]).filter(([, n]) => n > 0).length).toBeGreaterThan(1);
      } finally {
        await lb.shutdown();
      }
    }
  });

  it('alerts: notifications and their sample lines', () => {
    const rules = [
      { name: 'lvl', kind: 'level', level: 'WARN', group_by: ['service.name', 'attributes.http.method'], notify: ['n'] },
      { name: 'pat', kind: 'pattern', pattern: '(?i)ORDER.4711 (failed|slow)', group_by: ['resource.host.name'], notify: ['n'] },
      { name: 'nv', kind: 'new_value', field: 'attributes.retention.class', notify: ['n'] },
      { name: 'cnt', kind: 'count', threshold: 0, window: '1m', condition: 'attributes["note"] != nil', group_by: ['severity_text'], notify: ['n'] },
      { name: 'q', kind: 'count', threshold: 0, window: '1m', query: 'order-4711 -level:error', notify: ['n'] },
    ].map((r) => compileRule(ruleSchema.parse(r), { cooldownMs: 0, textMode: 'words' }));
    sameOutput((rls) => {
      const db = new AlertsDatabase(':memory:');
      const sent: Notification[] = [];
      try {
        const telemetry = new Telemetry();
        const engine = new AlertEngine({
          exporterId: 'alerts', tenantKey: 'project.id', defaultTenant: 'default', maxGroups: 100, sampleLines: 20, dashboardUrl: 'http://127.0.0.1:3100',
          now: () => NOW_MS, db, sink: { dispatch: (n) => void sent.push(n) }, telemetry, metrics: telemetry,
        });
        engine.setRules(rules);
        engine.observe(rls);
      } finally {
        db.close();
      }
      expect(sent.length).toBeGreaterThan(4);
      return dump(sent);
    });
  });

  it('store: flattened rows per tenant (flattenBatch)', () => {
    sameOutput((rls) => dump(flattenBatch(rls, { key: 'project.id', fallback: 'default' }, NOW_MS)));
  });

  describe('live_tail: records as tail viewers receive them', () => {
    // The hub stamps records without any time with Date.now() and has no clock option: fake Date instead.
    afterEach(() => {
      vi.useRealTimers();
    });

    it('every record, and those a query matches', () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(NOW_MS);
      const ids = (): ReadonlyMap<string, BigInt64Array> => new Map(['tenant-a', 'default'].map((t, n) => [t, BigInt64Array.from({ length: RECORDS }, (_, i) => BigInt(n * 1000 + i))]));
      for (const query of ['', 'level:error', 'order-4711 service:"checkout ✓"']) {
        sameOutput((rls) => {
          const hub = new TailHub();
          const got: TailRecord[] = [];
          hub.subscribe({ tenants: undefined, matcher: query === '' ? { matches: () => true } : compileQuery(query).matcher, push: (r) => void got.push(...r) });
          hub.publish(rls, { key: 'project.id', fallback: 'default' }, true, ids());
          return dump(got);
        });
      }
    });
  });
});
