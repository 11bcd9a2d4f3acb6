import { ROOT_CONTEXT } from '@opentelemetry/api';
import { anyValueToRaw, decodeExportRequest, int64ToString, keyValuesToRaw } from '@tributary/otlp';
import { describe, expect, it } from 'vitest';
import { LOG_KEY_PRESETS } from './config';
import { childSpanContext, RequestContext } from './context';
import { DirectLogs } from './direct-logs';
import { Redactor } from './redact';

function pipeline(minSeverity = 0): DirectLogs {
  return new DirectLogs({
    url: 'http://127.0.0.1:9/v1/logs', headers: {}, timeoutMs: 1000, minSeverity, logKeys: LOG_KEY_PRESETS.default,
    redactor: new Redactor(['password'], '[REDACTED]'), maxQueueSize: 100, maxExportBatchSize: 1000, scheduledDelayMs: 60_000,
    resourceAttributes: () => ({ 'service.name': 'enc-test', 'host.name': 'h' }),
  });
}

describe('DirectLogs encoder', () => {
  it('encodes records the OTLP decoder reads back exactly: values, ids, times, exceptions, scopes', () => {
    const logs = pipeline(5);
    const sc = childSpanContext(undefined);
    const ctx = new RequestContext(sc, 'cid-1', undefined);
    const long = 'ü'.repeat(300);
    const a = logs.getLogger('scope-a', '1.2.3');
    a.emit({
      timestamp: [1796400000, 123456789], severityNumber: 13, severityText: 'warning', body: long, context: ctx,
      attributes: { n: 42, neg: -7, big: 2 ** 40, d: 1.5, b: true, arr: [1, 'x', { y: null }], nested: { password: 'pw', k: 'v' }, trace_id: 'drop-me' },
    });
    a.emit({ severityNumber: 1, body: 'below the threshold', context: ctx });
    logs.getLogger('scope-b').emit({
      timestamp: 1796400000123, severityNumber: 17, body: { structured: 'body', n: 1 }, context: ROOT_CONTEXT,
      exception: new TypeError('bad input'), eventName: 'evt',
    });
    const body = logs.takeRequest();
    expect(body).toBeDefined();
    const req = decodeExportRequest(body!);
    const rl = req.resourceLogs[0]!;
    expect(keyValuesToRaw(rl.resource!.attributes)).toEqual({ 'service.name': 'enc-test', 'host.name': 'h' });
    expect(rl.scopeLogs.map((s) => [s.scope?.name, s.scope?.version, s.logRecords.length])).toEqual([['scope-a', '1.2.3', 1], ['scope-b', '', 1]]);
    const r1 = rl.scopeLogs[0]!.logRecords[0]!;
    expect(int64ToString(r1.timeUnixNano)).toBe('1796400000123456789');
    expect(int64ToString(r1.observedTimeUnixNano)).toBe('1796400000123456789');
    expect(r1.severityNumber).toBe(13);
    expect(r1.severityText).toBe('WARN');
    expect(anyValueToRaw(r1.body)).toBe(long);
    expect(Buffer.from(r1.traceId).toString('hex')).toBe(sc.traceId);
    expect(Buffer.from(r1.spanId).toString('hex')).toBe(sc.spanId);
    expect(r1.flags).toBe(1);
    const attrs = keyValuesToRaw(r1.attributes);
    expect(attrs).toMatchObject({ n: 42, neg: -7, big: 2 ** 40, d: 1.5, b: true, 'log.level': 'warning', correlation_id: 'cid-1' });
    expect(attrs['arr']).toEqual([1, 'x', { y: null }]);
    expect(attrs['nested']).toEqual({ password: '[REDACTED]', k: 'v' });
    expect(attrs['trace_id']).toBeUndefined();
    const r2 = rl.scopeLogs[1]!.logRecords[0]!;
    expect(int64ToString(r2.timeUnixNano)).toBe('1796400000123000000');
    expect(anyValueToRaw(r2.body)).toEqual({ structured: 'body', n: 1 });
    expect(r2.eventName).toBe('evt');
    expect(r2.traceId.length).toBe(0);
    expect(keyValuesToRaw(r2.attributes)).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'bad input' });
    expect(String(keyValuesToRaw(r2.attributes)['exception.stacktrace'])).toContain('TypeError: bad input');
    // The buffers are empty afterwards.
    expect(logs.takeRequest()).toBeUndefined();
  });

  it('drops beyond the queue size and counts it', () => {
    const logs = pipeline();
    const l = logs.getLogger('s');
    for (let i = 0; i < 120; i++) l.emit({ severityNumber: 9, body: `line ${i}` });
    expect(logs.dropped).toBe(20);
    expect(decodeExportRequest(logs.takeRequest()!).resourceLogs[0]!.scopeLogs[0]!.logRecords).toHaveLength(100);
  });
});
