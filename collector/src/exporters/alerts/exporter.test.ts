import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testHost, testSettings } from '../../../../test/kit/index.js';
import { AlertsExporter, alertsConfigSchema, alertsExporterFactory } from './index.js';

const dirs: string[] = [];
const exporters: AlertsExporter[] = [];
afterEach(async () => {
  for (const e of exporters.splice(0)) await e.shutdown();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup(rulesYaml: string): { dir: string; file: string; exporter: AlertsExporter } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-alerts-files-'));
  dirs.push(dir);
  const file = path.join(dir, 'rules', 'a.yaml');
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, rulesYaml);
  const config = alertsConfigSchema.parse({ history: { path: path.join(dir, 'alerts.db') }, rules_files: [path.join(dir, 'rules', '*.yaml')] });
  const exporter = new AlertsExporter(testSettings('alerts'), config);
  exporters.push(exporter);
  return { dir, file, exporter };
}

const names = (e: AlertsExporter): string[] => e.engine!.compiledRules().map((r) => r.name);

async function until(what: string, probe: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('alerts exporter rule files', () => {
  it('refuses to start on a rules file with an error, naming the file, the path and the line', async () => {
    const { file, exporter } = setup('rules:\n  - name: ok\n    kind: level\n    level: ERROR\n  - name: bad\n    kind: count\n    window: 1m\n');
    exporters.pop();
    await expect(exporter.start(testHost())).rejects.toThrow(`rules[1].threshold: required for kind count (${file} line 5, column 5)`);
  });

  it('reloads when a file changes; an edit with errors is refused and the previous rules keep running', async () => {
    const { file, exporter } = setup('rules:\n  - { name: one, kind: level, level: ERROR }\n');
    await exporter.start(testHost());
    expect(names(exporter)).toEqual(['one']);
    fs.writeFileSync(file, 'rules:\n  - { name: one, kind: level, level: ERROR }\n  - { name: two, kind: pattern, pattern: "(?i)timeout" }\n');
    await until('the file change to load', () => names(exporter).length === 2);
    expect(names(exporter)).toEqual(['one', 'two']);
    expect(exporter.reloadRules('test')).toBe(true);
    fs.writeFileSync(file, 'rules:\n  - { name: one, kind: level, level: NOPE }\n');
    expect(exporter.reloadRules('test')).toBe(false);
    expect(names(exporter)).toEqual(['one', 'two']);
  });

  it('picks up a new file matching rules_files without a signal', async () => {
    const { dir, exporter } = setup('rules:\n  - { name: one, kind: level, level: ERROR }\n');
    await exporter.start(testHost());
    fs.writeFileSync(path.join(dir, 'rules', 'b.yaml'), 'rules:\n  - { name: added, kind: level, level: FATAL }\n');
    await until('the new file to load', () => names(exporter).length === 2);
    expect(names(exporter)).toEqual(['one', 'added']);
  });

  it('is registered as the alerts exporter, with no queue and no retry', () => {
    const c = alertsExporterFactory.configSchema.parse({});
    expect(c.sending_queue.enabled).toBe(false);
    expect(c.retry_on_failure.enabled).toBe(false);
    expect(alertsConfigSchema.safeParse({ sending_queue: { enabled: true } }).success).toBe(false);
  });
});
