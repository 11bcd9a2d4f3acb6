import { context, trace, TraceFlags } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attachPinoSender } from './pino-sender';

const exporter = new InMemoryLogRecordExporter();
const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
const otel = provider.getLogger('@opentelemetry/instrumentation-pino');
const manager = new AsyncLocalStorageContextManager();
const lines: string[] = [];
const destination = { write: (s: string): void => { lines.push(s); } };
const sc = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };

beforeAll(() => { context.setGlobalContextManager(manager.enable()); });
afterAll(async () => { await provider.shutdown(); logs.disable(); context.disable(); });
beforeEach(() => { exporter.reset(); lines.length = 0; });

function make(opts: pino.LoggerOptions = {}): pino.Logger {
  const log = pino(opts, destination);
  expect(attachPinoSender(log as unknown as Record<string, unknown>, pino as never, () => otel, () => true)).toBe(true);
  return log;
}

describe('pino sender', () => {
  it('builds the record from the logged object: bindings, fields, message, level, error, trace context', () => {
    const log = make({ name: 'shop' }).child({ component: 'cart' });
    context.with(trace.setSpanContext(context.active(), sc), () => {
      log.info({ route: '/a', n: 1, nested: { a: [1, 2] } }, 'hello %s', 'world');
      log.error(new TypeError('bad input'), 'failed');
    });
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ name: 'shop', component: 'cart', route: '/a', msg: 'hello world' });
    const [info, error] = exporter.getFinishedLogRecords();
    expect(info!.body).toBe('hello world');
    expect(info!.severityNumber).toBe(9);
    expect(info!.severityText).toBe('info');
    expect(info!.attributes).toEqual({ name: 'shop', component: 'cart', route: '/a', n: 1, nested: { a: [1, 2] } });
    expect(info!.spanContext?.traceId).toBe(sc.traceId);
    expect(JSON.parse(lines[0]!).time).toBe(info!.hrTime[0] * 1000 + Math.round(info!.hrTime[1] / 1e6));
    expect(error!.severityNumber).toBe(17);
    expect(error!.attributes).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'bad input' });
  });

  it('falls back to the line where object and line differ: pino redact paths, values JSON changes', () => {
    const log = make({ redact: ['user.password'] });
    log.info({ user: { name: 'ada', password: 'pw' }, when: new Date(0) }, 'login');
    const [rec] = exporter.getFinishedLogRecords();
    expect(rec!.attributes).toEqual({ user: { name: 'ada', password: '[Redacted]' }, when: '1970-01-01T00:00:00.000Z' });
    expect(rec!.body).toBe('login');
  });

  it('keeps metadata for a stream that wants it and does not wrap twice', () => {
    const inner = { write: (s: string): void => { lines.push(s); }, [Symbol.for('pino.metadata')]: true } as Record<string | symbol, unknown> & { write(s: string): void };
    const log = pino({}, inner);
    expect(attachPinoSender(log as unknown as Record<string, unknown>, pino as never, () => otel, () => true)).toBe(true);
    expect(attachPinoSender(log as unknown as Record<string, unknown>, pino as never, () => otel, () => true)).toBe(false);
    log.warn({ k: 'v' }, 'm');
    expect(inner['lastLevel']).toBe(40);
    expect(inner['lastMsg']).toBe('m');
    expect(exporter.getFinishedLogRecords()).toHaveLength(1);
  });
});

describe('pino sender → direct encoder', () => {
  it('encodes bindings, fields, message, error and ids straight into the batch; falls back to the line for values JSON changes', async () => {
    const { DirectLogs } = await import('./direct-logs');
    const { Redactor } = await import('./redact');
    const { LOG_KEY_PRESETS } = await import('./config');
    const { decodeExportRequest, keyValuesToRaw, anyValueToRaw } = await import('@tributary/otlp');
    const direct = new DirectLogs({
      url: 'http://127.0.0.1:9/v1/logs', headers: {}, timeoutMs: 1000, minSeverity: 0, logKeys: LOG_KEY_PRESETS.default,
      redactor: new Redactor(['password', 'token'], '[REDACTED]'), maxQueueSize: 100, maxExportBatchSize: 1000, scheduledDelayMs: 60_000,
      resourceAttributes: () => ({ 'service.name': 'pino-direct' }),
    });
    const target = direct.getLogger('@opentelemetry/instrumentation-pino');
    const log = pino({}, destination);
    expect(attachPinoSender(log as unknown as Record<string, unknown>, pino as never, () => target, () => true)).toBe(true);
    const child = log.child({ component: 'billing', password: 'in-bindings' });
    context.with(trace.setSpanContext(context.active(), sc), () => {
      child.info({ order: 7, password: 'pw', nested: { token: 'x', ok: true } }, 'charged');
      child.error(new TypeError('declined'), 'failed');
      child.info({ when: new Date(0) }, 'a date'); // JSON changes a Date: the line is parsed instead
    });
    const req = decodeExportRequest(direct.takeRequest());
    const recs = req.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(recs.map((r) => anyValueToRaw(r.body))).toEqual(['charged', 'failed', 'a date']);
    const a = keyValuesToRaw(recs[0]!.attributes);
    expect(a).toEqual({ component: 'billing', password: '[REDACTED]', order: 7, nested: { token: '[REDACTED]', ok: true } });
    expect(recs[0]!.severityText).toBe('INFO');
    expect(Buffer.from(recs[0]!.traceId).toString('hex')).toBe(sc.traceId);
    expect(keyValuesToRaw(recs[1]!.attributes)).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'declined' });
    expect(recs[1]!.severityNumber).toBe(17);
    expect(keyValuesToRaw(recs[2]!.attributes)).toMatchObject({ when: '1970-01-01T00:00:00.000Z', component: 'billing' });
  });
});
