/**
 * NATS helpers for process-level tests: reachability of the shared server (127.0.0.1:4222), a private
 * `nats-server -js` on a free port for fault tests (it can be stopped and started again on the same
 * port and store directory), unique stream names and stream clean-up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { connect } from 'nats';
import { freePort, tempDir, waitFor, type RunningCollector } from './collector-process.js';

export const NATS_SERVER_BIN = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => fs.existsSync(p));

export function reachable(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** A name no other test run uses (streams, subjects, durables). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export async function deleteStream(url: string, name: string): Promise<void> {
  const nc = await connect({ servers: url, timeout: 3000 });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** A private JetStream server that a test may stop and start again (same port, same store). */
export class PrivateNats {
  port = 0;
  readonly storeDir = tempDir('trib-nats-');
  private child: ChildProcess | undefined;

  constructor(private readonly extraArgs: string[] = []) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!NATS_SERVER_BIN) throw new Error('nats-server binary not found');
    if (this.port === 0) this.port = await freePort();
    const child = spawn(NATS_SERVER_BIN, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...this.extraArgs], { stdio: 'ignore' });
    this.child = child;
    await waitFor('private nats-server', () => reachable(this.port, 300).then((ok) => ok || undefined), 15_000, 100);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** What a NATS process test's afterEach does: kill its collectors, remove their dirs, dispose of its server. */
export async function cleanUpNatsTest(collectors: readonly RunningCollector[], server: PrivateNats | undefined): Promise<void> {
  await Promise.all(collectors.map((c) => c.stop('SIGKILL')));
  for (const c of collectors) fs.rmSync(c.dir, { recursive: true, force: true });
  await server?.dispose();
}

/** Record numbers (attribute `n`) in a file exporter's OTLP/JSON lines; counts per number. */
export function fileNumbers(file: string, into = new Map<number, number>()): Map<number, number> {
  if (!fs.existsSync(file)) return into;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    let req: { resourceLogs: { scopeLogs: { logRecords: { attributes: { key: string; value: { intValue?: string | number } }[] }[] }[] }[] };
    try {
      req = JSON.parse(line) as typeof req;
    } catch {
      continue; // a line torn by SIGKILL
    }
    for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) {
      const v = lr.attributes.find((a) => a.key === 'n')?.value.intValue;
      if (v !== undefined) into.set(Number(v), (into.get(Number(v)) ?? 0) + 1);
    }
  }
  return into;
}

/** Per message at most this many records (agent batch size), per pull at most FETCH messages. */
export const BATCH = 1000;
export const FETCH = 16;

export function agentConfig(o: { http: number; health: number; stream: string; subject: string; url: string }): string {
  return `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${o.http} } } } }
processors: { batch: { send_batch_size: ${BATCH}, send_batch_max_size: ${BATCH}, timeout: 50ms } }
exporters:
  nats:
    servers: [${o.url}]
    subject: "${o.subject}.{service.name}"
    stream: { name: ${o.stream}, subjects: ["${o.subject}.>"], max_age: 1h }
    sending_queue: { storage: file_storage, queue_size: 20000, num_consumers: 4 }
    retry_on_failure: { initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0s }
extensions: { health_check: { endpoint: 127.0.0.1:${o.health} }, file_storage: { directory: ./queue } }
service:
  extensions: [health_check, file_storage]
  pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [nats] } }
`;
}

export function gatewayConfig(o: { health: number; stream: string; durable: string; url: string }): string {
  return `
receivers:
  nats:
    servers: [${o.url}]
    stream: ${o.stream}
    consumer: { durable: ${o.durable}, ack_wait: 5s, max_ack_pending: 256 }
    fetch_size: ${FETCH}
    fetch_timeout: 1s
exporters: { file: { path: ./out.jsonl, append: true, flush_interval: 0s } }
extensions: { health_check: { endpoint: 127.0.0.1:${o.health} } }
service:
  extensions: [health_check]
  pipelines: { logs: { receivers: [nats], exporters: [file] } }
`;
}

