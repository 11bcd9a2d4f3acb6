/** Upstream-config compatibility of the loader: sources, substitution forms, aliases, telemetry, messages. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDefaultRegistry } from '../builtins.js';
import { ConfigError, loadConfigFile, loadConfigText, type CollectorConfig } from './load.js';
import { formatConfigIssue } from './schema-helpers.js';
import { editDistance, closest } from './suggest.js';

const registry = createDefaultRegistry();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-compat-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map(formatConfigIssue);
  }
  throw new Error('expected a ConfigError');
}

const base = `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
exporters:
  debug: {}
service:
  pipelines:
    logs: { receivers: [otlp], exporters: [debug] }
`;

describe('${…} substitution forms', () => {
  const text = `
receivers:
  otlp:
    protocols:
      http: { endpoint: "\${HOST}:\${env:PORT}" }
exporters:
  otlphttp:
    endpoint: "\${SCHEME:-http}://\${env:BACKEND:-backend.local}:4318"
    headers: { x-a: "\${TENANT}", x-b: "$\${TENANT}", x-c: "$$HOME" }
service:
  pipelines:
    logs: { receivers: [otlp], exporters: [otlphttp] }
`;
  it('${VAR}, ${VAR:-default}, ${env:VAR}, ${env:VAR:-default}, $$ escaping', () => {
    const cfg = loadConfigText(text, registry, { env: { HOST: '127.0.0.1', PORT: '4999', TENANT: 't1' } });
    expect((cfg.receivers['otlp'] as { protocols: { http: { endpoint: string } } }).protocols.http.endpoint).toBe('127.0.0.1:4999');
    const exp = cfg.exporters['otlphttp'] as { endpoint: string; headers: Record<string, string> };
    expect(exp.endpoint).toBe('http://backend.local:4318');
    expect(exp.headers).toEqual({ 'x-a': 't1', 'x-b': '${TENANT}', 'x-c': '$HOME' });
  });

  it('a set variable wins over the default; an unset one is reported missing', () => {
    const cfg = loadConfigText(text, registry, { env: { HOST: 'h', PORT: '1', SCHEME: 'https', BACKEND: 'b.example' } });
    expect((cfg.exporters['otlphttp'] as { endpoint: string }).endpoint).toBe('https://b.example:4318');
    expect(cfg.missingEnv).toEqual(['TENANT']);
  });

  it('an unsupported scheme is an error naming it', () => {
    expect(issues(() => loadConfigText(base.replace('{}', '{ verbosity: "${http://x}" }'), registry, { env: {} })))
      .toEqual(['exporters.debug.verbosity: the "http" reference scheme in ${http://x} is not supported by Tributary (use ${env:…} or ${file:…})']);
  });
});

describe('--config sources merged as confmap', () => {
  const a = write('a.yaml', `${base}
processors:
  batch: { timeout: 1s, send_batch_size: 100 }
`);
  const b = write('b.yaml', `
processors:
  batch: { send_batch_size: 7 }
exporters:
  file: { path: ${path.join(dir, 'out.jsonl')} }
service:
  pipelines:
    logs: { receivers: [otlp], processors: [batch], exporters: [file] }
`);

  it('maps merge deeply and lists are replaced, later sources win', () => {
    const cfg = loadConfigFile('x', registry, {}, { uris: [a, `file:${b}`] });
    expect(cfg.processors['batch']).toMatchObject({ timeout: 1000, send_batch_size: 7 });
    expect(cfg.service.pipelines['logs']!.exporters).toEqual(['file']);
    expect(Object.keys(cfg.exporters).sort()).toEqual(['debug', 'file']);
  });

  it('env:NAME and yaml: sources, then --set with . and :: paths', () => {
    const cfg = loadConfigFile('x', registry, { CFG: base }, {
      uris: ['env:CFG', 'yaml:exporters::debug::verbosity: detailed'],
      sets: ['processors.batch.timeout=3s', 'service::pipelines::logs::processors=[batch]'],
    });
    expect(cfg.exporters['debug']).toMatchObject({ verbosity: 'detailed' });
    expect(cfg.processors['batch']).toMatchObject({ timeout: 3000 });
    expect(cfg.service.pipelines['logs']!.processors).toEqual(['batch']);
  });

  it('a missing file, an unset env source and an unknown scheme are named plainly', () => {
    expect(issues(() => loadConfigFile('x', registry, {}, { uris: [path.join(dir, 'nope.yaml'), 'env:NOPE', 'https://example.com/c.yaml'] }))).toEqual([
      `cannot read config file ${path.join(dir, 'nope.yaml')}: ENOENT: the file does not exist (looked for ${path.join(dir, 'nope.yaml')})`,
      '--config env:NOPE: environment variable NOPE is not set',
      '--config https://example.com/c.yaml: the "https" config source is not supported by Tributary (use file:, env:, yaml:; fetch remote configs to a file first)',
    ]);
  });
});

describe('type aliases and ids', () => {
  it('otlp_http and otlp_grpc are the otlphttp and otlp exporters, with names containing /', () => {
    const cfg = loadConfigText(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters:
  otlp_http/backend: { endpoint: http://127.0.0.1:4318 }
  otlp_grpc/a/b: { endpoint: 127.0.0.1:4317, tls: { insecure: true } }
  otlphttp: { endpoint: http://127.0.0.1:4318 }
  otlp: { endpoint: 127.0.0.1:4317 }
processors:
  batch/logs/fast: {}
service:
  pipelines:
    logs: { receivers: [otlp], processors: [batch/logs/fast], exporters: [otlp_http/backend, otlp_grpc/a/b, otlphttp, otlp] }
`, registry, { env: {} });
    expect(cfg.exporters['otlp_http/backend']).toMatchObject({ endpoint: 'http://127.0.0.1:4318', encoding: 'proto' });
    expect(cfg.exporters['otlp_grpc/a/b']).toMatchObject({ endpoint: '127.0.0.1:4317', tls: { insecure: true } });
    expect(registry.get('exporter', 'otlp_http')).toBe(registry.get('exporter', 'otlphttp'));
    expect(registry.get('exporter', 'otlp_grpc')).toBe(registry.get('exporter', 'otlp'));
  });
});

describe('service.telemetry', () => {
  const tele = (t: string): CollectorConfig => loadConfigText(`${base}  telemetry:\n${t}`, registry, { env: {} });

  it('accepts upstream keys, honours level (any case), encoding and resource, lists the rest once', () => {
    const cfg = tele(`
    resource: { service.name: tributary-edge, deployment.environment: prod, drop.me: null }
    logs:
      level: DEBUG
      encoding: console
      sampling: { enabled: true, tick: 10s, initial: 10, thereafter: 100 }
      output_paths: [stderr]
      initial_fields: { region: eu-1 }
      processors:
        - batch: { exporter: { otlp: { protocol: http/protobuf, endpoint: http://x:4318 } } }
    metrics:
      level: Detailed
      readers:
        - pull: { exporter: { prometheus: { host: 127.0.0.1, port: 18888, without_units: true } } }
    traces:
      propagators: [tracecontext]
`);
    expect(cfg.service.telemetry.logs).toEqual({ level: 'debug', encoding: 'text' });
    expect(cfg.service.telemetry.fields).toEqual({ 'service.name': 'tributary-edge', 'deployment.environment': 'prod', region: 'eu-1' });
    expect(cfg.service.telemetry.noEffect).toEqual([
      'logs.sampling', 'logs.output_paths', 'logs.processors',
      'metrics.readers[0].pull.exporter.prometheus.without_units', 'metrics.level', 'traces.propagators',
    ]);
    // The pull reader's address serves the collector's metrics through the metrics extension.
    expect(cfg.service.extensions).toEqual(['metrics/service_telemetry']);
    expect(cfg.extensions['metrics/service_telemetry']).toEqual({ endpoint: '127.0.0.1:18888', path: '/metrics', read_header_timeout: 60_000, read_timeout: 60_000, idle_timeout: 60_000 });
  });

  it('metrics level none serves nothing; a bad level is echoed with the options', () => {
    const cfg = tele(`    metrics: { level: none, readers: [{ pull: { exporter: { prometheus: { host: 127.0.0.1, port: 18889 } } } }] }\n`);
    expect(cfg.service.extensions).toEqual([]);
    expect(issues(() => tele('    logs: { level: verbose }\n'))[0]).toMatch(
      /^service\.telemetry\.logs\.level: invalid value "verbose" \(expected one of: debug, info, warn, error, dpanic, panic, fatal\)/,
    );
  });
});

describe('error messages', () => {
  it('enum values in any letter case are accepted', () => {
    const cfg = loadConfigText(base.replace('debug: {}', 'debug: { verbosity: Detailed }'), registry, { env: {} });
    expect(cfg.exporters['debug']).toMatchObject({ verbosity: 'detailed' });
  });

  it('a bad enum value is echoed; unknown keys and types get a suggestion; positions come from the YAML', () => {
    const text = `receivers:
  otlp:
    protocols:
      http: { endpont: 127.0.0.1:0 }
exporters:
  otlphtp: { endpoint: http://x }
  debug: { verbosity: loud }
service:
  pipelines:
    logs: { receivers: [otlp], exporters: [debug] }
`;
    expect(issues(() => loadConfigText(text, registry, { env: {} }))).toEqual([
      'receivers.otlp.protocols.http.endpont: unknown key (did you mean "endpoint"?) (line 4, column 15)',
      expect.stringMatching(/^exporters\.otlphtp: unknown exporter type "otlphtp" \(known: .*\) \(did you mean "otlphttp"\?\) \(line 6, column 3\)$/),
      'exporters.debug.verbosity: invalid value "loud" (expected one of: basic, normal, detailed) (line 7, column 12)',
    ]);
  });

  it('a component or key Tributary lacks gets one line with the alternative', () => {
    const text = `${base}
processors:
  transform/logs: { log_statements: [] }
extensions:
  pprof: {}
connectors:
  spanmetrics: {}
`;
    expect(issues(() => loadConfigText(text, registry, { env: {} })).map((s) => s.replace(/ \(line.*$/, ''))).toEqual([
      'connectors.spanmetrics: not supported by Tributary',
      'processors.transform/logs: not supported by Tributary; use the attributes, resource and filter processors (OTTL conditions) instead',
      'extensions.pprof: not supported by Tributary',
    ]);
  });

  it('a bad value given with --set is located in that --set', () => {
    const main = write('main2.yaml', base);
    expect(issues(() => loadConfigFile('x', registry, {}, { uris: [main], sets: ['exporters.debug.verbosity=loud'] }))).toEqual([
      'exporters.debug.verbosity: invalid value "loud" (expected one of: basic, normal, detailed) (--set exporters.debug.verbosity=loud line 1, column 1)',
    ]);
  });

  it('in merged sources, the position names the source that set the key', () => {
    const over = write('over.yaml', 'exporters:\n  debug:\n    colour: red\n');
    const main = write('main.yaml', base);
    expect(issues(() => loadConfigFile('x', registry, {}, { uris: [main, over] }))).toEqual([`exporters.debug.colour: unknown key (${over} line 3, column 5)`]);
  });
});

describe('suggestions', () => {
  it('edit distance counts a swap as one edit and suggests only close names', () => {
    expect(editDistance('endpoint', 'endpiont')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('valdiate', ['run', 'validate', 'replay'])).toBe('validate');
    expect(closest('frobnicate', ['run', 'validate', 'replay'])).toBeUndefined();
  });
});
