import { describe, expect, it } from 'vitest';
import { QueryParseError } from '../../query/parser.js';
import { LogQLParseError } from '../../query/logql.js';
import { QueryTooExpensiveError, TenantAccessError } from '../../exporters/store/reader.js';
import { StoreWorkerError } from '../../exporters/store/worker-client.js';
import { silentLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { ApiExtension, toHttpError } from './api-extension.js';
import { apiConfigSchema } from './config.js';
import { compileRoute, matchRoute } from './routes.js';
import { isLoopback } from './server.js';

describe('api: errors, routes, loopback', () => {
  it('maps parser, store and worker errors to HTTP answers', () => {
    expect(toHttpError(new QueryParseError('expected ")"', 7))).toMatchObject({ status: 400, extra: { position: 7, expected: 'expected ")"' } });
    expect(toHttpError(new LogQLParseError('expected "}"', 3)).status).toBe(400);
    expect(toHttpError(new RangeError('end is before start')).status).toBe(400);
    expect(toHttpError(new TenantAccessError('no')).status).toBe(403);
    expect(toHttpError(new QueryTooExpensiveError('too slow', 'narrow it'))).toMatchObject({ status: 422, extra: { hint: 'narrow it' } });
    // Across the worker, errors arrive as StoreWorkerError carrying the original name.
    expect(toHttpError(new StoreWorkerError('too many', 'QueryTooExpensiveError', undefined, 'add a word')).status).toBe(422);
    expect(toHttpError(new StoreWorkerError('x', 'TenantAccessError')).status).toBe(403);
    expect(toHttpError(new Error('boom')).status).toBe(500);
  });

  it('matches :params and refuses a second route for the same method and path', () => {
    const routes = [compileRoute({ path: '/api/v1/sources/:id' }), compileRoute({ path: '/api/v1/fields/:name/values' })];
    expect(matchRoute(routes, '/api/v1/sources/a%20b')[0]!.params).toEqual({ id: 'a b' });
    expect(matchRoute(routes, '/api/v1/fields/attributes.http.route/values')[0]!.params).toEqual({ name: 'attributes.http.route' });
    expect(matchRoute(routes, '/api/v1/sources')).toEqual([]);
    const api = new ApiExtension({ id: { type: 'api', name: '', id: 'api' }, logger: silentLogger, telemetry: new Telemetry() }, apiConfigSchema.parse({}));
    expect(() => api.addRoutes([{ method: 'GET', path: '/api/v1/query', handle: () => undefined }])).toThrow(/already registered/);
    api.addRoutes([{ method: 'POST', path: '/api/v1/sources/:id', handle: () => undefined }]);
  });

  it('refuses bodies over max_body_size with 413, takes form POSTs, and answers 503 without a store', async () => {
    const api = new ApiExtension({ id: { type: 'api', name: '', id: 'api' }, logger: silentLogger, telemetry: new Telemetry() }, apiConfigSchema.parse({ endpoint: '127.0.0.1:0', max_body_size: 64, store: 'absent' }));
    await api.start({} as never);
    try {
      const base = `http://127.0.0.1:${api.address()!.port}`;
      const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
      expect((await fetch(`${base}/loki/api/v1/query_range`, { ...form, body: `query=${'x'.repeat(200)}` })).status).toBe(413);
      const r = await fetch(`${base}/loki/api/v1/query_range`, { ...form, body: 'query={a="b"}' });
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: string }).error).toMatch(/no store exporter/);
      expect((await fetch(`${base}/ready`)).status).toBe(503);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      const m = await fetch(`${base}/api/v1/query`, { method: 'DELETE' });
      expect(m.status).toBe(405);
      expect(m.headers.get('allow')).toBe('GET');
    } finally {
      await api.shutdown();
    }
  });

  it('config: defaults, one key source for JWT, loopback detection', () => {
    const c = apiConfigSchema.parse({});
    expect(c).toMatchObject({ endpoint: '127.0.0.1:3100', allow_unauthenticated: false, default_limit: 100, max_limit: 5000 });
    expect(apiConfigSchema.safeParse({ auth: { jwt: { secret: 'a', jwks_url: 'https://x/jwks' } } }).success).toBe(false);
    expect(apiConfigSchema.safeParse({ auth: { jwt: {} } }).success).toBe(false);
    expect(apiConfigSchema.parse({ auth: { jwt: { secret: 's' } } }).auth?.jwt.tenant_claim).toBe('project');
    expect(isLoopback('127.0.0.1:3100')).toBe(true);
    expect(isLoopback('[::1]:3100')).toBe(true);
    expect(isLoopback('localhost:3100')).toBe(true);
    expect(isLoopback('0.0.0.0:3100')).toBe(false);
    expect(isLoopback(':3100')).toBe(false);
    expect(isLoopback('10.0.0.5:3100')).toBe(false);
  });
});
