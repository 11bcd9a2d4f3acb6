/**
 * Batches for tests: `testBatch` builds a small varied batch (resource and scope attributes, severities,
 * string and map bodies, trace ids); `frozenBatch` the same deep-frozen, so a component that declares
 * `mutatesData: false` but changes its input throws in the test.
 */
import Long from 'long';
import type { KeyValue, LogRecord, ResourceLogs } from '@tributary/otlp';
import type { LogsBatch } from '../../collector/src/component.js';

const kv = (key: string, value: string | number | boolean): KeyValue => ({
  key,
  value: typeof value === 'string' ? { stringValue: value } : typeof value === 'boolean' ? { boolValue: value } : { intValue: Long.fromNumber(value) },
});

function record(i: number): LogRecord {
  const sev = [5, 9, 13, 17][i % 4]!;
  return {
    timeUnixNano: Long.fromNumber(1_700_000_000_000 + i).multiply(1_000_000),
    observedTimeUnixNano: Long.fromNumber(1_700_000_000_000 + i).multiply(1_000_000),
    severityNumber: sev,
    severityText: ['DEBUG', 'INFO', 'WARN', 'ERROR'][i % 4]!,
    body: i % 3 === 2 ? { kvlistValue: { values: [kv('msg', `record ${i}`), kv('n', i)] } } : { stringValue: `record ${i} GET /checkout 200` },
    attributes: [kv('n', i), kv('http.method', 'GET'), kv('user.email', `u${i}@example.com`)],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: new Uint8Array(16).fill(i + 1),
    spanId: new Uint8Array(8).fill(i + 1),
    eventName: '',
  };
}

/** `n` records (default 6) under two resources, the second with two scopes. */
export function testBatch(n = 6): LogsBatch {
  const recs = Array.from({ length: n }, (_, i) => record(i));
  const third = Math.ceil(n / 3);
  const resourceLogs: ResourceLogs[] = [
    {
      resource: { attributes: [kv('service.name', 'api'), kv('host.name', 'web-1')], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{ scope: { name: 'app', version: '1.0.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: recs.slice(0, third) }],
    },
    {
      resource: { attributes: [kv('service.name', 'worker')], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [
        { scope: { name: 'jobs', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: recs.slice(third, 2 * third) },
        { scope: null, schemaUrl: '', logRecords: recs.slice(2 * third) },
      ],
    },
  ];
  return { resourceLogs, recordCount: n, receivedAt: performance.now() };
}

function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v) || ArrayBuffer.isView(v)) return v;
  Object.freeze(v);
  for (const key of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[key]);
  return v;
}

/** `testBatch(n)` deep-frozen (byte arrays excepted: they cannot be frozen). */
export function frozenBatch(n = 6): LogsBatch {
  return deepFreeze(testBatch(n));
}
