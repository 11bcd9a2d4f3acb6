#!/usr/bin/env node
/** The `tributary` binary: wires the real config loader, service, streams and signals into runCli. */
import { loadConfigFile } from '../config/load.js';
import { loadPlugins } from '../config/plugins.js';
import { dryRun } from './dry-run.js';
import { Service } from '../pipeline/service.js';
import { runCli } from './run-cli.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

// No top-level await: the same file is bundled as CommonJS for the single executable.
void runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  loadConfig: loadConfigFile,
  loadPlugins,
  dryRun,
  createService: (config, options) => new Service(config, options),
  onSignal(handler) {
    for (const s of SIGNALS) process.on(s, handler);
    return () => {
      for (const s of SIGNALS) process.off(s, handler);
    };
  },
  onReloadSignal(handler) {
    // Without a listener SIGHUP would kill the process; with one it reloads the config (as otelcol).
    process.on('SIGHUP', handler);
    return () => {
      process.off('SIGHUP', handler);
    };
  },
  exit: (c) => process.exit(c),
}).then((code) => {
  process.exitCode = code;
  // Let stdout drain and exit naturally; if a stray handle keeps the loop alive, exit anyway.
  setTimeout(() => process.exit(code), 2000).unref();
});
