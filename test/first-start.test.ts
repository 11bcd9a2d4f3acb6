/**
 * `npm start`'s build step (scripts/prestart.mjs) on a copy of the repository without any build output:
 * it says it is building, produces a collector that validates and runs the default config and an
 * instrumentation that loads, then stays silent while nothing changed and rebuilds when a source changes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot, tempDir } from './support/collector-process.js';

const WORKSPACES = ['packages/otlp', 'collector', 'packages/instrumentation'];
let root: string;

beforeAll(() => {
  root = tempDir('trib-first-start-');
  const skip = (src: string): boolean => /[\\/](dist|node_modules)([\\/]|$)/.test(path.relative(repoRoot, src));
  for (const w of WORKSPACES) fs.cpSync(path.join(repoRoot, w), path.join(root, w), { recursive: true, filter: (src) => !skip(src) });
  for (const f of ['tsconfig.base.json', 'otel-config.yaml', 'scripts/prestart.mjs']) fs.cpSync(path.join(repoRoot, f), path.join(root, f));
  // The repository's dependencies, with our workspaces pointing at the copies.
  const nm = path.join(root, 'node_modules');
  fs.mkdirSync(path.join(nm, '@tributary'), { recursive: true });
  for (const e of fs.readdirSync(path.join(repoRoot, 'node_modules'))) {
    if (e !== '@tributary') fs.symlinkSync(path.join(repoRoot, 'node_modules', e), path.join(nm, e));
  }
  for (const w of WORKSPACES) fs.symlinkSync(path.join(root, w), path.join(nm, '@tributary', path.basename(w)));
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const prestart = (): string => {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/prestart.mjs')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr;
};

it('builds on the first start and says so, then the collector and the instrumentation work', () => {
  expect(fs.existsSync(path.join(root, 'collector/dist'))).toBe(false);
  const said = prestart();
  expect(said).toMatch(/^tributary: building the collector \(first run, ~\d+ s\)…$/m);
  expect(said).toMatch(/^tributary: built in [\d.]+ s; starting$/m);
  const out = execFileSync(process.execPath, ['collector/dist/cli/main.js', 'validate', '--config', 'otel-config.yaml'], { cwd: root, encoding: 'utf8' });
  expect(out).toContain('otel-config.yaml is valid');
  const loaded = execFileSync(process.execPath, ['-e', "const i = require('@tributary/instrumentation'); console.log(typeof i.start)"], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  expect(loaded.trim()).toBe('function');
}, 120_000);

it('is silent when nothing changed and rebuilds after a source change', () => {
  expect(prestart()).toBe('');
  // A source edited after the build: the build stamp is made older than the file's mtime.
  const earlier = new Date(fs.statSync(path.join(root, 'collector/src/version.ts')).mtimeMs - 10_000);
  fs.utimesSync(path.join(root, 'collector/dist/.start-build'), earlier, earlier);
  expect(prestart()).toMatch(/building the collector \(sources changed/);
  expect(prestart()).toBe('');
}, 120_000);
