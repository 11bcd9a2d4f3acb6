/**
 * The nats exporter and receiver when NATS is down, against a private `nats-server -js` that the test
 * stops and starts (the shared one on 4222 is left alone): down at start, the agent acknowledges into its
 * disk queue and the gateway keeps trying; killed mid-run and started again, both reconnect and every
 * acknowledged record arrives.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { runLoad } from './support/delivery.js';
import { cleanUpNatsTest, agentConfig, fileNumbers, gatewayConfig, NATS_SERVER_BIN, PrivateNats, uniqueName } from './support/nats.js';

const inCi = process.env.CI === 'true';
if (!NATS_SERVER_BIN && !inCi) console.warn('skipping: no nats-server binary (apt-get install nats-server)');

let collectors: RunningCollector[] = [];
let server: PrivateNats | undefined;
afterEach(async () => {
  await cleanUpNatsTest(collectors, server);
  collectors = [];
  server = undefined;
});

describe('nats exporter and receiver with NATS down', () => {
  it.runIf(!NATS_SERVER_BIN && inCi)('nats-server must be installed when CI=true', () => {
    throw new Error('nats-server binary not found (CI=true)');
  });

  it.skipIf(!NATS_SERVER_BIN)('down at start and mid-run: the agent queues on disk, both reconnect, nothing acknowledged is lost', async () => {
    const nats = new PrivateNats();
    server = nats;
    nats.port = await freePort();
    const stream = uniqueName('TRIB_FAULT');
    const subject = uniqueName('trib_fault');
    const [http, health, gwHealth] = await Promise.all([freePort(), freePort(), freePort()]);
    const agent = await startCollector(agentConfig({ http, health, stream, subject, url: nats.url }), { healthPort: health });
    collectors.push(agent);
    const gwDir = tempDir('trib-gw-');
    const gateway = await startCollector(gatewayConfig({ health: gwHealth, stream, durable: 'gw', url: nats.url }), { healthPort: gwHealth, dir: gwDir });
    collectors.push(gateway);
    const out = path.join(gwDir, 'out.jsonl');

    // 1. NATS down at start: the agent acknowledges into its disk queue.
    const first = runLoad({ port: () => http, total: 20_000, perRequest: 500, concurrency: 2, retryMs: 100 });
    const s1 = await first.done;
    expect(s1.acknowledged).toBe(20_000);
    expect(fileNumbers(out).size).toBe(0);
    await nats.start();
    await waitFor('records queued while NATS was down to arrive', () => fileNumbers(out).size >= 20_000 || undefined, 60_000, 250);

    // 2. Mid-run: NATS killed and started again (same store) while records flow.
    const acked = new Set(s1.acked);
    const base = 20_000;
    const second = runLoad({ port: () => http, from: base, total: 40_000, perRequest: 500, concurrency: 2, retryMs: 100, pacePerSecond: 10_000 });
    await waitFor('load under way', () => second.stats.acknowledged > 5_000 || undefined, 30_000);
    await nats.stop();
    await new Promise((r) => setTimeout(r, 1500));
    await nats.start();
    const s2 = await second.done;
    for (const n of s2.acked) acked.add(n);
    expect(s2.acknowledged).toBe(40_000);
    const got = await waitFor('every acknowledged record after the NATS restart', () => {
      const m = fileNumbers(out);
      for (const n of acked) if (!m.has(n)) return undefined;
      return m;
    }, 90_000, 250);
    expect([...acked].filter((n) => !got.has(n))).toEqual([]);
    expect([...got.keys()].filter((n) => n < 0 || n >= base + 40_000)).toEqual([]);
    expect(agent.stderr()).toMatch(/cannot reach NATS yet|NATS connection lost/);
  }, 240_000);
});
