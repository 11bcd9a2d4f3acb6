/**
 * `npm run build:sea`'s single executable, built into a directory with no node_modules and started from
 * there as on a host without Node: `validate` checks a config, and a short `run` receives OTLP records,
 * writes them with the file exporter and drains on SIGTERM.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fileSinkConfig, freePort, repoRoot, tempDir, waitFor } from './support/collector-process.js';
import { postOtlpJson, recordsRequestJson } from './support/recording-server.js';

const BUILD_TIMEOUT_MS = 240_000;
let dir: string;
let exe: string;

/** Only PATH and HOME: nothing points back at this repository or at a Node install. */
const env = (): NodeJS.ProcessEnv => ({ PATH: '/usr/bin:/bin', HOME: dir });

beforeAll(() => {
  dir = tempDir('trib-sea-');
  exe = path.join(dir, 'tributary');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/build-sea.mjs'), '--out', exe], { cwd: repoRoot, stdio: 'pipe', timeout: BUILD_TIMEOUT_MS });
}, BUILD_TIMEOUT_MS + 30_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('prints its version and validates a config', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'collector/package.json'), 'utf8')) as { version: string };
  expect(execFileSync(exe, ['--version'], { cwd: dir, env: env(), encoding: 'utf8' }).trim()).toBe(pkg.version);
  fs.writeFileSync(path.join(dir, 'ok.yaml'), fs.readFileSync(path.join(repoRoot, 'otel-config.yaml')));
  expect(execFileSync(exe, ['validate', '--config', 'ok.yaml'], { cwd: dir, env: env(), encoding: 'utf8' })).toContain('ok.yaml is valid');
  fs.writeFileSync(path.join(dir, 'bad.yaml'), 'exporters: { nope: {} }\nservice: { pipelines: { logs: { receivers: [otlp], exporters: [nope] } } }\n');
  let failed = '';
  try {
    execFileSync(exe, ['validate', '--config', 'bad.yaml'], { cwd: dir, env: env(), stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    failed = String((e as { stderr?: string }).stderr);
  }
  expect(failed).toMatch(/nope/);
});

it('runs: receives OTLP records, writes them and drains on SIGTERM', async () => {
  const otlpPort = await freePort();
  const healthPort = await freePort();
  fs.writeFileSync(path.join(dir, 'run.yaml'), fileSinkConfig(otlpPort, healthPort));
  const child = spawn(exe, ['run', '--config', 'run.yaml'], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | string>((r) => child.on('exit', (code, sig) => r(code ?? sig ?? -1)));
  try {
    await waitFor('health_check of the executable', async () => {
      if (child.exitCode !== null) throw new Error(`exited early:\n${out}`);
      const res = await fetch(`http://127.0.0.1:${healthPort}/`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 30_000);
    const res = await postOtlpJson(otlpPort, recordsRequestJson([{ n: 1, body: 'from the single executable' }]));
    expect(res.status).toBe(200);
    const file = path.join(dir, 'out/logs.jsonl');
    await waitFor('file exporter output', () => (fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('from the single executable') ? true : undefined), 15_000);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(out).not.toMatch(/ExperimentalWarning|Error/);
}, 60_000);
