/**
 * Live tail across a collector restart: a viewer streaming from the store-fed tail loses its connection
 * when the collector stops (SIGTERM), reconnects to the restarted collector (same store directory) with
 * `start=<last cursor>`, and gets every record once, in order: what it had, what was sent after the restart
 * before it came back (from the store), and the live stream.
 */
import fs from 'node:fs';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { connect, type Frame } from './support/tail-client.js';

const secret = 'a-live-tail-restart-secret-0123456789abcdef';
const sign = (claims: Record<string, unknown>): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').setAudience('tributary').sign(new TextEncoder().encode(secret));

let running: RunningCollector | undefined;
const dir = tempDir('trib-tail-restart-');
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function post(port: number, body: string): Promise<void> {
  const now = Date.now();
  const req = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bounce' } }, { key: 'project.id', value: { stringValue: 'acme' } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: `${now}000000`, severityNumber: 9, body: { stringValue: body } }] }] }] };
  const res = await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
}

const records = (frames: Frame[]): NonNullable<Frame['records']> => frames.flatMap((f) => (f.type === 'logs' ? f.records! : []));

describe('live tail across a collector restart', () => {
  it('the viewer reconnects with its cursor and resumes: every record once, in order', async () => {
    const [otlp, api, health] = await Promise.all([freePort(), freePort(), freePort()]);
    const config = `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlp} } } } }
exporters: { store: { directory: ./store } }
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
  api: { endpoint: 127.0.0.1:${api}, auth: { jwt: { secret: "${secret}", audience: tributary } } }
service:
  extensions: [health_check, api]
  pipelines: { logs: { receivers: [otlp], exporters: [store] } }
`;
    running = await startCollector(config, { healthPort: health, dir });
    const token = await sign({ project: 'acme' });
    const url = `ws://127.0.0.1:${api}/api/v1/tail?query=${encodeURIComponent('service:bounce')}`;
    const a = connect(url, ['bearer', token]);
    await a.opened;
    for (let i = 0; i < 20; i++) await post(otlp, `r${i}`);
    await waitFor('the first 20 records live', () => records(a.frames).length >= 20 || undefined, 20_000);

    // The collector stops: the viewer's socket closes.
    const closed = a.closed;
    expect(await running.stop('SIGTERM')).toBe(0);
    running = undefined;
    await closed;
    const before = records(a.frames);
    const seen = a.frames.filter((f) => f.type === 'logs');
    const cursor = seen[seen.length - 1]!.cursor!;
    expect(cursor).toBeTruthy();

    // Restarted on the same store; records arrive before the viewer is back, and after.
    running = await startCollector(config, { healthPort: health, dir });
    for (let i = 20; i < 30; i++) await post(otlp, `r${i}`);
    const b = connect(`${url}&start=${encodeURIComponent(cursor)}`, ['bearer', token]);
    await b.opened;
    for (let i = 30; i < 40; i++) await post(otlp, `r${i}`);
    await waitFor('every record', () => before.length + records(b.frames).length >= 40 || undefined, 30_000);
    const all = [...before, ...records(b.frames)];
    expect(all.map((r) => String(r.body))).toEqual(Array.from({ length: 40 }, (_, i) => `r${i}`));
    expect(new Set(all.map((r) => r.id)).size).toBe(40);
    expect(b.frames.some((f) => f.type === 'dropped')).toBe(false);
    b.ws.close();
  }, 120_000);
});
