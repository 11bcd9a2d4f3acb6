/**
 * `tributary run --workers 2` with the built CLI: two worker processes share the OTLP/HTTP port; records
 * sent over many connections all arrive exactly once; a worker killed with SIGKILL while its disk queue
 * holds records is restarted, recovers its queue and nothing acknowledged is lost; /metrics sums the
 * workers; SIGTERM drains every worker.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { Destination, lostOf, runLoad } from './support/delivery.js';

let collectors: RunningCollector[] = [];
const dests: Destination[] = [];
afterEach(async () => {
  await Promise.all(collectors.map((c) => c.stop('SIGKILL')));
  for (const c of collectors) fs.rmSync(c.dir, { recursive: true, force: true });
  collectors = [];
  for (const d of dests.splice(0)) await d.down();
});

function config(o: { http: number; health: number; metrics: number; dest: string }): string {
  return `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${o.http} } } } }
processors: { batch: { send_batch_size: 500, timeout: 20ms } }
exporters:
  otlphttp:
    endpoint: ${o.dest}
    compression: none
    sending_queue: { storage: file_storage, queue_size: 10000, num_consumers: 2 }
    retry_on_failure: { initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 0s }
extensions:
  health_check: { endpoint: 127.0.0.1:${o.health} }
  metrics: { endpoint: 127.0.0.1:${o.metrics} }
  file_storage: { directory: ./queue }
service:
  extensions: [health_check, metrics, file_storage]
  pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [otlphttp] } }
`;
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + '{') || line.startsWith(name + ' ')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

describe('run --workers 2', () => {
  it('records from many connections arrive once; a SIGKILLed worker is restarted and its disk queue recovered', async () => {
    const dest = new Destination();
    dests.push(dest);
    await dest.up();
    const [http, health, metrics] = await Promise.all([freePort(), freePort(), freePort()]);
    const c = await startCollector(config({ http, health, metrics, dest: dest.url }), { healthPort: health, args: ['--workers', '2'] });
    collectors.push(c);
    const pid = c.child.pid!;
    expect(childrenOf(pid).length).toBe(2);

    // 1. Many connections (fetch opens several; 16 concurrent senders), every record once.
    const first = await runLoad({ port: () => http, total: 40_000, perRequest: 200, concurrency: 16, retryMs: 50 }).done;
    expect(first.acknowledged).toBe(40_000);
    await waitFor('all records at the destination', () => dest.distinct >= 40_000 || undefined, 60_000, 100);
    expect(lostOf(first.acked, dest)).toEqual([]);
    expect(dest.duplicates).toBe(0);
    // Both workers took part, and /metrics sums them.
    const m = await waitFor('metrics of both workers', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      return metricSum(text, 'tributary_receiver_accepted_log_records_total') >= 40_000 ? text : undefined;
    }, 15_000, 200);
    expect(metricSum(m, 'tributary_receiver_accepted_log_records_total')).toBe(40_000);
    expect(fs.readdirSync(`${c.dir}/queue`).sort()).toEqual(['worker-0', 'worker-1']);

    // 2. Destination down: records are acknowledged into the workers' disk queues; kill one worker.
    await dest.down();
    const second = await runLoad({ port: () => http, from: 40_000, total: 20_000, perRequest: 200, concurrency: 8, retryMs: 50 }).done;
    expect(second.acknowledged).toBe(20_000);
    const before = childrenOf(pid);
    process.kill(before[0]!, 'SIGKILL');
    await waitFor('the worker restarted', () => {
      const now = childrenOf(pid);
      return now.length === 2 && !now.includes(before[0]!) ? true : undefined;
    }, 30_000, 100);
    await waitFor('health after the restart', async () => (await fetch(`http://127.0.0.1:${health}/`)).status === 200 || undefined, 30_000, 100);
    await dest.up();
    await waitFor('records queued before the kill to arrive', () => lostOf(second.acked, dest).length === 0 || undefined, 90_000, 200);
    expect(lostOf(second.acked, dest)).toEqual([]);
    expect(c.stderr()).toMatch(/worker died; restarting it/);
    const recovered = metricSum(await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text(), 'tributary_exporter_queue_recovered_log_records_total');
    expect(recovered).toBeGreaterThan(0);
    expect(dest.duplicates).toBe(0);

    // 3. SIGTERM drains every worker; the primary exits 0.
    const third = runLoad({ port: () => http, from: 60_000, total: 5_000, perRequest: 100, concurrency: 4, retryMs: 50 });
    const s3 = await third.done;
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(lostOf(s3.acked, dest)).toEqual([]);
    expect(childrenOf(pid)).toEqual([]);
  }, 240_000);
});
