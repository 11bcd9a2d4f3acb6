/**
 * An operator's bad day, at process level against the built CLI: a second collector on the same queue
 * directory, SIGHUP reloads (valid and invalid) under load, requests larger than the batch limit, and
 * refusals a client that writes its whole body first can still read.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { cliPath, freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';
import { Destination, lostOf, numberedRequest, postLogs, rawLogsClient, rssOf, runLoad, unexpectedOf } from './support/delivery.js';

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
    const client = rawLogsClient(p.grpc);
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

/** Opens a connection, declares `declared` bytes, sends `send` of them, and stalls. */
function stalledUpload(port: number, declared: number, send: number): Socket {
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.write(`POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${declared}\r\n\r\n`);
  const chunk = Buffer.alloc(1 << 20, 0x41);
  for (let sent = 0; sent < send; sent += chunk.length) sock.write(chunk.subarray(0, Math.min(chunk.length, send - sent)));
  sock.resume();
  return sock;
}

describe('memory under pressure', () => {
  const MIB = 1024 * 1024;

  it('memory_limiter recovers within a check or two after stalled uploads and after a burst of large valid requests', async () => {
    const dir = tempDir('trib-mem-');
    dirs.push(dir);
    const p = await ports();
    // A destination that never holds anything up (debug, one line per batch): what is measured is the limiter.
    await start(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${p.http} } } } }
processors: { memory_limiter: { check_interval: 200ms, limit_mib: 256, spike_limit_mib: 64 } }
exporters: { debug: { verbosity: basic } }
extensions: { health_check: { endpoint: 127.0.0.1:${p.health} } }
service:
  extensions: [health_check]
  pipelines: { logs: { receivers: [otlp], processors: [memory_limiter], exporters: [debug] } }
`, p, dir);
    // 40 uploads of 19 MiB that stall 1 MiB before the end.
    const socks = Array.from({ length: 40 }, () => stalledUpload(p.http, 19 * MIB, 18 * MIB));
    await new Promise((r) => setTimeout(r, 2000));
    for (const s of socks) s.destroy();
    const small = numberedRequest(0, 10);
    const t0 = Date.now();
    await waitFor('a small request accepted after the stalled uploads', async () => (await postLogs(p.http, small)).status === 200 || undefined, 10_000, 50);
    expect(Date.now() - t0).toBeLessThan(8000); // before: refused for minutes (RSS-based)

    // 16 concurrent valid 8 MiB requests, each resent on 503/429 until accepted.
    const big = numberedRequest(100, 100 + 8000, 1000);
    expect(big.length).toBeGreaterThan(7 * MIB);
    const seen: Record<string, number> = {};
    await Promise.all(Array.from({ length: 16 }, async () => {
      const end = Date.now() + 45_000;
      while (Date.now() < end) {
        const r = await postLogs(p.http, big);
        seen[String(r.status)] = (seen[String(r.status)] ?? 0) + 1;
        if (r.status === 200) return;
        await new Promise((res) => setTimeout(res, 200));
      }
      throw new Error(`a large request was never accepted: ${JSON.stringify(seen)}`);
    }));
    const t1 = Date.now();
    await waitFor('a small request accepted after the burst', async () => (await postLogs(p.http, small)).status === 200 || undefined, 15_000, 50);
    expect(Date.now() - t1).toBeLessThan(8000);
  }, 120_000);

  it('5× overload with large bodies: RSS stays within limit_mib + the idle baseline', async () => {
    const dest = await destination();
    // A slow destination: one request at a time, 100 ms each.
    dest.respond = () => ({ status: 200, delayMs: 100 });
    const dir = tempDir('trib-rss-');
    dirs.push(dir);
    const p = await ports();
    const LIMIT_MIB = 256;
    await start(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${p.http} } } } }
processors: { memory_limiter: { check_interval: 100ms, limit_mib: ${LIMIT_MIB}, spike_limit_mib: 64 } }
exporters:
  otlphttp:
    endpoint: ${dest.url}
    compression: none
    sending_queue: { num_consumers: 1, queue_size: 50 }
    retry_on_failure: { initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 0 }
extensions: { health_check: { endpoint: 127.0.0.1:${p.health} }, metrics: { endpoint: 127.0.0.1:${p.metrics} } }
service:
  extensions: [health_check, metrics]
  shutdown_timeout: 2s
  pipelines: { logs: { receivers: [otlp], processors: [memory_limiter], exporters: [otlphttp] } }
`, p, dir);
    const baseline = await rssOf(p.metrics);
    let maxRss = 0;
    const timer = setInterval(() => void rssOf(p.metrics).then((v) => (maxRss = Math.max(maxRss, v)), () => undefined), 100);
    const body = numberedRequest(0, 4000, 1000); // ~4 MiB
    const statuses: Record<string, number> = {};
    const end = Date.now() + 8000;
    await Promise.all(Array.from({ length: 24 }, async () => {
      while (Date.now() < end) {
        const r = await postLogs(p.http, body);
        statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
        if (r.status !== 200) await new Promise((res) => setTimeout(res, 100));
      }
    }));
    clearInterval(timer);
    maxRss = Math.max(maxRss, await rssOf(p.metrics));
    console.log(`overload: baseline ${Math.round(baseline / MIB)} MiB, max RSS ${Math.round(maxRss / MIB)} MiB, limit ${LIMIT_MIB} MiB, answers ${JSON.stringify(statuses)}`);
    expect(statuses['200'] ?? 0).toBeGreaterThan(0);
    expect((statuses['503'] ?? 0) + (statuses['429'] ?? 0)).toBeGreaterThan(0);
    // "About" limit_mib + the idle baseline (memory_limiter README): the limiter bounds V8's heap, external
    // memory and bodies in flight; allocator and socket memory it cannot see gets a tenth of the limit.
    expect(maxRss).toBeLessThanOrEqual(LIMIT_MIB * MIB * 1.1 + baseline);
  }, 120_000);
});

