/**
 * The log path for OTLP/HTTP protobuf export: each `emit` appends one encoded OTLP LogRecord to its scope's
 * batch buffer, straight from what the bridge holds (no SDK `LogRecordImpl`, no processor chain, no second
 * encoding pass). The resource and each scope are encoded once; attribute keys come from a cache; trace and
 * span ids are copied as raw bytes from the span context. A batch is closed by size or by the schedule
 * delay and sent from a timer/immediate, never from the logging call.
 * What the SDK path's processor did per record happens here too: the sending threshold, one severity text,
 * the id fields copied from the line removed, the correlation id added, redaction as a last line of defence.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { context, diag, type Context } from '@opentelemetry/api';
import type { LogRecord, Logger, LoggerProvider } from '@opentelemetry/api-logs';
import type { LogKeys } from './config';
import { correlationIdOf, spanContextOf, validSpanContext } from './context';
import { unrefAgentFactory } from './exit-friendly-transport';
import { severityShortName } from './log-processor';
import { ProtoWriter, writeAnyValue, writeKeyValue } from './otlp-writer';
import type { Redactor } from './redact';

export interface DirectLogsOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  minSeverity: number;
  logKeys: LogKeys;
  redactor: Redactor;
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMs: number;
  /** Resource attributes, read when the first batch is closed (async detectors have settled by then). */
  resourceAttributes: () => Record<string, unknown>;
}

/** One instrumentation scope's records; `start`/`at` mark the record being written. */
export interface Scope { header: Buffer; writer: ProtoWriter; count: number; start: number; at: number; open: boolean }

/** severity_text (field 3) of the six short names, encoded once. */
const SEVERITY_TEXT_BYTES = new Map(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].map((t) => [t, Buffer.from([0x1a, t.length, ...Buffer.from(t)])]));

const MAX_IN_FLIGHT = 4;
const MAX_ATTEMPTS = 5;
const RETRYABLE = new Set([429, 502, 503, 504]);

export class DirectLogs implements LoggerProvider {
  private readonly scopes: Scope[] = [];
  private readonly byName = new Map<string, DirectLogger>();
  private pending = 0;
  private resource: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly inFlight = new Map<Promise<void>, Buffer>();
  private readonly agent: http.Agent;
  private readonly send: typeof http.request;
  private readonly strip: Set<string>;
  private readonly correlationKey: string;
  private warned = false;
  /** Records emitted (for the exit handlers) and records dropped because the queue or the sends were full. */
  emitted = 0;
  dropped = 0;

  constructor(private readonly o: DirectLogsOptions) {
    const u = new URL(o.url);
    this.agent = unrefAgentFactory(u.protocol);
    this.send = u.protocol === 'https:' ? https.request : http.request;
    const k = o.logKeys;
    this.strip = new Set([k.traceId, k.spanId, k.traceFlags, 'trace_id', 'span_id', 'trace_flags']);
    this.correlationKey = k.correlationId;
  }

  getLogger(name: string, version?: string): Logger {
    const key = `${name}\0${version ?? ''}`;
    let logger = this.byName.get(key);
    if (logger === undefined) {
      const w = new ProtoWriter(256);
      w.string(0x0a, name);
      if (version) w.string(0x12, version);
      const scope: Scope = { header: Buffer.from(w.buf.subarray(0, w.pos)), writer: new ProtoWriter(), count: 0, start: 0, at: 0, open: false };
      this.scopes.push(scope);
      logger = new DirectLogger(this, scope);
      this.byName.set(key, logger);
    }
    return logger;
  }

  /** @internal */
  append(scope: Scope, rec: LogRecord): void {
    const attrs = (rec.attributes ?? {}) as Record<string, unknown>;
    // A record that brings its own `log.level` keeps it (no second one from the severity text).
    const text = attrs['log.level'] !== undefined && rec.severityNumber !== undefined ? undefined : rec.severityText;
    if (!this.open(scope, rec.severityNumber, text, rec.timestamp, rec.observedTimestamp)) return;
    let cidSeen = false;
    for (const k in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
      if (this.attr(scope, k, attrs[k])) cidSeen = true;
    }
    this.close(scope, rec.context ?? context.active(), rec.body, (rec as { exception?: unknown }).exception, rec.eventName, cidSeen, attrs);
  }

