/**
 * Upstream's pinned CloudWatch conversions, case by case. The inputs and expected messages are rebuilt from
 * TestLogToCWLog in opentelemetry-collector-contrib exporter/awscloudwatchlogsexporter/exporter_test.go
 * (commit 463d7730f8e1117416fa30d6d2c467a091e6811a) and the scope object of exporter.go
 * (commit d82fcbbc67000fe10b4636831b9fb97d7ab284dc): message field order, omitempty, hex ids, raw_log and
 * the EMF v0/v1 group/stream override.
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import type { AnyValue, KeyValue, LogRecord, ResourceLogs } from '@tributary/otlp';
import { compileNameTemplate, convertToCloudWatchLogs, type CloudWatchConvertOptions } from './convert.js';

const str = (s: string): AnyValue => ({ stringValue: s });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

/** Upstream's record time 1609719139000000 ns: integer milliseconds 1609719139. */
const TIME_NS = Long.fromString('1609719139000000', true);
const TIME_MS = 1609719139;
/** "now" one second later, so the event is neither too old nor in the future. */
const NOW = TIME_MS + 1000;

function upstreamRecord(withTrace: boolean, body = 'hello world'): LogRecord {
  return {
    timeUnixNano: TIME_NS,
    observedTimeUnixNano: Long.UZERO,
    severityNumber: 5,
    severityText: 'debug',
    body: str(body),
    attributes: [kv('key1', { intValue: 1 }), kv('key2', str('attr2'))],
    droppedAttributesCount: 4,
    flags: withTrace ? 1 : 0,
    traceId: withTrace ? Uint8Array.from({ length: 16 }, (_, i) => i + 1) : new Uint8Array(0),
    spanId: withTrace ? Uint8Array.from({ length: 8 }, (_, i) => i + 1) : new Uint8Array(0),
    eventName: '',
  };
}

function emfRecord(body: string): LogRecord {
  return { ...upstreamRecord(false, body), severityNumber: 0, severityText: '', attributes: [], droppedAttributesCount: 0 };
}

const RESOURCE = [kv('host', str('abc123')), kv('node', { intValue: 5 })];

function tree(lr: LogRecord, resource: KeyValue[], scope: ResourceLogs['scopeLogs'][number]['scope'] = null): ResourceLogs[] {
  return [{ resource: { attributes: resource, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope, schemaUrl: '', logRecords: [lr] }] }];
}

function options(rawLog: boolean, group = 'tLogGroup', stream = 'tStreamName'): CloudWatchConvertOptions {
  return { rawLog, logGroup: compileNameTemplate(group, 'group'), logStream: compileNameTemplate(stream, 'stream'), defaultRetentionDays: 0 };
}

function only(rls: ResourceLogs[], o: CloudWatchConvertOptions): { group: string; stream: string; timestamp: number; message: string } {
  const conv = convertToCloudWatchLogs(rls, o, NOW);
  expect(conv.calls).toHaveLength(1);
  const call = conv.calls[0]!;
  expect(call.logEvents).toHaveLength(1);
  return { group: call.logGroupName, stream: call.logStreamName, ...call.logEvents[0]! };
}

const EMF_V1 = '{"_aws":{"Timestamp":1574109732004,"LogGroupName":"Foo","CloudWatchMetrics":[{"Namespace":"MyApp","Dimensions":[["Operation"]],"Metrics":[{"Name":"ProcessingLatency","Unit":"Milliseconds","StorageResolution":60}]}]},"Operation":"Aggregator","ProcessingLatency":100}';
const EMF_V1_STREAM = '{"_aws":{"Timestamp":1574109732004,"LogGroupName":"Foo","LogStreamName":"Foo","CloudWatchMetrics":[{"Namespace":"MyApp","Dimensions":[["Operation"]],"Metrics":[{"Name":"ProcessingLatency","Unit":"Milliseconds","StorageResolution":60}]}]},"Operation":"Aggregator","ProcessingLatency":100}';
const EMF_V0 = '{"Timestamp":1574109732004,"log_group_name":"Foo","CloudWatchMetrics":[{"Namespace":"MyApp","Dimensions":[["Operation"]],"Metrics":[{"Name":"ProcessingLatency","Unit":"Milliseconds","StorageResolution":60}]}],"Operation":"Aggregator","ProcessingLatency":100}';
const EMF_V0_STREAM = '{"Timestamp":1574109732004,"log_group_name":"Foo","log_stream_name":"Foo","CloudWatchMetrics":[{"Namespace":"MyApp","Dimensions":[["Operation"]],"Metrics":[{"Name":"ProcessingLatency","Unit":"Milliseconds","StorageResolution":60}]}],"Operation":"Aggregator","ProcessingLatency":100}';

