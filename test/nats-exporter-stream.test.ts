/**
 * The nats exporter and its JetStream stream, against a private `nats-server -js` (the shared one on 4222
 * is left alone). With no `stream` configured and none capturing the subject, the collector says so at
 * start, refuses the records (counted as dropped, reason permanent) instead of retrying them for the whole
 * retry window, and a SIGTERM ends it at once rather than at `shutdown_timeout`. With `stream` configured
 * and the stream deleted while running, the exporter creates it again and delivers.
 */
import { connect } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { runLoad } from './support/delivery.js';
import { cleanUpNatsTest, NATS_SERVER_BIN, PrivateNats, uniqueName } from './support/nats.js';

const inCi = process.env.CI === 'true';
if (!NATS_SERVER_BIN && !inCi) console.warn('skipping: no nats-server binary (apt-get install nats-server)');

let collectors: RunningCollector[] = [];
let server: PrivateNats | undefined;
afterEach(async () => {
  await cleanUpNatsTest(collectors, server);
  collectors = [];
  server = undefined;
});

async function agent(url: string, exporter: string): Promise<{ c: RunningCollector; http: number }> {
  const [http, health] = await Promise.all([freePort(), freePort()]);
  const c = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${http} } } } }
exporters: { nats: { servers: [${url}], ${exporter}, retry_on_failure: { initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 300s } } }
extensions: { health_check: { endpoint: 127.0.0.1:${health} } }
service: { shutdown_timeout: 60s, extensions: [health_check], pipelines: { logs: { receivers: [otlp], exporters: [nats] } } }
`, { healthPort: health });
  collectors.push(c);
  return { c, http };
}

describe('nats exporter and the JetStream stream', () => {
  it.runIf(!NATS_SERVER_BIN && inCi)('nats-server must be installed when CI=true', () => {
    throw new Error('nats-server binary not found (CI=true)');
  });

  it.skipIf(!NATS_SERVER_BIN)('no stream configured and none exists: a clear error, records refused, SIGTERM ends at once', async () => {
    server = new PrivateNats();
    await server.start();
    const subject = uniqueName('nostream');
    const { c, http } = await agent(server.url, `subject: ${subject}`);
    await waitFor('the start-up error', () => /no JetStream stream captures the subject/.test(c.stderr()) || undefined, 15_000, 50);
    expect(c.stderr()).toContain(`subject=${subject}`);
    const s = await runLoad({ port: () => http, total: 200, perRequest: 50, concurrency: 1 }).done;
    expect(s.acknowledged).toBe(200);
    // Refused as a configuration error, not retried for max_elapsed_time (300 s).
    await waitFor('records dropped as permanent', () => /reason=permanent records=\d+/.test(c.stderr()) || undefined, 15_000, 50);
    expect(c.stderr()).toMatch(/no JetStream stream captures subject .*set `stream:`/);
    const t0 = Date.now();
    const code = await c.stop('SIGTERM');
    const took = Date.now() - t0;
    expect(code).toBe(0);
    expect(took).toBeLessThan(10_000); // shutdown_timeout is 60 s: nothing waited for it
    const summary = /exporter nats: in (\d+) = sent (\d+) \+ dead-lettered 0 \+ dropped ([^+]*) \+ still queued 0 \+ in flight 0/.exec(c.stderr());
    expect(summary, c.stderr()).not.toBeNull();
    expect(Number(summary![1])).toBe(200);
    expect(Number(summary![2])).toBe(0);
    expect(summary![3]).toMatch(/permanent 200/);
  }, 90_000);

  it.skipIf(!NATS_SERVER_BIN)('stream configured and deleted while running: created again, the records arrive', async () => {
    server = new PrivateNats();
    await server.start();
    const subject = uniqueName('restream');
    const stream = uniqueName('RESTREAM');
    const { c, http } = await agent(server.url, `subject: ${subject}, stream: { name: ${stream} }`);
    const nc = await connect({ servers: server.url, timeout: 3000 });
    try {
      const jsm = await nc.jetstreamManager();
      await waitFor('the stream', () => jsm.streams.info(stream).then(() => true), 15_000, 50);
      const first = await runLoad({ port: () => http, total: 100, perRequest: 50, concurrency: 1 }).done;
      expect(first.acknowledged).toBe(100);
      await waitFor('100 records stored', async () => ((await jsm.streams.info(stream)).state.messages >= 2 ? true : undefined), 15_000, 50);
      expect(await jsm.streams.delete(stream)).toBe(true);
      const second = await runLoad({ port: () => http, total: 100, perRequest: 50, concurrency: 1 }).done;
      expect(second.acknowledged).toBe(100);
      await waitFor('the stream created again with the new records', async () => ((await jsm.streams.info(stream)).state.messages >= 2 ? true : undefined), 15_000, 100);
      expect(c.stderr()).not.toMatch(/reason=permanent/);
    } finally {
      await nc.close();
    }
    expect(await c.stop('SIGTERM')).toBe(0);
    const summary = /exporter nats: in 200 = sent 200 \+/.exec(c.stderr());
    expect(summary, c.stderr()).not.toBeNull();
  }, 90_000);
});
