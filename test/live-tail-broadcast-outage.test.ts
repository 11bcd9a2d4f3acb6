/**
 * Live tail across instances when the broker goes away mid-stream: two collectors share a private NATS
 * (`nats-server`) or Redis (`redis-server`) on a free port, started and killed by the test (the shared
 * 127.0.0.1:4222 / 6379 services are left alone). The broker is down when the collectors start and is
 * killed mid-stream later. While it is down the local viewer keeps getting
 * every local record, the outage is logged and counted in /metrics, and once the broker is back the viewer
 * on the other instance sees new records again. The broker is named once, in `service.coordination`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { NATS_SERVER_BIN, reachable } from './support/nats.js';
import { connect } from './support/tail-client.js';

const inCi = process.env.CI === 'true';
const REDIS_SERVER_BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'].find((p) => fs.existsSync(p));

/** A broker process on a fixed port that the test can kill and start again. */
class Broker {
  port = 0;
  private child: ChildProcess | undefined;
  readonly dir = tempDir('trib-broker-');
  constructor(private readonly args: (port: number, dir: string) => [string, string[]]) {}

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const [bin, args] = this.args(this.port, this.dir);
    this.child = spawn(bin, args, { stdio: 'ignore', cwd: this.dir });
    await waitFor('broker listening', () => reachable(this.port, 300).then((ok) => ok || undefined), 15_000, 50);
  }

  async kill(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGKILL');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const brokers = [
  {
    name: 'NATS',
    bin: NATS_SERVER_BIN,
    broker: () => new Broker((port) => [NATS_SERVER_BIN!, ['-a', '127.0.0.1', '-p', String(port)]]),
    coordination: (port: number) => `{ nats: { servers: ["nats://127.0.0.1:${port}"] } }`,
    broadcast: '{ nats: { subject: tail.outage } }',
  },
  {
    name: 'Redis',
    bin: REDIS_SERVER_BIN,
    broker: () => new Broker((port, dir) => [REDIS_SERVER_BIN!, ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir]]),
    coordination: (port: number) => `{ redis: { url: "redis://127.0.0.1:${port}" } }`,
    broadcast: '{ redis: { channel: tail.outage } }',
  },
];

let collectors: RunningCollector[] = [];
let broker: Broker | undefined;
afterEach(async () => {
  await Promise.all(collectors.map((c) => c.stop('SIGKILL')));
  for (const c of collectors) fs.rmSync(c.dir, { recursive: true, force: true });
  collectors = [];
  await broker?.dispose();
  broker = undefined;
});

function body(service: string, text: string): string {
  return JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: `${Date.now()}000000`, severityNumber: 9, body: { stringValue: text } }] }] }] });
}

async function send(port: number, text: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body('outage', text) });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
}

async function metric(port: number, line: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = line.exec(text);
  return m ? Number(m[1]) : 0;
}

for (const b of brokers) {
  if (!b.bin && !inCi) console.warn(`skipping: no ${b.name} server binary for the broadcast outage test`);

  describe(`live tail broadcast over ${b.name} when the broker goes away`, () => {
    it.runIf(!b.bin && inCi)(`the ${b.name} server binary must be installed when CI=true`, () => {
      throw new Error(`${b.name} server binary not found (CI=true)`);
    });

    it.skipIf(!b.bin)('local viewers keep streaming, the outage is logged and counted, the broadcast resumes', async () => {
      // Down at start: the collectors start anyway and connect once the broker is up.
      broker = b.broker();
      broker.port = await freePort();
      const ports: { otlp: number; api: number; metrics: number }[] = [];
      for (let i = 0; i < 2; i++) {
        const [otlp, api, health, metrics] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
        ports.push({ otlp, api, metrics });
        collectors.push(await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlp} } } } }
exporters: { live_tail: {} }
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
  metrics: { endpoint: 127.0.0.1:${metrics} }
  api: { endpoint: 127.0.0.1:${api}, tail: { broadcast: ${b.broadcast} } }
service:
  coordination: ${b.coordination(broker.port)}
  extensions: [health_check, metrics, api]
  pipelines: { logs: { receivers: [otlp], exporters: [live_tail] } }
`, { healthPort: health }));
      }
      const [a, far] = ports as [typeof ports[0], typeof ports[0]];
      const q = `query=${encodeURIComponent('service:outage')}`;
      const local = connect(`ws://127.0.0.1:${a.api}/api/v1/tail?${q}`);
      const remote = connect(`ws://127.0.0.1:${far.api}/api/v1/tail?${q}`);
      await Promise.all([local.opened, remote.opened]);
      if (b.name === 'NATS') await waitFor('the down-at-start warning', () => /cannot reach NATS yet; retrying/.test(collectors[0]!.stderr()) || undefined, 10_000, 50);
      await broker.start();
      const bodies = (v: typeof local): string[] => v.frames.flatMap((f) => (f.type === 'logs' ? f.records!.map((r) => String(r.body)) : []));

      // Before: the far viewer sees instance 0's records (the subscription starts in the background).
      let n = 0;
      await waitFor('a record across instances', async () => {
        await send(a.otlp, `before #${n++}`);
        return bodies(remote).some((x) => x.startsWith('before')) || undefined;
      }, 30_000, 200);

      // The broker goes away: both instances notice, log it and count it.
      await broker.kill();
      const errors = /^tributary_tail_broadcast_errors_total\{[^}]*reason="disconnected"[^}]*\} (\d+)/m;
      await waitFor('the outage counted', async () => ((await metric(a.metrics, errors)) > 0 ? true : undefined), 20_000, 100);
      expect(collectors[0]!.stderr()).toMatch(new RegExp(`live tail: ${b.name} connection (lost|problem)`));

      // Meanwhile every local record reaches the local viewer, none is lost.
      for (let i = 0; i < 20; i++) await send(a.otlp, `during #${i}`);
      await waitFor('local records during the outage', () => bodies(local).filter((x) => x.startsWith('during')).length >= 20 || undefined, 10_000);
      expect(new Set(bodies(local).filter((x) => x.startsWith('during'))).size).toBe(20);

      // Back: the broadcast resumes without a restart of either collector.
      await broker.start();
      let m = 0;
      await waitFor('records across instances after the broker is back', async () => {
        await send(a.otlp, `after #${m++}`);
        return bodies(remote).some((x) => x.startsWith('after')) || undefined;
      }, 30_000, 200);
      expect(collectors[0]!.stderr()).toMatch(new RegExp(`live tail: ${b.name} connection back`));
      // Still one copy of each record for the local viewer (no echo of its own records).
      const localBodies = bodies(local);
      expect(new Set(localBodies).size).toBe(localBodies.length);
      local.ws.close();
      remote.ws.close();
    }, 120_000);
  });
}
