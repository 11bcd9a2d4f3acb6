/**
 * Upstream's golden documents for logs, field for field. The input is rebuilt from createSampleContext /
 * createSampleLogRecord (opentelemetry-collector-contrib exporter/elasticsearchexporter, the doc examples test
 * file beside golden_test.go at commit a9c3be40ee81b19361f29a209a9cf9b0d8def15c); the expected documents from
 * testdata/golden/otel_logs.json (commit a9c3be40ee81b19361f29a209a9cf9b0d8def15c) and
 * testdata/golden/ecs_logs.json (commit 460013e6d1d8bcb191c81818793d58f058b2514d), none_logs.json (commit
 * 97aaac1348243a1f108fba643a989bebcf31ae81) and raw_logs.json (commit 9361c6afe57084d70311844d4535702c5d2fc7ce); and the
 * TestDocumentExamples log cases (doc_examples_test.go, commit aa7aae56b659edc4e300eefc3cc0918ad79cea34) against
 * testdata/docs/otel_log.json (commit bc4ad96c064fe1b45db1a3811f150ee31d8fd55d), ecs_log.json and bodymap_log.json
 * (commit aa7aae56b659edc4e300eefc3cc0918ad79cea34), which encode to a plain index (no data stream fields).
 */
import { describe, expect, it } from 'vitest';
import { idFromHex, nanosFromDecimal, type AnyValue, type KeyValue, type ResourceLogs } from '@tributary/otlp';
import { convertToBulk, type EsConvertOptions } from './convert.js';

const str = (s: string): AnyValue => ({ stringValue: s });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
const SCHEMA = 'https://opentelemetry.io/schemas/1.21.0';

/** 2024-01-15T10:30:00Z, observed 1 ms later; INFO; ids 01..10 / 01..08; flags 1. */
function sample(): ResourceLogs[] {
  return [{
    resource: {
      attributes: [
        kv('service.name', str('test-service')), kv('service.version', str('1.0.0')), kv('service.instance.id', str('instance-123')),
        kv('deployment.environment', str('production')), kv('host.name', str('prod-server-01')), kv('host.arch', str('amd64')),
        kv('os.type', str('linux')), kv('os.version', str('5.15.0')), kv('telemetry.sdk.name', str('opentelemetry')),
        kv('telemetry.sdk.language', str('go')), kv('telemetry.sdk.version', str('1.21.0')),
      ],
      droppedAttributesCount: 0,
    },
    schemaUrl: SCHEMA,
    scopeLogs: [{
      scope: { name: 'github.com/example/myapp', version: '1.0.0', attributes: [kv('scope.attribute', str('example-value'))], droppedAttributesCount: 0 },
      schemaUrl: SCHEMA,
      logRecords: [{
        timeUnixNano: nanosFromDecimal('1705314600000000000'),
        observedTimeUnixNano: nanosFromDecimal('1705314600001000000'),
        severityText: 'INFO',
        severityNumber: 9,
        body: str('Sample log message with important information'),
        traceId: idFromHex('0102030405060708090a0b0c0d0e0f10', 16),
        spanId: idFromHex('0102030405060708', 8),
        flags: 1,
        attributes: [
          kv('http.method', str('GET')), kv('http.status_code', { intValue: 200 }), kv('http.url', str('https://example.com/api/v1/users')),
          kv('event.name', str('user.login')), kv('user.id', str('12345')), kv('success', { boolValue: true }), kv('duration_ms', { doubleValue: 45.67 }),
        ],
        droppedAttributesCount: 0,
        eventName: '',
      }],
    }],
  }];
}

function document(mode: EsConvertOptions['mode']): { action: unknown; doc: Record<string, unknown> } {
  const res = convertToBulk(sample(), { mode, maxRequestBytes: 1_000_000 });
  expect(res.requests).toHaveLength(1);
  const [action, doc] = res.requests[0]!.body.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
  return { action, doc: doc as Record<string, unknown> };
}

