/**
 * An operator's bad day, at process level against the built CLI: a second collector on the same queue
 * directory, SIGHUP reloads (valid and invalid) under load, requests larger than the batch limit, and
 * refusals a client that writes its whole body first can still read.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { credentials, makeGenericClientConstructor, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { cliPath, freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { Destination, lostOf, numberedRequest, postLogs, unexpectedOf } from './support/delivery.js';

const collectors: RunningCollector[] = [];
const dests: Destination[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of collectors.splice(0)) await c.stop('SIGKILL');
  for (const d of dests.splice(0)) await d.down();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function destination(): Promise<Destination> {
  const dest = new Destination();
  dests.push(dest);
  await dest.up();
  return dest;
}

interface Ports { http: number; grpc: number; health: number; metrics: number }

async function ports(): Promise<Ports> {
  return { http: await freePort(), grpc: await freePort(), health: await freePort(), metrics: await freePort() };
}

function queuedConfig(p: Ports, destUrl: string, extra = ''): string {
  return `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${p.http} }, grpc: { endpoint: 127.0.0.1:${p.grpc} } } } }
processors: { batch: { timeout: 50ms } }
exporters:
  otlphttp:
    endpoint: ${destUrl}
    compression: none
    sending_queue: { storage: file_storage, num_consumers: 2 }
    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0 }
extensions:
  health_check: { endpoint: 127.0.0.1:${p.health} }
  metrics: { endpoint: 127.0.0.1:${p.metrics} }
  file_storage: { directory: ./queue }
service:
  extensions: [health_check, metrics, file_storage]
  shutdown_timeout: 3s
  pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [otlphttp] } }
${extra}`;
}

async function start(yaml: string, p: Ports, dir: string, args: string[] = []): Promise<RunningCollector> {
  const c = await startCollector(yaml, { healthPort: p.health, dir, args });
  collectors.push(c);
  return c;
}

describe('a second collector on the same disk-queue directory', () => {
  it('is refused at start naming the directory and the holder; the first loses nothing', async () => {
    const dest = await destination();
    await dest.down();
    const dir = tempDir('trib-two-');
    dirs.push(dir);
    const p1 = await ports();
    const first = await start(queuedConfig(p1, dest.url), p1, dir);
    const acked = new Set<number>();
    for (let i = 0; i < 20; i++) {
      expect((await postLogs(p1.http, numberedRequest(i * 10, i * 10 + 10))).status).toBe(200);
      for (let n = i * 10; n < i * 10 + 10; n++) acked.add(n);
    }
    // The second one: same directory, other ports.
    const p2 = await ports();
    fs.writeFileSync(path.join(dir, 'second.yaml'), queuedConfig(p2, dest.url));
    const second = spawn(process.execPath, [cliPath, 'run', '--config', 'second.yaml'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    second.stderr.on('data', (d: Buffer) => (out += d.toString()));
    second.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => second.on('exit', resolve));
    expect(code).toBe(1);
    expect(out).toContain(path.join(fs.realpathSync(dir), 'queue', 'otlphttp'));
    expect(out).toContain(`pid ${first.child.pid}`);
    // The first keeps going and delivers everything it acknowledged.
    for (let i = 20; i < 30; i++) {
      expect((await postLogs(p1.http, numberedRequest(i * 10, i * 10 + 10))).status).toBe(200);
      for (let n = i * 10; n < i * 10 + 10; n++) acked.add(n);
    }
    await dest.up();
    await waitFor('every acknowledged record delivered', () => lostOf(acked, dest).length === 0 || undefined, 20_000, 20);
    expect(unexpectedOf(dest, 300)).toEqual([]);
    expect(await first.stop('SIGTERM')).toBe(0);
    // Released on exit: a new collector may use the directory.
    expect(fs.existsSync(path.join(dir, 'queue', 'otlphttp', 'LOCK'))).toBe(false);
  }, 60_000);
});

type RawExport = (req: Buffer, md: Metadata, cb: (err: ServiceError | null) => void) => void;
const RawLogsClient = makeGenericClientConstructor(
  {
    Export: {
      path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  },
  'LogsService',
);

describe('a request with more records than the batch processor may hold', () => {
  it('40,000 records over HTTP and over gRPC: accepted at once and delivered', async () => {
    const dest = await destination();
    const dir = tempDir('trib-big-');
    dirs.push(dir);
    const p = await ports();
    const c = await start(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${p.http} }, grpc: { endpoint: 127.0.0.1:${p.grpc} } } } }
processors: { batch: {} }
exporters: { otlphttp: { endpoint: ${dest.url}, compression: none } }
extensions: { health_check: { endpoint: 127.0.0.1:${p.health} } }
service:
  extensions: [health_check]
  pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [otlphttp] } }
`, p, dir);
    const http = await postLogs(p.http, numberedRequest(0, 40_000, 20));
    expect(http.status).toBe(200);
    const client = new RawLogsClient(`127.0.0.1:${p.grpc}`, credentials.createInsecure()) as unknown as Client & { Export: RawExport };
    try {
      const err = await new Promise<ServiceError | null>((resolve) => client.Export(Buffer.from(numberedRequest(40_000, 80_000, 20)), new Metadata(), resolve));
      expect(err?.message ?? null).toBeNull();
    } finally {
      client.close();
    }
    const all = new Set(Array.from({ length: 80_000 }, (_, i) => i));
    await waitFor('80,000 records delivered', () => lostOf(all, dest).length === 0 || undefined, 30_000, 50);
    expect(await c.stop('SIGTERM')).toBe(0);
  }, 60_000);
});
