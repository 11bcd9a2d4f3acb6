/**
 * The light tracing mode, used when spans are not exported (`OTEL_TRACES_EXPORTER` unset or `none`).
 * The logs only need a valid span context per request, and downstream services need `traceparent`: a
 * recording span per request is paid for and then thrown away. Here instead, through Node's own
 * `diagnostics_channel` hooks (no wrapper frames in the app's stack traces):
 * - incoming (`http.server.request.start`): one pass over the headers gives the request's context (a child of
 *   the incoming `traceparent` or a new trace, the correlation id, baggage); it is entered for the handler and
 *   the request's events; the correlation id is set on the response;
 * - outgoing `http`/`https` (wrapped `request`/`get`), `fetch`/`undici` (`undici:request:create`) and
 *   `http2` client streams: a new span id under the active trace is injected as `traceparent`, with
 *   `tracestate`, baggage and the correlation id. The response's events run in the caller's context (Node
 *   gives that): the injected span id names a span that is never exported in this mode, so logs keep the
 *   request's span id.
 * Sampled flag: inherited from the incoming `traceparent`, else set (as the SDK's default parent-based
 * always-on sampler would).
 */
import http = require('node:http');
import http2 = require('node:http2');
import https = require('node:https');
import dc = require('node:diagnostics_channel');
import { AsyncResource } from 'node:async_hooks';
import { syncBuiltinESMExports } from 'node:module';
import { context, propagation, trace, type Context, type TextMapSetter } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { childSpanContext, extractRequest, RequestContext, type FastContextManager } from './context';

type Emit = (this: Record<symbol, Context | undefined>, event: string | symbol, ...args: unknown[]) => boolean;

const CTX = Symbol('tributary.http.context');
const INSTALLED = Symbol.for('tributary.light-http.installed');

/** The context for one outgoing call: the active one with a new span id, or undefined when tracing is suppressed. */
export function outgoingContext(active: Context): Context | undefined {
  if (isTracingSuppressed(active)) return undefined;
  if (active instanceof RequestContext) return active.withSpanContext(childSpanContext(active.spanContext));
  return trace.setSpanContext(active, childSpanContext(trace.getSpanContext(active)));
}

const headerSetter: TextMapSetter<http.ClientRequest> = {
  set(req, key, value) {
    // Headers given as a raw array are already rendered: the call goes out as the app made it.
    if (!req.headersSent && (req as unknown as { _header?: unknown })._header == null) req.setHeader(key, value);
  },
};

interface UndiciRequest { headers: string | string[]; addHeader(name: string, value: string): unknown }
const undiciSetter: TextMapSetter<UndiciRequest> = {
  set(req, key, value) { req.addHeader(key, value); },
};

/** True when an undici request already carries a `traceparent` (the app's own, or another instrumentation's). */
function hasTraceparent(headers: string | string[]): boolean {
  if (typeof headers === 'string') return headers.toLowerCase().includes('traceparent:');
  for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === 'traceparent') return true;
  return false;
}

const objectSetter: TextMapSetter<Record<string, unknown>> = {
  set(carrier, key, value) { carrier[key] = value; },
};

/** Events of a marked request/response object run in the context stored on it (only when it is not current already). */
function patchEmit(proto: { emit: Emit }, manager: FastContextManager): void {
  const original = proto.emit;
  proto.emit = function emit(this: Record<symbol, Context | undefined> & { _events?: Record<string | symbol, unknown> }, event: string | symbol, ...args: unknown[]): boolean {
    const ctx = this[CTX];
    // No listener for this event: nothing of the app's runs, so no context to switch.
    if (ctx === undefined || this._events?.[event] === undefined) return original.call(this, event, ...args);
    const prev = manager.enter(ctx);
    try {
      return original.call(this, event, ...args);
    } finally {
      manager.restore(prev, ctx);
    }
  };
}

const SCOPE = Symbol('tributary.http.scope');
type ScopedEmitter = Record<symbol, AsyncResource | undefined> & { _events?: Record<string | symbol, unknown> };

/** Node 24: events of a server request/response run in the request's frame, when something listens to them. */
function patchEmitInScope(proto: { emit: Emit }): void {
  const original = proto.emit as unknown as (this: ScopedEmitter, event: string | symbol, ...args: unknown[]) => boolean;
  (proto as unknown as { emit: typeof original }).emit = function emit(this: ScopedEmitter, event: string | symbol, ...args: unknown[]): boolean {
    const scope = this[SCOPE];
    if (scope === undefined || this._events?.[event] === undefined) return original.call(this, event, ...args);
    return scope.runInAsyncScope(original, this, event, ...args);
  };
}

const STREAM_PATCHED = Symbol('tributary.http2.stream-emit');
/** The client stream class is not exported: its prototype is patched when the first stream is made. */
function patchStreamClass(stream: http2.ClientHttp2Stream, manager: FastContextManager): void {
  const proto = Object.getPrototypeOf(stream) as Record<string | symbol, unknown>;
  if (proto[STREAM_PATCHED] === true) return;
  proto[STREAM_PATCHED] = true;
  const inherited = proto['emit'] as Emit;
  const own = { emit: inherited };
  patchEmit(own, manager);
  proto['emit'] = own.emit;
}

