/**
 * The store and its read side as a user runs them: the default config, `tributary query`, the native and
 * Loki APIs (with a small Loki client written from Loki's HTTP API documentation), JWT tenant isolation on
 * every endpoint, and SIGKILL in the middle of writes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, generateKeyPair, exportSPKI } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, freePort, repoRoot, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { numberedRequest, postLogs } from './support/delivery.js';

function otlpJson(project: string | undefined, service: string, body: string, attrs: Record<string, string | number> = {}, severity = 9): string {
  const resAttrs = [{ key: 'service.name', value: { stringValue: service } }, ...(project ? [{ key: 'project.id', value: { stringValue: project } }] : [])];
  const attributes = Object.entries(attrs).map(([key, v]) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } }));
  return JSON.stringify({
    resourceLogs: [{ resource: { attributes: resAttrs }, scopeLogs: [{ scope: { name: 't' }, logRecords: [{ timeUnixNano: `${Date.now()}000000`, severityNumber: severity, severityText: severity >= 17 ? 'ERROR' : 'INFO', body: { stringValue: body }, attributes }] }] }],
  });
}

async function post(port: number, body: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  return res.status;
}

/**
 * A minimal Loki client written from the Loki HTTP API documentation (grafana.com/docs/loki/latest/reference/loki-http-api):
 * query_range returns `{status:"success", data:{resultType:"streams", result:[{stream:{…}, values:[["<ns>", "<line>"]]}]}}`;
 * metric queries return `resultType:"matrix"` with `values:[[<unix seconds>, "<value>"]]`; labels and label
 * values return `{status:"success", data:[…strings]}`; series returns `data:[{…labels}]`.
 */
class LokiClient {
  constructor(private readonly base: string, private readonly headers: Record<string, string> = {}) {}

  private async get(p: string, params: Record<string, string | string[]>): Promise<{ status: number; json: { status: string; data: unknown; error?: string } }> {
    const u = new URL(p, this.base);
    for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, x);
    const res = await fetch(u, { headers: this.headers });
    return { status: res.status, json: (await res.json()) as { status: string; data: unknown } };
  }

  async queryRange(query: string, o: { start?: string; end?: string; limit?: number; direction?: string; step?: string } = {}) {
    const params: Record<string, string> = { query };
    if (o.start) params.start = o.start;
    if (o.end) params.end = o.end;
    if (o.limit) params.limit = String(o.limit);
    if (o.direction) params.direction = o.direction;
    if (o.step) params.step = o.step;
    const r = await this.get('/loki/api/v1/query_range', params);
    if (r.status !== 200) return { status: r.status, error: r.json.error, entries: [], series: [] };
    const data = r.json.data as { resultType: string; result: unknown[] };
    if (data.resultType === 'streams') {
      const entries: { labels: Record<string, string>; ns: bigint; line: string }[] = [];
      for (const s of data.result as { stream: Record<string, string>; values: [string, string][] }[]) {
        for (const [ts, line] of s.values) {
          if (!/^\d+$/.test(ts)) throw new Error(`timestamp is not a nanosecond string: ${ts}`);
          entries.push({ labels: s.stream, ns: BigInt(ts), line });
        }
      }
      return { status: 200, resultType: data.resultType, entries, series: [] };
    }
    const series = (data.result as { metric: Record<string, string>; values: [number, string][] }[]).map((m) => ({ metric: m.metric, points: m.values.map(([t, v]) => [t, Number(v)] as const) }));
    return { status: 200, resultType: data.resultType, entries: [], series };
  }

  async labels(): Promise<string[]> {
    return (await this.get('/loki/api/v1/labels', {})).json.data as string[];
  }

  async labelValues(name: string): Promise<string[]> {
    return (await this.get(`/loki/api/v1/label/${name}/values`, {})).json.data as string[];
  }

  async series(match: string[]): Promise<Record<string, string>[]> {
    return (await this.get('/loki/api/v1/series', { 'match[]': match })).json.data as Record<string, string>[];
  }
}

