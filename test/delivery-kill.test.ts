/**
 * Delivery fault tests at process level: the collector with a disk queue is SIGKILLed three times during a
 * 200k-record run and restarted; every acknowledged record must reach the destination.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { Destination, lostOf, runLoad, unexpectedOf } from './support/delivery.js';

let collector: RunningCollector | undefined;
const dests: Destination[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await collector?.stop('SIGKILL');
  collector = undefined;
  for (const d of dests.splice(0)) await d.down();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function config(p: { http: number; health: number; metrics: number; dest: string }): string {
  return `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${p.http} } } } }
# A batch processor in front of the disk queue: the service makes it acknowledge only what is on disk.
processors: { batch: { timeout: 50ms, send_batch_size: 2000 } }
exporters:
  otlphttp:
    endpoint: ${p.dest}
    compression: none
    sending_queue: { storage: file_storage, queue_size: 20000, num_consumers: 4 }
    retry_on_failure: { initial_interval: 50ms, max_interval: 500ms, max_elapsed_time: 0 }
extensions:
  health_check: { endpoint: 127.0.0.1:${p.health} }
  metrics: { endpoint: 127.0.0.1:${p.metrics} }
  file_storage: { directory: ./queue }
service:
  extensions: [health_check, metrics, file_storage]
  shutdown_timeout: 5s
  pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [otlphttp] } }
`;
}

describe('delivery: SIGKILL with the disk queue', () => {
  it('killed three times during a 200k-record run and restarted: 0 acknowledged records lost', async () => {
    const TOTAL = 200_000;
    const dest = new Destination();
    dests.push(dest);
    // A destination slower than the senders, so the disk queue holds a backlog at each kill.
    dest.respond = () => ({ status: 200, delayMs: 5 });
    await dest.up();
    const dir = tempDir('trib-kill-');
    dirs.push(dir);
    const ports = { http: await freePort(), health: await freePort(), metrics: await freePort(), dest: dest.url };
    const yaml = config(ports);
    const start = async (): Promise<RunningCollector> => startCollector(yaml, { healthPort: ports.health, dir });
    collector = await start();
    const load = runLoad({ port: () => ports.http, total: TOTAL, perRequest: 500, concurrency: 8, retryMs: 50 });
    let recoveredRuns = 0;
    for (const at of [50_000, 100_000, 150_000]) {
      await waitFor(`${at} records acknowledged`, () => load.stats.acknowledged >= at || undefined, 60_000, 10);
      collector.child.kill('SIGKILL');
      expect(await collector.exited).toBe('SIGKILL');
      collector = await start();
      if (/disk queue recovered/.test(collector.stderr())) recoveredRuns++;
    }
    const stats = await load.done;
    expect(stats.acknowledged).toBe(TOTAL);
    await waitFor('every acknowledged record at the destination', () => lostOf(stats.acked, dest).length === 0 || undefined, 60_000, 100)
      .catch((e: Error) => {
        const lost = lostOf(stats.acked, dest);
        const ranges: string[] = [];
        for (let i = 0; i < lost.length; i++) { if (i === 0 || lost[i] !== lost[i - 1]! + 1) ranges.push(`${lost[i]}`); else if (i === lost.length - 1 || lost[i + 1] !== lost[i]! + 1) ranges[ranges.length - 1] += `-${lost[i]}`; }
        throw new Error(`${e.message}: ${lost.length} lost: ${ranges.slice(0, 20).join(', ')}\n${collector?.stderr().slice(-3000)}`);
      });
    const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    expect(await collector.stop('SIGTERM')).toBe(0);
    // The queue held records at kill time at least once, and they came back after the restart.
    expect(recoveredRuns).toBeGreaterThan(0);
    expect(metrics).toMatch(/tributary_exporter_queue_recovered_log_records_total\{exporter="otlphttp"\} [1-9]/);
    expect(lostOf(stats.acked, dest)).toEqual([]);
    expect(unexpectedOf(dest, TOTAL)).toEqual([]);
    // Duplicates are allowed (batches in flight at a kill are resent): reported, not failed.
    console.log(`[delivery-kill] sent=${stats.sent} acknowledged=${stats.acknowledged} delivered=${dest.distinct} duplicates=${dest.duplicates} lost=0 client-errors=${stats.errors}`);
    // After a clean stop with everything sent, the queue directory holds no data segments.
    const qdir = path.join(dir, 'queue', 'otlphttp');
    const left = fs.existsSync(qdir) ? fs.readdirSync(qdir).filter((n) => n.endsWith('.log')) : [];
    expect(left).toEqual([]);
  }, 150_000);
});
