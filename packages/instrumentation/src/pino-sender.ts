/**
 * Sends pino records as OTLP without re-parsing the line pino just wrote. The official instrumentation puts a
 * `pino.multistream` with a `Writable` in front of the app's stream and `JSON.parse`s every line. Here the
 * logger's stream is wrapped by a plain object that asks pino for its metadata (`lastObj`, `lastMsg`,
 * `lastLevel`, `lastTime`, `lastLogger`, the same hand-over `multistream` uses), writes the line to the app's
 * stream unchanged, and builds the record from the object pino serialised: bindings (parsed once per logger),
 * the logged fields (through the logger's serializers), the message and the error.
 * The record matches what the official stream would send (same scope, severity mapping, attributes, `pid`,
 * `hostname` and id fields left out). Where the object and the line could differ, the line is parsed as
 * before: pino `redact` paths, a custom `formatters.log`, `nestedKey`, a custom time function, or values that
 * JSON would change (class instances, `toJSON`, non-finite numbers, bigints, deep nesting).
 */
import { context } from '@opentelemetry/api';
import { SeverityNumber, type Logger as OtelLogger, type LogAttributes, type LogRecord } from '@opentelemetry/api-logs';
import { DirectLogger } from './direct-logs';

type Rec = Record<string | symbol, unknown>;
type AnyFn = (...args: unknown[]) => unknown;
interface PinoSymbols { [name: string]: symbol }
interface PinoModule { symbols: PinoSymbols; stdTimeFunctions?: { epochTime?: unknown } }
interface Stream extends Rec { write(s: string): unknown }

/** Marks a `formatters.log` installed by Tributary (only redacts): the object is still the line's source. */
export const TRIBUTARY_FORMATTER = Symbol.for('tributary.pino.formatter');
const WRAPPED = Symbol.for('tributary.pino.sender');
const METADATA = Symbol.for('pino.metadata');

const SEVERITY: Record<number, SeverityNumber> = {
  10: SeverityNumber.TRACE, 20: SeverityNumber.DEBUG, 30: SeverityNumber.INFO,
  40: SeverityNumber.WARN, 50: SeverityNumber.ERROR, 60: SeverityNumber.FATAL,
};
const EXTRA = [
  SeverityNumber.TRACE2, SeverityNumber.TRACE3, SeverityNumber.TRACE4, SeverityNumber.DEBUG2, SeverityNumber.DEBUG3,
  SeverityNumber.DEBUG4, SeverityNumber.INFO2, SeverityNumber.INFO3, SeverityNumber.INFO4, SeverityNumber.WARN2,
  SeverityNumber.WARN3, SeverityNumber.WARN4, SeverityNumber.ERROR2, SeverityNumber.ERROR3, SeverityNumber.ERROR4,
  SeverityNumber.FATAL2, SeverityNumber.FATAL3, SeverityNumber.FATAL4,
];
/** The official instrumentation's mapping. */
function severity(level: number): SeverityNumber {
  const s = SEVERITY[level];
  if (s !== undefined) return s;
  const idx = Math.floor(((level - 10) / 60) * EXTRA.length);
  return EXTRA[Math.min(EXTRA.length - 1, Math.max(0, idx))]!;
}

/** Fields of the line that are not attributes: they are the record's own fields or the resource's. */
const SKIP = new Set(['time', 'level', 'hostname', 'pid', 'trace_id', 'span_id', 'trace_flags', 'event.name']);
const MAX_DEPTH = 8;

/** True when JSON.stringify + JSON.parse would give back an equal value. */
function jsonPlain(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string': case 'boolean': return true;
    case 'number': return Number.isFinite(v);
    case 'object': {
      if (v === null) return true;
      if (depth > MAX_DEPTH) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) { const x: unknown = v[i]; if (x === undefined || typeof x === 'function' || !jsonPlain(x, depth + 1)) return false; }
        return true;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if ((proto !== Object.prototype && proto !== null) || typeof (v as Rec)['toJSON'] === 'function') return false;
      for (const k in v) {
        const x = (v as Rec)[k];
        if (x !== undefined && typeof x !== 'function' && !jsonPlain(x, depth + 1)) return false;
      }
      return true;
    }
    default: return false;
  }
}

