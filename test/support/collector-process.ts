/**
 * Starts the built `tributary` CLI as a child process, as a user would, with a config written to a temp
 * dir, and waits (bounded) until its health endpoint answers 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cliPath = path.join(repoRoot, 'collector/dist/cli/main.js');

/** Ports this process has handed out: the OS may give a just-closed port again on the next bind to 0. */
const handedOut = new Set<number>();

function portFromOs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A port that was free a moment ago (bind to 0, read, close), never one this process handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await portFromOs();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

export function tempDir(prefix = 'trib-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface RunningCollector {
  child: ChildProcess;
  dir: string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

export async function startCollector(configYaml: string, options: { healthPort: number; dir?: string; env?: NodeJS.ProcessEnv; args?: string[] }): Promise<RunningCollector> {
  const dir = options.dir ?? tempDir();
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, configYaml);
  const child = spawn(process.execPath, [cliPath, 'run', '--config', configPath, ...(options.args ?? [])], {
    cwd: dir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  child.stdout.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  let done = false;
  void exited.then(() => { done = true; });
  try {
    // A collector that exits (a start error) ends the wait at once.
    const exitedEarly = exited.then((code) => Promise.reject(new Error(`collector exited early (${code}):\n${err}`)));
    await Promise.race([
      waitFor('collector health_check', async () => {
        if (done) return true; // exitedEarly has rejected
        const res = await fetch(`http://127.0.0.1:${options.healthPort}/`).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      }, 20_000),
      exitedEarly,
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n--- collector output ---\n${err}`);
  }
  return {
    child, dir, exited,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The smallest collector a process test starts: OTLP/HTTP in, `batch`, the `file` exporter, health. */
export function fileSinkConfig(otlpPort: number, healthPort: number, file = './out/logs.jsonl'): string {
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:${otlpPort} }
processors:
  batch: { timeout: 20ms }
exporters:
  file: { path: ${file} }
extensions:
  health_check: { endpoint: 127.0.0.1:${healthPort} }
service:
  extensions: [health_check]
  pipelines:
    logs: { receivers: [otlp], processors: [batch], exporters: [file] }
`;
}
