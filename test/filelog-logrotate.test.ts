/**
 * filelog against Debian's real logrotate (rename + compress, copytruncate) while a writer appends, and
 * the collector SIGKILLed mid-file and restarted: every line reaches the file exporter exactly once.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';

const hasLogrotate = spawnSync('logrotate', ['--version']).status === 0;
if (!hasLogrotate) {
  if (process.env.CI === 'true') throw new Error('logrotate is not installed (apt-get install logrotate); .ci/run installs it');
  console.warn('skipping filelog logrotate tests: logrotate is not installed (apt-get install logrotate)');
}

let collector: RunningCollector | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await collector?.stop('SIGKILL');
  collector = undefined;
  for (const d of dirs.splice(0)) if (!process.env.KEEP_TEST_DIRS) fs.rmSync(d, { recursive: true, force: true });
});

function config(dir: string, health: number): string {
  return `
receivers:
  filelog:
    include: [${dir}/logs/app.log*]
    start_at: beginning
    compression: auto
    poll_interval: 50ms
exporters:
  file: { path: ${dir}/out.jsonl, append: true, sending_queue: { enabled: false } }
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
  file_storage: { directory: ${dir}/storage }
service:
  telemetry: { logs: { level: ${process.env.KEEP_TEST_DIRS ? 'debug' : 'info'} } }
  extensions: [health_check, file_storage]
  pipelines: { logs: { receivers: [filelog], exporters: [file] } }
`;
}

/** Bodies in the file exporter's output (OTLP/JSON lines). */
function bodies(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const out: string[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const req = JSON.parse(line) as { resourceLogs: { scopeLogs: { logRecords: { body?: { stringValue?: string } }[] }[] }[] };
    for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) out.push(r.body?.stringValue ?? '');
  }
  return out;
}

function rotateConf(dir: string, mode: 'copytruncate' | 'rename'): string {
  const conf = path.join(dir, `logrotate-${mode}.conf`);
  fs.writeFileSync(conf, `${dir}/logs/app.log {\n  rotate 20\n  missingok\n  ${mode === 'copytruncate' ? 'copytruncate\n  nocompress' : 'create 0644\n  compress\n  delaycompress'}\n}\n`);
  return conf;
}

function rotate(dir: string, conf: string): void {
  execFileSync('logrotate', ['-f', '-s', path.join(dir, 'logrotate.state'), conf], { stdio: 'pipe', timeout: 30_000 });
}

/** Appends `total` numbered ~150-byte lines, in small bursts, calling `at(i)` between bursts. */
async function write(file: string, total: number, at: (i: number) => Promise<void>): Promise<void> {
  const pad = 'x'.repeat(120);
  for (let i = 0; i < total; ) {
    let chunk = '';
    for (let j = 0; j < 50 && i < total; j++, i++) chunk += `line ${String(i).padStart(7, '0')} ${pad}\n`;
    fs.appendFileSync(file, chunk);
    await at(i);
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe.skipIf(!hasLogrotate)('filelog with logrotate and SIGKILL', () => {
  it('rename+compress and copytruncate rotations, two SIGKILLs: every line exactly once', async () => {
    const dir = tempDir('trib-filelog-');
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'logs'));
    const health = await freePort();
    const yaml = config(dir, health);
    let runs = 0;
    const start = async (): Promise<RunningCollector> => {
      const c = await startCollector(yaml, { healthPort: health, dir });
      const n = ++runs;
      if (process.env.KEEP_TEST_DIRS) void c.exited.then(() => fs.writeFileSync(path.join(dir, `stderr-${n}.log`), c.stderr()));
      return c;
    };
    collector = await start();
    const copyConf = rotateConf(dir, 'copytruncate');
    const renameConf = rotateConf(dir, 'rename');
    const TOTAL = 30_000;
    const out = path.join(dir, 'out.jsonl');
    const events: Record<number, () => Promise<void>> = {
      4000: async () => rotate(dir, renameConf),
      8000: async () => rotate(dir, copyConf),
      11000: async () => {
        collector!.child.kill('SIGKILL');
        await collector!.exited;
      },
      13000: async () => rotate(dir, renameConf), // rotated while the collector is down
      15000: async () => {
        collector = await start();
      },
      19000: async () => rotate(dir, copyConf),
      22000: async () => rotate(dir, renameConf),
      24000: async () => {
        collector!.child.kill('SIGKILL');
        await collector!.exited;
        collector = await start();
      },
      27000: async () => rotate(dir, copyConf),
    };
    await write(path.join(dir, 'logs', 'app.log'), TOTAL, async (i) => {
      const ev = events[i];
      if (ev) await ev();
    });
    await waitFor(`${TOTAL} lines in the output`, () => bodies(out).length >= TOTAL || undefined, 90_000, 200).catch((e: Error) => {
      throw new Error(`${e.message}: have ${bodies(out).length}\n${collector?.stderr().slice(-2000)}`);
    });
    // Give a late duplicate the chance to show up.
    await new Promise((r) => setTimeout(r, 500));
    const got = bodies(out);
    const counts = new Map<string, number>();
    for (const b of got) counts.set(b.slice(5, 12), (counts.get(b.slice(5, 12)) ?? 0) + 1);
    const dup = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
    const missing: number[] = [];
    for (let i = 0; i < TOTAL; i++) if (!counts.has(String(i).padStart(7, '0'))) missing.push(i);
    const ranges = (xs: number[]): string => {
      const r: string[] = [];
      for (let i = 0; i < xs.length; i++) {
        if (i === 0 || xs[i] !== xs[i - 1]! + 1) r.push(String(xs[i]));
        else if (i === xs.length - 1 || xs[i + 1] !== xs[i]! + 1) r[r.length - 1] += `-${xs[i]}`;
      }
      return r.join(', ');
    };
    expect({ missing: ranges(missing), duplicates: ranges(dup.map(Number)), total: got.length }).toEqual({ missing: '', duplicates: '', total: TOTAL });
    // logrotate really compressed (delaycompress: from the second rename rotation on).
    expect(fs.readdirSync(path.join(dir, 'logs')).some((f) => f.endsWith('.gz'))).toBe(true);
    expect(await collector.stop('SIGTERM')).toBe(0);
  }, 180_000);
});