function hrTime(ms: number): [number, number] {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

interface Sender {
  write(s: string): void;
  lastLevel?: number; lastObj?: Rec; lastMsg?: unknown; lastTime?: string; lastLogger?: Rec;
}

/**
 * Wraps `logger`'s stream (children share it). `otelLogger` gives the OTLP logger; `enabled` is read per line.
 * Returns false when the logger is not as expected (it is then left unchanged).
 */
export function attachPinoSender(logger: Rec, pino: PinoModule, otelLogger: () => OtelLogger, enabled: () => boolean): boolean {
  const sym = pino.symbols;
  const streamSym = sym['streamSym'];
  const required = ['chindingsSym', 'formattersSym', 'serializersSym', 'stringifiersSym', 'timeSym', 'messageKeySym', 'errorKeySym'];
  if (!streamSym || required.some((n) => typeof sym[n] !== 'symbol')) return false;
  const inner = logger[streamSym] as Stream | undefined;
  if (!inner || typeof inner.write !== 'function' || inner[WRAPPED] === true) return false;
  const s = {
    chindings: sym['chindingsSym']!, formatters: sym['formattersSym']!, serializers: sym['serializersSym']!,
    stringifiers: sym['stringifiersSym']!, redactFmt: sym['redactFmtSym'], wildcard: sym['wildcardFirstSym'],
    nestedKey: sym['nestedKeySym'], time: sym['timeSym']!, messageKey: sym['messageKeySym']!, errorKey: sym['errorKeySym']!,
  };
  const epochTime = pino.stdTimeFunctions?.epochTime;
  /** Bindings parsed once per chindings string (a child logger has its own). */
  const bindingsCache = new WeakMap<Rec, { chindings: string; parsed: Rec }>();
  const bindingsOf = (lg: Rec): Rec => {
    const chindings = lg[s.chindings] as string | undefined;
    if (!chindings) return {};
    const hit = bindingsCache.get(lg);
    if (hit !== undefined && hit.chindings === chindings) return hit.parsed;
    const parsed = JSON.parse(`{${chindings.slice(1)}}`) as Rec;
    bindingsCache.set(lg, { chindings, parsed });
    return parsed;
  };
  const innerNeedsMeta = inner[METADATA] === true;

  /** True when the object pino serialised is the line's source (else the line is parsed). */
  const objectIsSource = (lg: Rec): boolean => {
    const formatters = lg[s.formatters] as Rec;
    const logFormatter = formatters['log'] as (AnyFn & Rec) | undefined;
    if (logFormatter !== undefined && logFormatter[TRIBUTARY_FORMATTER] !== true) return false;
    const stringifiers = lg[s.stringifiers] as Rec;
    if ((s.redactFmt && stringifiers[s.redactFmt] !== undefined) || (s.wildcard && stringifiers[s.wildcard] !== undefined)) return false;
    if (s.nestedKey && lg[s.nestedKey] != null) return false;
    return lg[s.time] === epochTime;
  };

  /** A logger's bindings as encoded attributes, once per chindings string. */
  const encodedBindings = new WeakMap<Rec, { chindings: string | undefined; bytes: Buffer; cid: boolean }>();
  const bindingsBytesOf = (lg: Rec, d: DirectLogger): { bytes: Buffer; cid: boolean } => {
    const chindings = lg[s.chindings] as string | undefined;
    const hit = encodedBindings.get(lg);
    if (hit !== undefined && hit.chindings === chindings) return hit;
    const bindings = bindingsOf(lg);
    const attrs: Rec = {};
    let cid = false;
    for (const k in bindings) {
      if (SKIP.has(k)) continue;
      attrs[k] = bindings[k];
      if (k === 'correlation_id') cid = true;
    }
    const entry = { chindings, bytes: d.logs.encodeAttributes(attrs), cid };
    encodedBindings.set(lg, entry);
    return entry;
  };

  /**
   * The direct path: the record is encoded into the batch buffer while walking pino's object (bindings copied as
   * bytes encoded once per logger). False when the line must be parsed instead.
   */
  const encodeDirect = (w: Sender, lg: Rec, d: DirectLogger): boolean => {
    if (!objectIsSource(lg)) return false;
    const ms = Number(w.lastTime);
    if (!Number.isFinite(ms)) return false;
    const level = w.lastLevel ?? 30;
    const labels = (lg['levels'] as { labels?: Record<number, string> } | undefined)?.labels;
    const { logs, scope } = d;
    if (!logs.open(scope, severity(level), labels?.[level], ms)) return true;
    const bound = bindingsBytesOf(lg, d);
    scope.writer.raw(bound.bytes);
    let cidSeen = bound.cid;
    const obj = w.lastObj ?? {};
    const serializers = lg[s.serializers] as Record<string, AnyFn | undefined>;
    const messageKey = lg[s.messageKey] as string;
    const errorKey = lg[s.errorKey] as string;
    let body: unknown = w.lastMsg;
    let exception: unknown;
    let eventName: unknown;
    for (const k in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
      let v = obj[k];
      if (v === undefined) continue;
      const ser = serializers[k] ?? (k === errorKey ? serializers['err'] : undefined);
      if (ser !== undefined) v = ser(v);
      if (v === undefined || typeof v === 'function') continue;
      if (typeof v === 'object' && v !== null && !jsonPlain(v, 0)) { logs.abort(scope); return false; }
      if (typeof v === 'number' && !Number.isFinite(v)) { logs.abort(scope); return false; }
      if (typeof v === 'bigint' || typeof v === 'symbol') { logs.abort(scope); return false; }
      if (k === messageKey) { if (body === undefined) body = v; continue; }
      if (k === errorKey) { exception = v; continue; }
      if (k === 'event.name') { eventName = v; continue; }
      if (SKIP.has(k)) continue;
      if (logs.attr(scope, k, v)) cidSeen = true;
    }
    if (exception !== null && typeof exception === 'object' && !Array.isArray(exception)) {
      const e = exception as Rec;
      if (typeof e['type'] === 'string' && typeof e['name'] !== 'string') e['name'] = e['type'];
    }
    logs.close(scope, context.active(), body, exception, typeof eventName === 'string' ? eventName : undefined, cidSeen);
    return true;
  };

  const buildFromObject = (w: Sender, lg: Rec): LogRecord | undefined => {
    if (!objectIsSource(lg)) return undefined;
    const ms = Number(w.lastTime);
    if (!Number.isFinite(ms)) return undefined;
    const obj = w.lastObj ?? {};
    const serializers = lg[s.serializers] as Record<string, AnyFn | undefined>;
    const messageKey = lg[s.messageKey] as string;
    const errorKey = lg[s.errorKey] as string;
    const attributes: Rec = {};
    const bindings = bindingsOf(lg);
    for (const k in bindings) if (!SKIP.has(k)) attributes[k] = bindings[k];
    let body: unknown = w.lastMsg;
    let exception: unknown;
    let eventName: unknown;
    for (const k in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
      let v = obj[k];
      if (v === undefined) continue;
      const ser = serializers[k] ?? (k === errorKey ? serializers['err'] : undefined);
      if (ser !== undefined) v = ser(v);
      if (v === undefined || typeof v === 'function') continue;
      if (!jsonPlain(v, 0)) return undefined;
      if (k === messageKey) { if (body === undefined) body = v; continue; }
      if (k === errorKey) { exception = v; continue; }
      if (k === 'event.name') { eventName = v; continue; }
      if (SKIP.has(k)) continue;
      attributes[k] = v;
    }
    const timestamp = hrTime(ms);
    return record(w.lastLevel ?? 30, lg, timestamp, body, attributes, exception, eventName);
  };

  const record = (level: number, lg: Rec, timestamp: [number, number], body: unknown, attributes: Rec, exception: unknown, eventName: unknown): LogRecord => {
    if (exception !== null && typeof exception === 'object' && !Array.isArray(exception)) {
      const e = exception as Rec;
      if (typeof e['type'] === 'string' && typeof e['name'] !== 'string') e['name'] = e['type'];
    }
    const labels = (lg['levels'] as { labels?: Record<number, string> } | undefined)?.labels;
    const rec: LogRecord = {
      timestamp, observedTimestamp: timestamp,
      severityNumber: severity(level), severityText: labels?.[level],
      body: body as LogRecord['body'], attributes: attributes as LogAttributes,
    };
    if (exception !== undefined) (rec as Rec)['exception'] = exception;
    if (typeof eventName === 'string') rec.eventName = eventName;
    return rec;
  };

  /** The official stream's path: the line, parsed. */
  const buildFromLine = (w: Sender, lg: Rec, line: string): LogRecord | undefined => {
    let parsed: unknown;
    try { parsed = JSON.parse(line); } catch { return undefined; }
    if (parsed === null || typeof parsed !== 'object') return undefined;
    const { time, [lg[s.messageKey] as string]: body, [lg[s.errorKey] as string]: exception, 'event.name': eventName, ...rest } = parsed as Rec;
    const attributes: Rec = {};
    for (const k in rest) if (!SKIP.has(k)) attributes[k] = rest[k];
    let ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : NaN;
    if (lg[s.time] !== epochTime || !Number.isFinite(ms)) {
      if (time !== undefined) attributes['time'] = time;
      ms = Date.now();
    }
    return record(w.lastLevel ?? 30, lg, hrTime(ms), body, attributes, exception, eventName);
  };

  const wrapper: Sender & Rec = Object.create(inner) as Sender & Rec;
  // Methods pino or the app may call on the stream (flush, flushSync, end, on, …) run on the real stream.
  for (let p: object | null = inner; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === 'constructor' || name === 'write' || Object.prototype.hasOwnProperty.call(wrapper, name)) continue;
      const d = Object.getOwnPropertyDescriptor(p, name);
      if (d && typeof d.value === 'function') {
        Object.defineProperty(wrapper, name, { value: (...args: unknown[]) => (inner[name] as AnyFn).apply(inner, args), writable: true, configurable: true });
      }
    }
  }
  wrapper[METADATA] = true;
  wrapper[WRAPPED] = true;
  wrapper.write = function tributaryPinoWrite(this: Sender, line: string): void {
    if (innerNeedsMeta) {
      inner['lastLevel'] = this.lastLevel; inner['lastObj'] = this.lastObj; inner['lastMsg'] = this.lastMsg;
      inner['lastTime'] = this.lastTime; inner['lastLogger'] = this.lastLogger;
    }
    inner.write(line);
    const lg = this.lastLogger;
    if (lg === undefined || !enabled()) return;
    let target: OtelLogger | undefined;
    try {
      target = otelLogger();
      if (target instanceof DirectLogger && encodeDirect(this, lg, target)) return;
      const rec = buildFromObject(this, lg) ?? buildFromLine(this, lg, line);
      if (rec !== undefined) target.emit(rec);
    } catch {
      if (target instanceof DirectLogger) target.logs.abort(target.scope);
      // The app's logging must keep working whatever happens on the way to OTLP.
    }
  };
  logger[streamSym] = wrapper;
  return true;
}
