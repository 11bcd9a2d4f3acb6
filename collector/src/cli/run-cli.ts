/**
 * The `tributary` command line, with its outside world injected (streams, config loader, service,
 * signals, exit) so every verb can be tested in-process. main.ts wires the real ones.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createDefaultRegistry, loadUsedBy } from '../builtins.js';
import { resolveSources } from '../config/confmap.js';
import type { ConfigSources } from '../config/confmap.js';
import type { ConfigIssue } from '../config/schema-helpers.js';
import { didYouMean } from '../config/suggest.js';
import { errorMessage } from '../errors.js';
import type { ComponentRegistry } from '../registry.js';
import { createLogger, type LogFields, type Logger, type LogLevel } from '../telemetry/logger.js';
import type { Telemetry } from '../telemetry/metrics.js';
import { VERSION } from '../version.js';
import { componentRows, componentsByKind, formatComponents, formatComponentsLong, formatIssue, formatPipelines, pluginComponents, USAGE, formatReplayResult } from './format.js';
import { ProgressMeter } from './progress.js';
import { replayDeadLetters, ReplayError } from './replay.js';
import { deliveryBooks, formatDeliverySummary } from '../pipeline/loss-accounting.js';

export const EXIT_OK = 0;
/** Startup or runtime failure (port taken, shutdown failed, forced exit). */
export const EXIT_FAILURE = 1;
/** Bad command line or invalid config. */
export const EXIT_USAGE = 2;

export const DEFAULT_CONFIG_FILE = './otel-config.yaml';
export const PROGRESS_INTERVAL_MS = 5000;

export interface CliOutput {
  write(chunk: string): unknown;
  readonly isTTY?: boolean | undefined;
}

/** What the CLI needs of a loaded config (config/load.ts's CollectorConfig satisfies it). */
export interface CliConfig {
  service: {
    pipelines: Readonly<Record<string, { receivers: string[]; processors: string[]; exporters: string[] }>>;
    extensions: string[];
    telemetry: {
      logs: { level: LogLevel; encoding: 'text' | 'json' };
      /** Fields on every line of the collector's own log. */
      fields?: LogFields | undefined;
      /** Accepted telemetry keys without effect, said once at startup. */
      noEffect?: readonly string[] | undefined;
    };
    /** Worker processes (`run --workers` overrides). */
    workers?: number | 'auto' | undefined;
  };
  /** Environment variables the config referenced but that are not set. */
  missingEnv?: string[] | undefined;
}

/** Exporters of a reloaded configuration still sending their in-memory queues (pipeline/service.ts). */
export interface CliDraining {
  readonly done: Promise<void>;
  pendingRecords(): number;
  finish(timeoutMs: number): Promise<void>;
}

/** What the CLI needs of the service (pipeline/service.ts's Service satisfies it). */
export interface CliService {
  readonly telemetry: Telemetry;
  start(): Promise<void>;
  shutdown(): Promise<void>;
  /** Stops intake and hands over to a new configuration (reload); without it a reload shuts down fully. */
  stopForReload?(): Promise<CliDraining>;
  readonly shutdownTimeout?: number;
}