/** http2 client streams: the headers gain the trace context; the stream's events run in the caller's context. */
function patchHttp2(manager: FastContextManager): void {
  const connect = http2.connect;
  const patched = function connectWithContext(this: unknown, ...args: Parameters<typeof http2.connect>): http2.ClientHttp2Session {
    const session = connect.apply(this, args);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with .call(this), this being the session
    const request = session.request;
    session.request = function requestWithContext(this: http2.ClientHttp2Session, headers?: http2.OutgoingHttpHeaders, options?: http2.ClientSessionRequestOptions): http2.ClientHttp2Stream {
      const ctx = outgoingContext(context.active());
      if (ctx === undefined) return request.call(this, headers, options);
      const h: Record<string, unknown> = { ...headers };
      if (h['traceparent'] === undefined) propagation.inject(ctx, h, objectSetter);
      const stream = request.call(this, h as http2.OutgoingHttpHeaders, options);
      patchStreamClass(stream, manager);
      (stream as unknown as Record<symbol, Context>)[CTX] = ctx;
      return stream;
    };
    return session;
  };
  (http2 as unknown as Record<string, unknown>)['connect'] = patched;
  // `import { connect } from 'node:http2'` sees the patched function too.
  syncBuiltinESMExports();
}

type AnyFn = (...args: unknown[]) => unknown;

/**
 * `http.request`/`http.get` are wrapped: Node's `http.client.request.start` channel fires only once the headers
 * are rendered (Node 20), too late to add `traceparent`.
 */
function patchClient(mod: typeof http | typeof https): void {
  const request = mod.request as unknown as AnyFn;
  const patched = function request_(this: unknown, ...args: unknown[]): http.ClientRequest {
    const ctx = outgoingContext(context.active());
    if (ctx === undefined) return request.apply(this, args) as http.ClientRequest;
    const req = request.apply(this, args) as http.ClientRequest;
    if (req.getHeader('traceparent') === undefined) propagation.inject(ctx, req, headerSetter);
    return req;
  };
  (mod as unknown as Record<string, unknown>)['request'] = patched;
  (mod as unknown as Record<string, unknown>)['get'] = function get(this: unknown, ...args: unknown[]): http.ClientRequest {
    const req = patched.apply(this, args);
    req.end();
    return req;
  };
}

/** AsyncLocalStorage on AsyncContextFrame: the default from Node 24, behind a flag in Node 22/23. */
export function usesAsyncContextFrame(): boolean {
  const major = Number(process.versions.node.split('.')[0]);
  const flags = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  if (major >= 24) return !flags.includes('--no-async-context-frame');
  return flags.includes('--experimental-async-context-frame');
}

/** Installs the hooks once per process. */
export function installLightHttp(correlationHeaders: readonly string[], manager: FastContextManager): void {
  const g = globalThis as unknown as Record<symbol, unknown>;
  if (g[INSTALLED]) return;
  g[INSTALLED] = true;
  const responseHeader = correlationHeaders[0];

  const frames = usesAsyncContextFrame();
  dc.subscribe('http.server.request.start', (message) => {
    const { request: req, response: res } = message as { request: http.IncomingMessage & Record<symbol, AsyncResource>; response: http.ServerResponse & Record<symbol, AsyncResource> };
    const ctx = extractRequest(req.rawHeaders, correlationHeaders);
    if (responseHeader !== undefined && ctx.correlationId !== undefined && !res.headersSent) res.setHeader(responseHeader, ctx.correlationId);
    // The 'request' event that follows (and what it starts) runs in the request's context.
    manager.enter(ctx);
    if (frames) {
      // Captures the frame just entered; running the events in it later swaps one pointer (an enter/restore
      // pair costs ~20× more on Node 24).
      const scope = new AsyncResource('tributary.request', { requireManualDestroy: true });
      req[SCOPE] = scope;
      res[SCOPE] = scope;
    }
  });

  patchClient(http);
  patchClient(https);
  dc.subscribe('undici:request:create', (message) => {
    const req = (message as { request: UndiciRequest }).request;
    if (typeof req.addHeader !== 'function' || hasTraceparent(req.headers)) return;
    const ctx = outgoingContext(context.active());
    if (ctx !== undefined) propagation.inject(ctx, req, undiciSetter);
  });

  // With async hooks (Node 20, 22) the request's events already run in the context entered above: the parser's
  // resource carries it. With AsyncContextFrame (Node 24) they run in the connection's: there the events of
  // req/res are wrapped (an `emit` and a `runInAsyncScope` frame under the app's listeners).
  if (frames) {
    patchEmitInScope(http.IncomingMessage.prototype);
    patchEmitInScope(http.OutgoingMessage.prototype);
  }
  patchHttp2(manager);
}

/** http2 client streams when spans are exported: the trace context goes out too (instrumentation-http covers http/https only). */
export function installHttp2Propagation(manager: FastContextManager): void {
  const g = globalThis as unknown as Record<symbol, unknown>;
  const key = Symbol.for('tributary.http2.installed');
  if (g[key]) return;
  g[key] = true;
  patchHttp2(manager);
}
