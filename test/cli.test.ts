/** The `tributary` binary as users call it: validate, components, --version, and the README example. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, freePort, repoRoot, startCollector, tempDir, waitFor } from './support/collector-process.js';

const dir = tempDir('trib-cli-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function writeConfig(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('tributary CLI', () => {
  it('validate accepts the default otel-config.yaml', () => {
    const r = cli('validate', '--config', path.join(repoRoot, 'otel-config.yaml'));
    expect(r.err + r.out).toMatch(/is valid/);
    expect(r.code).toBe(0);
  });

  it.each([
    ['unknown key', 'exporters: { file: { path: ./x, colour: red } }', 'exporters.file.colour: unknown key'],
    ['missing required field', 'exporters: { file: {} }', 'exporters.file.path: required'],
    ['bad duration', 'exporters: { file: { path: ./x, flush_interval: soon } }', 'exporters.file.flush_interval: invalid duration "soon"'],
  ])('validate names the path of a %s and exits non-zero', (_name, exporters, expected) => {
    const file = writeConfig('bad.yaml', `receivers: { otlp: {} }\n${exporters}\nservice: { pipelines: { logs: { receivers: [otlp], exporters: [file] } } }\n`);
    const r = cli('validate', '--config', file);
    expect(r.err + r.out).toContain(expected);
    expect(r.code).not.toBe(0);
  });

  it('validate names a pipeline that references an undefined component', () => {
    const file = writeConfig('undef.yaml', 'receivers: { otlp: {} }\nexporters: { debug: {} }\nservice: { pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [debug, file] } } }\n');
    const r = cli('validate', '--config', file);
    expect(r.err + r.out).toContain('service.pipelines.logs.processors[0]: references processor "batch", which is not defined in processors');
    expect(r.err + r.out).toContain('service.pipelines.logs.exporters[1]: references exporter "file", which is not defined in exporters');
    expect(r.code).not.toBe(0);
  });

  it('run with a bad config prints the path and exits non-zero without starting', () => {
    const file = writeConfig('bad-run.yaml', 'receivers: { otlp: { protocols: { http: { endpoint: nope } } } }\nexporters: { debug: {} }\nservice: { pipelines: { logs: { receivers: [otlp], exporters: [debug] } } }\n');
    const r = cli('run', '--config', file);
    expect(r.err).toContain('receivers.otlp.protocols.http.endpoint');
    expect(r.code).not.toBe(0);
  });

  it('components lists every built-in type with its kind', () => {
    const r = cli('components');
    expect(r.code).toBe(0);
    for (const t of ['otlp', 'batch', 'memory_limiter', 'debug', 'file', 'otlphttp', 'health_check', 'metrics']) expect(r.out).toContain(t);
    expect(r.out).toMatch(/receivers?:.*otlp/);
    expect(r.out).toMatch(/exporters?:.*otlp\b.*otlphttp|exporters?:.*otlphttp.*\botlp\b/);
  });

  it('the package bin is a committed file (npm links it at install, before any build) that runs the CLI', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'collector/package.json'), 'utf8')) as { bin: Record<string, string> };
    const bin = path.join(repoRoot, 'collector', pkg.bin['tributary']!);
    expect(bin).not.toContain(`${path.sep}dist${path.sep}`);
    expect(fs.readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--version prints the package version', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'collector/package.json'), 'utf8')) as { version: string };
    const r = cli('--version');
    expect(r.out.trim()).toContain(version);
    expect(r.code).toBe(0);
  });

  it('the README example request is accepted and lands in the file the README names', async () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const example = fs.readFileSync(path.join(repoRoot, 'examples/log.json'), 'utf8').trim();
    expect(readme, 'README shows examples/log.json as it is').toContain(example);
    expect(readme).toContain('-d @examples/log.json');
    // The default config with its ports moved to free ones, so the test cannot clash with a running collector.
    const ports = { 4317: await freePort(), 4318: await freePort(), 13133: await freePort(), 8888: await freePort(), 3100: await freePort() };
    let cfg = fs.readFileSync(path.join(repoRoot, 'otel-config.yaml'), 'utf8');
    // One pass: replacing port by port could rewrite a port an earlier replacement put in (4318 inside 43180).
    cfg = cfg.replace(/127\.0\.0\.1:(\d+)\b/g, (m, p: string) => (ports[Number(p)] !== undefined ? `127.0.0.1:${ports[Number(p)]}` : m));
    const c = await startCollector(cfg, { healthPort: ports[13133] });
    try {
      const res = await fetch(`http://127.0.0.1:${ports[4318]}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example });
      expect(res.status).toBe(200);
      const file = path.join(c.dir, 'data/logs/logs.jsonl');
      expect(readme).toContain('data/logs/logs.jsonl');
      const text = await waitFor('the example record in data/logs/logs.jsonl', () => {
        const t = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
        return t.includes('Hello from the README') ? t : undefined;
      });
      expect(JSON.parse(text.trim().split('\n').pop()!).resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue).toContain('Hello from the README');
    } finally {
      await c.stop();
      fs.rmSync(c.dir, { recursive: true, force: true });
    }
  });
});
