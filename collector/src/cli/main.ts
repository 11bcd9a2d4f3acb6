#!/usr/bin/env node
/** The `tributary` binary: wires the real config loader, service, streams and signals into runCli. */
import cluster from 'node:cluster';
import os from 'node:os';
import { loadConfigFile } from '../config/load.js';
import { loadPlugins } from '../config/plugins.js';
import { dryRun } from './dry-run.js';
import { Service } from '../pipeline/service.js';
import { runCli } from './run-cli.js';
import { heapFlagsFor, mallocEnvFor } from './heap.js';
import { PRIMARY_EXTENSION_TYPES, serveWorkerState, superviseWorkers, WORKER_ID_ENV } from '../cluster/supervisor.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

const onSignal = (handler: (signal: NodeJS.Signals) => void): (() => void) => {
  // A worker drains on the primary's SIGTERM only: Ctrl-C reaches the whole process group, and a
  // second signal would make the worker exit without draining.
  const signals = cluster.isWorker ? ['SIGTERM' as const] : SIGNALS;
  const ignore = (): void => undefined;
  if (cluster.isWorker) process.on('SIGINT', ignore);
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
    process.off('SIGINT', ignore);
  };
};
const onReloadSignal = (handler: () => void): (() => void) => {
  // Without a listener SIGHUP would kill the process; with one it reloads the config (as otelcol).
  process.on('SIGHUP', handler);
  return () => {
    process.off('SIGHUP', handler);
  };
};

// In a worker of `run --workers`, the service reports its state to the primary.
const workerId = cluster.isWorker ? Number(process.env[WORKER_ID_ENV] ?? cluster.worker?.id ?? 0) : undefined;
let current: Service | undefined;
if (workerId !== undefined) serveWorkerState(() => current);

// No top-level await: the same file is bundled as CommonJS for the single executable.
void runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  loadConfig: loadConfigFile,
  loadPlugins,
  dryRun,
  createService: (config, options) => (current = new Service(config, { ...options, workerId, primaryExtensionTypes: PRIMARY_EXTENSION_TYPES })),
  onSignal,
  onReloadSignal,
  exit: (c) => process.exit(c),
  cpuCount: () => os.availableParallelism(),
  sizeHeap: (config, logger) => {
    // Workers inherit the primary's flags; the single executable (argv[1] is not a script) cannot re-exec.
    const flags = cluster.isPrimary ? heapFlagsFor(config.processors, process.execArgv, process.env.NODE_OPTIONS) : [];
    if (!flags.length) return;
    const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
    if (typeof execve !== 'function' || !process.argv[1]?.endsWith('.js')) {
      logger.debug(`to size the V8 heap for the memory limit, start node with ${flags.join(' ')} (this Node cannot restart itself in place)`);
      return;
    }
    logger.debug('restarting in place with a V8 heap sized for the memory limit', { flags: flags.join(' ') });
    execve.call(process, process.execPath, [process.execPath, ...process.execArgv, ...flags, ...process.argv.slice(1)], mallocEnvFor(process.env));
  },
  runWorkers: cluster.isPrimary
    ? (config, workers, registry, logger) => superviseWorkers({ workers, config, registry, logger, onSignal, onReloadSignal })
    : undefined,
}).then((code) => {
  process.exitCode = code;
  // Let stdout drain and exit naturally; if a stray handle keeps the loop alive, exit anyway.
  setTimeout(() => process.exit(code), 2000).unref();
});
