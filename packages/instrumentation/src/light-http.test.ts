import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorrelationPropagator, getCorrelationId } from './correlation';
import { installLightHttp } from './light-http';

const servers: http.Server[] = [];
const listen = (s: http.Server): Promise<number> => new Promise((r) => { servers.push(s); s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)); });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new CorrelationPropagator(['x-correlation-id'])] }));
  installLightHttp(['x-correlation-id']);
});
afterAll(() => { for (const s of servers) { s.close(); s.closeAllConnections(); } context.disable(); propagation.disable(); });

describe('light http hooks', () => {
  it('a request runs in a span context from its traceparent; outgoing calls carry a child traceparent and the correlation id', async () => {
    const seen: Record<string, unknown>[] = [];
    const downstream = await listen(http.createServer((req, res) => { seen.push({ ...req.headers }); res.end('ok'); }));
    const app = await listen(http.createServer((req, res) => {
      const inHandler = { sc: trace.getSpanContext(context.active()), cid: getCorrelationId() };
      http.get(`http://127.0.0.1:${downstream}/`, (r) => {
        r.resume();
        r.on('end', () => {
          const inResponse = trace.getSpanContext(context.active());
          res.end(JSON.stringify({ inHandler, inResponse }));
        });
      });
    }));
    const parentTrace = '0af7651916cd43dd8448eb211c80319c';
    const res = await fetch(`http://127.0.0.1:${app}/`, { headers: { traceparent: `00-${parentTrace}-b7ad6b7169203331-01`, 'x-correlation-id': 'order-42' } });
    const body = await res.json() as { inHandler: { sc: { traceId: string; spanId: string; traceFlags: number }; cid: string }; inResponse: { spanId: string } };
    expect(res.headers.get('x-correlation-id')).toBe('order-42');
    expect(body.inHandler.sc.traceId).toBe(parentTrace);
    expect(body.inHandler.sc.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(body.inHandler.sc.spanId).not.toBe('b7ad6b7169203331');
    expect(body.inHandler.cid).toBe('order-42');
    const tp = String(seen[0]!['traceparent']).split('-');
    expect(tp[1]).toBe(parentTrace);
    expect(tp[2]).not.toBe(body.inHandler.sc.spanId);
    expect(tp[3]).toBe('01');
    expect(seen[0]!['x-correlation-id']).toBe('order-42');
    // The response callback of the outgoing call runs in the context that was injected.
    expect(body.inResponse.spanId).toBe(tp[2]);
  });

  it('without traceparent a new sampled trace and a new correlation id', async () => {
    const app = await listen(http.createServer((_req, res) => { res.end(JSON.stringify(trace.getSpanContext(context.active()))); }));
    const res = await fetch(`http://127.0.0.1:${app}/`);
    const sc = await res.json() as { traceId: string; traceFlags: number };
    expect(sc.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(sc.traceFlags).toBe(1);
    expect(res.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
