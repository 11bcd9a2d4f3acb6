/**
 * Upstream's pinned Cloud Logging entries. Inputs and expected entries are rebuilt from the integration fixtures
 * of GoogleCloudPlatform/opentelemetry-operations-go exporter/collector/integrationtest/testdata/fixtures/logs:
 * logs_span_trace_id.json (commit f1c273d7d1fb8e30022de03064266348c339ecc0) with logs_span_trace_id_expected.json
 * (commit fdb190a053a34b676c2e71ed7ef5503b7b9661e7), and logs_k8s_container.json (commit
 * c1b401ac54472d6d55022c871aadcac67ce237ca) with logs_k8s_container_expected.json (commit
 * 1f440870ad7829cdbd325ddb0c80fc1f43236069), logs_gce_instance.json (commit 1f440870ad7829cdbd325ddb0c80fc1f43236069) with
 * logs_gce_instance_expected.json (commit ec69cb09e0f354a27ec47e5af203876f2fdba5fd), and logs_source_location.json with
 * logs_source_location_expected.json (both commit ec69cb09e0f354a27ec47e5af203876f2fdba5fd). The upstream harness zeroes timestamps before comparing, so
 * `timestamp` is checked on its own.
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { idFromHex, nanosFromDecimal, type AnyValue, type KeyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { convertToCloudLogging, type GoogleCloudConvertOptions } from './convert.js';

const OPTIONS: GoogleCloudConvertOptions = { project: 'fakeprojectid', defaultLogName: '', serviceResourceLabels: true, errorReportingType: false, retentionRouting: 'label' };
const NOW = nanosFromDecimal('1700000000000000000');
const str = (s: string): AnyValue => ({ stringValue: s });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

/** The fixtures' body: a map holding `body: {time, level, msg}` (in the fixture's key order). */
function body(msg: string, order: ('time' | 'level' | 'msg')[] = ['time', 'level', 'msg']): AnyValue {
  const v: Record<string, string> = { time: '2022-06-22T16:13:19Z', level: 'info', msg };
  return { kvlistValue: { values: [kv('body', { kvlistValue: { values: order.map((k) => kv(k, str(v[k]!))) } })] } };
}

function rec(time: string, fields: Partial<LogRecord>): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal(time), observedTimeUnixNano: Long.UZERO, severityNumber: 0, severityText: '', body: null, attributes: [],
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '', ...fields,
  };
}

function entries(rls: ResourceLogs[]): Record<string, unknown>[] {
  const conv = convertToCloudLogging(rls, OPTIONS, NOW);
  expect(conv.rejected).toEqual([]);
  return conv.requests.flatMap((r) => (JSON.parse(r.body) as { entries: Record<string, unknown>[]; partialSuccess: boolean }).entries);
}

const GENERIC_NODE = { type: 'generic_node', labels: { location: 'global', namespace: '', node_id: '' } };
const TRACE = 'projects/fakeprojectid/traces/ad57e7b40d6f172d04f8a0e1b80cafe4';

describe('googlecloud: upstream logs_span_trace_id fixture', () => {
  const common = [kv('file.name', str('apache.log')), kv('gcp.log_name', str('my-log-name-foo'))];
  const traceId = idFromHex('ad57e7b40d6f172d04f8a0e1b80cafe4', 16);
  const rls: ResourceLogs[] = [{
    resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '',
    scopeLogs: [{
      scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '',
      logRecords: [
        rec('1655923556339005014', { body: body('this log has IsSampled=0'), flags: 0, attributes: common, traceId, spanId: idFromHex('d39ba683befbd246', 8) }),
        rec('1655923556339179012', { body: body('this log has IsSampled=1'), flags: 1, attributes: common, traceId, spanId: idFromHex('97c0f2f642dd1306', 8) }),
        rec('1655923556339195932', { body: body('this log has neither flag nor gcp.trace_sampled', ['level', 'msg', 'time']), attributes: common, traceId, spanId: idFromHex('fded437fb39abed9', 8) }),
        rec('1655923556339234508', { body: body('this log has gcp.trace_sampled=false'), attributes: [...common, kv('gcp.trace_sampled', { boolValue: false })], traceId, spanId: idFromHex('6acb5055846322e7', 8) }),
        rec('1655923556339240397', { body: body('this log has gcp.trace_sampled=true'), attributes: [...common, kv('gcp.trace_sampled', { boolValue: true })], traceId, spanId: idFromHex('d9ae3a7b26ef239f', 8) }),
      ],
    }],
  }];

  it('each entry as upstream: generic_node resource, jsonPayload, gcp.* not labels, trace/spanId, traceSampled from the flag or gcp.trace_sampled', () => {
    const got = entries(rls);
    const entry = (msg: string, spanId: string, sampled: boolean): Record<string, unknown> => ({
      logName: 'projects/fakeprojectid/logs/my-log-name-foo', resource: GENERIC_NODE,
      jsonPayload: { body: { level: 'info', msg, time: '2022-06-22T16:13:19Z' } },
      labels: { 'file.name': 'apache.log' }, trace: TRACE, spanId, ...(sampled ? { traceSampled: true } : {}),
    });
    expect(got.map((e) => ({ ...e, timestamp: undefined }))).toEqual([
      entry('this log has IsSampled=0', 'd39ba683befbd246', false),
      entry('this log has IsSampled=1', '97c0f2f642dd1306', true),
      entry('this log has neither flag nor gcp.trace_sampled', 'fded437fb39abed9', false),
      entry('this log has gcp.trace_sampled=false', '6acb5055846322e7', false),
      entry('this log has gcp.trace_sampled=true', 'd9ae3a7b26ef239f', true),
    ].map((e) => ({ ...e, timestamp: undefined })));
    expect(got[0]!['timestamp']).toBe('2022-06-22T18:45:56.339005014Z');
  });
});