describe('default config: store, query CLI and Loki API', () => {
  let c: RunningCollector;
  let ports: Record<number, number>;
  beforeAll(async () => {
    ports = { 4317: await freePort(), 4318: await freePort(), 13133: await freePort(), 8888: await freePort(), 3100: await freePort() };
    let cfg = fs.readFileSync(path.join(repoRoot, 'otel-config.yaml'), 'utf8');
    expect(cfg).toContain('127.0.0.1:3100');
    // One pass: replacing port by port could rewrite a port an earlier replacement put in (4318 inside 43180).
    cfg = cfg.replace(/127\.0\.0\.1:(\d+)\b/g, (m, p: string) => (ports[Number(p)] !== undefined ? `127.0.0.1:${ports[Number(p)]}` : m));
    c = await startCollector(cfg, { healthPort: ports[13133]! });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
    if (c) fs.rmSync(c.dir, { recursive: true, force: true });
  });

  it('the README record is found by `tributary query Hello` and by the Loki query_range of the README', async () => {
    const example = fs.readFileSync(path.join(repoRoot, 'examples/log.json'), 'utf8');
    expect(await post(ports[4318]!, example)).toBe(200);
    const out = await waitFor('the record in the store', () => {
      const r = spawnSync(process.execPath, [cliPath, 'query', 'Hello'], { cwd: c.dir, encoding: 'utf8', timeout: 20_000 });
      return r.stdout.includes('Hello from the README') ? r : undefined;
    }, 20_000, 200);
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/INFO\s+checkout Hello from the README order\.id=1042 trace_id=5b8efff798038103d269b633813fc60c/);
    // The same through the api, as JSON.
    const remote = spawnSync(process.execPath, [cliPath, 'query', 'order.id:1042', '--from', `http://127.0.0.1:${ports[3100]}`, '--output', 'json'], { encoding: 'utf8', timeout: 20_000 });
    expect(JSON.parse(remote.stdout.trim()).body).toBe('Hello from the README');
    // Without auth, X-Scope-OrgID selects tenants (records without project.id are tenant "default").
    const inTenant = async (t: string) => ((await (await fetch(`http://127.0.0.1:${ports[3100]}/api/v1/query?query=Hello`, { headers: { 'x-scope-orgid': t } })).json()) as { records: unknown[] }).records.length;
    expect(await inTenant('default')).toBe(1);
    expect(await inTenant('nobody')).toBe(0);
    // What `curl '…/query_range?query={service_name="checkout"}'` sends (curl's globbing drops the braces), and the encoded braces.
    for (const q of ['service_name=%22checkout%22', encodeURIComponent('{service_name="checkout"}')]) {
      const res = await fetch(`http://127.0.0.1:${ports[3100]}/loki/api/v1/query_range?query=${q}`);
      expect(res.status).toBe(200);
      const j = (await res.json()) as { status: string; data: { resultType: string; result: { stream: Record<string, string>; values: [string, string][] }[] } };
      expect(j.status).toBe('success');
      expect(j.data.resultType).toBe('streams');
      expect(j.data.result[0]!.stream).toEqual({ service_name: 'checkout', level: 'info' });
      expect(j.data.result[0]!.values[0]![1]).toBe('Hello from the README');
      expect(j.data.result[0]!.values[0]![0]).toMatch(/^\d{19}$/);
    }
  });

  it('answers with the Loki shapes for log and metric queries, labels, values and series (independent client)', async () => {
    const port = ports[4318]!;
    expect(await post(port, otlpJson(undefined, 'payments', 'card declined for order 7', { 'http.status_code': 502 }, 17))).toBe(200);
    expect(await post(port, otlpJson(undefined, 'payments', 'card accepted for order 8', { 'http.status_code': 200 }))).toBe(200);
    const loki = new LokiClient(`http://127.0.0.1:${ports[3100]}`);
    await waitFor('payments records', async () => ((await loki.queryRange('{service_name="payments"}')).entries.length === 2 ? true : undefined), 20_000, 200);
    const errs = await loki.queryRange('{service_name="payments", level="error"} |= "declined"');
    expect(errs.entries.map((e) => e.line)).toEqual(['card declined for order 7']);
    expect((await loki.queryRange('{service_name="payments"} != "declined"')).entries.map((e) => e.line)).toEqual(['card accepted for order 8']);
    expect((await loki.queryRange('{service_name="payments"} |~ "order [78]$"')).entries).toHaveLength(2);
    expect((await loki.queryRange('{service_name="payments"} | json | http_status_code >= 500')).entries.map((e) => e.line)).toEqual(['card declined for order 7']);
    expect((await loki.queryRange('{service_name=~"pay.*"}', { direction: 'forward', limit: 1 })).entries.map((e) => e.line)).toEqual(['card declined for order 7']);
    const m = await loki.queryRange('sum by (level) (count_over_time({service_name="payments"}[5m]))', { step: '60s' });
    expect(m.resultType).toBe('matrix');
    const byLevel = Object.fromEntries(m.series.map((s) => [s.metric.level, Math.max(...s.points.map((p) => p[1]))]));
    expect(byLevel).toEqual({ error: 1, info: 1 });
    expect(await loki.labels()).toEqual(expect.arrayContaining(['service_name', 'level']));
    expect(await loki.labelValues('service_name')).toEqual(['checkout', 'payments']);
    const series = await loki.series(['{service_name="payments"}']);
    expect(series.map((s) => s.level).sort()).toEqual(['error', 'info']);
    const bad = await loki.queryRange('{service_name="payments"');
    expect(bad.status).toBe(400);
    const ready = await fetch(`http://127.0.0.1:${ports[3100]}/ready`);
    expect(ready.status).toBe(200);
  });

  it('native endpoints: query with cursor, 400 with the position, histogram from the rollup, fields and values', async () => {
    const base = `http://127.0.0.1:${ports[3100]}`;
    const bad = await fetch(`${base}/api/v1/query?query=${encodeURIComponent('service:payments AND (card')}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ position: 26, expected: expect.stringContaining('expected ")"') });
    const page1 = (await (await fetch(`${base}/api/v1/query?query=card&limit=1`)).json()) as { records: { body: string }[]; cursor: string };
    expect(page1.records.map((r) => r.body)).toEqual(['card accepted for order 8']);
    const page2 = (await (await fetch(`${base}/api/v1/query?query=card&limit=1&cursor=${page1.cursor}`)).json()) as { records: { body: string }[] };
    expect(page2.records.map((r) => r.body)).toEqual(['card declined for order 7']);
    const h = (await (await fetch(`${base}/api/v1/histogram?query=service:payments&step=1m&start=now-10m`)).json()) as { source: string; buckets: { counts: Record<string, number> }[] };
    expect(h.source).toBe('rollup');
    expect(h.buckets.reduce((n, b) => n + (b.counts.error ?? 0), 0)).toBe(1);
    const f = (await (await fetch(`${base}/api/v1/fields`)).json()) as { fields: { name: string }[] };
    expect(f.fields.map((x) => x.name)).toEqual(expect.arrayContaining(['service', 'attributes.http.status_code', 'resource.service.name']));
    const v = (await (await fetch(`${base}/api/v1/fields/service/values`)).json()) as { values: { value: string; count: number }[] };
    expect(v.values).toEqual(expect.arrayContaining([{ value: 'payments', count: 2 }]));
    const absurd = await fetch(`${base}/api/v1/query?start=0&end=now`);
    expect(absurd.status).toBe(400);
    expect(((await absurd.json()) as { error: string }).error).toMatch(/longer than the allowed/);
  });
});

describe('JWT auth and tenant isolation', () => {
  const secret = 'a-test-secret-of-enough-length-0123456789';
  let c: RunningCollector;
  let apiPort: number;
  let otlpPort: number;
  const sign = (claims: Record<string, unknown>, key = secret, exp = '1h') => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(exp).setAudience('tributary').sign(new TextEncoder().encode(key));
  beforeAll(async () => {
    const health = await freePort();
    apiPort = await freePort();
    otlpPort = await freePort();
    c = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlpPort} } } } }
exporters: { store: { directory: ./store } }
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
  api: { endpoint: 127.0.0.1:${apiPort}, auth: { jwt: { secret: "${secret}", audience: tributary, tenant_claim: project } } }
service:
  extensions: [health_check, api]
  pipelines: { logs: { receivers: [otlp], exporters: [store] } }
`, { healthPort: health });
    expect(await post(otlpPort, otlpJson('acme', 'acme-svc', 'secret plan of acme', { 'http.status_code': 500 }, 17))).toBe(200);
    expect(await post(otlpPort, otlpJson('globex', 'globex-svc', 'secret plan of globex', { 'http.status_code': 500 }, 17))).toBe(200);
    const token = await sign({ project: ['acme', 'globex'] });
    await waitFor('both tenants stored', async () => {
      const r = await fetch(`http://127.0.0.1:${apiPort}/api/v1/query?query=secret`, { headers: { authorization: `Bearer ${token}` } });
      return ((await r.json()) as { records: unknown[] }).records.length === 2 ? true : undefined;
    }, 20_000, 200);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
    if (c) fs.rmSync(c.dir, { recursive: true, force: true });
  });

  const endpoints = [
    '/api/v1/query?query=secret',
    '/api/v1/query?query=',
    '/api/v1/histogram?query=&step=1m',
    '/api/v1/histogram?query=secret&step=1m',
    '/api/v1/fields',
    '/api/v1/fields/service/values',
    '/api/v1/fields/resource.project.id/values',
    '/loki/api/v1/query_range?query=' + encodeURIComponent('{service_name=~".+"}'),
    '/loki/api/v1/query_range?query=' + encodeURIComponent('sum by (service_name) (count_over_time({level="error"}[5m]))') + '&step=1',
    '/loki/api/v1/query?query=' + encodeURIComponent('{level="error"}'),
    '/loki/api/v1/labels',
    '/loki/api/v1/label/service_name/values',
    '/loki/api/v1/label/project_id/values',
    '/loki/api/v1/series?match[]=' + encodeURIComponent('{level="error"}'),
  ];

  it('each token sees its own tenant on every endpoint and never the other one', async () => {
    for (const [mine, other] of [['acme', 'globex'], ['globex', 'acme']] as const) {
      const token = await sign({ project: mine, sub: `user-of-${mine}` });
      for (const ep of endpoints) {
        const res = await fetch(`http://127.0.0.1:${apiPort}${ep}`, { headers: { authorization: `Bearer ${token}` } });
        const text = await res.text();
        expect(res.status, `${ep}: ${text}`).toBe(200);
        expect(text, ep).not.toContain(other);
        if (!ep.includes('histogram') && !ep.endsWith('/labels') && !ep.includes('/fields?') && ep !== '/api/v1/fields') expect(text, ep).toContain(mine);
      }
      // Asking for the other tenant by header is refused, not silently empty.
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/query`, { headers: { authorization: `Bearer ${token}`, 'x-scope-orgid': other } });
      expect(res.status).toBe(403);
    }
  });

  it('refuses missing, unsigned, expired, wrongly signed, wrong-audience and tenant-less tokens with 401', async () => {
    const url = `http://127.0.0.1:${apiPort}/api/v1/query`;
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ project: 'acme', aud: 'tributary', exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
    const expired = await new SignJWT({ project: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setAudience('tributary').setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(new TextEncoder().encode(secret));
    const cases: [string, string | undefined, RegExp][] = [
      ['missing', undefined, /missing bearer token/],
      ['alg none', unsigned, /malformed or unsigned|algorithm/],
      ['expired', expired, /expired/],
      ['wrong key', await sign({ project: 'acme' }, 'another-secret-another-secret-0123'), /signature/],
      ['wrong audience', await new SignJWT({ project: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setAudience('other').setExpirationTime('1h').sign(new TextEncoder().encode(secret)), /aud/],
      ['no tenant', await sign({ sub: 'x' }), /no "project" claim/],
    ];
    for (const [name, token, why] of cases) {
      const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect(res.status, name).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      const body = (await res.json()) as { error: string };
      expect(body.error, name).toMatch(why);
      if (token) expect(body.error).not.toContain(token);
    }
    // /ready needs no token (Loki's readiness probe).
    expect((await fetch(`http://127.0.0.1:${apiPort}/ready`)).status).toBe(200);
  });

  it('public_key_file (RS256) works too', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const dir = tempDir();
    const keyFile = path.join(dir, 'pub.pem');
    fs.writeFileSync(keyFile, await exportSPKI(publicKey));
    const { ApiExtension } = await import('../collector/src/extensions/api/index.js');
    const { apiConfigSchema } = await import('../collector/src/extensions/api/config.js');
    const { silentLogger } = await import('../collector/src/telemetry/logger.js');
    const { Telemetry } = await import('../collector/src/telemetry/metrics.js');
    const port = await freePort();
    const api = new ApiExtension({ id: { type: 'api', name: '', id: 'api' }, logger: silentLogger, telemetry: new Telemetry() }, apiConfigSchema.parse({ endpoint: `127.0.0.1:${port}`, auth: { jwt: { public_key_file: keyFile } } }));
    const host = { getExtension: () => undefined } as never;
    await api.start(host);
    try {
      api.addRoutes([{ method: 'GET', path: '/api/v1/whoami/:x', handle: (ctx) => ({ body: { tenants: 'tenants' in ctx.access ? ctx.access.tenants : 'all', subject: ctx.subject, x: ctx.params.x } }) }]);
      const token = await new SignJWT({ project: 'acme', sub: 'ann' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('1h').sign(privateKey);
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/whoami/42`, { headers: { authorization: `Bearer ${token}` } });
      expect(await res.json()).toEqual({ tenants: ['acme'], subject: 'ann', x: '42' });
      const hs = await sign({ project: 'acme' });
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/whoami/1`, { headers: { authorization: `Bearer ${hs}` } })).status).toBe(401);
    } finally {
      await api.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to listen on a non-loopback address without auth unless allow_unauthenticated', async () => {
    const { ApiExtension } = await import('../collector/src/extensions/api/index.js');
    const { apiConfigSchema } = await import('../collector/src/extensions/api/config.js');
    const { silentLogger } = await import('../collector/src/telemetry/logger.js');
    const { Telemetry } = await import('../collector/src/telemetry/metrics.js');
    const api = new ApiExtension({ id: { type: 'api', name: '', id: 'api' }, logger: silentLogger, telemetry: new Telemetry() }, apiConfigSchema.parse({ endpoint: '0.0.0.0:0' }));
    await expect(api.start({} as never)).rejects.toThrow(/refusing to listen on 0\.0\.0\.0:0 without auth/);
    const open = new ApiExtension({ id: { type: 'api', name: '', id: 'api' }, logger: silentLogger, telemetry: new Telemetry() }, apiConfigSchema.parse({ endpoint: '0.0.0.0:0', allow_unauthenticated: true }));
    await open.start({} as never);
    await open.shutdown();
  });
});

describe('SIGKILL in the middle of writes', () => {
  it('loses nothing acknowledged and leaves every day file readable', async () => {
    const health = await freePort();
    const otlp = await freePort();
    const dir = tempDir();
    // No batch processor and no exporter queue: a 200 means the store committed the records.
    const cfg = `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlp} } } } }
exporters: { store: { directory: ./store, sending_queue: { enabled: false } } }
extensions: { health_check: { endpoint: 127.0.0.1:${health} } }
service:
  extensions: [health_check]
  pipelines: { logs: { receivers: [otlp], exporters: [store] } }
`;
    const c = await startCollector(cfg, { healthPort: health, dir });
    const acked = new Set<number>();
    let next = 0;
    const senders = Array.from({ length: 4 }, async () => {
      for (;;) {
        const from = next;
        next += 500;
        const r = await postLogs(otlp, numberedRequest(from, from + 500));
        if (r.status !== 200) return;
        for (let n = from; n < from + 500; n++) acked.add(n);
      }
    });
    await waitFor('some acknowledged writes', () => (acked.size >= 20_000 ? true : undefined), 60_000, 20);
    c.child.kill('SIGKILL');
    await c.exited;
    await Promise.all(senders);
    const c2 = await startCollector(cfg, { healthPort: health, dir });
    await c2.stop();
    const r = spawnSync(process.execPath, [cliPath, 'query', '', '--from', path.join(dir, 'store'), '--since', '1h', '--limit', '10000000', '--output', 'json'], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 30 });
    expect(r.stderr).toBe('');
    const stored = new Set<number>();
    for (const line of r.stdout.split('\n')) if (line) stored.add((JSON.parse(line) as { attributes: { n: number } }).attributes.n);
    const lost = [...acked].filter((n) => !stored.has(n));
    expect(lost).toEqual([]);
    expect(stored.size).toBeGreaterThanOrEqual(acked.size);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 180_000);
});
