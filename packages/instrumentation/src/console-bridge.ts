/**
 * The console bridge: console.log/info/debug/warn/error/trace keep printing as before, gain the id fields,
 * and each call is also emitted as an OTLP log record with the matching severity.
 */
import { format } from 'node:util';
import { context } from '@opentelemetry/api';
import { logs, SeverityNumber, type AnyValue, type LogAttributes, type Logger } from '@opentelemetry/api-logs';
import { isTracingSuppressed } from '@opentelemetry/core';
import type { LogKeys } from './config';
import { idsOf, validSpanContext } from './context';
import { writeIdFields } from './correlation';
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
  /** Add the id fields to what the app prints (TRIBUTARY_STDOUT_IDS, default true). */
  stdoutIds: boolean;
}

/** The unpatched console methods, for the SDK's own diagnostics (which must not loop back into the bridge). */
export function originalConsole(): Record<ConsoleMethod, ConsoleFn> {
  const saved = (console as unknown as Record<symbol, Record<ConsoleMethod, ConsoleFn> | undefined>)[ORIGINALS];
  return saved ?? (console);
}

type Rec = Record<string, unknown>;

function isPlainObject(v: unknown): v is Rec {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A JSON object in a string (`console.log(JSON.stringify(x))`), parsed; anything else undefined. */
function jsonObject(s: string): Rec | undefined {
  if (s.length < 2 || s.charCodeAt(0) !== 123 /* { */ || s.charCodeAt(s.length - 1) !== 125 /* } */) return undefined;
  try {
    const v = JSON.parse(s) as unknown;
    return isPlainObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

interface ConsoleRecord { body: unknown; fields: Rec | undefined }

/**
 * What the call said, as a record: one object (or one JSON string) gives its `msg`/`message` as the body and
 * the rest as attributes, or a structured body when it has no message; `console.log('text', {fields})` gives
 * the text as the body and the fields as attributes; anything else is the formatted text.
 */
export function consoleRecord(args: readonly unknown[], formatted: string): ConsoleRecord {
  if (args.length === 1) {
    const a = args[0];
    const obj = isPlainObject(a) ? a : typeof a === 'string' ? jsonObject(a) : undefined;
    if (obj !== undefined) {
      const key = typeof obj['msg'] === 'string' ? 'msg' : typeof obj['message'] === 'string' ? 'message' : undefined;
      if (key === undefined) return { body: obj, fields: undefined };
      const fields: Rec = {};
      for (const k in obj) if (k !== key && Object.prototype.hasOwnProperty.call(obj, k)) fields[k] = obj[k];
      return { body: obj[key], fields };
    }
    return { body: formatted, fields: undefined };
  }
  const last = args[args.length - 1];
  if (args.length >= 2 && isPlainObject(last)) {
    let plainText = true;
    for (let i = 0; i < args.length - 1; i++) {
      const a = args[i];
      if (typeof a === 'string' ? a.includes('%') : a !== null && typeof a === 'object') { plainText = false; break; }
    }
    if (plainText) return { body: format(...args.slice(0, -1)), fields: last };
  }
  return { body: formatted, fields: undefined };
}

export function installConsoleBridge(options: ConsoleBridgeOptions): () => void {
  const target = console as unknown as Record<ConsoleMethod, ConsoleFn> & Record<symbol, unknown>;
  if (target[ORIGINALS]) return () => undefined;
  const originals = {} as Record<ConsoleMethod, ConsoleFn>;
  for (const [name] of METHODS) originals[name] = target[name];
  target[ORIGINALS] = originals;

  let otel: Logger | undefined;
  let busy = false;
  const { logKeys, redactor, minSeverity, stdoutIds } = options;

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
        const { sc, correlationId } = idsOf(ctx);
        const hasIds = stdoutIds && (validSpanContext(sc) || correlationId !== undefined);
        const formatted = format(...args);
        if (hasIds) {
          const ids: Record<string, unknown> = {};
          writeIdFields(ids, sc, correlationId, logKeys);
          original.apply(console, withIds(args, formatted, ids));
        } else {
          original.apply(console, args);
        }
        if (severityNumber >= minSeverity) {
          otel ??= logs.getLogger(`${PACKAGE_NAME}/console`, PACKAGE_VERSION);
          let exception: unknown;
          for (const a of args) if (a instanceof Error) { exception = a; break; }
          const { body, fields } = exception === undefined ? consoleRecord(args, formatted) : { body: formatted, fields: undefined };
          otel.emit({
            severityNumber, severityText, body: body as AnyValue, context: ctx,
            attributes: fields !== undefined ? { ...(fields as LogAttributes), 'log.source': 'console' } : { 'log.source': 'console' },
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

/**
 * Where the id fields go in what the app prints: inside a JSON line or a logged object (as fields), before a
 * multi-line message (so they stay on its first line), else `key=value` pairs after it.
 */
export function withIds(args: unknown[], formatted: string, ids: Record<string, unknown>): unknown[] {
  const first = args[0];
  if (args.length === 1) {
    if (typeof first === 'string' && first.length > 2 && first.charCodeAt(0) === 123 /* { */ && first.charCodeAt(first.length - 1) === 125 /* } */) {
      const json = JSON.stringify(ids);
      return [`${json.slice(0, -1)},${first.slice(1)}`];
    }
    if (isPlainObject(first)) return [{ ...first, ...ids }];
  }
  let pairs = '';
  for (const k in ids) pairs += `${pairs ? ' ' : ''}${k}=${String(ids[k])}`;
  if (formatted.includes('\n')) return [`${pairs} ${formatted}`];
  return [...args, pairs];
}
