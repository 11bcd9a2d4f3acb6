import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDefaultRegistry } from '../builtins.js';
import type { ExporterFactory, ReceiverFactory } from '../component.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { exporterHelperShape } from '../pipeline/exporter-helper-config.js';
import { Service } from '../pipeline/service.js';
import { ComponentRegistry } from '../registry.js';
import type { ConfigSources } from '../config/confmap.js';
import { MetricNames, Telemetry } from '../telemetry/metrics.js';
import { VERSION } from '../version.js';
import { healthCheckExtensionFactory } from '../extensions/health_check/index.js';
import { metricsExtensionFactory } from '../extensions/metrics/index.js';
import { ProgressMeter, formatRate } from './progress.js';
import { configChanges, DEFAULT_CONFIG_FILE, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli, type CliConfig, type CliDeps, type CliService } from './run-cli.js';

/** A captured stream; `until(re)` resolves when a matching line has been written (bounded). */
class Capture {
  text = '';
  private waiters: { re: RegExp; resolve: () => void }[] = [];
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    this.waiters = this.waiters.filter((w) => (w.re.test(this.text) ? (w.resolve(), false) : true));
    return true;
  }
  until(re: RegExp, timeoutMs = 5000): Promise<void> {
    if (re.test(this.text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${this.text}`)), timeoutMs);
      this.waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

function config(overrides: Partial<CliConfig> = {}): CliConfig {
  return {
    service: {
      pipelines: { logs: { receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['file'] } },
      extensions: ['health_check', 'metrics'],
      telemetry: { logs: { level: 'info', encoding: 'text' } },
    },
    ...overrides,
  };
}

class FakeService implements CliService {
  readonly telemetry = new Telemetry();
  started = 0;
  shutdowns = 0;
  startImpl: () => Promise<void> = async () => {};
  shutdownImpl: () => Promise<void> = async () => {};
  start(): Promise<void> {
    this.started++;
    return this.startImpl();
  }
  shutdown(): Promise<void> {
    this.shutdowns++;
    return this.shutdownImpl();
  }
}

interface Harness {
  deps: CliDeps;
  stdout: Capture;
  stderr: Capture;
  service: FakeService;
  loadedFiles: string[];
  exits: number[];
  signal(sig: NodeJS.Signals): void;
  subscribed(): boolean;
}

function harness(options: { load?: (file: string) => CliConfig; tty?: boolean; progressIntervalMs?: number } = {}): Harness {
  const stdout = new Capture();
  const stderr = new Capture(options.tty ?? false);
  const service = new FakeService();
  const loadedFiles: string[] = [];
  const exits: number[] = [];
  let handler: ((s: NodeJS.Signals) => void) | undefined;
  const deps: CliDeps = {
    stdout,
    stderr,
    loadConfig: (file) => {
      loadedFiles.push(file);
      return options.load ? options.load(file) : config();
    },
    createService: () => service,
    onSignal: (h) => {
      handler = h;
      return () => (handler = undefined);
    },
    exit: (code) => void exits.push(code),
    progressIntervalMs: options.progressIntervalMs,
  };
  return {
    deps, stdout, stderr, service, loadedFiles, exits,
    signal: (sig) => handler?.(sig),
    subscribed: () => handler !== undefined,
  };
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});
function tempConfig(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-cli-'));
  tmpDirs.push(dir);
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

describe('version, help, usage errors', () => {
  it('prints the package version for --version and -v', async () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    for (const flag of ['--version', '-v']) {
      const h = harness();
      expect(await runCli([flag], h.deps)).toBe(EXIT_OK);
      expect(h.stdout.text).toBe(`${pkg.version}\n`);
    }
  });

  it('prints usage for --help, -h and no arguments', async () => {
    for (const argv of [['--help'], ['-h'], [], ['run', '--help']]) {
      const h = harness();
      expect(await runCli(argv, h.deps)).toBe(EXIT_OK);
      expect(h.stdout.text).toMatch(/^Usage: tributary <command>/);
      expect(h.stdout.text).toContain('validate [--config <file>]');
    }
  });

  it('answers an unknown verb or option with usage on stderr and exit 2', async () => {
    const h = harness();
    expect(await runCli(['start'], h.deps)).toBe(EXIT_USAGE);
    expect(h.stderr.text).toContain('unknown command "start"');
    expect(h.stderr.text).toContain('Usage: tributary');
    expect(h.stdout.text).toBe('');
    const h2 = harness();
    expect(await runCli(['validate', '--cofnig', 'x.yaml'], h2.deps)).toBe(EXIT_USAGE);
    expect(h2.stderr.text).toMatch(/tributary validate: .*--cofnig/);
    expect(h2.loadedFiles).toEqual([]);
  });

  it('passes several --config and every --set to the loader, in order', async () => {
    const h = harness();
    const calls: unknown[] = [];
    const deps: CliDeps = { ...h.deps, loadConfig: (file, _r, _e, sources) => (calls.push({ file, sources }), config()) };
    expect(await runCli(['validate', '--config', 'a.yaml', '-c', 'env:CFG', '--set', 'processors.batch.timeout=2s'], deps)).toBe(EXIT_OK);
    expect(calls).toEqual([{ file: 'a.yaml + env:CFG', sources: { uris: ['a.yaml', 'env:CFG'], sets: ['processors.batch.timeout=2s'] } }]);
    const h2 = harness();
    expect(await runCli(['validate', '--set', 'nokey'], h2.deps)).toBe(EXIT_USAGE);
    expect(h2.stderr.text).toContain('--set nokey: missing equal sign');
  });
});

describe('components', () => {
  it('lists every registered type grouped by kind', async () => {
    const h = harness();
    expect(await runCli(['components'], h.deps)).toBe(EXIT_OK);
    const registry = createDefaultRegistry();
    const lines = h.stdout.text.trimEnd().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['receivers', 'processors', 'exporters', 'extensions']);
    expect(lines[3]).toContain('health_check, metrics');
    for (const f of registry.list()) expect(lines.find((l) => l.startsWith(`${f.kind}s: `))).toMatch(new RegExp(`[ ,]${f.type}(,|$)`));
  });

  it('--long gives each type its stability level (alpha when a factory does not say) and origin', async () => {
    const registry = createDefaultRegistry().register({ kind: 'processor', type: 'nolevel', configSchema: z.strictObject({}), create: () => { throw new Error('unused'); } }, './p.mjs');
    const h = harness();
    expect(await runCli(['components', '--long'], { ...h.deps, registry })).toBe(EXIT_OK);
    const rows = h.stdout.text.trimEnd().split('\n').map((l) => l.split(/\s+/));
    expect(rows[0]).toEqual(['KIND', 'TYPE', 'STABILITY', 'ORIGIN']);
    expect(rows).toContainEqual(['receiver', 'otlp', 'stable', 'built-in']);
    expect(rows).toContainEqual(['processor', 'nolevel', 'alpha', 'plugin', './p.mjs']);
    expect(rows).toHaveLength(registry.list().length + 1);
    const j = harness();
    expect(await runCli(['components', '-l', '--json'], j.deps)).toBe(EXIT_OK);
    const parsed = JSON.parse(j.stdout.text) as { kind: string; type: string; stability: string }[];
    expect(parsed.find((r) => r.kind === 'exporter' && r.type === 'loki')?.stability).toMatch(/^(alpha|beta|stable)$/);
    expect(parsed).toHaveLength(createDefaultRegistry().list().length);
  });

  it('prints JSON with --json', async () => {
    const h = harness();
    expect(await runCli(['components', '--json'], h.deps)).toBe(EXIT_OK);
    const parsed = JSON.parse(h.stdout.text) as Record<string, string[]>;
    expect(parsed.extensions).toEqual(['api', 'basicauth', 'bearertokenauth', 'file_storage', 'headers_setter', 'health_check', 'metrics']);
    expect(parsed.receivers).toContain('otlp');
    expect(Object.values(parsed).flat()).toHaveLength(createDefaultRegistry().list().length);
  });
});

describe('validate', () => {
  it('reads ./otel-config.yaml by default and says it is valid', async () => {
    const h = harness();
    expect(await runCli(['validate'], h.deps)).toBe(EXIT_OK);
    expect(h.loadedFiles).toEqual([DEFAULT_CONFIG_FILE]);
    expect(h.stdout.text).toBe(`config ${DEFAULT_CONFIG_FILE} is valid\n`);
    expect(h.service.started).toBe(0);
  });

  it('prints every issue as path: reason and exits 2', async () => {
    const h = harness({
      load: () => {
        throw new ConfigError([
          { path: 'exporters.file.path', message: 'required' },
          { path: 'service.pipelines.logs.receivers[0]', message: 'references receiver "otlp", which is not defined in receivers' },
        ]);
      },
    });
    expect(await runCli(['validate', '--config', 'bad.yaml'], h.deps)).toBe(EXIT_USAGE);
    expect(h.stderr.text.split('\n')).toEqual([
      'config bad.yaml is invalid (2 issues):',
      'exporters.file.path: required',
      'service.pipelines.logs.receivers[0]: references receiver "otlp", which is not defined in receivers',
      '',
    ]);
    expect(h.stdout.text).toBe('');
  });

  it('warns about unset environment variables', async () => {
    const h = harness({ load: () => config({ missingEnv: ['DD_API_KEY'] }) });
    expect(await runCli(['validate', '-c', 'x.yaml'], h.deps)).toBe(EXIT_OK);
    expect(h.stderr.text).toContain('environment variable DD_API_KEY is not set');
  });

  it('with the real loader: an unknown key and a missing file', async () => {
    const file = tempConfig('receivers: {}\nexporters: {}\nservice:\n  pipelines: {}\nbogus: 1\n');
    const real = { ...harness().deps, loadConfig: loadConfigFile };
    const h = harness();
    expect(await runCli(['validate', '--config', file], { ...real, stdout: h.stdout, stderr: h.stderr })).toBe(EXIT_USAGE);
    expect(h.stderr.text).toContain('bogus: unknown key');
    const h2 = harness();
    const missing = path.join(path.dirname(file), 'nope.yaml');
    expect(await runCli(['validate', `--config=${missing}`], { ...real, stdout: h2.stdout, stderr: h2.stderr })).toBe(EXIT_USAGE);
    expect(h2.stderr.text).toContain(`cannot read config file ${missing}: ENOENT`);
  });
});

describe('run (fakes)', () => {
  it('starts, prints the pipelines, shuts down on SIGTERM and exits 0', async () => {
    const h = harness();
    const done = runCli(['run', '--config', 'c.yaml'], h.deps);
    await h.stderr.until(/running; pipelines/);
    expect(h.stderr.text).toContain(`Tributary ${VERSION} running; pipelines: logs (otlp → memory_limiter, batch → file); extensions: health_check, metrics`);
    expect(h.service.started).toBe(1);
    expect(h.service.shutdowns).toBe(0);
    h.signal('SIGTERM');
    expect(await done).toBe(EXIT_OK);
    expect(h.service.shutdowns).toBe(1);
    expect(h.stderr.text).toMatch(/shutting down signal=SIGTERM/);
    expect(h.subscribed()).toBe(false);
    expect(h.exits).toEqual([]);
  });

  it('forces exit 1 on a second signal during shutdown', async () => {
    const h = harness();
    let finishShutdown!: () => void;
    h.service.shutdownImpl = () => new Promise<void>((r) => (finishShutdown = r));
    const done = runCli(['run'], h.deps);
    await h.stderr.until(/running; pipelines/);
    h.signal('SIGINT');
    await h.stderr.until(/shutting down/);
    h.signal('SIGINT');
    expect(h.exits).toEqual([EXIT_FAILURE]);
    finishShutdown();
    await done;
  });

  it('shuts down right after start when a signal arrives during startup', async () => {
    const h = harness();
    let finishStart!: () => void;
    h.service.startImpl = () => new Promise<void>((r) => (finishStart = r));
    const done = runCli(['run'], h.deps);
    await h.stderr.until(/starting/);
    h.signal('SIGTERM');
    finishStart();
    expect(await done).toBe(EXIT_OK);
    expect(h.service.shutdowns).toBe(1);
  });

  it('exits 1 with the reason when startup fails', async () => {
    const h = harness();
    h.service.startImpl = () => Promise.reject(new Error('extension health_check failed to start: cannot listen on 127.0.0.1:13133: address already in use'));
    expect(await runCli(['run'], h.deps)).toBe(EXIT_FAILURE);
    expect(h.stderr.text).toContain('startup failed: extension health_check failed to start: cannot listen on 127.0.0.1:13133: address already in use');
    expect(h.subscribed()).toBe(false);
  });

  it('exits 2 on an invalid config without building the service', async () => {
    const h = harness({ load: () => { throw new ConfigError([{ path: 'receivers.otlp.protocols', message: 'unknown key' }]); } });
    expect(await runCli(['run'], h.deps)).toBe(EXIT_USAGE);
    expect(h.stderr.text).toContain('receivers.otlp.protocols: unknown key');
    expect(h.service.started).toBe(0);
  });

  it('exits 1 when the service cannot be built', async () => {
    const h = harness();
    h.deps.createService = () => { throw new Error('exporter file: cannot create directory /root/x'); };
    expect(await runCli(['run'], h.deps)).toBe(EXIT_FAILURE);
    expect(h.stderr.text).toContain('cannot build the service from ./otel-config.yaml: exporter file: cannot create directory /root/x');
  });

  it('prints a progress line from the telemetry with --progress, and by itself on a TTY', async () => {
    for (const [argv, tty] of [[['run', '--progress'], false], [['run'], true]] as const) {
      const h = harness({ tty, progressIntervalMs: 10 });
      const t = h.service.telemetry;
      t.counter(MetricNames.processorDropped, 'd').bind({ processor: 'filter' }).add(3);
      t.counter(MetricNames.exporterSendFailed, 'f').bind({ exporter: 'otlp' }).add(2);
      t.gauge(MetricNames.exporterQueueRecords, 'q').track({ exporter: 'file' }, () => 34);
      const done = runCli([...argv], h.deps);
      await h.stderr.until(/running; pipelines/);
      t.counter(MetricNames.receiverAccepted, 'a').bind({ receiver: 'otlp' }).add(500);
      await h.stderr.until(/received [\d.]+\/s {2}exported 0\/s {2}queued 34 {2}dropped 5\n/);
      h.signal('SIGTERM');
      expect(await done).toBe(EXIT_OK);
    }
  });
});

describe('ProgressMeter', () => {
  it('computes rates between samples and totals drops', () => {
    const t = new Telemetry();
    let now = 0;
    const meter = new ProgressMeter(t, () => now);
    const accepted = t.counter(MetricNames.receiverAccepted, 'a').bind({ receiver: 'otlp' });
    const sent = t.counter(MetricNames.exporterSent, 's').bind({ exporter: 'file' });
    t.counter(MetricNames.exporterEnqueueFailed, 'e').bind({ exporter: 'file' }).add(4);
    let queued = 10;
    t.gauge(MetricNames.exporterQueueRecords, 'q').track({ exporter: 'file' }, () => queued);
    t.gauge(MetricNames.exporterQueueRecords, 'q').track({ exporter: 'otlp' }, () => 2);
    accepted.add(6170);
    sent.add(6000);
    now = 5000;
    expect(meter.line()).toBe('received 1234/s  exported 1200/s  queued 12  dropped 4');
    accepted.add(1);
    queued = 0;
    now = 10_000;
    expect(meter.line()).toBe('received 0.2/s  exported 0/s  queued 2  dropped 4');
  });

  it('formats rates', () => {
    expect(formatRate(0)).toBe('0');
    expect(formatRate(0.04)).toBe('0');
    expect(formatRate(2.25)).toBe('2.3');
    expect(formatRate(1234.4)).toBe('1234');
  });
});

/** A port free a moment ago, for an endpoint the test must know before the service binds it. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('run (real loader and service)', () => {
  // Stand-in receiver/exporter so this test depends only on the CLI, loader, service and the two extensions.
  const nopReceiver: ReceiverFactory<Record<string, never>> = {
    kind: 'receiver', type: 'nop', configSchema: z.strictObject({}),
    create: () => ({ start: async () => {}, shutdown: async () => {} }),
  };
  const nopExporter: ExporterFactory = {
    kind: 'exporter', type: 'nop', configSchema: z.strictObject(exporterHelperShape),
    create: () => ({ send: async () => {} }),
  };

  it('serves health and metrics while running, and stops on SIGTERM', async () => {
    const registry = new ComponentRegistry().register(nopReceiver).register(nopExporter).register(healthCheckExtensionFactory).register(metricsExtensionFactory);
    const [healthPort, metricsPort] = [await freePort(), await freePort()];
    const file = tempConfig(`
receivers: { nop: {} }
exporters: { nop: {} }
extensions:
  health_check: { endpoint: 127.0.0.1:${healthPort} }
  metrics: { endpoint: 127.0.0.1:${metricsPort} }
service:
  extensions: [health_check, metrics]
  pipelines: { logs: { receivers: [nop], exporters: [nop] } }
`);
    const h = harness();
    const deps: CliDeps<ReturnType<typeof loadConfigFile>> = {
      ...h.deps,
      registry,
      loadConfig: loadConfigFile,
      createService: (c, o) => new Service(c, o),
    };
    const done = runCli(['run', '--config', file], deps);
    await h.stderr.until(/running; pipelines: logs \(nop → nop\); extensions: health_check, metrics/);
    const health = await fetch(`http://127.0.0.1:${healthPort}/`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string; components: Record<string, { status: string }> };
    expect(body.status).toBe('Server available');
    expect(body.components['exporter:nop']).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+$/m);
    h.signal('SIGTERM');
    expect(await done).toBe(EXIT_OK);
    await expect(fetch(`http://127.0.0.1:${healthPort}/`)).rejects.toThrow();
  });

  it('exits 1 naming the endpoint when the health port is taken', async () => {
    const registry = new ComponentRegistry().register(nopReceiver).register(nopExporter).register(healthCheckExtensionFactory);
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const file = tempConfig(`
receivers: { nop: {} }
exporters: { nop: {} }
extensions: { health_check: { endpoint: 127.0.0.1:${port} } }
service: { extensions: [health_check], pipelines: { logs: { receivers: [nop], exporters: [nop] } } }
`);
      const h = harness();
      const deps: CliDeps<ReturnType<typeof loadConfigFile>> = { ...h.deps, registry, loadConfig: loadConfigFile, createService: (c, o) => new Service(c, o) };
      expect(await runCli(['run', '-c', file], deps)).toBe(EXIT_FAILURE);
      expect(h.stderr.text).toContain(`cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});

describe('suggestions and telemetry keys', () => {
  it('suggests the verb and the option that were meant', async () => {
    const h = harness();
    expect(await runCli(['valdiate'], h.deps)).toBe(EXIT_USAGE);
    expect(h.stderr.text).toContain('unknown command "valdiate" (did you mean "validate"?)');
    const h2 = harness();
    expect(await runCli(['validate', '--confg', 'x.yaml'], h2.deps)).toBe(EXIT_USAGE);
    expect(h2.stderr.text).toContain('(did you mean "--config"?)');
  });

  it('says once at startup which accepted telemetry keys have no effect; resource fields go on every line', async () => {
    const base = config();
    const h = harness({
      load: () => ({
        ...base,
        service: { ...base.service, telemetry: { logs: { level: 'info', encoding: 'text' }, fields: { 'service.name': 'edge-1' }, noEffect: ['logs.sampling', 'traces.propagators'] } },
      }),
    });
    const done = runCli(['run', '--config', 'c.yaml'], h.deps);
    await h.stderr.until(/running; pipelines/);
    h.signal('SIGTERM');
    expect(await done).toBe(EXIT_OK);
    const lines = h.stderr.text.split('\n').filter((l) => l.includes('without effect'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('service.telemetry keys accepted but without effect in Tributary: logs.sampling, traces.propagators');
    expect(lines[0]).toContain('service.name=edge-1');
  });
});

describe('configChanges (reload log)', () => {
  it('names what was added, removed and changed, section by section', () => {
    const before = {
      receivers: { otlp: { protocols: { http: {} } } },
      processors: { batch: { timeout: 200 } },
      exporters: { debug: {}, file: { path: 'a' } },
      extensions: {},
      service: { extensions: [], pipelines: { logs: { receivers: ['otlp'], processors: ['batch'], exporters: ['debug', 'file'] } }, shutdown_timeout: 5000 },
    };
    const after = {
      receivers: { otlp: { protocols: { http: {} } } },
      processors: { batch: { timeout: 100 }, filter: {} },
      exporters: { file: { path: 'a' } },
      extensions: {},
      service: { extensions: [], pipelines: { logs: { receivers: ['otlp'], processors: ['batch', 'filter'], exporters: ['file'] } }, shutdown_timeout: 5000 },
    };
    expect(configChanges(before, after)).toEqual(['processors.batch changed', 'processors.filter added', 'exporters.debug removed', 'service.pipelines.logs changed']);
    expect(configChanges(before, structuredClone(before))).toEqual([]);
  });
});

describe('reload with several config sources', () => {
  it('SIGHUP and --watch-config re-read every --config source and every --set, in order', async () => {
    const h = harness();
    const calls: (ConfigSources | undefined)[] = [];
    h.deps.loadConfig = (_file, _registry, _env, sources) => {
      calls.push(sources);
      // Each load differs, so each reload restarts the service.
      return { ...config(), processors: { batch: { timeout: calls.length } } } as CliConfig;
    };
    let hup: (() => void) | undefined;
    h.deps.onReloadSignal = (fn) => {
      hup = fn;
      return () => (hup = undefined);
    };
    const watched: string[] = [];
    const changed: (() => void)[] = [];
    h.deps.watchConfig = (file, fn) => {
      watched.push(file);
      changed.push(fn);
      return () => undefined;
    };
    const services: FakeService[] = [];
    h.deps.createService = () => {
      const s = new FakeService();
      services.push(s);
      return s;
    };
    const argv = ['run', '--config', 'a.yaml', '--config', 'env:EXTRA', '--config', 'file:b.yaml', '--set', 'processors.batch.timeout=2s', '--watch-config'];
    const done = runCli(argv, h.deps);
    await h.stderr.until(/running; pipelines/);
    hup?.();
    await h.stderr.until(/configuration reloaded/);
    changed[1]?.(); // b.yaml changed
    await h.stderr.until(/configuration reloaded[\s\S]*configuration reloaded/);
    h.signal('SIGTERM');
    expect(await done).toBe(EXIT_OK);
    // Only the file sources are watched; env: is not a file.
    expect(watched).toEqual(['a.yaml', 'b.yaml']);
    expect(calls).toHaveLength(3);
    for (const c of calls) expect(c).toEqual({ uris: ['a.yaml', 'env:EXTRA', 'file:b.yaml'], sets: ['processors.batch.timeout=2s'] });
    expect(services.map((s) => [s.started, s.shutdowns])).toEqual([[1, 1], [1, 1], [1, 1]]);
    expect(h.stderr.text).toContain('config file changed: b.yaml');
  });
});