export interface CliDeps<C extends CliConfig = CliConfig> {
  stdout: CliOutput;
  stderr: CliOutput;
  /**
   * Throws an error with `issues: ConfigIssue[]` (config/load.ts's ConfigError) when the config is invalid.
   * `file` names the config in messages; `sources` holds every `--config` and `--set` in order.
   */
  loadConfig(file: string, registry: ComponentRegistry, env: NodeJS.ProcessEnv, sources?: ConfigSources): C;
  createService(config: C, options: { registry: ComponentRegistry; logger: Logger; telemetry?: Telemetry | undefined }): CliService;
  /** Subscribes to SIGTERM and SIGINT; returns the unsubscribe function. */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
  /** Subscribes to SIGHUP (reload the config); returns the unsubscribe function. */
  onReloadSignal?: ((handler: () => void) => () => void) | undefined;
  /** `run --watch-config`: calls `handler` when the file changes; returns the unsubscribe function. */
  watchConfig?: ((file: string, handler: () => void) => () => void) | undefined;
  /** Exits at once (used when a second signal arrives during shutdown). */
  exit(code: number): void;
  registry?: ComponentRegistry | undefined;
  /** Imports the config's `plugins:` and registers their factories (config/plugins.ts); throws ConfigError. */
  loadPlugins?: ((file: string, registry: ComponentRegistry) => Promise<unknown>) | undefined;
  /** `validate --dry-run <records.jsonl>`: runs the records through the pipelines' processors, prints what each did. */
  dryRun?: ((config: C, registry: ComponentRegistry, recordsFile: string, out: (s: string) => void) => Promise<number>) | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  progressIntervalMs?: number | undefined;
  /**
   * `run` with more than one worker: runs the worker processes (cluster/supervisor.ts) and resolves
   * with the exit code once they have stopped. Absent in a worker (which runs the service itself).
   */
  runWorkers?: ((config: C, workers: number, registry: ComponentRegistry, logger: Logger) => Promise<number>) | undefined;
  /**
   * Called by `run` once the config is valid, before anything starts: may replace the process (execve)
   * with one whose V8 heap is sized for the config's memory limit (cli/heap.ts).
   */
  sizeHeap?: ((config: C, logger: Logger) => void) | undefined;
  /** CPUs for `--workers auto`. */
  cpuCount?: (() => number) | undefined;
}

/** `--workers N|auto` or `service.workers`: a count ≥ 1, or undefined when invalid. */
export function parseWorkers(value: string | number | undefined, cpus: number): number | undefined {
  if (value === undefined) return 1;
  if (value === 'auto') return Math.max(1, cpus);
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 1024 ? n : undefined;
}

/** A config error from the loader: duck-typed so this module does not depend on the loader's class. */
export function configIssuesOf(err: unknown): ConfigIssue[] | undefined {
  if (!(err instanceof Error) || !('issues' in err)) return undefined;
  const issues = (err as { issues: unknown }).issues;
  return Array.isArray(issues) ? (issues as ConfigIssue[]) : undefined;
}

class UsageError extends Error {}

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

const CONFIG_OPTION: OptionSpec = { config: { type: 'string', short: 'c', multiple: true }, set: { type: 'string', multiple: true } };
const VERBS = ['run', 'validate', 'replay', 'components', 'help', 'version'];
const HELP_OPTION: OptionSpec = { help: { type: 'boolean', short: 'h' } };

function parseVerbArgs<O extends OptionSpec>(verb: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...options, ...HELP_OPTION }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(errorMessage(e));
    const names = Object.keys({ ...options, ...HELP_OPTION }).map((n) => `--${n}`);
    const hint = unknown ? didYouMean(unknown[1]!.split('=')[0]!, names) : undefined;
    throw new UsageError(`tributary ${verb}: ${errorMessage(e)}${hint ? ` (${hint})` : ''}`);
  }
}

interface ConfigChoice {
  /** What messages call the config: the file, or the sources joined with ` + `. */
  file: string;
  sources: ConfigSources;
  /** The file whose `plugins:` list is read (the first file source). */
  pluginFile: string | undefined;
}

/** A `--config` source that names a file: a plain path or a `file:` URI (not env:, yaml:, …). */
const isFile = (u: string): boolean => u.startsWith('file:') || !/^[A-Za-z][A-Za-z0-9+.-]+:/.test(u);

