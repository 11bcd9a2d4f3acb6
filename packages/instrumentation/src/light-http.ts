/**
 * The light tracing mode, used when spans are not exported (`OTEL_TRACES_EXPORTER` unset or `none`).
 * The logs only need a valid span context per request, and downstream services need `traceparent`: a
 * recording span per request (what `@opentelemetry/instrumentation-http` builds, with its attributes and
 * emitter bindings) is paid for and then thrown away. Here instead:
 * - incoming: the registered propagator extracts `traceparent`/baggage/correlation id from the headers; the
 *   request runs in a context holding a non-recording span with that trace id (or a new one) and a new span
 *   id; the correlation id is set on the response; events of `req` and `res` run in that context;
 * - outgoing `http`/`https` calls: a new span id under the active trace is injected as `traceparent`, with the
 *   correlation id and baggage; the response events run in the caller's context.
 * Sampled flag: inherited from the incoming `traceparent`, else set (as the SDK's default parent-based
 * always-on sampler would).
 */
import http = require('node:http');
import https = require('node:https');
import { randomFillSync } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import {
  context, isSpanContextValid, propagation, ROOT_CONTEXT, trace, TraceFlags,
  type Context, type SpanContext, type TextMapSetter,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { getCorrelationId } from './correlation';

type AnyFn = (...args: unknown[]) => unknown;
type Emit = (this: Record<symbol, Context | undefined>, event: string | symbol, ...args: unknown[]) => boolean;

const CTX = Symbol('tributary.http.context');
const INSTALLED = Symbol.for('tributary.light-http.installed');

/** Random bytes drawn in blocks: one `randomFillSync` per 512 ids instead of per id. */
const POOL = Buffer.alloc(8 * 1024);
let poolAt = POOL.length;
/** Random lowercase hex of `bytes` bytes, never all zeros (an all-zero id is invalid). */
function randomHex(bytes: number): string {
  if (poolAt + bytes > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const s = POOL.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return /^0+$/.test(s) ? `1${s.slice(1)}` : s;
}

const headerSetter: TextMapSetter<http.ClientRequest> = {
  set(req, key, value) {
    if (!req.headersSent) req.setHeader(key, value);
  },
};

/** A child span context under `ctx`'s span (or a new trace), as the context for one request. */
function childContext(ctx: Context): Context {
  const parent = trace.getSpanContext(ctx);
  const sc: SpanContext = parent !== undefined && isSpanContextValid(parent)
    ? { traceId: parent.traceId, spanId: randomHex(8), traceFlags: parent.traceFlags, traceState: parent.traceState }
    : { traceId: randomHex(16), spanId: randomHex(8), traceFlags: TraceFlags.SAMPLED };
  return trace.setSpanContext(ctx, sc);
}

/** Events of a marked request/response object run in the context stored on it. */
function patchEmit(proto: { emit: Emit }): void {
  const original = proto.emit;
  proto.emit = function tributaryEmit(this: Record<symbol, Context | undefined>, ...args: [string | symbol, ...unknown[]]): boolean {
    const ctx = this[CTX];
    if (ctx === undefined) return original.apply(this, args);
    return context.with(ctx, original, this, ...args);
  };
}

function patchServer(proto: { emit: Emit }, responseHeader: string | undefined): void {
  const original = proto.emit;
  proto.emit = function tributaryServerEmit(this: Record<symbol, Context | undefined>, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'request') return original.call(this, event, ...args);
    const req = args[0] as http.IncomingMessage & Record<symbol, Context>;
    const res = args[1] as http.ServerResponse & Record<symbol, Context>;
    const ctx = childContext(propagation.extract(ROOT_CONTEXT, req.headers));
    req[CTX] = ctx;
    res[CTX] = ctx;
    if (responseHeader !== undefined) {
      const id = getCorrelationId(ctx);
      if (id !== undefined && !res.headersSent) res.setHeader(responseHeader, id);
    }
    return context.with(ctx, original, this, event, ...args);
  };
}

function patchClient(mod: typeof http | typeof https): void {
  const request = mod.request as unknown as AnyFn;
  const patched = function tributaryRequest(this: unknown, ...args: unknown[]): http.ClientRequest {
    const active = context.active();
    if (isTracingSuppressed(active)) return request.apply(this, args) as http.ClientRequest;
    const ctx = childContext(active);
    const last = args.length - 1;
    if (typeof args[last] === 'function') args[last] = context.bind(ctx, args[last] as AnyFn);
    const req = request.apply(this, args) as http.ClientRequest & Record<symbol, Context>;
    req[CTX] = ctx;
    try {
      propagation.inject(ctx, req, headerSetter);
    } catch {
      // headers given as a raw array are already rendered: the call goes out as the app made it
    }
    return req;
  };
  (mod as unknown as Record<string, unknown>)['request'] = patched;
  (mod as unknown as Record<string, unknown>)['get'] = function tributaryGet(this: unknown, ...args: unknown[]): http.ClientRequest {
    const req = patched.apply(this, args);
    req.end();
    return req;
  };
}

/** Installs the hooks once per process. */
export function installLightHttp(correlationHeaders: readonly string[]): void {
  const g = globalThis as unknown as Record<symbol, unknown>;
  if (g[INSTALLED]) return;
  g[INSTALLED] = true;
  patchEmit(http.IncomingMessage.prototype);
  patchEmit(http.OutgoingMessage.prototype);
  const ClientRequest = http.ClientRequest.prototype as unknown as { emit: Emit };
  // A client's response is an IncomingMessage: it takes the request's context when it arrives.
  const clientEmit = ClientRequest.emit;
  ClientRequest.emit = function tributaryClientEmit(this: Record<symbol, Context | undefined>, event: string | symbol, ...args: unknown[]): boolean {
    const ctx = this[CTX];
    if (ctx !== undefined && event === 'response' && args[0] !== null && typeof args[0] === 'object') (args[0] as Record<symbol, Context>)[CTX] = ctx;
    return clientEmit.call(this, event, ...args);
  };
  patchServer(http.Server.prototype as unknown as { emit: Emit }, correlationHeaders[0]);
  patchServer(https.Server.prototype as unknown as { emit: Emit }, correlationHeaders[0]);
  patchClient(http);
  patchClient(https);
  // `import { request } from 'node:http'` sees the patched functions too.
  syncBuiltinESMExports();
}
