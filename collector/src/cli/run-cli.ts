/**
 * The `tributary` command line, with its outside world injected (streams, config loader, service,
 * signals, exit) so every verb can be tested in-process. main.ts wires the real ones.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createDefaultRegistry } from '../builtins.js';
import type { ConfigIssue } from '../config/schema-helpers.js';
import { errorMessage } from '../errors.js';
import type { ComponentRegistry } from '../registry.js';
import { createLogger, type Logger, type LogLevel } from '../telemetry/logger.js';
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
    telemetry: { logs: { level: LogLevel; encoding: 'text' | 'json' } };
  };
  /** Environment variables the config referenced but that are not set. */
  missingEnv?: string[] | undefined;
}

/** What the CLI needs of the service (pipeline/service.ts's Service satisfies it). */
export interface CliService {
  readonly telemetry: Telemetry;
  start(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface CliDeps<C extends CliConfig = CliConfig> {
  stdout: CliOutput;
  stderr: CliOutput;
  /** Throws an error with `issues: ConfigIssue[]` (config/load.ts's ConfigError) when the config is invalid. */
  loadConfig(file: string, registry: ComponentRegistry, env: NodeJS.ProcessEnv): C;
  createService(config: C, options: { registry: ComponentRegistry; logger: Logger }): CliService;
  /** Subscribes to SIGTERM and SIGINT; returns the unsubscribe function. */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
  /** Exits at once (used when a second signal arrives during shutdown). */
  exit(code: number): void;
  registry?: ComponentRegistry | undefined;
  /** Imports the config's `plugins:` and registers their factories (config/plugins.ts); throws ConfigError. */
  loadPlugins?: ((file: string, registry: ComponentRegistry) => Promise<unknown>) | undefined;
  /** `validate --dry-run <records.jsonl>`: runs the records through the pipelines' processors, prints what each did. */
  dryRun?: ((config: C, registry: ComponentRegistry, recordsFile: string, out: (s: string) => void) => Promise<number>) | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  progressIntervalMs?: number | undefined;
}

/** A config error from the loader: duck-typed so this module does not depend on the loader's class. */
export function configIssuesOf(err: unknown): ConfigIssue[] | undefined {
  if (!(err instanceof Error) || !('issues' in err)) return undefined;
  const issues = (err as { issues: unknown }).issues;
  return Array.isArray(issues) ? (issues as ConfigIssue[]) : undefined;
}

class UsageError extends Error {}

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

const CONFIG_OPTION: OptionSpec = { config: { type: 'string', short: 'c', multiple: true } };
const HELP_OPTION: OptionSpec = { help: { type: 'boolean', short: 'h' } };

function parseVerbArgs<O extends OptionSpec>(verb: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...options, ...HELP_OPTION }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(`tributary ${verb}: ${errorMessage(e)}`);
  }
}

function configFileOf(verb: string, values: Record<string, unknown>): string {
  const given = values.config as string[] | undefined;
  if (given && given.length > 1) throw new UsageError(`tributary ${verb}: --config may be given only once`);
  const file = given?.[0] ?? DEFAULT_CONFIG_FILE;
  if (file === '') throw new UsageError(`tributary ${verb}: --config needs a file name`);
  return file;
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
      default:
        throw new UsageError(verb.startsWith('-') ? `tributary: unknown option ${verb}` : `tributary: unknown command "${verb}"`);
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
  const registry = deps.registry!;
  // With --config, the config's plugins are loaded so their types are listed too, with their origin.
  if (values.config) {
    const file = configFileOf('components', values);
    const failed = await registerPlugins(file, deps, err);
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

/** Loads the config; on failure prints why and returns the exit code instead. */
async function load<C extends CliConfig>(file: string, deps: CliDeps<C>, err: (s: string) => void): Promise<{ config: C } | { code: number }> {
  const registry = deps.registry!;
  const failed = await registerPlugins(file, deps, err);
  if (failed !== undefined) return { code: failed };
  let config: C;
  try {
    config = deps.loadConfig(file, registry, deps.env ?? process.env);
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
  const file = configFileOf('validate', values);
  const loaded = await load(file, deps, err);
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
  const file = configFileOf('replay', values);
  const loaded = await load(file, deps, err);
  if ('code' in loaded) return loaded.code;
  const logs = loaded.config.service.telemetry.logs;
  const logger = createLogger({ level: logs.level, encoding: logs.encoding, write: (line) => err(line) });
  const exporters = (loaded.config as unknown as { exporters?: Record<string, unknown> }).exporters ?? {};
  try {
    const r = await replayDeadLetters({ exporters, registry: deps.registry!, from, exporterId, logger });
    out(formatReplayResult(from, exporterId, r));
    return r.failedBatches === 0 ? EXIT_OK : EXIT_FAILURE;
  } catch (e) {
    err(`tributary replay: ${errorMessage(e)}`);
    return e instanceof ReplayError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

async function run<C extends CliConfig>(args: string[], deps: CliDeps<C>, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const values = parseVerbArgs('run', args, { ...CONFIG_OPTION, progress: { type: 'boolean' } });
  if (values.help) return (out(USAGE), EXIT_OK);
  const file = configFileOf('run', values);
  const loaded = await load(file, deps, err);
  if ('code' in loaded) return loaded.code;
  const { config } = loaded;
  const registry = deps.registry!;
  const logs = config.service.telemetry.logs;
  const logger = createLogger({ level: logs.level, encoding: logs.encoding, write: (line) => err(line) });

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
  let timer: NodeJS.Timeout | undefined;
  try {
    logger.info(`Tributary ${VERSION} starting`, { config: file });
    try {
      await service.start();
    } catch (e) {
      err(`tributary: startup failed: ${errorMessage(e)}`);
      return EXIT_FAILURE;
    }
    logger.info(`Tributary ${VERSION} running; pipelines: ${formatPipelines(config.service.pipelines)}; extensions: ${config.service.extensions.join(', ') || '(none)'}`);

    const progress = values.progress === true || deps.stderr.isTTY === true;
    const meter = progress ? new ProgressMeter(service.telemetry) : undefined;
    // The interval also keeps the process alive while waiting for a signal, whatever the components hold.
    timer = setInterval(() => meter && err(meter.line()), meter ? (deps.progressIntervalMs ?? PROGRESS_INTERVAL_MS) : 1 << 30);

    const signal = await firstSignal;
    clearInterval(timer);
    logger.info('shutting down', { signal });
    try {
      await service.shutdown();
    } catch (e) {
      err(`tributary: shutdown failed: ${errorMessage(e)}`);
      return EXIT_FAILURE;
    }
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
  }
}