/** `--config` (any number, in order: a path, file:path, env:NAME, yaml:…) and `--set key=value` (any number). */
function configOf(verb: string, values: Record<string, unknown>): ConfigChoice {
  const given = (values.config as string[] | undefined) ?? [];
  const sets = (values.set as string[] | undefined) ?? [];
  if (given.some((g) => g === '')) throw new UsageError(`tributary ${verb}: --config needs a file name`);
  const bad = sets.find((x) => !x.includes('='));
  if (bad !== undefined) throw new UsageError(`tributary ${verb}: --set ${bad}: missing equal sign (use --set key.path=value)`);
  const uris = given.length ? given : [DEFAULT_CONFIG_FILE];
  const firstFile = uris.find(isFile);
  const pluginFile = firstFile?.startsWith('file:') ? firstFile.slice(5) : firstFile;
  const file = uris.length === 1 ? (pluginFile ?? uris[0]!) : uris.join(' + ');
  return { file, sources: { uris, sets }, pluginFile };
}

/** Runs one invocation; resolves with the exit code. `run` resolves after a signal has shut the service down. */
export async function runCli<C extends CliConfig>(argv: readonly string[], deps: CliDeps<C>): Promise<number> {
  const out = (s: string): void => void deps.stdout.write(s.endsWith('\n') ? s : s + '\n');
  const err = (s: string): void => void deps.stderr.write(s.endsWith('\n') ? s : s + '\n');
  const [verb, ...rest] = argv;
  // One registry per invocation: plugins registered while loading the config must be the ones the service uses.
  deps = { ...deps, registry: deps.registry ?? createDefaultRegistry() };
  try {
    switch (verb) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        out(USAGE);
        return EXIT_OK;
      case '-v':
      case '--version':
      case 'version':
        out(VERSION);
        return EXIT_OK;
      case 'components':
        return await components(rest, deps, out, err);
      case 'validate':
        return await validate(rest, deps, out, err);
      case 'run':
        return await run(rest, deps, out, err);
      case 'replay':
        return await replay(rest, deps, out, err);
      case 'query':
        return await query(rest, deps, out, err);
      case 'tail':
        return await tail(rest, deps, out, err);
      case 'alerts':
        return await alerts(rest, deps, out, err);
      default:
        if (verb.startsWith('-')) throw new UsageError(`tributary: unknown option ${verb}`);
        {
          const hint = didYouMean(verb, VERBS);
          throw new UsageError(`tributary: unknown command "${verb}"${hint ? ` (${hint})` : ''}`);
        }
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`${e.message}\n`);
    err(USAGE);
    return EXIT_USAGE;
  }
}

async function components<C extends CliConfig>(args: string[], deps: CliDeps<C>, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const values = parseVerbArgs('components', args, { json: { type: 'boolean' }, long: { type: 'boolean', short: 'l' }, ...CONFIG_OPTION });
  if (values.help) return (out(USAGE), EXIT_OK);
  const registry = await deps.registry!.loadAll();
  // With --config, the config's plugins are loaded so their types are listed too, with their origin.
  if (values.config) {
    const { pluginFile } = configOf('components', values);
    const failed = pluginFile === undefined ? undefined : await registerPlugins(pluginFile, deps, err);
    if (failed !== undefined) return failed;
  }
  if (values.long) out(values.json ? JSON.stringify(componentRows(registry), null, 2) : formatComponentsLong(registry));
  else out(values.json ? JSON.stringify({ ...componentsByKind(registry), plugins: pluginComponents(registry) }, null, 2) : formatComponents(registry));
  return EXIT_OK;
}

function printIssues(file: string, issues: readonly ConfigIssue[], err: (s: string) => void): void {
  err(`config ${file} is invalid (${issues.length} ${issues.length === 1 ? 'issue' : 'issues'}):`);
  for (const issue of issues) err(formatIssue(issue));
}

/** Loads the config's plugins into the registry; returns an exit code when that failed. */
async function registerPlugins<C extends CliConfig>(file: string, deps: CliDeps<C>, err: (s: string) => void): Promise<number | undefined> {
  if (!deps.loadPlugins) return undefined;
  try {
    await deps.loadPlugins(file, deps.registry!);
    return undefined;
  } catch (e) {
    const issues = configIssuesOf(e);
    if (!issues) {
      err(`config ${file}: cannot load plugins: ${errorMessage(e)}`);
      return EXIT_FAILURE;
    }
    printIssues(file, issues, err);
    return EXIT_USAGE;
  }
}

