/**
 * The console bridge: console.log/info/debug/warn/error/trace keep printing as before, gain the id fields,
 * and each call is also emitted as an OTLP log record with the matching severity.
 */
import { format } from 'node:util';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { logs, SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import { isTracingSuppressed } from '@opentelemetry/core';
import type { LogKeys } from './config';
import { getCorrelationId, writeIdFields } from './correlation';
import type { Redactor } from './redact';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version';

type ConsoleMethod = 'log' | 'info' | 'debug' | 'warn' | 'error' | 'trace';
type ConsoleFn = (...args: unknown[]) => void;

const METHODS: readonly (readonly [ConsoleMethod, SeverityNumber, string])[] = [
  ['log', SeverityNumber.INFO, 'INFO'],
  ['info', SeverityNumber.INFO, 'INFO'],
  ['debug', SeverityNumber.DEBUG, 'DEBUG'],
  ['warn', SeverityNumber.WARN, 'WARN'],
  ['error', SeverityNumber.ERROR, 'ERROR'],
  ['trace', SeverityNumber.TRACE, 'TRACE'],
];

const ORIGINALS = Symbol.for('tributary.console.originals');

export interface ConsoleBridgeOptions {
  logKeys: LogKeys;
  redactor: Redactor;
  minSeverity: number;
}

/** The unpatched console methods, for the SDK's own diagnostics (which must not loop back into the bridge). */
export function originalConsole(): Record<ConsoleMethod, ConsoleFn> {
  const saved = (console as unknown as Record<symbol, Record<ConsoleMethod, ConsoleFn> | undefined>)[ORIGINALS];
  return saved ?? (console);
}

export function installConsoleBridge(options: ConsoleBridgeOptions): () => void {
  const target = console as unknown as Record<ConsoleMethod, ConsoleFn> & Record<symbol, unknown>;
  if (target[ORIGINALS]) return () => undefined;
  const originals = {} as Record<ConsoleMethod, ConsoleFn>;
  for (const [name] of METHODS) originals[name] = target[name];
  target[ORIGINALS] = originals;

  let otel: Logger | undefined;
  let busy = false;
  const { logKeys, redactor, minSeverity } = options;

  // One wrapper per method, built once; per call only the id fields and the output are allocated.
  const make = (name: ConsoleMethod, severityNumber: SeverityNumber, severityText: string): ConsoleFn => {
    const original = originals[name];
    return function tributaryConsole(...args: unknown[]): void {
      const ctx = context.active();
      if (busy || isTracingSuppressed(ctx)) {
        original.apply(console, args);
        return;
      }
      busy = true;
      try {
        for (let i = 0; i < args.length; i++) args[i] = redactor.redact(args[i]);
        const sc = trace.getSpan(ctx)?.spanContext();
        const correlationId = getCorrelationId(ctx);
        const hasIds = (sc !== undefined && isSpanContextValid(sc)) || correlationId !== undefined;
        if (hasIds) {
          const ids: Record<string, unknown> = {};
          writeIdFields(ids, sc, correlationId, logKeys);
          original.apply(console, withIds(args, ids));
        } else {
          original.apply(console, args);
        }
        if (severityNumber >= minSeverity) {
          otel ??= logs.getLogger(`${PACKAGE_NAME}/console`, PACKAGE_VERSION);
          let exception: unknown;
          for (const a of args) if (a instanceof Error) { exception = a; break; }
          otel.emit({
            severityNumber, severityText, body: format(...args), context: ctx,
            attributes: { 'log.source': 'console' },
            ...(exception !== undefined ? { exception } : {}),
          });
        }
      } catch {
        // The app's console must keep working whatever happens on the way to OTLP.
      } finally {
        busy = false;
      }
    };
  };
  for (const [name, sev, text] of METHODS) target[name] = make(name, sev, text);
  return () => {
    for (const [name] of METHODS) target[name] = originals[name];
    delete target[ORIGINALS];
  };
}

/** A JSON line stays a JSON line (the ids go inside it); anything else gets `key=value` pairs appended. */
function withIds(args: unknown[], ids: Record<string, unknown>): unknown[] {
  const first = args[0];
  if (args.length === 1 && typeof first === 'string' && first.length > 2 && first.charCodeAt(0) === 123 /* { */ && first.charCodeAt(first.length - 1) === 125 /* } */) {
    const json = JSON.stringify(ids);
    return [`${json.slice(0, -1)},${first.slice(1)}`];
  }
  let suffix = '';
  for (const k in ids) suffix += `${suffix ? ' ' : ''}${k}=${String(ids[k])}`;
  return [...args, suffix];
}
