/**
 * Overload test: senders offer 5× what the destination takes, over HTTP and gRPC. The collector
 * must push back (429 / RESOURCE_EXHAUSTED with retry info), keep RSS under memory_limiter.limit_mib,
 * stay up, and deliver everything it acknowledged once the load stops.
 */
import fs from 'node:fs';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { decodeRpcStatus, retryDelayFromStatus } from '@tributary/otlp';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { Destination, lostOf, numberedRequest, rawLogsClient, rssOf, runLoad, unexpectedOf } from './support/delivery.js';

let collector: RunningCollector | undefined;
const dests: Destination[] = [];

afterEach(async () => {
  await collector?.stop('SIGKILL');
  if (collector) fs.rmSync(collector.dir, { recursive: true, force: true });
  collector = undefined;
  for (const d of dests.splice(0)) await d.down();
});


const LIMIT_MIB = 400;

describe('delivery: overload', () => {
  it('5× the destination rate: pushes back (429 / RESOURCE_EXHAUSTED), RSS under the limit, no crash, all accepted delivered', async () => {
    const dest = new Destination();
    dests.push(dest);
    // One request at a time, 100 ms each, 200 records per request: ~2000 records/s.
    dest.respond = () => ({ status: 200, delayMs: 100 });
    await dest.up();
    const [http, grpc, health, metrics] = [await freePort(), await freePort(), await freePort(), await freePort()];
    collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${http} }, grpc: { endpoint: 127.0.0.1:${grpc} } } } }
processors: { memory_limiter: { check_interval: 200ms, limit_mib: ${LIMIT_MIB}, spike_limit_mib: 100 } }
exporters:
  otlphttp:
    endpoint: ${dest.url}
    compression: none
    sending_queue: { num_consumers: 1, queue_size: 20 }
    retry_on_failure: { initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 0 }
extensions: { health_check: { endpoint: 127.0.0.1:${health} }, metrics: { endpoint: 127.0.0.1:${metrics} } }
service:
  extensions: [health_check, metrics]
  shutdown_timeout: 5s
  pipelines: { logs: { receivers: [otlp], processors: [memory_limiter], exporters: [otlphttp] } }
`, { healthPort: health });

    let maxRss = 0;
    const sampleRss = async (): Promise<void> => {
      maxRss = Math.max(maxRss, await rssOf(metrics));
    };
    const rssTimer = setInterval(() => void sampleRss().catch(() => undefined), 250);

    // HTTP: 8000 records/s offered; gRPC: 2000 records/s. Together 5× the destination's ~2000/s.
    const DURATION_S = 8;
    const httpLoad = runLoad({ port: () => http, total: 8000 * DURATION_S, perRequest: 200, concurrency: 48, pacePerSecond: 8000, retryMs: 100 });
    // Offer for DURATION_S, then stop (refused requests are not resent after that: they were never acknowledged).
    const stopAt = performance.now() + DURATION_S * 1000;
    const stopTimer = setTimeout(() => httpLoad.stop(), DURATION_S * 1000);
    const client = rawLogsClient(grpc);
    const grpcAcked = new Set<number>();
    const grpcCodes: Record<string, number> = {};
    let retryInfoSeen = 0;
    const GRPC_BASE = 10_000_000;
    const grpcLoad = (async () => {
      const started = performance.now();
      for (let i = 0; i < 10 * DURATION_S; i++) {
        const from = GRPC_BASE + i * 200;
        const due = started + i * 100;
        if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
        const body = Buffer.from(numberedRequest(from, from + 200));
        if (performance.now() > stopAt) break;
        for (let attempt = 0; attempt < 100 && performance.now() < stopAt; attempt++) {
          const err = await new Promise<ServiceError | null>((resolve) => client.Export(body, new Metadata(), (e) => resolve(e)));
          grpcCodes[String(err?.code ?? 0)] = (grpcCodes[String(err?.code ?? 0)] ?? 0) + 1;
          if (err === null) {
            for (let n = from; n < from + 200; n++) grpcAcked.add(n);
            break;
          }
          const bin = err.metadata.get('grpc-status-details-bin')[0];
          const delay = bin === undefined ? undefined : retryDelayFromStatus(decodeRpcStatus(bin as Buffer));
          if (delay !== undefined) retryInfoSeen++;
          await new Promise((r) => setTimeout(r, delay ?? 200));
        }
      }
    })();
    const stats = await httpLoad.done;
    await grpcLoad;
    clearTimeout(stopTimer);
    client.close();
    // The collector is still up and answering health checks.
    expect((await fetch(`http://127.0.0.1:${health}/`)).status).toBe(200);
    const allAcked = new Set([...stats.acked, ...grpcAcked]);
    await waitFor('everything acknowledged delivered', () => lostOf(allAcked, dest).length === 0 || undefined, 60_000, 100);
    clearInterval(rssTimer);
    await sampleRss();
    expect(stats.statuses['429'] ?? 0).toBeGreaterThan(0);
    expect(grpcCodes[String(status.RESOURCE_EXHAUSTED)] ?? 0).toBeGreaterThan(0);
    expect(retryInfoSeen).toBeGreaterThan(0);
    expect(maxRss).toBeGreaterThan(0);
    expect(maxRss).toBeLessThan(LIMIT_MIB * 1024 * 1024);
    expect(lostOf(allAcked, dest)).toEqual([]);
    expect(unexpectedOf(dest, Infinity).filter((n) => n >= 8000 * DURATION_S && n < GRPC_BASE)).toEqual([]);
    expect(await collector.stop('SIGTERM')).toBe(0);
    expect(collector.stderr()).toMatch(/every exporter balances/);
    console.log(`[delivery-overload] acknowledged http=${stats.acknowledged} grpc=${grpcAcked.size} delivered=${dest.distinct} duplicates=${dest.duplicates} http-statuses=${JSON.stringify(stats.statuses)} grpc-codes=${JSON.stringify(grpcCodes)} maxRssMiB=${(maxRss / 1048576).toFixed(0)}`);
  }, 120_000);
});
