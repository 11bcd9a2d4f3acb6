/** Process-level: the built `tributary` binary, spawned as a user would run it. */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cliPath = path.join(repoRoot, 'collector/dist/cli/main.js');
const pkgVersion = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'collector/package.json'), 'utf8')) as { version: string }).version;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

function tributary(args: string[], cwd = repoRoot): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { cwd, timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-cli-proc-'));
  const cliSrc = path.join(repoRoot, 'collector/src/cli');
  if (!fs.existsSync(cliPath) || fs.statSync(cliPath).mtimeMs < newestMtime(cliSrc)) {
    // tsc -b still emits when another package has type errors; the tests below then tell if main.js is usable.
    try {
      execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: repoRoot, stdio: 'pipe', timeout: 120_000 });
    } catch {
      /* reported by the assertions below */
    }
  }
}, 150_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('tributary binary', () => {
  it('has the node shebang', () => {
    expect(fs.readFileSync(cliPath, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints the version', async () => {
    const r = await tributary(['--version']);
    expect(r).toEqual({ code: 0, stdout: `${pkgVersion}\n`, stderr: '' });
  });

  it('lists components', async () => {
    const r = await tributary(['components']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^receivers: .*\botlp\b/m);
    expect(r.stdout).toMatch(/^extensions: api, basicauth, bearertokenauth, file_storage, headers_setter, health_check, metrics$/m);
  });

  it('exits 2 with usage on an unknown command', async () => {
    const r = await tributary(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  it('validates a config file: issues with paths and exit 2, or valid and exit 0', async () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'extensions:\n  health_check: { endpoint: nowhere, colour: blue }\nservice:\n  extensions: [health_check]\n  pipelines: {}\n');
    const r = await tributary(['validate', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('extensions.health_check.colour: unknown key');
    expect(r.stderr).toContain('service.pipelines: at least one pipeline is required');
    expect(r.stdout).toBe('');

    const good = path.join(dir, 'good.yaml');
    fs.writeFileSync(good, 'receivers: { otlp: {} }\nexporters: { debug: {} }\nservice: { pipelines: { logs: { receivers: [otlp], exporters: [debug] } } }\n');
    const ok = await tributary(['validate', '-c', good]);
    expect(ok.stderr).toBe('');
    expect(ok).toMatchObject({ code: 0, stdout: `config ${good} is valid\n` });
  });

  it('reads ./otel-config.yaml from the working directory by default', async () => {
    const r = await tributary(['validate'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read config file ./otel-config.yaml: ENOENT');
  });
});