/** Reads every `--config` source and `--set` again (startup and each reload); throws as loadConfig does. */
function loadFromSources<C extends CliConfig>(choice: ConfigChoice, deps: CliDeps<C>): C {
  const registry = deps.registry!;
  const { file } = choice;
  // A single plain --config keeps the three-argument call (what a custom loader expects).
  const plain = choice.sources.uris.length === 1 && !choice.sources.sets?.length && choice.sources.uris[0] === file;
  return plain ? deps.loadConfig(file, registry, deps.env ?? process.env) : deps.loadConfig(file, registry, deps.env ?? process.env, choice.sources);
}

/**
 * Imports the modules of the component types the config names (the registry loads built-ins lazily).
 * A source that cannot be read is left for loadConfig to report.
 */
async function loadComponentsOf<C extends CliConfig>(choice: ConfigChoice, deps: CliDeps<C>): Promise<void> {
  let raw: unknown;
  try {
    raw = resolveSources(choice.sources, deps.env ?? process.env, choice.file).raw;
  } catch {
    return;
  }
  await loadUsedBy(deps.registry!, raw);
}

/** Loads the config; on failure prints why and returns the exit code instead. */
async function load<C extends CliConfig>(choice: ConfigChoice, deps: CliDeps<C>, err: (s: string) => void): Promise<{ config: C } | { code: number }> {
  const { file } = choice;
  const failed = choice.pluginFile === undefined ? undefined : await registerPlugins(choice.pluginFile, deps, err);
  if (failed !== undefined) return { code: failed };
  let config: C;
  try {
    await loadComponentsOf(choice, deps);
    config = loadFromSources(choice, deps);
  } catch (e) {
    const issues = configIssuesOf(e);
    if (!issues) {
      err(`config ${file}: cannot be loaded: ${errorMessage(e)}`);
      return { code: EXIT_FAILURE };
    }
    printIssues(file, issues, err);
    return { code: EXIT_USAGE };
  }
  for (const name of config.missingEnv ?? []) err(`warning: config ${file}: environment variable ${name} is not set (substituted with "")`);
  return { config };
}

async function validate<C extends CliConfig>(args: string[], deps: CliDeps<C>, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const values = parseVerbArgs('validate', args, { ...CONFIG_OPTION, 'dry-run': { type: 'string' } });
  if (values.help) return (out(USAGE), EXIT_OK);
  const choice = configOf('validate', values);
  const { file } = choice;
  const loaded = await load(choice, deps, err);
  if ('code' in loaded) return loaded.code;
  out(`config ${file} is valid`);
  const records = values['dry-run'];
  if (records === undefined) return EXIT_OK;
  if (!deps.dryRun) throw new UsageError('tributary validate: --dry-run is not available in this build');
  try {
    return await deps.dryRun(loaded.config, deps.registry!, records, out);
  } catch (e) {
    err(`tributary validate --dry-run ${records}: ${errorMessage(e)}`);
    return EXIT_FAILURE;
  }
}

