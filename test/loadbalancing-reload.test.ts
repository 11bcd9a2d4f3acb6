/**
 * The loadbalancing exporter in the built CLI with a static resolver of 3 OTLP/gRPC backends and a disk
 * queue: one backend goes away mid-run and the config is reloaded (SIGHUP) with the other two; every
 * record the collector acknowledged reaches a backend.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import fs from 'node:fs';
import path from 'node:path';
import type { ExportLogsServiceRequest, ExportLogsServiceResponse } from '@tributary/otlp';
import { afterEach, describe, expect, it } from 'vitest';
import { logsServiceDefinition } from '../collector/src/exporters/otlp/index.js';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { numbersOf, runLoad } from './support/delivery.js';

class Backend {
  readonly got = new Map<number, number>();
  readonly server = new Server();
  port = 0;
  async up(): Promise<void> {
    this.server.addService(logsServiceDefinition, {
      Export: (call: ServerUnaryCall<ExportLogsServiceRequest, ExportLogsServiceResponse>, cb: sendUnaryData<ExportLogsServiceResponse>) => {
        for (const n of numbersOf(call.request)) this.got.set(n, (this.got.get(n) ?? 0) + 1);
        cb(null, {});
      },
    });
    this.port = await new Promise<number>((resolve, reject) => this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  }
}

let collectors: RunningCollector[] = [];
const backends: Backend[] = [];
afterEach(async () => {
  await Promise.all(collectors.map((c) => c.stop('SIGKILL')));
  for (const c of collectors) fs.rmSync(c.dir, { recursive: true, force: true });
  collectors = [];
  for (const b of backends.splice(0)) b.server.forceShutdown();
});

describe('loadbalancing exporter: resolver change by reload', () => {
  it('a backend removed mid-run (config reloaded with SIGHUP): nothing acknowledged is lost', async () => {
    for (let i = 0; i < 3; i++) {
      const b = new Backend();
      await b.up();
      backends.push(b);
    }
    const [http, health] = await Promise.all([freePort(), freePort()]);
    const config = (list: Backend[]) => `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${http} } } } }
processors: { batch: { send_batch_size: 200, timeout: 20ms } }
exporters:
  loadbalancing:
    routing_key: attributes
    routing_attributes: [n]
    protocol: { otlp: { tls: { insecure: true }, compression: none } }
    resolver: { static: { hostnames: [${list.map((b) => `127.0.0.1:${b.port}`).join(', ')}] } }
    timeout: 2s
    sending_queue: { storage: file_storage, num_consumers: 4 }
    retry_on_failure: { initial_interval: 50ms, max_interval: 500ms, max_elapsed_time: 0s }
extensions: { health_check: { endpoint: 127.0.0.1:${health} }, file_storage: { directory: ./queue } }
service:
  extensions: [health_check, file_storage]
  pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [loadbalancing] } }
`;
    const c = await startCollector(config(backends), { healthPort: health });
    collectors.push(c);
    const load = runLoad({ port: () => http, total: 30_000, perRequest: 100, concurrency: 4, retryMs: 50, pacePerSecond: 5_000 });
    await waitFor('all three backends in use', () => backends.every((b) => b.got.size > 0) || undefined, 30_000, 50);
    backends[2]!.server.forceShutdown();
    fs.writeFileSync(path.join(c.dir, 'config.yaml'), config(backends.slice(0, 2)));
    c.child.kill('SIGHUP');
    await waitFor('the reload', () => /configuration reloaded/.test(c.stderr()) || undefined, 30_000, 50);
    const stats = await load.done;
    expect(stats.acknowledged).toBe(30_000);
    const seen = (): Set<number> => new Set(backends.flatMap((b) => [...b.got.keys()]));
    await waitFor('every acknowledged record at a backend', () => { const s = seen(); return [...stats.acked].every((n) => s.has(n)) || undefined; }, 90_000, 200);
    const s = seen();
    expect([...stats.acked].filter((n) => !s.has(n))).toEqual([]);
    expect(c.stderr()).toMatch(/load-balancing backends changed/);
  }, 180_000);
});
