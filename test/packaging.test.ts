/**
 * The packages as a user outside this repository gets them: `npm run pack`'s tarballs installed with
 * `npm install ./….tgz` into an empty project in the temp dir (no node_modules of ours above it), then the
 * installed `tributary` validates and runs a config, and apps started with the installed
 * `--require …/register` / `--import …/register.mjs` — or with the single-file bundle, in a directory
 * with no packages at all — send their records to that collector. One install serves every case.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSinkConfig, freePort, repoRoot, tempDir, waitFor } from './support/collector-process.js';

const INSTALL_TIMEOUT_MS = 300_000;

/** The environment of a shell outside the repository: no npm run-script variables, no preloads. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'NODE_OPTIONS' && k !== 'NODE_PATH' && k !== 'INIT_CWD') env[k] = v;
  }
  return { ...env, ...extra };
}

let work: string; // tarballs and the bundle
let project: string; // the empty project the tarballs are installed into
let bare: string; // a directory with no node_modules, for the bundle
let collector: ChildProcess | undefined;
let collectorOut = '';
let otlpPort: number;
let healthPort: number;
let outFile: string;

const config = (): string => fileSinkConfig(otlpPort, healthPort);

beforeAll(async () => {
  work = tempDir('trib-pack-');
  project = tempDir('trib-project-');
  bare = tempDir('trib-bare-');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/pack.mjs'), '--out', work], { cwd: repoRoot, stdio: 'pipe' });
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const tarballs = fs.readdirSync(work).filter((f) => f.endsWith('.tgz')).map((f) => path.join(work, f));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], { cwd: project, env: cleanEnv(), stdio: 'pipe', timeout: INSTALL_TIMEOUT_MS });
  otlpPort = await freePort();
  healthPort = await freePort();
  fs.writeFileSync(path.join(project, 'config.yaml'), config());
  outFile = path.join(project, 'out/logs.jsonl');
}, INSTALL_TIMEOUT_MS + 60_000);

afterAll(async () => {
  const pid = collector?.pid;
  if (pid !== undefined && collector?.exitCode === null) {
    const exited = new Promise((r) => collector?.once('exit', r));
    // npx and the collector it started form one process group.
    process.kill(-pid, 'SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
    if (!stopped) process.kill(-pid, 'SIGKILL');
  }
  for (const d of [work, project, bare]) if (d) fs.rmSync(d, { recursive: true, force: true });
}, 90_000);

interface Line { service?: string; body?: string; severity?: string }

function received(): Line[] {
  if (!fs.existsSync(outFile)) return [];
  const lines: Line[] = [];
  for (const l of fs.readFileSync(outFile, 'utf8').split('\n')) {
    if (!l) continue;
    const req = JSON.parse(l) as { resourceLogs?: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeLogs?: { logRecords?: { body?: { stringValue?: string }; severityText?: string }[] }[] }[] };
    for (const rl of req.resourceLogs ?? []) {
      const service = rl.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
      for (const sl of rl.scopeLogs ?? []) for (const r of sl.logRecords ?? []) lines.push({ service, body: r.body?.stringValue, severity: r.severityText });
    }
  }
  return lines;
}

/** Runs a short app to its end (bounded); returns its output. */
function runApp(cwd: string, args: string[], service: string): { code: number | null; output: string } {
  try {
    const output = execFileSync(process.execPath, args, {
      cwd,
      env: cleanEnv({ OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`, OTEL_BLRP_SCHEDULE_DELAY: '50' }),
      stdio: 'pipe',
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { code: 0, output };
  } catch (e) {
    const err = e as { status: number | null; stdout?: string; stderr?: string };
    return { code: err.status, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

const APP_CJS = `'use strict';
const http = require('node:http');
console.log('hello from ' + require('node:path').basename(__filename));
console.error('something failed');
`;
const APP_MJS = `import path from 'node:path';
import { fileURLToPath } from 'node:url';
console.log('hello from ' + path.basename(fileURLToPath(import.meta.url)));
console.error('something failed');
`;

describe('tarballs installed into an empty project', () => {
  it('ship dist, types, exports, bin and LICENSE and no tests', () => {
    const list = (name: string): string[] => execFileSync('tar', ['tzf', path.join(work, name)], { encoding: 'utf8' }).split('\n');
    const collectorFiles = list('tributary-collector-0.1.0.tgz');
    expect(collectorFiles).toEqual(expect.arrayContaining(['package/LICENSE', 'package/bin/tributary.js', 'package/dist/cli/main.js', 'package/dist/index.d.ts']));
    const instr = list('tributary-instrumentation-0.1.0.tgz');
    expect(instr).toEqual(expect.arrayContaining(['package/LICENSE', 'package/register.mjs', 'package/dist/register.js', 'package/dist/index.d.ts']));
    expect(list('tributary-otlp-0.1.0.tgz')).toEqual(expect.arrayContaining(['package/LICENSE', 'package/generated/otlp.cjs', 'package/dist/index.d.ts']));
    for (const f of [...collectorFiles, ...instr]) expect(f).not.toMatch(/\.test\.|testdata|tsbuildinfo/);
    // Installed as a dependency, not linked back to this repository.
    const otlp = path.join(project, 'node_modules/@tributary/otlp');
    expect(fs.lstatSync(otlp).isSymbolicLink()).toBe(false);
  });

  it('npx tributary validate checks a config', () => {
    const out = execFileSync('npx', ['--no-install', 'tributary', 'validate', '--config', 'config.yaml'], { cwd: project, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(out).toContain('config.yaml is valid');
    fs.writeFileSync(path.join(project, 'bad.yaml'), 'receivers: {}\nservice: { pipelines: { logs: { receivers: [nope], exporters: [file] } } }\n');
    expect(() => execFileSync('npx', ['--no-install', 'tributary', 'validate', '--config', 'bad.yaml'], { cwd: project, env: cleanEnv(), stdio: 'pipe', timeout: 60_000 })).toThrow();
  });

  it('npx tributary run starts the collector', async () => {
    collector = spawn('npx', ['--no-install', 'tributary', 'run', '--config', 'config.yaml'], { cwd: project, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    collector.stdout?.on('data', (d: Buffer) => { collectorOut += d.toString(); });
    collector.stderr?.on('data', (d: Buffer) => { collectorOut += d.toString(); });
    await waitFor('installed collector health_check', async () => {
      if (collector?.exitCode !== null) throw new Error(`collector exited:\n${collectorOut}`);
      const res = await fetch(`http://127.0.0.1:${healthPort}/`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 60_000);
    expect(collectorOut).toContain('running; pipelines: logs');
  }, 90_000);

  it('node --require @tributary/instrumentation/register app.cjs sends its records', async () => {
    fs.writeFileSync(path.join(project, 'app.cjs'), APP_CJS);
    const { code, output } = runApp(project, ['--require', '@tributary/instrumentation/register', 'app.cjs'], 'pkg-cjs');
    expect(code, output).toBe(0);
    expect(output).toContain('hello from app.cjs');
    const got = await waitFor('records of pkg-cjs', () => {
      const mine = received().filter((r) => r.service === 'pkg-cjs');
      return mine.length >= 2 ? mine : undefined;
    }, 30_000);
    expect(got.map((r) => r.body)).toEqual(expect.arrayContaining(['hello from app.cjs', 'something failed']));
  }, 60_000);

  it('node --import @tributary/instrumentation/register.mjs app.mjs sends its records', async () => {
    fs.writeFileSync(path.join(project, 'app.mjs'), APP_MJS);
    const { code, output } = runApp(project, ['--import', '@tributary/instrumentation/register.mjs', 'app.mjs'], 'pkg-esm');
    expect(code, output).toBe(0);
    const got = await waitFor('records of pkg-esm', () => {
      const mine = received().filter((r) => r.service === 'pkg-esm');
      return mine.length >= 2 ? mine : undefined;
    }, 30_000);
    expect(got.map((r) => r.body)).toEqual(expect.arrayContaining(['hello from app.mjs', 'something failed']));
  }, 60_000);

  it('node --require /path/tributary-register.cjs works in an app with none of our packages', async () => {
    expect(fs.existsSync(path.join(bare, 'node_modules'))).toBe(false);
    fs.writeFileSync(path.join(bare, 'app.js'), APP_CJS);
    const { code, output } = runApp(bare, ['--require', path.join(work, 'tributary-register.cjs'), 'app.js'], 'bundle-cjs');
    expect(code, output).toBe(0);
    expect(output).not.toContain('[tributary]'); // no start-up problem reported
    const got = await waitFor('records of bundle-cjs', () => {
      const mine = received().filter((r) => r.service === 'bundle-cjs');
      return mine.length >= 2 ? mine : undefined;
    }, 30_000);
    expect(got.map((r) => r.body)).toEqual(expect.arrayContaining(['hello from app.js', 'something failed']));
  }, 60_000);
});