/** `query '<query>' …`: searches a store directory or a remote api (cli/query.ts). */
async function query<C extends CliConfig>(args: string[], deps: CliDeps<C>, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        since: { type: 'string' }, limit: { type: 'string', short: 'n' }, output: { type: 'string', short: 'o' }, follow: { type: 'boolean', short: 'f' },
        from: { type: 'string' }, token: { type: 'string' }, tenant: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw new UsageError(`tributary query: ${errorMessage(e)}`);
  }
  if (parsed.values.help) return (out(USAGE), EXIT_OK);
  const { queryOptionsFrom, runQuery, QueryCliError } = await import('./query.js');
  const { QueryParseError } = await import('../query/parser.js');
  try {
    const o = queryOptionsFrom(parsed.values, parsed.positionals, deps.env ?? process.env, deps.stdout.isTTY === true);
    const ac = new AbortController();
    const off = o.follow ? deps.onSignal(() => ac.abort()) : undefined;
    try {
      return await runQuery(o, out, ac.signal);
    } finally {
      off?.();
    }
  } catch (e) {
    if (e instanceof QueryParseError) {
      const q = parsed.positionals[0] ?? '';
      err(`tributary query: ${e.message}\n  ${q}\n  ${' '.repeat(e.position)}^`);
      return EXIT_USAGE;
    }
    if (e instanceof QueryCliError) {
      err(`tributary query: ${e.message}`);
      return EXIT_FAILURE;
    }
    throw e;
  }
}

/** `alerts list|ack|silence`: the api's alert routes (cli/alerts.ts). */
async function alerts<C extends CliConfig>(args: string[], deps: CliDeps<C>, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        url: { type: 'string' }, token: { type: 'string' }, tenant: { type: 'string' }, output: { type: 'string', short: 'o' },
        history: { type: 'boolean' }, comment: { type: 'string' }, duration: { type: 'string' }, expire: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw new UsageError(`tributary alerts: ${errorMessage(e)}`);
  }
  if (parsed.values.help) return (out(USAGE), EXIT_OK);
  const [verb, ...rest] = parsed.positionals;
  if (!verb) throw new UsageError('tributary alerts: list, ack or silence');
  const output = parsed.values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`tributary alerts: --output: expected text or json, got "${output}"`);
  const env = deps.env ?? process.env;
  const { runAlerts, AlertsCliError } = await import('./alerts.js');
  try {
    return await runAlerts(verb, rest, parsed.values, {
      url: parsed.values.url ?? env.TRIBUTARY_URL ?? 'http://127.0.0.1:3100',
      token: parsed.values.token ?? env.TRIBUTARY_TOKEN,
      tenant: parsed.values.tenant,
      output,
    }, out);
  } catch (e) {
    if (e instanceof AlertsCliError) {
      err(`tributary alerts: ${e.message}`);
      return EXIT_FAILURE;
    }
    throw e;
  }
}

/** `tail '<query>' --url … --token …`: streams the api's live tail (cli/tail.ts). */
async function tail<C extends CliConfig>(args: string[], deps: CliDeps<C>, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { url: { type: 'string' }, token: { type: 'string' }, tenant: { type: 'string' }, output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw new UsageError(`tributary tail: ${errorMessage(e)}`);
  }
  if (parsed.values.help) return (out(USAGE), EXIT_OK);
  const { runTail } = await import('./tail.js');
  const { QueryCliError } = await import('./query.js');
  const { QueryParseError } = await import('../query/parser.js');
  const env = deps.env ?? process.env;
  const output = parsed.values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`tributary tail: --output: expected text or json, got "${output}"`);
  if (parsed.positionals.length > 1) throw new UsageError('tributary tail: give the query as one argument (quote it)');
  const q = parsed.positionals[0] ?? '';
  const ac = new AbortController();
  const off = deps.onSignal(() => ac.abort());
  try {
    return await runTail({
      query: q,
      url: parsed.values.url ?? env.TRIBUTARY_URL ?? 'http://127.0.0.1:3100',
      token: parsed.values.token ?? env.TRIBUTARY_TOKEN,
      tenant: parsed.values.tenant,
      output,
      color: deps.stdout.isTTY === true && output === 'text' && !env.NO_COLOR,
    }, out, err, ac.signal);
  } catch (e) {
    if (e instanceof QueryParseError) {
      err(`tributary tail: ${e.message}\n  ${q}\n  ${' '.repeat(e.position)}^`);
      return EXIT_USAGE;
    }
    if (e instanceof QueryCliError) {
      err(`tributary tail: ${e.message}`);
      return EXIT_FAILURE;
    }
    throw e;
  } finally {
    off();
  }
}

