import { ROOT_CONTEXT, TraceFlags, defaultTextMapGetter, defaultTextMapSetter } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { LOG_KEY_PRESETS } from './config';
import { CorrelationPropagator, getCorrelationId, writeIdFields } from './correlation';

const p = new CorrelationPropagator(['x-correlation-id', 'x-request-id']);

describe('CorrelationPropagator', () => {
  it('keeps an incoming id, from the first header that has one', () => {
    expect(getCorrelationId(p.extract(ROOT_CONTEXT, { 'x-correlation-id': 'abc' }, defaultTextMapGetter))).toBe('abc');
    expect(getCorrelationId(p.extract(ROOT_CONTEXT, { 'x-request-id': 'req-1' }, defaultTextMapGetter))).toBe('req-1');
  });

  it('generates one when absent or unsafe (control characters, too long)', () => {
    const gen = getCorrelationId(p.extract(ROOT_CONTEXT, {}, defaultTextMapGetter));
    expect(gen).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(getCorrelationId(p.extract(ROOT_CONTEXT, { 'x-correlation-id': 'a\r\nb' }, defaultTextMapGetter))).not.toBe('a\r\nb');
    expect(getCorrelationId(p.extract(ROOT_CONTEXT, { 'x-correlation-id': 'x'.repeat(200) }, defaultTextMapGetter))).toHaveLength(36);
  });

  it('injects under the first header name on outgoing calls', () => {
    const ctx = p.extract(ROOT_CONTEXT, { 'x-request-id': 'r-9' }, defaultTextMapGetter);
    const carrier: Record<string, string> = {};
    p.inject(ctx, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ 'x-correlation-id': 'r-9' });
  });
});

describe('writeIdFields', () => {
  const sc = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
  it('default keys, hex ids', () => {
    const o: Record<string, unknown> = {};
    writeIdFields(o, sc, 'c1', LOG_KEY_PRESETS.default);
    expect(o).toEqual({ trace_id: sc.traceId, span_id: sc.spanId, trace_flags: '01', correlation_id: 'c1' });
  });
  it('Datadog: low 64 bits in decimal; ECS: dotted names', () => {
    const dd: Record<string, unknown> = {};
    writeIdFields(dd, sc, undefined, LOG_KEY_PRESETS.datadog);
    expect(dd['dd.trace_id']).toBe(BigInt('0x8448eb211c80319c').toString());
    expect(dd['dd.span_id']).toBe(BigInt('0xb7ad6b7169203331').toString());
    const ecs: Record<string, unknown> = {};
    writeIdFields(ecs, sc, 'c', LOG_KEY_PRESETS.ecs);
    expect(ecs).toMatchObject({ 'trace.id': sc.traceId, 'span.id': sc.spanId, correlation_id: 'c' });
  });
});
