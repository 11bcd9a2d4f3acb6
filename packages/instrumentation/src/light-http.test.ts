import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FastContextManager } from './context';
import { getCorrelationId, TributaryPropagator } from './correlation';
import { installLightHttp } from './light-http';

const servers: http.Server[] = [];
const listen = (s: http.Server): Promise<number> => new Promise((r) => { servers.push(s); s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)); });

beforeAll(() => {
  const manager = new FastContextManager();
  context.setGlobalContextManager(manager);
  propagation.setGlobalPropagator(new TributaryPropagator(['x-correlation-id']));
  installLightHttp(['x-correlation-id'], manager);
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
    // The response callback of the outgoing call runs in the caller's context (no span is recorded for the call).
    expect(body.inResponse.spanId).toBe(body.inHandler.sc.spanId);
  });

  it('without traceparent a new sampled trace and a new correlation id', async () => {
    const app = await listen(http.createServer((_req, res) => { res.end(JSON.stringify(trace.getSpanContext(context.active()))); }));
    const res = await fetch(`http://127.0.0.1:${app}/`);
    const sc = await res.json() as { traceId: string; traceFlags: number };
    expect(sc.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(sc.traceFlags).toBe(1);
    expect(res.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fetch, undici.request and http2 client calls carry the request trace and correlation id', async () => {
    const seen: Record<string, unknown>[] = [];
    const downstream = await listen(http.createServer((req, res) => { seen.push({ ...req.headers }); res.end('ok'); }));
    const h2seen: Record<string, unknown>[] = [];
    const h2 = http2.createServer();
    h2.on('stream', (stream, headers) => { h2seen.push({ ...headers }); stream.respond({ ':status': 200 }); stream.end('ok'); });
    const h2port = await new Promise<number>((r) => h2.listen(0, '127.0.0.1', () => r((h2.address() as AddressInfo).port)));
    const undici = await import('undici');
    const app = await listen(http.createServer((_req, res) => {
      void (async () => {
        const sc = trace.getSpanContext(context.active());
        await (await fetch(`http://127.0.0.1:${downstream}/fetch`)).text();
        await (await undici.request(`http://127.0.0.1:${downstream}/undici`)).body.text();
        const session = http2.connect(`http://127.0.0.1:${h2port}`);
        const inResponse = await new Promise<string | undefined>((resolve, reject) => {
          const stream = session.request({ ':path': '/h2' });
          stream.on('response', () => { resolve(trace.getSpanContext(context.active())?.traceId); });
          stream.on('error', reject);
          stream.resume();
          stream.end();
        });
        session.close();
        res.end(JSON.stringify({ traceId: sc?.traceId, cid: getCorrelationId(), inResponse }));
      })();
    }));
    const res = await fetch(`http://127.0.0.1:${app}/`, { headers: { 'x-correlation-id': 'fetch-7' } });
    const body = await res.json() as { traceId: string; cid: string; inResponse: string };
    h2.close();
    expect(body.cid).toBe('fetch-7');
    expect(seen.map((h) => String(h['traceparent']).split('-')[1])).toEqual([body.traceId, body.traceId]);
    expect(seen.map((h) => h['x-correlation-id'])).toEqual(['fetch-7', 'fetch-7']);
    expect(String(h2seen[0]?.['traceparent']).split('-')[1]).toBe(body.traceId);
    expect(h2seen[0]?.['x-correlation-id']).toBe('fetch-7');
    expect(body.inResponse).toBe(body.traceId);
  });

  it('the request events (data, end, finish) and what they start run in the request context', async () => {
    const seen: (string | undefined)[] = [];
    let allSeen: () => void = () => undefined;
    const eight = new Promise<void>((r) => { allSeen = r; });
    const push = (v: string | undefined): void => { if (seen.push(v) === 8) allSeen(); };
    const app = await listen(http.createServer((req, res) => {
      req.on('data', () => { push(getCorrelationId()); });
      req.on('end', () => {
        push(getCorrelationId());
        setTimeout(() => { push(getCorrelationId()); res.end('ok'); }, 1);
      });
      res.on('finish', () => { push(getCorrelationId()); });
    }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = (id: string): Promise<void> => new Promise((resolve) => {
      const r = http.request({ port: app, method: 'POST', agent, headers: { 'x-correlation-id': id } }, (res) => { res.resume(); res.on('end', resolve); });
      r.end('body');
    });
    // Same keep-alive socket, one after the other: each request sees its own id, never the previous one's.
    await post('first');
    await post('second');
    agent.destroy();
    await eight;
    expect(seen).toEqual(['first', 'first', 'first', 'first', 'second', 'second', 'second', 'second']);
  });
});
