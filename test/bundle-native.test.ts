/**
 * Native addons in the executable's bundle (scripts/bundle.mjs): a module that imports one at the top
 * still starts when the addon is absent; the first use fails with a message that says what to do; and
 * an addon installed in a node_modules beside the bundle is the one used.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot, tempDir } from './support/collector-process.js';

let dir: string;
let bundle: string;

beforeAll(() => {
  dir = tempDir('trib-bundle-native-');
  const entry = path.join(dir, 'entry.mjs');
  fs.writeFileSync(entry, `import Database from 'better-sqlite3';
console.log('started');
if (process.argv[2] === 'use') console.log('opened ' + new Database(':memory:').name);
`);
  bundle = path.join(dir, 'out/bundle.cjs');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/bundle.mjs'), 'cli', '--entry', entry, '--out', bundle], { cwd: repoRoot, stdio: 'pipe' });
}, 60_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const run = (...args: string[]) => spawnSync(process.execPath, [bundle, ...args], { cwd: path.dirname(bundle), encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });

it('starts without the addon and explains on first use', () => {
  const start = run();
  expect(start.status, start.stderr).toBe(0);
  expect(start.stdout.trim()).toBe('started');
  const use = run('use');
  expect(use.status).not.toBe(0);
  expect(use.stderr).toContain('better-sqlite3 is a native module, which the tributary executable cannot contain');
  expect(use.stderr).toContain('npm install better-sqlite3');
});

it('uses the addon installed beside it', () => {
  const pkg = path.join(path.dirname(bundle), 'node_modules/better-sqlite3');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), '{"name":"better-sqlite3","version":"12.0.0","main":"index.js"}');
  fs.writeFileSync(path.join(pkg, 'index.js'), 'module.exports = class Database { constructor(f) { this.name = "stub:" + f; } };');
  const use = run('use');
  expect(use.status, use.stderr).toBe(0);
  expect(use.stdout).toContain('opened stub::memory:');
});