describe('elasticsearch: upstream golden log documents', () => {
  it('otel mode: otel_logs.json', () => {
    const { action, doc } = document('otel');
    // Upstream's golden test hands the encoder a fixed data stream (logs-generic-default); routed through the
    // exporter, otel mode adds the `.otel` dataset suffix (upstream's router does the same).
    expect(action).toEqual({ create: { _index: 'logs-generic.otel-default' } });
    expect(doc).toEqual({
      '@timestamp': '1705314600000.0',
      observed_timestamp: '1705314600001.0',
      data_stream: { type: 'logs', dataset: 'generic.otel', namespace: 'default' },
      severity_text: 'INFO',
      severity_number: 9,
      trace_id: '0102030405060708090a0b0c0d0e0f10',
      span_id: '0102030405060708',
      attributes: {
        'http.method': 'GET', 'http.status_code': 200, 'http.url': 'https://example.com/api/v1/users', 'event.name': 'user.login',
        'user.id': '12345', success: true, duration_ms: 45.67,
      },
      event_name: 'user.login',
      resource: {
        schema_url: SCHEMA,
        attributes: {
          'service.name': 'test-service', 'service.version': '1.0.0', 'service.instance.id': 'instance-123', 'deployment.environment': 'production',
          'host.name': 'prod-server-01', 'host.arch': 'amd64', 'os.type': 'linux', 'os.version': '5.15.0', 'telemetry.sdk.name': 'opentelemetry',
          'telemetry.sdk.language': 'go', 'telemetry.sdk.version': '1.21.0',
        },
      },
      scope: { schema_url: SCHEMA, name: 'github.com/example/myapp', version: '1.0.0', attributes: { 'scope.attribute': 'example-value' } },
      body: { text: 'Sample log message with important information' },
    });
  });

  it('ecs mode: ecs_logs.json', () => {
    const { action, doc } = document('ecs');
    expect(action).toEqual({ create: { _index: 'logs-generic-default' } });
    expect(doc).toEqual({
      '@timestamp': '2024-01-15T10:30:00.000000000Z',
      data_stream: { dataset: 'generic', namespace: 'default', type: 'logs' },
      duration_ms: 45.67,
      event: { action: 'user.login', severity: 9 },
      host: { architecture: 'amd64', hostname: 'prod-server-01', name: 'prod-server-01', os: { platform: 'linux', version: '5.15.0' } },
      http: { method: 'GET', status_code: 200, url: 'https://example.com/api/v1/users' },
      log: { level: 'INFO' },
      message: 'Sample log message with important information',
      scope: { attribute: 'example-value' },
      service: { environment: 'production', language: { name: 'go', version: '1.21.0' }, name: 'test-service', node: { name: 'instance-123' }, version: '1.0.0' },
      span: { id: '0102030405060708' },
      success: true,
      trace: { id: '0102030405060708090a0b0c0d0e0f10' },
      user: { id: '12345' },
    });
  });

  const FLAT_COMMON = {
    '@timestamp': '2024-01-15T10:30:00.000000000Z',
    Body: 'Sample log message with important information',
    'Resource.deployment.environment': 'production', 'Resource.host.arch': 'amd64', 'Resource.host.name': 'prod-server-01',
    'Resource.os.type': 'linux', 'Resource.os.version': '5.15.0', 'Resource.service.instance.id': 'instance-123',
    'Resource.service.name': 'test-service', 'Resource.service.version': '1.0.0', 'Resource.telemetry.sdk.language': 'go',
    'Resource.telemetry.sdk.name': 'opentelemetry', 'Resource.telemetry.sdk.version': '1.21.0',
    'Scope.name': 'github.com/example/myapp', 'Scope.scope.attribute': 'example-value', 'Scope.version': '1.0.0',
    SeverityNumber: 9, SeverityText: 'INFO', SpanId: '0102030405060708', TraceFlags: 1, TraceId: '0102030405060708090a0b0c0d0e0f10',
  };

  it('none mode: none_logs.json', () => {
    const { action, doc } = document('none');
    expect(action).toEqual({ create: { _index: 'logs-generic-default' } });
    expect(doc).toEqual({
      ...FLAT_COMMON,
      'Attributes.data_stream.dataset': 'generic', 'Attributes.data_stream.namespace': 'default', 'Attributes.data_stream.type': 'logs',
      'Attributes.duration_ms': 45.67, 'Attributes.event.name': 'user.login', 'Attributes.http.method': 'GET', 'Attributes.http.status_code': 200,
      'Attributes.http.url': 'https://example.com/api/v1/users', 'Attributes.success': true, 'Attributes.user.id': '12345',
    });
  });

  it('raw mode: raw_logs.json', () => {
    const { action, doc } = document('raw');
    expect(action).toEqual({ create: { _index: 'logs-generic-default' } });
    expect(doc).toEqual({
      ...FLAT_COMMON,
      'data_stream.dataset': 'generic', 'data_stream.namespace': 'default', 'data_stream.type': 'logs',
      duration_ms: 45.67, 'event.name': 'user.login', 'http.method': 'GET', 'http.status_code': 200,
      'http.url': 'https://example.com/api/v1/users', success: true, 'user.id': '12345',
    });
  });
});