/** `replay --from <dead-letter file> --exporter <id>`: resends dead-lettered batches (cli/replay.ts). */
async function replay<C extends CliConfig>(args: string[], deps: CliDeps<C>, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const values = parseVerbArgs('replay', args, { ...CONFIG_OPTION, from: { type: 'string' }, exporter: { type: 'string' } });
  if (values.help) return (out(USAGE), EXIT_OK);
  const from = values.from;
  const exporterId = values.exporter;
  if (!from || !exporterId) throw new UsageError('tributary replay: --from <dead-letter file> and --exporter <id> are required');
  const loaded = await load(configOf('replay', values), deps, err);
  if ('code' in loaded) return loaded.code;
  const logs = loaded.config.service.telemetry.logs;
  const logger = createLogger({ level: logs.level, encoding: logs.encoding, write: (line) => err(line) });
  const exporters = (loaded.config as unknown as { exporters?: Record<string, unknown> }).exporters ?? {};
  try {
    const r = await replayDeadLetters({ exporters, registry: await deps.registry!.loadAll(), from, exporterId, logger });
    out(formatReplayResult(from, exporterId, r));
    return r.failedBatches === 0 ? EXIT_OK : EXIT_FAILURE;
  } catch (e) {
    err(`tributary replay: ${errorMessage(e)}`);
    return e instanceof ReplayError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

async function run<C extends CliConfig>(args: string[], deps: CliDeps<C>, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const values = parseVerbArgs('run', args, { ...CONFIG_OPTION, progress: { type: 'boolean' }, 'watch-config': { type: 'boolean' }, workers: { type: 'string' } });
  if (values.help) return (out(USAGE), EXIT_OK);
  const cpus = deps.cpuCount?.() ?? 1;
  const workersFlag = values.workers;
  if (workersFlag !== undefined && parseWorkers(workersFlag, cpus) === undefined) throw new UsageError(`tributary run: --workers must be a number from 1 to 1024 or "auto" (got ${JSON.stringify(workersFlag)})`);
  const choice = configOf('run', values);
  const { file } = choice;
  const loaded = await load(choice, deps, err);
  if ('code' in loaded) return loaded.code;
  const { config } = loaded;
  const registry = deps.registry!;
  const telemetry = config.service.telemetry;
  const logs = telemetry.logs;
  const logger = createLogger({ level: logs.level, encoding: logs.encoding, write: (line) => err(line) }, { ...telemetry.fields });
  if (telemetry.noEffect?.length) {
    logger.info(`service.telemetry keys accepted but without effect in Tributary: ${telemetry.noEffect.join(', ')}`);
  }
  deps.sizeHeap?.(config, logger);
  const workers = parseWorkers(workersFlag ?? config.service.workers, cpus) ?? 1;
  if (workers > 1 && deps.runWorkers) return await deps.runWorkers(config, workers, registry, logger);

  let service: CliService;
  try {
    service = deps.createService(config, { registry, logger });
  } catch (e) {
    const issues = configIssuesOf(e);
    err(`tributary: cannot build the service from ${file}: ${errorMessage(e)}`);
    return issues ? EXIT_USAGE : EXIT_FAILURE;
  }

  // Subscribe before starting: a signal during startup shuts down as soon as start() settles.
  let signalled: NodeJS.Signals | undefined;
  let onFirstSignal!: (signal: NodeJS.Signals) => void;
  const firstSignal = new Promise<NodeJS.Signals>((resolve) => (onFirstSignal = resolve));
  const unsubscribe = deps.onSignal((signal) => {
    if (signalled) {
      logger.error('second signal during shutdown, exiting now', { signal });
      deps.exit(EXIT_FAILURE);
      return;
    }
    signalled = signal;
    onFirstSignal(signal);
  });

  // Reloads (SIGHUP, --watch-config) run one at a time; one that arrives meanwhile runs after it.
  let current: { service: CliService; config: C } = { service, config };
  const draining: CliDraining[] = [];
  let reloading: Promise<void> | undefined;
  let again: string | undefined;
  let started = false;
  const reload = (trigger: string): void => {
    if (signalled !== undefined) return;
    if (!started || reloading !== undefined) {
      again = trigger;
      return;
    }
    reloading = (async () => {
      let next: string | undefined = trigger;
      while (next !== undefined && signalled === undefined) {
        again = undefined;
        current = await reloadOnce(choice, next, current, draining, deps, logger);
        next = again;
      }
    })().catch((e: unknown) => {
      logger.error('configuration reload failed and the previous configuration could not be restarted; exiting', { config: file, error: errorMessage(e) });
      deps.exit(EXIT_FAILURE);
    }).finally(() => {
      reloading = undefined;
    });
  };
  const unsubscribeReload = deps.onReloadSignal?.(() => reload('SIGHUP')) ?? ((): void => undefined);
  let unwatch = (): void => undefined;
  if (values['watch-config'] === true) {
    const watch = deps.watchConfig ?? defaultWatchConfig;
    // Every file among the --config sources is watched; a change to any of them reloads them all.
    const files = configFiles(choice);
    if (files.length === 0) logger.warn('--watch-config: no --config source is a file; nothing to watch (SIGHUP still reloads)');
    const stops = files.map((f) => watch(f, () => reload(`config file changed: ${f}`)));
    unwatch = () => {
      for (const stop of stops) stop();
    };
  }

  let timer: NodeJS.Timeout | undefined;
  try {
    logger.info(`Tributary ${VERSION} starting`, { config: file });
    try {
      await service.start();
    } catch (e) {
      err(`tributary: startup failed: ${errorMessage(e)}`);
      return EXIT_FAILURE;
    }
    started = true;
    logger.info(`Tributary ${VERSION} running; pipelines: ${formatPipelines(config.service.pipelines)}; extensions: ${config.service.extensions.join(', ') || '(none)'}`);
    if (again !== undefined) reload(again);

    const progress = values.progress === true || deps.stderr.isTTY === true;
    const meter = progress ? new ProgressMeter(service.telemetry) : undefined;
    // The interval also keeps the process alive while waiting for a signal, whatever the components hold.
    timer = setInterval(() => meter && err(meter.line()), meter ? (deps.progressIntervalMs ?? PROGRESS_INTERVAL_MS) : 1 << 30);

    const signal = await firstSignal;
    clearInterval(timer);
    logger.info('shutting down', { signal });
    // A reload in progress finishes first, so what it started is shut down too.
    while (reloading !== undefined) await reloading;
    service = current.service;
    const drained = Promise.all(draining.map((d) => d.finish(service.shutdownTimeout ?? 0)));
    try {
      await service.shutdown();
    } catch (e) {
      err(`tributary: shutdown failed: ${errorMessage(e)}`);
      return EXIT_FAILURE;
    }
    await drained;
    // Loss accounting: where every record went (pipeline/loss-accounting.ts).
    const books = deliveryBooks(service.telemetry);
    for (const line of formatDeliverySummary(books)) {
      if (books.balanced) logger.info(line);
      else logger.warn(line);
    }
    logger.info('stopped');
    return EXIT_OK;
  } finally {
    clearInterval(timer);
    unsubscribe();
    unsubscribeReload();
    unwatch();
  }
}

/** The files among the `--config` sources (plain paths and `file:` URIs), each once. */
function configFiles(choice: ConfigChoice): string[] {
  const files = choice.sources.uris
    .filter(isFile)
    .map((u) => (u.startsWith('file:') ? u.slice(5) : u));
  return [...new Set(files)];
}

/** Polls the file's status (robust to editors that replace the file instead of writing it). */
function defaultWatchConfig(file: string, handler: () => void): () => void {
  const listener = (cur: { mtimeMs: number; size: number; ino: number }, prev: { mtimeMs: number; size: number; ino: number }): void => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) handler();
  };
  watchFile(file, { interval: 500, persistent: false }, listener);
  return () => unwatchFile(file, listener);
}