describe('googlecloud: upstream logs_k8s_container fixture', () => {
  it('k8s_container resource from cloud.platform gcp_kubernetes_engine and the k8s attributes', () => {
    const rls: ResourceLogs[] = [{
      resource: {
        attributes: [
          kv('cloud.availability_zone', str('us-central1-c')), kv('k8s.container.name', str('prometheus-to-sd-exporter')), kv('k8s.namespace.name', str('kube-system')),
          kv('k8s.pod.name', str('event-exporter-gke-664546f4f8-4s526')), kv('cloud.platform', str('gcp_kubernetes_engine')), kv('k8s.cluster.name', str('rabbitmq-test-dev')),
        ],
        droppedAttributesCount: 0,
      },
      schemaUrl: '',
      scopeLogs: [{
        scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '',
        logRecords: [rec('1655923556339005014', { body: body('k8s_container log'), attributes: [kv('test.monitoredresource', str('true')), kv('gcp.log_name', str('monitored-resource-test'))] })],
      }],
    }];
    const [e] = entries(rls);
    expect({ ...e, timestamp: undefined }).toEqual({
      logName: 'projects/fakeprojectid/logs/monitored-resource-test',
      resource: {
        type: 'k8s_container',
        labels: { cluster_name: 'rabbitmq-test-dev', container_name: 'prometheus-to-sd-exporter', location: 'us-central1-c', namespace_name: 'kube-system', pod_name: 'event-exporter-gke-664546f4f8-4s526' },
      },
      jsonPayload: { body: { level: 'info', msg: 'k8s_container log', time: '2022-06-22T16:13:19Z' } },
      labels: { 'test.monitoredresource': 'true' },
      timestamp: undefined,
    });
  });
});

function single(resource: KeyValue[], msg: string, attributes: KeyValue[]): Record<string, unknown> {
  const rls: ResourceLogs[] = [{
    resource: { attributes: resource, droppedAttributesCount: 0 }, schemaUrl: '',
    scopeLogs: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [rec('1655923556339005014', { body: body(msg), attributes })] }],
  }];
  const got = entries(rls);
  expect(got).toHaveLength(1);
  return { ...got[0], timestamp: undefined };
}

describe('googlecloud: upstream logs_gce_instance and logs_source_location fixtures', () => {
  it('gce_instance from gcp_compute_engine with host.id and the zone', () => {
    const resource = [kv('cloud.availability_zone', str('us-central1-c')), kv('cloud.platform', str('gcp_compute_engine')), kv('host.id', str('6041385321835499022'))];
    expect(single(resource, 'gce_instance log', [kv('test.monitoredresource', str('true')), kv('gcp.log_name', str('monitored-resource-test'))])).toEqual({
      logName: 'projects/fakeprojectid/logs/monitored-resource-test',
      resource: { type: 'gce_instance', labels: { instance_id: '6041385321835499022', zone: 'us-central1-c' } },
      jsonPayload: { body: { level: 'info', msg: 'gce_instance log', time: '2022-06-22T16:13:19Z' } },
      labels: { 'test.monitoredresource': 'true' },
      timestamp: undefined,
    });
  });

  it('code.* attributes stay labels (AsString); no sourceLocation from them', () => {
    const attributes = [
      kv('code.file.path', str('main.go')), kv('code.function.name', str('otlplogsfunc')), kv('code.line.number', { intValue: 123 }),
      kv('anotherlabel', { intValue: 123 }), kv('gcp.log_name', str('my-log-name-foo')),
    ];
    expect(single([], 'this log has source_location', attributes)).toEqual({
      logName: 'projects/fakeprojectid/logs/my-log-name-foo', resource: GENERIC_NODE,
      jsonPayload: { body: { level: 'info', msg: 'this log has source_location', time: '2022-06-22T16:13:19Z' } },
      labels: { anotherlabel: '123', 'code.file.path': 'main.go', 'code.function.name': 'otlplogsfunc', 'code.line.number': '123' },
      timestamp: undefined,
    });
  });
});
