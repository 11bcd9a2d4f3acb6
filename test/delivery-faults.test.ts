/**
 * Delivery fault tests at process level, against the built CLI: a destination that is down for 30 s,
 * one that answers 503 then 429 (Retry-After: 2) then 200, a disk queue with a cut tail, and
 * permanent failures that land in the dead-letter file and are resent by `tributary replay`.
 * Each sends numbered records and checks that every acknowledged number arrived (duplicates reported).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliPath, freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { Destination, lostOf, numberedRequest, postLogs, runLoad, unexpectedOf } from './support/delivery.js';

const collectors: RunningCollector[] = [];
const dests: Destination[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of collectors.splice(0)) await c.stop('SIGKILL');
  for (const d of dests.splice(0)) await d.down();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function setup(exporterExtra: string, extensionsExtra = '', serviceExtensions = '') {
  const dest = new Destination();
  dests.push(dest);
  await dest.up();
  const dir = tempDir('trib-faults-');
  dirs.push(dir);
  const ports = { http: await freePort(), health: await freePort(), metrics: await freePort() };
  const yaml = `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${ports.http} } } } }
exporters:
  otlphttp:
    endpoint: ${dest.url}
    compression: none
${exporterExtra}
extensions:
  health_check: { endpoint: 127.0.0.1:${ports.health} }
  metrics: { endpoint: 127.0.0.1:${ports.metrics} }
${extensionsExtra}
service:
  extensions: [health_check, metrics${serviceExtensions}]
  shutdown_timeout: 3s
  pipelines: { logs: { receivers: [otlp], exporters: [otlphttp] } }
`;
  const start = async (): Promise<RunningCollector> => {
    const c = await startCollector(yaml, { healthPort: ports.health, dir });
    collectors.push(c);
    return c;
  };
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
  return { dest, dir, ports, yaml, start, metrics };
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('delivery faults', () => {
  it('destination down (connection refused) for 30 s under steady load, then back: 0 acknowledged lost', async () => {
    const s = await setup(`    retry_on_failure: { initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 0 }
    sending_queue: { queue_size: 5000, num_consumers: 4 }`);
    const c = await s.start();
    // Steady load: 250 records/s for 34 s; the destination is down from 2 s to 32 s.
    const load = runLoad({ port: () => s.ports.http, total: 8500, perRequest: 50, concurrency: 2, pacePerSecond: 250, retryMs: 200 });
    await waitFor('first records delivered', () => s.dest.distinct > 0 || undefined, 10_000, 20);
    await new Promise((r) => setTimeout(r, 2000));
    await s.dest.down();
    const downAt = performance.now();
    await new Promise((r) => setTimeout(r, 30_000));
    const deliveredWhileDown = s.dest.distinct;
    await s.dest.up();
    const stats = await load.done;
    expect(performance.now() - downAt).toBeGreaterThanOrEqual(30_000);
    await waitFor('every acknowledged record delivered', () => lostOf(stats.acked, s.dest).length === 0 || undefined, 30_000, 100);
    const m = await s.metrics();
    expect(metricValue(m, 'tributary_exporter_retries_total{exporter="otlphttp"}')).toBeGreaterThan(0);
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(stats.acknowledged).toBe(8500); // the queue never filled: every request was taken
    expect(s.dest.distinct).toBeGreaterThan(deliveredWhileDown);
    expect(lostOf(stats.acked, s.dest)).toEqual([]);
    expect(unexpectedOf(s.dest, 8500)).toEqual([]);
    // The shutdown summary adds up.
    expect(c.stderr()).toMatch(/delivery summary: accepted by receivers 8500;.*every exporter balances/);
    expect(c.stderr()).toMatch(/exporter otlphttp: in 8500 = sent 8500 \+ dead-lettered 0 \+ dropped 0 \+ still queued 0 \+ in flight 0/);
    console.log(`[delivery-outage] sent=${stats.sent} acknowledged=${stats.acknowledged} delivered=${s.dest.distinct} duplicates=${s.dest.duplicates} lost=0`);
  }, 90_000);

  it('destination answers 503, then 429 with Retry-After: 2, then 200: 0 lost, the waits honoured', async () => {
    const s = await setup(`    retry_on_failure: { initial_interval: 100ms, randomization_factor: 0, max_interval: 1s }
    sending_queue: { num_consumers: 1 }`);
    s.dest.respond = (i) =>
      i === 0 ? { status: 503 } : i === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 };
    const c = await s.start();
    const acked = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const r = await postLogs(s.ports.http, numberedRequest(i * 100, i * 100 + 100));
      expect(r.status).toBe(200);
      for (let n = i * 100; n < i * 100 + 100; n++) acked.add(n);
    }
    await waitFor('all 500 delivered', () => lostOf(acked, s.dest).length === 0 || undefined, 15_000, 20);
    const [first, second, third] = s.dest.log;
    expect([first!.status, second!.status, third!.status]).toEqual([503, 429, 200]);
    // 503 without Retry-After: the back-off's initial interval; 429: the server's 2 s.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(95);
    expect(second!.at - first!.at).toBeLessThan(1500);
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(1995);
    expect(lostOf(acked, s.dest)).toEqual([]);
    expect(unexpectedOf(s.dest, 500)).toEqual([]);
    expect(metricValue(await s.metrics(), 'tributary_exporter_retries_total{exporter="otlphttp"}')).toBe(2);
    expect(await c.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('corrupted disk-queue tail: the collector starts, keeps the good records, reports the damage', async () => {
    const s = await setup(`    sending_queue: { storage: file_storage, num_consumers: 1 }
    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0 }`, '  file_storage: { directory: ./queue }', ', file_storage');
    await s.dest.down();
    let c = await s.start();
    for (let i = 0; i < 10; i++) expect((await postLogs(s.ports.http, numberedRequest(i * 10, i * 10 + 10))).status).toBe(200);
    c.child.kill('SIGKILL');
    await c.exited;
    const qdir = path.join(s.dir, 'queue', 'otlphttp');
    const seg = fs.readdirSync(qdir).filter((n) => n.endsWith('.log')).sort().at(-1)!;
    const segPath = path.join(qdir, seg);
    fs.truncateSync(segPath, fs.statSync(segPath).size - 5); // cut into the last record (numbers 90..99)
    await s.dest.up();
    c = await s.start();
    const good = new Set(Array.from({ length: 90 }, (_, i) => i));
    await waitFor('the 90 good records delivered', () => lostOf(good, s.dest).length === 0 || undefined, 15_000, 20);
    const m = await s.metrics();
    expect(metricValue(m, 'tributary_exporter_queue_corrupt_records_total{exporter="otlphttp"}')).toBe(1);
    expect(metricValue(m, 'tributary_exporter_queue_recovered_log_records_total{exporter="otlphttp"}')).toBe(90);
    expect(c.stderr()).toMatch(/torn or corrupt tail.*offset/);
    expect(unexpectedOf(s.dest, 100)).toEqual([]);
    // Still serving: a new request goes through.
    expect((await postLogs(s.ports.http, numberedRequest(1000, 1001))).status).toBe(200);
    await waitFor('new record delivered', () => s.dest.received.has(1000) || undefined, 10_000, 20);
    expect(await c.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('permanent failures (400) land in the dead-letter file; replay delivers them after the fix', async () => {
    const s = await setup(`    dead_letter: { path: ./dead/otlphttp.jsonl }
    retry_on_failure: { initial_interval: 100ms }`);
    let broken = true;
    s.dest.respond = () => (broken ? { status: 400 } : { status: 200 });
    const c = await s.start();
    for (let i = 0; i < 4; i++) expect((await postLogs(s.ports.http, numberedRequest(i * 25, i * 25 + 25))).status).toBe(200);
    const dl = path.join(s.dir, 'dead', 'otlphttp.jsonl');
    await waitFor('100 records dead-lettered', async () =>
      metricValue(await s.metrics(), 'tributary_exporter_dead_lettered_log_records_total{exporter="otlphttp",reason="permanent"}') === 100 || undefined, 10_000, 20);
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(c.stderr()).toMatch(/exporter otlphttp: in 100 = sent 0 \+ dead-lettered 100 \+ dropped 0/);
    const lines = fs.readFileSync(dl, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    const first = JSON.parse(lines[0]!) as { exporter: string; reason: string; time: string; resourceLogs: unknown[] };
    expect(first.exporter).toBe('otlphttp');
    expect(first.reason).toMatch(/^permanent: .*400/);
    expect(first.resourceLogs).toHaveLength(1);
    expect(s.dest.distinct).toBe(0);

    broken = false;
    const replay = spawn(process.execPath, [cliPath, 'replay', '--from', dl, '--exporter', 'otlphttp', '--config', path.join(s.dir, 'config.yaml')], { cwd: s.dir });
    let out = '';
    replay.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    replay.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => replay.on('exit', resolve));
    expect(out).toContain('4 batches, 100 records; delivered 100, failed 0');
    expect(code).toBe(0);
    expect(lostOf(new Set(Array.from({ length: 100 }, (_, i) => i)), s.dest)).toEqual([]);
    expect(unexpectedOf(s.dest, 100)).toEqual([]);
  }, 60_000);

  it('SIGTERM with the destination down: exits within shutdown_timeout, the queued records stay on disk and are sent after the restart', async () => {
    const s = await setup(`    sending_queue: { storage: file_storage, num_consumers: 2 }
    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0 }`, '  file_storage: { directory: ./queue }', ', file_storage');
    await s.dest.down();
    let c = await s.start();
    const acked = new Set<number>();
    for (let i = 0; i < 20; i++) {
      expect((await postLogs(s.ports.http, numberedRequest(i * 50, i * 50 + 50))).status).toBe(200);
      for (let n = i * 50; n < i * 50 + 50; n++) acked.add(n);
    }
    const t0 = performance.now();
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3000 + 2500); // shutdown_timeout 3s, plus process exit
    expect(c.stderr()).toMatch(/exporter otlphttp: in 1000 = sent 0 \+ dead-lettered 0 \+ dropped 0 \+ still queued \d+ \+ in flight \d+/);
    await s.dest.up();
    c = await s.start();
    await waitFor('all 1000 delivered after the restart', () => lostOf(acked, s.dest).length === 0 || undefined, 15_000, 20);
    expect(metricValue(await s.metrics(), 'tributary_exporter_queue_recovered_log_records_total{exporter="otlphttp"}')).toBe(1000);
    expect(unexpectedOf(s.dest, 1000)).toEqual([]);
    expect(await c.stop('SIGTERM')).toBe(0);
  }, 60_000);
});