/** Top-level config sections compared on reload, and how they are named in the log. */
const SECTIONS = ['receivers', 'processors', 'exporters', 'extensions', 'connectors'] as const;

/** What differs between two configs, as `exporters.otlphttp changed` items. */
export function configChanges(before: unknown, after: unknown): string[] {
  const out: string[] = [];
  const rec = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const compare = (prefix: string, a: Record<string, unknown>, b: Record<string, unknown>): void => {
    for (const k of Object.keys(a)) {
      if (!(k in b)) out.push(`${prefix}.${k} removed`);
      else if (!same(a[k], b[k])) out.push(`${prefix}.${k} changed`);
    }
    for (const k of Object.keys(b)) if (!(k in a)) out.push(`${prefix}.${k} added`);
  };
  for (const section of SECTIONS) compare(section, rec(rec(before)[section]), rec(rec(after)[section]));
  const sb = rec(rec(before)['service']);
  const sa = rec(rec(after)['service']);
  compare('service.pipelines', rec(sb['pipelines']), rec(sa['pipelines']));
  for (const k of new Set([...Object.keys(sb), ...Object.keys(sa)])) {
    if (k !== 'pipelines' && !same(sb[k], sa[k])) out.push(`service.${k} changed`);
  }
  return out;
}

/**
 * One reload, as the OpenTelemetry Collector does it: load and validate the file; when it is invalid,
 * keep running the old configuration and say why. Otherwise stop intake on the old pipelines (their
 * in-memory queues keep sending in the background; disk queues are reopened by the new ones), start the
 * new ones and log what changed. When the new configuration fails to start, the old one is started again.
 */
