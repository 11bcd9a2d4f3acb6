import { SeverityNumber } from '@opentelemetry/api-logs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACT_KEYS, loadConfig, parseHeaders, parseSeverity } from './config';

describe('loadConfig', () => {
  it('defaults: http/protobuf to localhost:4318/v1/logs, logs exported, spans not, default keys', () => {
    const c = loadConfig({});
    expect(c.logsProtocol).toBe('http/protobuf');
    expect(c.logsEndpoint).toBe('http://localhost:4318/v1/logs');
    expect(c.logsExporters).toEqual(['otlp']);
    expect(c.tracesExporters).toEqual([]);
    expect(c.correlationHeaders).toEqual(['x-correlation-id', 'x-request-id']);
    expect(c.logKeys).toMatchObject({ traceId: 'trace_id', spanId: 'span_id', traceFlags: 'trace_flags', correlationId: 'correlation_id' });
    expect(c.minSeverity).toBe(SeverityNumber.UNSPECIFIED);
    expect(c.redactKeys).toEqual(DEFAULT_REDACT_KEYS);
    expect(c.bridges).toEqual(new Set(['console', 'pino', 'winston', 'bunyan']));
    expect(c.shutdownTimeoutMs).toBe(2000);
  });

  it('endpoint rules: base gets /v1/logs, the signal variable is used as is, grpc keeps the base', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).logsEndpoint).toBe('http://c:4318/v1/logs');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://d/custom' }).logsEndpoint).toBe('http://d/custom');
    const g = loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' });
    expect(g.logsProtocol).toBe('grpc');
    expect(g.logsEndpoint).toBe('http://c:4317');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' }).logsProtocol).toBe('http/json');
  });

  it('exporters: none disables, console and lists are read; traces only when asked', () => {
    expect(loadConfig({ OTEL_LOGS_EXPORTER: 'none' }).logsExporters).toEqual([]);
    expect(loadConfig({ OTEL_LOGS_EXPORTER: 'console,otlp' }).logsExporters).toEqual(['console', 'otlp']);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).tracesExporters).toEqual(['otlp']);
  });

  it('presets and per-key overrides for the id fields', () => {
    expect(loadConfig({ TRIBUTARY_LOG_KEYS: 'datadog' }).logKeys).toMatchObject({ traceId: 'dd.trace_id', spanId: 'dd.span_id', decimalIds: true });
    expect(loadConfig({ TRIBUTARY_LOG_KEYS: 'ecs' }).logKeys).toMatchObject({ traceId: 'trace.id', spanId: 'span.id' });
    expect(loadConfig({ TRIBUTARY_LOG_KEY_CORRELATION_ID: 'request_id' }).logKeys.correlationId).toBe('request_id');
  });

  it('Tributary settings', () => {
    const c = loadConfig({
      TRIBUTARY_CORRELATION_HEADERS: 'X-Trace-Ref', TRIBUTARY_LOGS_MIN_SEVERITY: 'warn', TRIBUTARY_REDACT_KEYS: 'pin, ssn',
      TRIBUTARY_BRIDGES: 'pino,console', TRIBUTARY_SHUTDOWN_TIMEOUT_MS: '500', OTEL_SDK_DISABLED: 'true',
    });
    expect(c.correlationHeaders).toEqual(['x-trace-ref']);
    expect(c.minSeverity).toBe(SeverityNumber.WARN);
    expect(c.redactKeys).toEqual(['pin', 'ssn']);
    expect(c.bridges).toEqual(new Set(['pino', 'console']));
    expect(c.shutdownTimeoutMs).toBe(500);
    expect(c.disabled).toBe(true);
    expect(loadConfig({ TRIBUTARY_REDACT_KEYS: '' }).redactKeys).toEqual([]);
    expect(loadConfig({}).stdoutIds).toBe(true);
    expect(loadConfig({ TRIBUTARY_STDOUT_IDS: 'false' }).stdoutIds).toBe(false);
  });

  it('headers and severities parse as the spec writes them', () => {
    expect(parseHeaders('api-key=a%20b, x=1,broken')).toEqual({ 'api-key': 'a b', x: '1' });
    expect(parseSeverity('ERROR', 0)).toBe(SeverityNumber.ERROR);
    expect(parseSeverity('13', 0)).toBe(13);
    expect(parseSeverity('loud', SeverityNumber.INFO)).toBe(SeverityNumber.INFO);
  });
});
