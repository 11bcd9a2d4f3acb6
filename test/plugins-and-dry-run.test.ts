/** Plugins loaded from config and `validate --dry-run` on the committed sample. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, freePort, repoRoot, startCollector, tempDir, waitFor } from './support/collector-process.js';

const dir = tempDir('trib-plugins-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const pluginPath = path.join(repoRoot, 'examples/plugins/stamp-processor.mjs');

function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('validate --dry-run', () => {
  it('prints what each processor does to each sample record, and the totals', () => {
    const r = cli('validate', '--config', 'examples/dry-run/config.yaml', '--dry-run', 'examples/dry-run/records.jsonl');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const after = (prefix: string): string => lines[lines.findIndex((l) => l.startsWith(prefix)) + 1] ?? '';
    expect(after('#1 line 1 [INFO] "GET /health 200"')).toBe('  logs: filter/noise: dropped (filter)');
    expect(after('#2 ')).toBe('  logs: filter/noise: dropped (filter)');
    const third = after('#3 ');
    expect(third).toContain('redaction: changed ~password="****" (body) changed');
    expect(third).toContain('retention: changed +retention.class="error" +retention.days=90');
    expect(third).toContain('batch: passed (not simulated); → file');
    expect(after('#5 ')).toContain('ratelimit: dropped (rate_limited)');
    expect(after('#6 ')).toContain('+retention.class="audit" +retention.days=-1');
    expect(r.out).toContain('totals: 6 records');
    expect(r.out).toContain('logs: delivered 3 (changed 3), dropped 3 (filter/noise 2, ratelimit 1), limited 0');
  });

  it('reports a line that is not OTLP/JSON and exits non-zero', () => {
    const records = write('bad.jsonl', '{"severityText":"INFO","body":{"stringValue":"ok"}}\n{not json\n');
    const r = cli('validate', '--config', 'examples/dry-run/config.yaml', '--dry-run', records);
    expect(r.out).toMatch(/line 2: not OTLP\/JSON: /);
    expect(r.out).toContain('totals: 1 records, 1 invalid lines');
    expect(r.code).toBe(1);
  });
});

describe('plugins', () => {
  const config = (plugins: string, extra = ''): string => `
plugins: [${plugins}]
receivers: { otlp: {} }
processors: { stamp: { value: from-plugin }${extra} }
exporters: { debug: {} }
service: { pipelines: { logs: { receivers: [otlp], processors: [stamp], exporters: [debug] } } }
`;

  it('components --config lists plugin types with their origin', () => {
    const file = write('plugin.yaml', config(JSON.stringify(pluginPath)));
    const r = cli('components', '--config', file);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`processors: .*stamp \\(plugin ${pluginPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));
    expect(cli('validate', '--config', file).code).toBe(0);
  });

  it('a plugin that fails to load, or registers a taken type, fails validation with a clear message', () => {
    const missing = write('missing.yaml', config('./no-such-plugin.mjs'));
    const r1 = cli('validate', '--config', missing);
    expect(r1.err).toMatch(/plugins\[0\]: cannot load plugin "\.\/no-such-plugin\.mjs"/);
    expect(r1.code).toBe(2);
    write('taken.mjs', `import { z } from ${JSON.stringify(path.join(repoRoot, 'node_modules/zod/index.js'))};\nexport default [{ kind: 'processor', type: 'batch', configSchema: z.strictObject({}), create() { throw new Error('x'); } }];\n`);
    const taken = write('taken.yaml', config('./taken.mjs'));
    const r2 = cli('validate', '--config', taken);
    expect(r2.err).toContain('plugins[0]: plugin "./taken.mjs": processor type "batch" is already registered (built-in)');
    expect(r2.code).toBe(2);
    const badCfg = write('badcfg.yaml', config(JSON.stringify(pluginPath), ', stamp/x: { colour: red }'));
    expect(cli('validate', '--config', badCfg).err).toContain('processors.stamp/x.colour: unknown key');
  });

  it('the example plugin transforms records in a running collector', async () => {
    const [httpPort, healthPort] = [await freePort(), await freePort()];
    const c = await startCollector(`
plugins: [${JSON.stringify(pluginPath)}]
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
processors: { stamp: { key: origin, value: example-plugin } }
exporters: { file: { path: ./out.jsonl } }
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} } }
service:
  extensions: [health_check]
  pipelines: { logs: { receivers: [otlp], processors: [stamp], exporters: [file] } }
`, { healthPort });
    try {
      const body = fs.readFileSync(path.join(repoRoot, 'examples/log.json'), 'utf8');
      const res = await fetch(`http://127.0.0.1:${httpPort}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(200);
      const file = path.join(c.dir, 'out.jsonl');
      const line = await waitFor('the stamped record', () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() || undefined : undefined));
      const rec = JSON.parse(line).resourceLogs[0].scopeLogs[0].logRecords[0];
      expect(rec.attributes).toContainEqual({ key: 'origin', value: { stringValue: 'example-plugin' } });
    } finally {
      await c.stop();
      fs.rmSync(c.dir, { recursive: true, force: true });
    }
  });
});