describe('awscloudwatchlogs convert: upstream TestLogToCWLog cases', () => {
  it('basic: every field, hex ids, attributes and resource with their JSON types', () => {
    expect(only(tree(upstreamRecord(true), RESOURCE), options(false))).toEqual({
      group: 'tLogGroup', stream: 'tStreamName', timestamp: TIME_MS,
      message: '{"body":"hello world","severity_number":5,"severity_text":"debug","dropped_attributes_count":4,"flags":1,' +
        '"trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"0102030405060708","attributes":{"key1":1,"key2":"attr2"},' +
        '"resource":{"host":"abc123","node":5}}',
    });
  });

  it('no resource: the resource key is left out', () => {
    expect(only(tree(upstreamRecord(true), []), options(false)).message).toBe(
      '{"body":"hello world","severity_number":5,"severity_text":"debug","dropped_attributes_count":4,"flags":1,' +
        '"trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"0102030405060708","attributes":{"key1":1,"key2":"attr2"}}',
    );
  });

  it('no trace: trace_id, span_id and flags 0 are left out', () => {
    expect(only(tree(upstreamRecord(false), RESOURCE), options(false))).toEqual({
      group: 'tLogGroup', stream: 'tStreamName', timestamp: TIME_MS,
      message: '{"body":"hello world","severity_number":5,"severity_text":"debug","dropped_attributes_count":4,' +
        '"attributes":{"key1":1,"key2":"attr2"},"resource":{"host":"abc123","node":5}}',
    });
  });

  it('scope: name, version, attributes between attributes and resource; a scope without a name is left out', () => {
    const scope = { name: 'io.example.lib', version: '1.2.0', attributes: [kv('lib', str('x'))], droppedAttributesCount: 0 };
    expect(only(tree(upstreamRecord(false), RESOURCE, scope), options(false)).message).toBe(
      '{"body":"hello world","severity_number":5,"severity_text":"debug","dropped_attributes_count":4,' +
        '"attributes":{"key1":1,"key2":"attr2"},"scope":{"name":"io.example.lib","version":"1.2.0","attributes":{"lib":"x"}},' +
        '"resource":{"host":"abc123","node":5}}',
    );
    const unnamed = { name: '', version: '1.2.0', attributes: [kv('lib', str('x'))], droppedAttributesCount: 0 };
    expect(only(tree(upstreamRecord(false), [], unnamed), options(false)).message).not.toContain('"scope"');
  });

  it('raw: the message is the body as a string', () => {
    expect(only(tree(upstreamRecord(false), RESOURCE), options(true))).toEqual({ group: 'tLogGroup', stream: 'tStreamName', timestamp: TIME_MS, message: 'hello world' });
  });

  it.each([
    ['raw emf v1', EMF_V1, 'Foo', 'tStreamName'],
    ['raw emf v1 with log stream', EMF_V1_STREAM, 'Foo', 'Foo'],
    ['raw emf v0', EMF_V0, 'Foo', 'tStreamName'],
    ['raw emf v0 with log stream', EMF_V0_STREAM, 'Foo', 'Foo'],
  ])('%s: the EMF document names the group (and stream), the message is kept byte for byte', (_name, body, group, stream) => {
    expect(only(tree(emfRecord(body), RESOURCE), options(true))).toEqual({ group, stream, timestamp: TIME_MS, message: body });
  });

  it('EMF names are only read with raw_log: otherwise the document is the body of the JSON message', () => {
    const got = only(tree(emfRecord(EMF_V1), []), options(false));
    expect([got.group, got.stream]).toEqual(['tLogGroup', 'tStreamName']);
    expect(got.message).toBe(`{"body":${JSON.stringify(EMF_V1)}}`);
  });
});
