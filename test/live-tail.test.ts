/**
 * Live tail as a user runs it: a collector process with the `live_tail` exporter (or the store feeding the
 * tail) and the `api` extension with JWT, real `ws` clients, records sent over OTLP/HTTP.
 */
import { spawn, spawnSync } from 'node:child_process';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startTailCollector, type Frame, type TailCollector } from './support/tail-client.js';
import { cliPath, waitFor } from './support/collector-process.js';

const secret = 'a-live-tail-test-secret-0123456789abcdef';
const sign = (claims: Record<string, unknown>, exp: string | number = '1h', aud = 'tributary', key = secret) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(exp).setAudience(aud).sign(new TextEncoder().encode(key));

function otlpJson(project: string, service: string, bodies: string[], severity = 9): string {
  const resAttrs = [{ key: 'service.name', value: { stringValue: service } }, { key: 'project.id', value: { stringValue: project } }];
  const now = Date.now();
  return JSON.stringify({
    resourceLogs: [{ resource: { attributes: resAttrs }, scopeLogs: [{ scope: { name: 't' }, logRecords: bodies.map((b, i) => ({ timeUnixNano: `${now * 1000 + i}000`, severityNumber: severity, severityText: severity >= 17 ? 'ERROR' : 'INFO', body: { stringValue: b } })) }] }],
  });
}

async function post(port: number, body: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
}

const bodies = (frames: Frame[]): string[] => frames.flatMap((f) => (f.type === 'logs' ? f.records!.map((r) => String(r.body)) : []));