/** TestDocumentExamples' buildLog: 2024-03-12T20:00:41.123456789Z, ERROR, ids, user.id and event.name, no schema URLs. */
function docExampleLog(): ResourceLogs[] {
  return [{
    resource: { attributes: [kv('service.name', str('my-service')), kv('host.name', str('my-host')), kv('deployment.environment', str('production'))], droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeLogs: [{
      scope: { name: 'io.opentelemetry.example', version: '1.0.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '',
      logRecords: [{
        timeUnixNano: nanosFromDecimal('1710273641123456789'), observedTimeUnixNano: nanosFromDecimal('1710273641123456789'),
        severityNumber: 17, severityText: 'ERROR', body: str('User authentication failed'),
        traceId: idFromHex('0102030405060708090a0b0c0d0e0f10', 16), spanId: idFromHex('0102030405060708', 8), flags: 0,
        attributes: [kv('user.id', str('user-123')), kv('event.name', str('authentication.failure'))], droppedAttributesCount: 0, eventName: '',
      }],
    }],
  }];
}

function indexDoc(rls: ResourceLogs[], mode: EsConvertOptions['mode']): unknown {
  const res = convertToBulk(rls, { mode, logsIndex: 'logs-example', maxRequestBytes: 1_000_000 });
  const [action, doc] = res.requests[0]!.body.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
  expect(action).toEqual({ create: { _index: 'logs-example' } });
  return doc;
}

describe('elasticsearch: upstream TestDocumentExamples log documents (plain index)', () => {
  it('otel_log.json', () => {
    expect(indexDoc(docExampleLog(), 'otel')).toEqual({
      '@timestamp': '1710273641123.456789', observed_timestamp: '1710273641123.456789',
      severity_text: 'ERROR', severity_number: 17, trace_id: '0102030405060708090a0b0c0d0e0f10', span_id: '0102030405060708',
      attributes: { 'user.id': 'user-123', 'event.name': 'authentication.failure' }, event_name: 'authentication.failure',
      resource: { attributes: { 'service.name': 'my-service', 'host.name': 'my-host', 'deployment.environment': 'production' } },
      scope: { name: 'io.opentelemetry.example', version: '1.0.0' },
      body: { text: 'User authentication failed' },
    });
  });

  it('ecs_log.json', () => {
    expect(indexDoc(docExampleLog(), 'ecs')).toEqual({
      '@timestamp': '2024-03-12T20:00:41.123456789Z', event: { action: 'authentication.failure', severity: 17 },
      host: { hostname: 'my-host', name: 'my-host' }, log: { level: 'ERROR' }, message: 'User authentication failed',
      service: { environment: 'production', name: 'my-service' }, span: { id: '0102030405060708' },
      trace: { id: '0102030405060708090a0b0c0d0e0f10' }, user: { id: 'user-123' },
    });
  });

  it('bodymap_log.json: the map body is the document', () => {
    const body = { kvlistValue: { values: [
      kv('@timestamp', str('2024-03-12T20:00:41.123456789Z')), kv('message', str('User authentication failed')), kv('level', str('error')),
      kv('service', str('my-service')), kv('status_code', { intValue: 401 }),
    ] } };
    const rls: ResourceLogs[] = [{
      resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '',
      scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [{ ...docExampleLog()[0]!.scopeLogs[0]!.logRecords[0]!, body, attributes: [] }] }],
    }];
    expect(indexDoc(rls, 'bodymap')).toEqual({
      '@timestamp': '2024-03-12T20:00:41.123456789Z', message: 'User authentication failed', level: 'error', service: 'my-service', status_code: 401,
    });
  });
});