  /**
   * Starts a record in `scope`'s buffer: time, severity (one short text, the logger's own name as `log.level`
   * when it is another word). False when the record is below the threshold or the queue is full.
   * @internal
   */
  open(scope: Scope, sev: number | undefined, severityText: string | undefined, time: LogRecord['timestamp'], observed?: LogRecord['timestamp']): boolean {
    if (sev !== undefined && sev < this.o.minSeverity) return false;
    if (this.pending >= this.o.maxQueueSize) {
      this.drop(1);
      return false;
    }
    const w = scope.writer;
    scope.start = w.pos;
    scope.open = true;
    w.byte(0x12);
    scope.at = w.begin();
    // time_unix_nano (1) and observed_time_unix_nano (11)
    w.byte(0x09);
    const timeAt = w.pos;
    writeTime(w, time);
    w.byte(0x59);
    if (observed !== undefined && observed !== time) writeTime(w, observed);
    else w.copyWithin(timeAt, 8);
    if (sev !== undefined) { w.byte(0x10); w.varint(sev); }
    const text = severityShortName(sev) ?? severityText;
    if (text !== undefined) {
      const cached = SEVERITY_TEXT_BYTES.get(text);
      if (cached !== undefined) w.raw(cached); else w.string(0x1a, text);
      if (severityText !== undefined && severityText !== text && severityText.toUpperCase() !== text) writeKeyValue(w, 0x32, 'log.level', severityText, 0);
    }
    return true;
  }

  /**
   * One attribute, redacted; the id fields copied from the app's line are left out (they are the record's own
   * fields) and the configured correlation key is written as `correlation_id`. True when it was the correlation id.
   * @internal
   */
  attr(scope: Scope, k: string, v: unknown): boolean {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol' || this.strip.has(k)) return false;
    const redactor = this.o.redactor;
    const isCid = k === 'correlation_id' || k === this.correlationKey;
    if (redactor.enabled) {
      if (redactor.isSensitive(k)) v = v === null ? v : redactor.censor;
      else if (v !== null && typeof v === 'object') v = redactor.redact(v, 1);
    }
    writeKeyValue(scope.writer, 0x32, isCid ? 'correlation_id' : k, v, 0);
    return isCid;
  }

  /** Attributes encoded once (a logger's bindings), to copy into each record with `raw`. @internal */
  encodeAttributes(attrs: Record<string, unknown>): Buffer {
    const scratch: Scope = { header: Buffer.alloc(0), writer: new ProtoWriter(256), count: 0, start: 0, at: 0, open: false };
    for (const k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) this.attr(scratch, k, attrs[k]);
    return Buffer.from(scratch.writer.buf.subarray(0, scratch.writer.pos));
  }

  /** Drops the record being written (the bridge found it cannot be encoded from the object). @internal */
  abort(scope: Scope): void {
    if (!scope.open) return;
    scope.writer.pos = scope.start;
    scope.open = false;
  }

  /** Body, exception, ids, correlation id; closes the record and schedules the batch. @internal */
  close(scope: Scope, ctx: Context, body: unknown, exc: unknown, eventName: string | undefined, cidSeen: boolean, attrs?: Record<string, unknown>): void {
    const w = scope.writer;
    const redactor = this.o.redactor;
    if (body !== undefined && body !== null) {
      w.byte(0x2a);
      const b = w.begin();
      writeAnyValue(w, redactor.enabled && typeof body === 'object' ? redactor.redact(body) : body, 0);
      w.end(b);
    }
    if (!cidSeen) {
      const cid = correlationIdOf(ctx);
      if (cid !== undefined) writeKeyValue(w, 0x32, 'correlation_id', cid, 0);
    }
    if (exc !== undefined && exc !== null) writeException(w, exc, attrs);
    const sc = spanContextOf(ctx);
    if (validSpanContext(sc)) {
      w.byte(0x45); w.fixed32(sc.traceFlags & 0xff);
      w.byte(0x4a); w.byte(16); w.hexBytes(sc.traceId);
      w.byte(0x52); w.byte(8); w.hexBytes(sc.spanId);
    }
    if (eventName !== undefined) w.string(0x62, eventName);
    w.end(scope.at);
    scope.open = false;
    scope.count++;
    this.pending++;
    this.emitted++;
    if (this.pending >= this.o.maxExportBatchSize) {
      this.immediate ??= setImmediate(() => { this.immediate = undefined; this.flushBatch(); });
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => { this.timer = undefined; this.flushBatch(); }, this.o.scheduledDelayMs);
      this.timer.unref();
    }
  }

  private drop(n: number): void {
    this.dropped += n;
    if (!this.warned) {
      this.warned = true;
      diag.warn(`tributary: log export cannot keep up (${MAX_IN_FLIGHT} exports pending or queue full), dropping log records`);
    }
  }

  /** The ExportLogsServiceRequest for what is buffered; the buffers are emptied. */
  takeRequest(): Buffer | undefined {
    if (this.pending === 0) return undefined;
    this.resource ??= encodeResource(this.o.resourceAttributes());
    const w = new ProtoWriter(1024);
    for (const scope of this.scopes) if (scope.count > 0) w.ensure(scope.writer.pos + scope.header.length + 16);
    w.byte(0x0a);
    const rl = w.begin();
    w.byte(0x0a); w.varint(this.resource.length); w.raw(this.resource);
    for (const scope of this.scopes) {
      if (scope.count === 0) continue;
      w.byte(0x12);
      const sl = w.begin();
      w.byte(0x0a); w.varint(scope.header.length); w.raw(scope.header);
      w.raw(scope.writer.buf, 0, scope.writer.pos);
      w.end(sl);
      scope.writer.reset();
      scope.count = 0;
    }
    w.end(rl);
    this.pending = 0;
    return Buffer.from(w.buf.subarray(0, w.pos));
  }

  private flushBatch(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; }
    const records = this.pending;
    const body = this.takeRequest();
    if (body === undefined) return;
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      // The collector is slow or down: drop rather than queue without bound or hold the app open.
      this.drop(records);
      return;
    }
    const p = this.sendWithRetry(body);
    this.inFlight.set(p, body);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async sendWithRetry(body: Buffer): Promise<void> {
    const deadline = Date.now() + this.o.timeoutMs;
    let backoff = 1000;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const status = await this.post(body, Math.max(1, deadline - Date.now()));
      if (status !== undefined && !RETRYABLE.has(status)) {
        if (status >= 400) diag.warn(`tributary: log export rejected with HTTP ${status}`);
        return;
      }
      const wait = Math.min(backoff * (0.8 + Math.random() * 0.4), 5000);
      backoff *= 1.5;
      if (Date.now() + wait > deadline) break;
      await new Promise<void>((resolve) => { setTimeout(resolve, wait).unref(); });
    }
    diag.warn('tributary: log export failed, batch dropped');
  }

  /** Resolves with the HTTP status, or undefined on a network error or timeout. */
  private post(body: Buffer, timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const req = this.send(this.o.url, {
        method: 'POST', agent: this.agent, timeout: timeoutMs,
        headers: { ...this.o.headers, 'content-type': 'application/x-protobuf', 'content-length': body.length },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', () => resolve(undefined));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(undefined));
      req.end(body);
    });
  }

  /** Closes the current batch and waits for every send. */
  async forceFlush(): Promise<void> {
    this.flushBatch();
    await Promise.all([...this.inFlight.keys()]);
  }

  /** At exit: the buffered batch and the sends still unanswered, for the synchronous sender. */
  takeForExit(): Buffer[] {
    const out = [...this.inFlight.values()];
    this.inFlight.clear();
    const body = this.takeRequest();
    if (body !== undefined) out.push(body);
    return out;
  }

  shutdown(): Promise<void> {
    return this.forceFlush();
  }
}