describe('live tail over WebSocket', () => {
  let t: TailCollector | undefined;
  let otlp: number;
  let apiPort: number;
  beforeAll(async () => {
    t = await startTailCollector('live_tail', '{}', `auth: { jwt: { secret: "${secret}", audience: tributary } }, tail: { max_subscriptions_per_token: 3, heartbeat_interval: 1s, buffer_size: 50 }`);
    ({ otlp, api: apiPort } = t);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('streams only the token tenant\'s matching records, batched, with the bearer subprotocol', async () => {
    const token = await sign({ project: 'acme' });
    const a = connect(`ws://127.0.0.1:${apiPort}/api/v1/tail?query=${encodeURIComponent('severity>=error')}`, ['bearer', token]);
    await a.opened;
    expect(a.ws.protocol).toBe('bearer');
    // ?token= works too (documented as less safe).
    const b = connect(`ws://127.0.0.1:${apiPort}/api/v1/tail?token=${token}`);
    await b.opened;
    await post(otlp, otlpJson('acme', 'web', ['acme info one'], 9));
    await post(otlp, otlpJson('acme', 'web', ['acme error one', 'acme error two'], 17));
    await post(otlp, otlpJson('globex', 'web', ['globex error one'], 17));
    await waitFor('acme errors', () => bodies(a.frames).length >= 2 || undefined, 20_000);
    await waitFor('all acme records', () => bodies(b.frames).length >= 3 || undefined, 20_000);
    // A frame with the newest heartbeat proves nothing else arrives late.
    const hb = a.frames.length;
    await waitFor('a heartbeat', () => a.frames.slice(hb).some((f) => f.type === 'heartbeat') || undefined, 20_000);
    expect(bodies(a.frames)).toEqual(['acme error one', 'acme error two']);
    expect(bodies(b.frames).sort()).toEqual(['acme error one', 'acme error two', 'acme info one']);
    expect(a.frames.filter((f) => f.type === 'logs').every((f) => f.records!.every((r) => r.tenant === 'acme'))).toBe(true);
    a.ws.close();
    b.ws.close();
  }, 60_000);

  it('refuses bad tokens (401), other tenants (403), bad queries (400) before the upgrade; 429 past the per-token limit', async () => {
    const url = (q = '') => `ws://127.0.0.1:${apiPort}/api/v1/tail${q}`;
    expect(await connect(url()).refused).toBe(401);
    expect(await connect(url(), ['bearer', await sign({ project: 'acme' }, '1h', 'tributary', 'some-other-secret-0123456789abcdef')]).refused).toBe(401);
    expect(await connect(url(), ['bearer', await sign({ project: 'acme' }, '1h', 'other-audience')]).refused).toBe(401);
    expect(await connect(url(), ['bearer', await sign({ project: 'acme' }, Math.floor(Date.now() / 1000) - 3600)]).refused).toBe(401);
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ project: 'acme', aud: 'tributary', exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url')}.`;
    expect(await connect(url(), ['bearer', unsigned]).refused).toBe(401);
    const token = await sign({ project: 'acme', sub: 'limit' });
    expect(await connect(url('?tenant=globex'), ['bearer', token]).refused).toBe(403);
    expect(await connect(url(`?query=${encodeURIComponent('service:(')}`), ['bearer', token]).refused).toBe(400);
    const open = [connect(url(), ['bearer', token]), connect(url(), ['bearer', token]), connect(url(), ['bearer', token])];
    await Promise.all(open.map((o) => o.opened));
    expect(await connect(url(), ['bearer', token]).refused).toBe(429);
    open[0]!.ws.close();
    await open[0]!.closed;
    // A closed subscription frees its slot.
    const again = connect(url(), ['bearer', token]);
    await again.opened;
    for (const o of [...open.slice(1), again]) o.ws.close();
  }, 60_000);

  it('closes the socket on a malformed (1003) or oversized (1009) client message', async () => {
    const token = await sign({ project: 'acme', sub: 'messages' });
    const a = connect(`ws://127.0.0.1:${apiPort}/api/v1/tail`, ['bearer', token]);
    await a.opened;
    a.ws.send('{"type":"ping"}'); // a small JSON object is fine
    a.ws.send('not json');
    expect((await a.closed).code).toBe(1003);
    const b = connect(`ws://127.0.0.1:${apiPort}/api/v1/tail`, ['bearer', token]);
    await b.opened;
    b.ws.send(JSON.stringify({ pad: 'x'.repeat(10_000) }));
    expect((await b.closed).code).toBe(1009);
  }, 30_000);

  it('closes with 4001 when the token expires', async () => {
    const token = await sign({ project: 'acme' }, Math.floor(Date.now() / 1000) + 2);
    const a = connect(`ws://127.0.0.1:${apiPort}/api/v1/tail`, ['bearer', token]);
    await a.opened;
    const closed = await a.closed;
    expect(closed.code).toBe(4001);
    expect(closed.reason).toMatch(/expired/);
  }, 30_000);

  it('a client that never reads: buffer bounded, dropped frames add up to what was not delivered', async () => {
    const token = await sign({ project: 'slow' });
    const a = connect(`ws://127.0.0.1:${apiPort}/api/v1/tail`, ['bearer', token]);
    await a.opened;
    // Stop reading: the server's socket buffer fills, then its per-client buffer (50) drops the oldest.
    (a.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const big = 'x'.repeat(2000);
    const total = 3000;
    for (let i = 0; i < total; i += 500) await post(otlp, otlpJson('slow', 'web', Array.from({ length: 500 }, (_, j) => `${i + j} ${big}`)));
    await new Promise((r) => setTimeout(r, 1000));
    (a.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await waitFor('everything accounted for', () => {
      const got = bodies(a.frames).length;
      const dropped = a.frames.reduce((n, f) => n + (f.type === 'dropped' ? f.count! : 0), 0);
      return got + dropped === total || undefined;
    }, 30_000, 100);
    const dropped = a.frames.reduce((n, f) => n + (f.type === 'dropped' ? f.count! : 0), 0);
    expect(dropped).toBeGreaterThan(0);
    // Delivered records are in order and the newest made it.
    const got = bodies(a.frames).map((b) => Number(b.split(' ')[0]));
    expect(got).toEqual([...got].sort((x, y) => x - y));
    expect(got[got.length - 1]).toBe(total - 1);
    a.ws.close();
  }, 60_000);
});

describe('live tail fed by the store: resume and the Loki tail', () => {
  let t: TailCollector | undefined;
  let otlp: number;
  let apiPort: number;
  beforeAll(async () => {
    t = await startTailCollector('store', '{ directory: ./store }', `auth: { jwt: { secret: "${secret}", audience: tributary } }`);
    ({ otlp, api: apiPort } = t);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('resume with start=<cursor> across a forced disconnect: every record once, by record id', async () => {
    const token = await sign({ project: 'resume' });
    const url = `ws://127.0.0.1:${apiPort}/api/v1/tail?query=${encodeURIComponent('service:seam')}`;
    const a = connect(url, ['bearer', token]);
    await a.opened;
    const total = 60;
    let sent = 0;
    const sendSome = async (n: number) => {
      for (let i = 0; i < n; i++, sent++) await post(otlp, otlpJson('resume', 'seam', [`r${sent}`]));
    };
    await sendSome(20);
    await waitFor('the first records', () => bodies(a.frames).length >= 10 || undefined, 20_000);
    // Forced disconnect: no close handshake; what it got so far is what the viewer saw.
    a.ws.terminate();
    const seen = a.frames.filter((f) => f.type === 'logs');
    const cursor = seen[seen.length - 1]!.cursor!;
    expect(cursor).toBeTruthy();
    const before = seen.flatMap((f) => f.records!);
    // Records keep arriving while the viewer is away and while it reconnects.
    await sendSome(20);
    const b = connect(`${url}&start=${cursor}`, ['bearer', token]);
    const writing = sendSome(total - 40);
    await b.opened;
    await writing;
    await waitFor('every record', () => before.length + bodies(b.frames).length >= total || undefined, 30_000);
    const after = b.frames.filter((f) => f.type === 'logs').flatMap((f) => f.records!);
    const ids = [...before, ...after].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...before, ...after].map((r) => String(r.body))).toEqual(Array.from({ length: total }, (_, i) => `r${i}`));
    expect(b.frames.some((f) => f.type === 'dropped')).toBe(false);
    b.ws.close();
  }, 90_000);

  it('/loki/api/v1/tail sends Loki frames for a LogQL selector', async () => {
    const token = await sign({ project: 'loki' });
    const a = connect(`ws://127.0.0.1:${apiPort}/loki/api/v1/tail?query=${encodeURIComponent('{service_name="grafana"} |= "boom"')}`, ['bearer', token]);
    await a.opened;
    await post(otlp, otlpJson('loki', 'grafana', ['boom one', 'quiet', 'boom two'], 17));
    await post(otlp, otlpJson('loki', 'other', ['boom elsewhere'], 17));
    await waitFor('two entries', () => a.frames.flatMap((f) => f.streams ?? []).flatMap((s) => s.values).length >= 2 || undefined, 20_000);
    const streams = a.frames.flatMap((f) => f.streams ?? []);
    expect(streams.every((s) => s.stream.service_name === 'grafana' && s.stream.level === 'error')).toBe(true);
    const values = streams.flatMap((s) => s.values);
    expect(values.map((v) => v[1])).toEqual(['boom one', 'boom two']);
    expect(values.every((v) => /^\d{19}$/.test(v[0]))).toBe(true);
    expect(a.frames.every((f) => 'dropped_entries' in f)).toBe(true);
    a.ws.close();
  }, 60_000);

  it('`tributary tail` streams to the terminal (text and --output json), stops on SIGINT, exits 1 on a bad token', async () => {
    const token = await sign({ project: 'cli' });
    const run = (output: string) => {
      const child = spawn(process.execPath, [cliPath, 'tail', 'service:term', '--url', `http://127.0.0.1:${apiPort}`, '--token', token, '--output', output], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, out: () => stdout, exited };
    };
    const json = run('json');
    const text = run('text');
    let n = 0;
    // The CLI connects in the background: send until both printed something (bounded).
    await waitFor('lines from tributary tail', async () => {
      await post(otlp, otlpJson('cli', 'term', [`terminal line ${n++}`]));
      await post(otlp, otlpJson('cli', 'other', ['not this service']));
      return (json.out().includes('terminal line') && text.out().includes('terminal line')) || undefined;
    }, 30_000, 300);
    const lines = json.out().trim().split('\n').map((l) => JSON.parse(l) as { service: string; tenant: string; body: string });
    expect(lines.every((l) => l.service === 'term' && l.tenant === 'cli' && l.body.startsWith('terminal line'))).toBe(true);
    expect(text.out()).toMatch(/^\S+ INFO\s+term \[cli\] terminal line \d+$/m);
    expect(text.out()).not.toContain('not this service');
    json.child.kill('SIGINT');
    text.child.kill('SIGINT');
    expect(await json.exited).toBe(0);
    expect(await text.exited).toBe(0);
    const bad = spawnSync(process.execPath, [cliPath, 'tail', '', '--url', `http://127.0.0.1:${apiPort}`, '--token', 'not-a-token'], { encoding: 'utf8', timeout: 20_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/401/);
  }, 60_000);
});
