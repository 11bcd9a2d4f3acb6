import { context, trace, TraceFlags } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOG_KEY_PRESETS } from './config';
import { CORRELATION_KEY } from './correlation';
import { TributaryLogProcessor } from './log-processor';
import { createLogger } from './logger';
import { Redactor } from './redact';

const exporter = new InMemoryLogRecordExporter();
const provider = new LoggerProvider({
  processors: [new TributaryLogProcessor(new SimpleLogRecordProcessor({ exporter }), { minSeverity: 5, logKeys: LOG_KEY_PRESETS.default, redactor: new Redactor(['password'], '[REDACTED]') })],
});
const manager = new AsyncLocalStorageContextManager();
const lines: string[] = [];
const destination = { write: (s: string): void => { lines.push(s); } };
const sc = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };

beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
  logs.setGlobalLoggerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  logs.disable();
  context.disable();
});
beforeEach(() => {
  exporter.reset();
  lines.length = 0;
});

function inRequest(fn: () => void): void {
  context.with(trace.setSpanContext(context.active(), sc).setValue(CORRELATION_KEY, 'cid-1'), fn);
}

describe('createLogger', () => {
  it('writes a JSON line with ids and emits a correlated OTLP record', () => {
    const log = createLogger({ service: 'billing', destination, fields: { region: 'eu' } });
    inRequest(() => log.info('charged', { amount: 12, password: 'pw' }));
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', service: 'billing', msg: 'charged', region: 'eu', amount: 12, password: '[REDACTED]', trace_id: sc.traceId, span_id: sc.spanId, trace_flags: '01', correlation_id: 'cid-1' });
    const [rec] = exporter.getFinishedLogRecords();
    expect(rec!.body).toBe('charged');
    expect(rec!.severityNumber).toBe(9);
    expect(rec!.spanContext?.traceId).toBe(sc.traceId);
    expect(rec!.attributes).toMatchObject({ region: 'eu', amount: 12, password: '[REDACTED]', correlation_id: 'cid-1' });
    expect(rec!.instrumentationScope.name).toBe('billing');
  });

  it('child() adds fields; error() carries the exception; levels below the threshold are skipped', () => {
    const log = createLogger({ service: 's', destination, level: 'info' }).child({ order: 7 });
    log.debug('hidden');
    log.error('failed', new TypeError('bad input'), { step: 'pay' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', order: 7, step: 'pay', err: { type: 'TypeError', message: 'bad input' } });
    const [rec] = exporter.getFinishedLogRecords();
    expect(rec!.attributes).toMatchObject({ order: 7, step: 'pay', 'exception.type': 'TypeError', 'exception.message': 'bad input' });
    expect(String(rec!.attributes['exception.stacktrace'])).toContain('TypeError: bad input');
  });

  it('startTimer() logs duration_ms once', async () => {
    const log = createLogger({ service: 's', destination });
    const t = log.startTimer('db.query', { table: 'orders' });
    await new Promise((r) => setTimeout(r, 15));
    const ms = t.stop();
    expect(t.stop()).toBe(ms);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'db.query', timer: 'db.query', table: 'orders' });
    expect(line['duration_ms']).toBeGreaterThanOrEqual(10);
    expect(exporter.getFinishedLogRecords()[0]!.attributes['duration_ms']).toBe(line['duration_ms']);
  });

  it('audit() tags the record log.category = "audit" for forever-retention', () => {
    const log = createLogger({ service: 's', destination });
    inRequest(() => log.audit('user.role_changed', { actor: 'admin', target: 'u1' }));
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'user.role_changed', 'log.category': 'audit', 'event.name': 'user.role_changed', correlation_id: 'cid-1' });
    const [rec] = exporter.getFinishedLogRecords();
    expect(rec!.attributes).toMatchObject({ 'log.category': 'audit', actor: 'admin', correlation_id: 'cid-1' });
    expect(rec!.eventName).toBe('user.role_changed');
  });
});

describe('TributaryLogProcessor', () => {
  it('drops records below the sending threshold and strips id fields copied from the line', () => {
    const l = logs.getLogger('t');
    l.emit({ severityNumber: 1, body: 'too quiet' });
    inRequest(() => l.emit({ severityNumber: 13, body: 'kept', attributes: { trace_id: 'x', span_id: 'y', trace_flags: '01', k: 'v' } }));
    const recs = exporter.getFinishedLogRecords();
    expect(recs.map((r) => r.body)).toEqual(['kept']);
    expect(recs[0]!.attributes).toEqual({ k: 'v', correlation_id: 'cid-1' });
  });
});
