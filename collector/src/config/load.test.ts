import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ExporterFactory, ReceiverFactory } from '../component.js';
import { ComponentRegistry } from '../registry.js';
import { ConfigError, loadConfigFile, loadConfigText } from './load.js';
import { duration, section } from './schema-helpers.js';
import { exporterHelperConfigSchema } from '../pipeline/exporter-helper.js';

const receiver: ReceiverFactory<{ endpoint: string }> = {
  kind: 'receiver', type: 'fake', configSchema: z.strictObject({ endpoint: z.string().default('127.0.0.1:1') }),
  create: () => { throw new Error('unused'); },
};
const exporter: ExporterFactory<{ path: string; flush_interval: number; tls: { insecure: boolean } }> = {
  kind: 'exporter', type: 'sink',
  configSchema: z.strictObject({ path: z.string().min(1), flush_interval: duration().prefault('1s'), tls: section({ insecure: z.boolean().default(false) }) }),
  create: () => { throw new Error('unused'); },
};
const registry = new ComponentRegistry().register(receiver).register(exporter);

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfigText(text, registry, { env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

const good = `
receivers: { fake: {} }
exporters: { sink: { path: /tmp/x } , sink/two: { path: /tmp/y, flush_interval: 250ms } }
service:
  pipelines:
    logs: { receivers: [fake], exporters: [sink] }
    logs/b: { receivers: [fake], exporters: [sink/two] }
`;

describe('config loading', () => {
  it('fills defaults, parses durations and keeps type/name ids', () => {
    const cfg = loadConfigText(good, registry, { env: {} });
    expect(cfg.receivers['fake']).toEqual({ endpoint: '127.0.0.1:1' });
    // The registry attaches the exporter helper keys (with their defaults) to every exporter's config.
    expect(cfg.exporters['sink']).toEqual({ path: '/tmp/x', flush_interval: 1000, tls: { insecure: false }, ...exporterHelperConfigSchema.parse({}) });
    expect((cfg.exporters['sink/two'] as { flush_interval: number }).flush_interval).toBe(250);
    expect(Object.keys(cfg.service.pipelines)).toEqual(['logs', 'logs/b']);
    expect(cfg.service.shutdown_timeout).toBe(15_000);
  });

  it('names the path of an unknown key', () => {
    expect(issuesOf(good.replace('path: /tmp/x', 'path: /tmp/x, colour: red'))).toEqual(['exporters.sink.colour: unknown key']);
    expect(issuesOf(good.replace('tls', 'x').replace('sink: { path: /tmp/x }', 'sink: { path: /tmp/x, tls: { insecure: true, foo: 1 } }')))
      .toEqual(['exporters.sink.tls.foo: unknown key']);
  });

  it('names a missing required field', () => {
    expect(issuesOf(good.replace('{ path: /tmp/x }', '{}'))).toEqual(['exporters.sink.path: required']);
  });

  it('rejects a bad duration with the path', () => {
    const issues = issuesOf(good.replace('250ms', '5 parsecs'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^exporters\.sink\/two\.flush_interval: invalid duration "5 parsecs"/);
  });

  it('rejects a pipeline naming an undefined component, a duplicate, and an unknown type', () => {
    const issues = issuesOf(`
receivers: { fake: {} }
exporters: { sink: { path: /x }, nosuch: {} }
service:
  pipelines:
    logs: { receivers: [fake, fake], processors: [batch], exporters: [sink, missing] }
`);
    expect(issues).toEqual([
      'exporters.nosuch: unknown exporter type "nosuch" (known: sink)',
      'service.pipelines.logs.receivers[1]: receiver "fake" is listed twice',
      'service.pipelines.logs.processors[0]: references processor "batch", which is not defined in processors',
      'service.pipelines.logs.exporters[1]: references exporter "missing", which is not defined in exporters',
    ]);
  });

  it('requires receivers and exporters in a pipeline; traces pipelines take pass-through components only', () => {
    expect(issuesOf(`
receivers: { fake: {} }
exporters: { sink: { path: /x } }
service: { pipelines: { logs: { receivers: [fake] }, traces: { receivers: [fake], exporters: [sink] }, profiles: { receivers: [fake], exporters: [sink] } } }
`)).toEqual([
      'service.pipelines.logs.exporters: at least one exporter is required',
      'service.pipelines.traces.receivers[0]: receiver "fake" cannot be in a traces pipeline: Tributary forwards traces as they are, through the otlp receiver only',
      'service.pipelines.traces.exporters[0]: exporter "sink" cannot be in a traces pipeline: Tributary forwards traces as they are, through the otlp, otlphttp, file, debug exporters only',
      'service.pipelines.profiles: not supported by Tributary (pipelines are logs, traces or metrics)',
    ]);
    expect(issuesOf('receivers: { fake: {} }')).toEqual(['service: required']);
    expect(issuesOf(good.replace('service:', 'servise: {}\nservice:'))).toEqual(['servise: unknown key']);
  });

  it('reports YAML syntax errors with a position', () => {
    const issues = issuesOf('receivers: { fake: {\nexporters: [');
    expect(issues[0]).toMatch(/YAML line \d+, column \d+/);
  });

  it('substitutes ${env:…}, defaults, $$ and ${file:…}; a whole-value reference keeps its YAML type', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-cfg-'));
    fs.writeFileSync(path.join(dir, 'token'), 'from-file\n');
    fs.writeFileSync(path.join(dir, 'c.yaml'), `
receivers: { fake: { endpoint: "\${env:HOST:-127.0.0.1}:\${env:PORT}" } }
exporters:
  sink: { path: "\${file:token}-$$HOME" }
  sink/b: { path: /b, tls: { insecure: "\${env:INSECURE}" } }
service: { pipelines: { logs: { receivers: [fake], exporters: [sink, sink/b] } } }
`);
    const cfg = loadConfigFile(path.join(dir, 'c.yaml'), registry, { PORT: '9999', INSECURE: 'true' });
    expect(cfg.receivers['fake']).toEqual({ endpoint: '127.0.0.1:9999' });
    expect((cfg.exporters['sink'] as { path: string }).path).toBe('from-file-$HOME');
    expect((cfg.exporters['sink/b'] as { tls: { insecure: boolean } }).tls.insecure).toBe(true);
    fs.rmSync(dir, { recursive: true });
  });

  it('reports an unset env var as missing and a missing file reference as an error', () => {
    const cfg = loadConfigText(good.replace('/tmp/x', '"/tmp/${env:NOPE}x"'), registry, { env: {} });
    expect(cfg.missingEnv).toEqual(['NOPE']);
    expect(issuesOf(good.replace('/tmp/x', '"${file:/nonexistent/secret}"'))).toEqual([
      'exporters.sink.path: cannot read ${file:/nonexistent/secret}: ENOENT',
    ]);
  });

  it('a missing config file is a ConfigError naming the file', () => {
    expect(() => loadConfigFile('/nonexistent/otel.yaml', registry)).toThrow(/cannot read config file \/nonexistent\/otel.yaml: ENOENT/);
  });
});

