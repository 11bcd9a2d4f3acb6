/**
 * Correlation IDs: kept from an incoming header (or generated), stored in the OpenTelemetry context,
 * written on the response, injected on outgoing calls, and read by every log bridge.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  context, createContextKey, propagation,
  type Context, type Span, type SpanContext, type TextMapGetter, type TextMapPropagator, type TextMapSetter,
} from '@opentelemetry/api';
import { isTracingSuppressed, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { LogKeys } from './config';
import { idsOf, validSpanContext } from './context';

export const CORRELATION_KEY = createContextKey('tributary.correlation_id');
const MAX_LENGTH = 128;
/** Visible ASCII only: the value is echoed in a response header and in logs. */
const SAFE = /^[\x21-\x7e]+$/;

export function getCorrelationId(ctx: Context = context.active()): string | undefined {
  return ctx.getValue(CORRELATION_KEY) as string | undefined;
}

export function withCorrelationId<T>(id: string, fn: () => T): T {
  return context.with(context.active().setValue(CORRELATION_KEY, id), fn);
}

export class CorrelationPropagator implements TextMapPropagator {
  constructor(private readonly headers: readonly string[]) {}

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const id = getCorrelationId(ctx);
    const name = this.headers[0];
    if (id !== undefined && name !== undefined) setter.set(carrier, name, id);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    let id: string | undefined;
    for (const name of this.headers) {
      const raw = getter.get(carrier, name);
      const v = (Array.isArray(raw) ? raw[0] : raw)?.trim();
      if (v && v.length <= MAX_LENGTH && SAFE.test(v)) {
        id = v;
        break;
      }
    }
    return ctx.setValue(CORRELATION_KEY, id ?? randomUUID());
  }

  fields(): string[] {
    return [...this.headers];
  }
}

/** http instrumentation `responseHook`: on the server side it runs before the app's handler. */
export function makeResponseHook(headers: readonly string[]): (span: Span, response: unknown) => void {
  const name = headers[0];
  return (span, response) => {
    const res = response as Partial<ServerResponse>;
    if (name === undefined || typeof res.setHeader !== 'function' || res.headersSent) return;
    const id = getCorrelationId();
    if (id === undefined) return;
    res.setHeader(name, id);
    span.setAttribute('correlation_id', id);
  };
}

const FLAGS: string[] = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16));

/** Writes the id fields under the configured keys; one small object per line is the only allocation. */
export function writeIdFields(target: Record<string, unknown>, sc: SpanContext | undefined, correlationId: string | undefined, keys: LogKeys): void {
  if (validSpanContext(sc)) {
    target[keys.traceId] = keys.decimalIds ? lowDecimal(sc.traceId) : sc.traceId;
    target[keys.spanId] = keys.decimalIds ? lowDecimal(sc.spanId) : sc.spanId;
    target[keys.traceFlags] = FLAGS[sc.traceFlags & 0xff];
  }
  if (correlationId !== undefined) target[keys.correlationId] = correlationId;
}

export function activeSpanContext(ctx: Context = context.active()): SpanContext | undefined {
  return idsOf(ctx).sc;
}

/** Datadog's format: the low 64 bits as an unsigned decimal. */
function lowDecimal(hex: string): string {
  return BigInt(`0x${hex.length > 16 ? hex.slice(-16) : hex}`).toString(10);
}

const baggagePropagator = new W3CBaggagePropagator();
const traceContextPropagator = new W3CTraceContextPropagator();

/**
 * W3C trace context, baggage and the correlation id in one propagator: `inject` reads the span context and the
 * correlation id once (from the fields of a request context) and writes the headers; `extract` is the three
 * standard ones in a row (the light mode's incoming path uses `extractRequest` instead).
 */
export class TributaryPropagator implements TextMapPropagator {
  private readonly correlation: CorrelationPropagator;
  private readonly header: string | undefined;
  constructor(private readonly headers: readonly string[]) {
    this.correlation = new CorrelationPropagator(headers);
    this.header = headers[0];
  }

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const { sc, correlationId } = idsOf(ctx);
    if (validSpanContext(sc) && !isTracingSuppressed(ctx)) {
      setter.set(carrier, 'traceparent', `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 0xff).toString(16)}`);
      if (sc.traceState !== undefined) setter.set(carrier, 'tracestate', sc.traceState.serialize());
    }
    if (propagation.getBaggage(ctx) !== undefined) baggagePropagator.inject(ctx, carrier, setter);
    if (correlationId !== undefined && this.header !== undefined) setter.set(carrier, this.header, correlationId);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.correlation.extract(baggagePropagator.extract(traceContextPropagator.extract(ctx, carrier, getter), carrier, getter), carrier, getter);
  }

  fields(): string[] {
    return ['traceparent', 'tracestate', 'baggage', ...this.headers];
  }
}
