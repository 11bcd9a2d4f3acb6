/**
 * A small structured logger for code that wants one: JSON lines on stdout plus an OTLP record each,
 * correlated and redacted like the bridges. Works without `register` too (then only the stdout line).
 */
import { context, trace } from '@opentelemetry/api';
import { logs, SeverityNumber, type AnyValueMap, type Logger as OtelLogger } from '@opentelemetry/api-logs';
import { LOG_KEY_PRESETS, DEFAULT_REDACT_KEYS, type LogKeys } from './config';
import { getCorrelationId, writeIdFields } from './correlation';
import { Redactor } from './redact';
import { getRuntime } from './sdk';
import { PACKAGE_VERSION } from './version';

export type LogFields = Record<string, unknown>;
export type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LoggerOptions {
  service: string;
  /** Lowest level written and sent (default `info`, or TRIBUTARY_LOGGER_LEVEL). */
  level?: LevelName;
  /** Fields on every record. */
  fields?: LogFields;
  /** Where the JSON lines go (default process.stdout). */
  destination?: { write(line: string): unknown };
}

export interface Timer {
  /** Logs `<name>` with `duration_ms` and returns the duration. */
  stop(fields?: LogFields): number;
}

const SEVERITY: Record<LevelName, SeverityNumber> = {
  trace: SeverityNumber.TRACE, debug: SeverityNumber.DEBUG, info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN, error: SeverityNumber.ERROR, fatal: SeverityNumber.FATAL,
};
const TEXT: Record<LevelName, string> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'FATAL' };

interface Shared {
  service: string;
  threshold: SeverityNumber;
  destination: { write(line: string): unknown };
  otel: OtelLogger;
  keys: LogKeys;
  redactor: Redactor;
}

let fallbackRedactor: Redactor | undefined;

export class StructuredLogger {
  /** @internal */
  constructor(private readonly shared: Shared, private readonly bindings: LogFields) {}

  trace(message: string, fields?: LogFields): void { this.write('trace', message, fields, undefined, undefined); }
  debug(message: string, fields?: LogFields): void { this.write('debug', message, fields, undefined, undefined); }
  info(message: string, fields?: LogFields): void { this.write('info', message, fields, undefined, undefined); }
  warn(message: string, fields?: LogFields): void { this.write('warn', message, fields, undefined, undefined); }
  error(message: string, err?: unknown, fields?: LogFields): void { this.write('error', message, fields, err, undefined); }
  fatal(message: string, err?: unknown, fields?: LogFields): void { this.write('fatal', message, fields, err, undefined); }

  /** An audit record: `log.category = "audit"`, which the collector's retention processor keeps forever. */
  audit(event: string, fields?: LogFields): void {
    this.write('info', event, fields, undefined, event);
  }

  child(fields: LogFields): StructuredLogger {
    return new StructuredLogger(this.shared, { ...this.bindings, ...fields });
  }

  startTimer(name: string, fields?: LogFields): Timer {
    const started = process.hrtime.bigint();
    let stopped: number | undefined;
    return {
      stop: (more?: LogFields): number => {
        if (stopped !== undefined) return stopped;
        stopped = Number(process.hrtime.bigint() - started) / 1e6;
        this.write('info', name, { ...fields, ...more, timer: name, duration_ms: Math.round(stopped * 1000) / 1000 }, undefined, undefined);
        return stopped;
      },
    };
  }

  isLevelEnabled(level: LevelName): boolean {
    return SEVERITY[level] >= this.shared.threshold;
  }

  private write(level: LevelName, message: string, fields: LogFields | undefined, err: unknown, auditEvent: string | undefined): void {
    const s = this.shared;
    const severityNumber = SEVERITY[level];
    if (severityNumber < s.threshold) return;
    const attrs: LogFields = { ...this.bindings, ...fields };
    if (auditEvent !== undefined) {
      attrs['log.category'] = 'audit';
      attrs['event.name'] = auditEvent;
    }
    s.redactor.redactInPlace(attrs);
    const ctx = context.active();
    const line: LogFields = { time: new Date().toISOString(), level, service: s.service, msg: message, ...attrs };
    if (err !== undefined) line['err'] = serializeError(err);
    writeIdFields(line, trace.getSpan(ctx)?.spanContext(), getCorrelationId(ctx), s.keys);
    try {
      s.destination.write(`${JSON.stringify(line)}\n`);
    } catch {
      // a closed destination must not break the caller
    }
    s.otel.emit({
      severityNumber, severityText: TEXT[level], body: message, context: ctx,
      attributes: attrs as AnyValueMap,
      ...(err !== undefined ? { exception: err } : {}),
      ...(auditEvent !== undefined ? { eventName: auditEvent } : {}),
    });
  }
}

function serializeError(err: unknown): LogFields | string {
  if (err instanceof Error) return { type: err.name, message: err.message, stack: err.stack };
  return String(err);
}

export function createLogger(options: LoggerOptions): StructuredLogger {
  const rt = getRuntime();
  const envLevel = process.env['TRIBUTARY_LOGGER_LEVEL']?.toLowerCase() as LevelName | undefined;
  const level: LevelName = options.level ?? (envLevel && envLevel in SEVERITY ? envLevel : 'info');
  const redactor = rt?.redactor ?? (fallbackRedactor ??= new Redactor(DEFAULT_REDACT_KEYS, '[REDACTED]'));
  return new StructuredLogger({
    service: options.service,
    threshold: SEVERITY[level],
    destination: options.destination ?? process.stdout,
    otel: logs.getLogger(options.service, PACKAGE_VERSION),
    keys: rt?.config.logKeys ?? LOG_KEY_PRESETS.default,
    redactor,
  }, { ...options.fields });
}
