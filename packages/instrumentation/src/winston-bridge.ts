/**
 * What the official winston transport sends, with one rule changed: a record carries an exception only when
 * the app logged an `Error` (`logger.error(err)`, an `Error` among the arguments or as a field value). The
 * official transport also takes any object with `name`/`stack`/`message`/`code` for one, so
 * `log.info('user created', { name: 'bob' })` arrived with `exception.type = "bob"`.
 * The error is found where the app put it (`write`, before the formats run) and travels with the record under
 * a symbol, so `format.errors()` (which copies the error into a plain object) keeps it as the exception.
 */
import { context as otelContext, type Context } from '@opentelemetry/api';
import { logs, SeverityNumber, type AnyValue, type LogAttributes, type Logger } from '@opentelemetry/api-logs';

type Rec = Record<string | symbol, unknown>;

/** The app's error, set by the `write` patch; an enumerable symbol, so winston's `Object.assign` copies keep it. */
export const WINSTON_ERROR = Symbol.for('tributary.winston.error');
const OTEL_CONTEXT = Symbol.for('opentelemetry.js.contrib.winston.context');
const LEVEL = Symbol.for('level');
const SPLAT = Symbol.for('splat');
const SKIP = new Set(['message', 'level', 'trace_id', 'span_id', 'trace_flags', 'event.name']);
const MAX_DEPTH = 8;

/** The official transport's severities (npm, syslog and cli level sets). */
const LEVELS: Record<string, SeverityNumber> = {
  error: SeverityNumber.ERROR, warn: SeverityNumber.WARN, info: SeverityNumber.INFO, http: SeverityNumber.DEBUG3,
  verbose: SeverityNumber.DEBUG2, debug: SeverityNumber.DEBUG, silly: SeverityNumber.TRACE,
  emerg: SeverityNumber.FATAL3, alert: SeverityNumber.FATAL2, crit: SeverityNumber.FATAL, warning: SeverityNumber.WARN,
  notice: SeverityNumber.INFO2, help: SeverityNumber.INFO3, data: SeverityNumber.INFO2, prompt: SeverityNumber.TRACE4,
  input: SeverityNumber.TRACE2,
};

/** The error the app logged with this record, if any (called on the record as `write` receives it). */
export function findWinstonError(info: Rec): Error | undefined {
  if (info instanceof Error) return info;
  const splat = info[SPLAT];
  if (Array.isArray(splat)) for (const a of splat) if (a instanceof Error) return a;
  for (const k in info) {
    if (!Object.prototype.hasOwnProperty.call(info, k)) continue;
    const v = info[k];
    if (v instanceof Error) return v;
  }
  return undefined;
}

function normalize(value: unknown, depth: number, seen: Set<object>): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' || typeof value === 'symbol' ? String(value) : value;
  if (value instanceof Uint8Array) return value;
  if (depth > MAX_DEPTH || seen.has(value)) return '[Circular]';
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  if (value instanceof Date) return value.toISOString();
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => normalize(v, depth + 1, seen));
    const out: Rec = {};
    for (const k in value) if (Object.prototype.hasOwnProperty.call(value, k)) out[k] = normalize((value as Rec)[k], depth + 1, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

export function emitWinstonRecord(info: Rec, logger: Logger): void {
  const level = (info[LEVEL] ?? info['level']) as string;
  const error = (info[WINSTON_ERROR] as Error | undefined) ?? findWinstonError(info);
  const attributes: Rec = {};
  const seen = new Set<object>();
  for (const k in info) {
    if (!Object.prototype.hasOwnProperty.call(info, k) || SKIP.has(k)) continue;
    const v = info[k];
    if (v === undefined || typeof v === 'function') continue;
    if (v === error) continue;
    // winston copies the error's stack and cause next to the message of `log.error('failed', err)`.
    if (error !== undefined && ((k === 'stack' && v === error.stack) || (k === 'cause' && v === (error as { cause?: unknown }).cause))) continue;
    attributes[k] = normalize(v, 0, seen);
  }
  const eventName = info['event.name'];
  const ctx = info[OTEL_CONTEXT] as Context | undefined;
  const message = info['message'];
  logger.emit({
    severityNumber: LEVELS[level],
    severityText: level,
    body: (typeof message === 'string' ? message : normalize(message, 0, seen)) as AnyValue,
    attributes: attributes as LogAttributes,
    context: ctx ?? otelContext.active(),
    ...(error !== undefined ? { exception: error } : {}),
    ...(typeof eventName === 'string' ? { eventName } : {}),
  });
}

interface TransportThis { _logger?: Logger; emit(event: string, ...a: unknown[]): boolean }
interface TransportClass { prototype: { log(this: TransportThis, info: Rec, callback?: () => void): void } }

/** Replaces the official transport's record building (the class, its scope and its dedupe by name stay). */
export function installWinstonSender(): boolean {
  let Transport: TransportClass | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Transport = (require('@opentelemetry/winston-transport') as { OpenTelemetryTransportV3?: TransportClass }).OpenTelemetryTransportV3;
  } catch {
    return false;
  }
  if (!Transport) return false;
  Transport.prototype.log = function log(this: TransportThis, info: Rec, callback?: () => void): void {
    try {
      emitWinstonRecord(info, (this._logger ??= logs.getLogger('@opentelemetry/winston-transport')));
    } catch (err) {
      this.emit('warn', err);
    }
    this.emit('logged', info);
    if (callback) callback();
  };
  return true;
}