describe('configuration reload', () => {
  it('SIGHUP with an invalid then a valid config, and --watch-config, under load: nothing acknowledged lost', async () => {
    const onDisk = await destination();
    const inMemory = await destination();
    inMemory.respond = () => ({ status: 200, delayMs: 30 }); // so its queue holds records at each reload
    await onDisk.down(); // records wait on disk across the reloads
    const dir = tempDir('trib-reload-');
    dirs.push(dir);
    const p = await ports();
    const yaml = (batchTimeout: string, extraProcessor = false): string => `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${p.http} } } } }
processors: { batch: { timeout: ${batchTimeout} }${extraProcessor ? ', attributes/tag: { actions: [{ key: reloaded, value: "yes", action: insert }] }' : ''} }
exporters:
  otlphttp/disk:
    endpoint: ${onDisk.url}
    compression: none
    sending_queue: { storage: file_storage, num_consumers: 2 }
    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0 }
  otlphttp/mem:
    endpoint: ${inMemory.url}
    compression: none
    sending_queue: { num_consumers: 1, queue_size: 5000 }
    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0 }
extensions:
  health_check: { endpoint: 127.0.0.1:${p.health} }
  file_storage: { directory: ./queue }
service:
  extensions: [health_check, file_storage]
  shutdown_timeout: 10s
  pipelines: { logs: { receivers: [otlp], processors: [batch${extraProcessor ? ', attributes/tag' : ''}], exporters: [otlphttp/disk, otlphttp/mem] } }
`;
    const c = await start(yaml('50ms'), p, dir, ['--watch-config']);
    const configPath = path.join(dir, 'config.yaml');
    const load = runLoad({ port: () => p.http, total: 6000, perRequest: 20, concurrency: 4, pacePerSecond: 1500, retryMs: 100 });
    const logged = (re: RegExp): Promise<true> => waitFor(`log line ${re}`, () => re.test(c.stderr()) || undefined, 20_000, 20);

    await waitFor('some records acknowledged', () => load.stats.acknowledged >= 500 || undefined, 20_000, 20);
    // An invalid config: rejected with its path, the old one keeps running.
    fs.writeFileSync(configPath, yaml('50ms').replace('timeout: 50ms', 'timeout: 50ms, not_a_key: 1'));
    await waitFor('watcher settles', () => true, 1000);
    c.child.kill('SIGHUP');
    await logged(/configuration reload failed.*config=\S*config\.yaml.*not_a_key/);
    await waitFor('more records acknowledged', () => load.stats.acknowledged >= 1500 || undefined, 20_000, 20);
    // A valid one: swapped, and what changed is logged.
    fs.writeFileSync(configPath, yaml('100ms', true));
    c.child.kill('SIGHUP');
    await logged(/configuration reloaded.*processors\.batch changed.*processors\.attributes\/tag added/);
    await waitFor('more records acknowledged', () => load.stats.acknowledged >= 3000 || undefined, 20_000, 20);
    // --watch-config: a change of the file reloads without a signal.
    fs.writeFileSync(configPath, yaml('60ms', true));
    await waitFor('reloaded twice', () => (c.stderr().match(/configuration reloaded/g)?.length ?? 0) >= 2 || undefined, 20_000, 50);
    await load.done;
    expect(load.stats.acknowledged).toBe(6000);
    expect(c.child.exitCode).toBeNull(); // SIGHUP did not kill it
    await onDisk.up();
    await waitFor('every acknowledged record at the disk-queued destination', () => lostOf(load.stats.acked, onDisk).length === 0 || undefined, 30_000, 50);
    await waitFor('every acknowledged record at the memory-queued destination', () => lostOf(load.stats.acked, inMemory).length === 0 || undefined, 30_000, 50);
    expect(unexpectedOf(onDisk, 6000)).toEqual([]);
    expect(unexpectedOf(inMemory, 6000)).toEqual([]);
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(c.stderr()).not.toMatch(/UNACCOUNTED/);
  }, 120_000);
});