export class DirectLogger implements Logger {
  constructor(readonly logs: DirectLogs, readonly scope: Scope) {}

  emit(rec: LogRecord): void {
    try {
      this.logs.append(this.scope, rec);
    } catch (err) {
      this.logs.abort(this.scope);
      diag.debug('tributary: log record not encoded', err);
    }
  }

  enabled(): boolean {
    return true;
  }
}

/** The api's time input (epoch ms, performance-relative ms, HrTime or Date; now when absent) as fixed64 ns. */
function writeTime(w: ProtoWriter, t: LogRecord['timestamp']): void {
  if (Array.isArray(t)) { w.fixed64Time(t[0], t[1]); return; }
  let ms = t === undefined ? Date.now() : t instanceof Date ? t.getTime() : t;
  if (ms < 1e12) ms += performance.timeOrigin;
  const s = Math.floor(ms / 1000);
  w.fixed64Time(s, Math.round((ms - s * 1000) * 1e6));
}

/** Text of a property of a thrown value, which may be of any type. */
function text(v: unknown): string {
  return String(v);
}

/** The SDK's exception attributes (exception.type/message/stacktrace), unless the record has them already. */
function writeException(w: ProtoWriter, exc: unknown, attrs: Record<string, unknown> = {}): void {
  if (typeof exc === 'string' || typeof exc === 'number') {
    if (attrs['exception.message'] === undefined) writeKeyValue(w, 0x32, 'exception.message', String(exc), 0);
    return;
  }
  if (typeof exc !== 'object' || exc === null) return;
  const e = exc as { code?: unknown; name?: unknown; message?: unknown; stack?: unknown };
  const type = e.code ? text(e.code) : e.name ? text(e.name) : undefined;
  if (type !== undefined && attrs['exception.type'] === undefined) writeKeyValue(w, 0x32, 'exception.type', type, 0);
  if (e.message && attrs['exception.message'] === undefined) writeKeyValue(w, 0x32, 'exception.message', text(e.message), 0);
  if (e.stack && attrs['exception.stacktrace'] === undefined) writeKeyValue(w, 0x32, 'exception.stacktrace', text(e.stack), 0);
}

function encodeResource(attributes: Record<string, unknown>): Buffer {
  const w = new ProtoWriter(1024);
  for (const k in attributes) {
    const v = attributes[k];
    if (v !== undefined) writeKeyValue(w, 0x0a, k, v, 0);
  }
  return Buffer.from(w.buf.subarray(0, w.pos));
}