async function reloadOnce<C extends CliConfig>(
  choice: ConfigChoice,
  trigger: string,
  current: { service: CliService; config: C },
  draining: CliDraining[],
  deps: CliDeps<C>,
  logger: Logger,
): Promise<{ service: CliService; config: C }> {
  const registry = deps.registry!;
  const { file } = choice;
  logger.info('reloading the configuration', { config: file, trigger });
  let config: C;
  let next: CliService;
  try {
    await loadComponentsOf(choice, deps);
    config = loadFromSources(choice, deps);
    next = deps.createService(config, { registry, logger, telemetry: current.service.telemetry });
  } catch (e) {
    const issues = configIssuesOf(e);
    const why = issues ? issues.map((i) => `${i.path}: ${i.message}`).join('; ') : errorMessage(e);
    logger.error('configuration reload failed: the new config is invalid; still running the previous configuration', { config: file, error: why });
    return current;
  }
  const changes = configChanges(current.config, config);
  if (changes.length === 0) {
    logger.info('configuration unchanged; nothing reloaded', { config: file });
    return current;
  }
  if (current.service.stopForReload) {
    const d = await current.service.stopForReload();
    draining.push(d);
    void d.done.then(() => draining.splice(draining.indexOf(d), 1));
    const pending = d.pendingRecords();
    if (pending > 0) logger.info('the previous pipelines keep sending what they had queued', { records: pending });
  } else {
    await current.service.shutdown();
  }
  try {
    await next.start();
  } catch (e) {
    logger.error('the new configuration failed to start; going back to the previous one', { config: file, error: errorMessage(e) });
    const back = deps.createService(current.config, { registry, logger, telemetry: current.service.telemetry });
    await back.start();
    return { service: back, config: current.config };
  }
  logger.info('configuration reloaded', { config: file, trigger, changes: changes.join('; ') });
  return { service: next, config };
}
