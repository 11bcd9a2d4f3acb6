/**
 * `node --require @tributary/instrumentation/register app.js`: starts the SDK before the app loads.
 * It also installs the import-in-the-middle loader hook (limited to the modules we patch), so that an
 * ES module app started with `--require` gets its `import`ed loggers and http patched too.
 * Start-up problems are reported on stderr and never stop the app.
 */
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { start } from './sdk';

const ESM_HOOK = Symbol.for('tributary.instrumentation.esm-hook');
/** Every module an instrumentation of ours hooks by name (listed up front: `--require` cannot await acks). */
const HOOKED = ['pino', 'winston', 'bunyan', 'http', 'https'];

interface IitmChannel { registerOptions: { data?: { include?: unknown[] }; transferList?: unknown[] } }
type Register = (specifier: string, parentURL: string, options?: object) => void;

function installEsmHook(): void {
  const g = globalThis as unknown as Record<symbol, unknown>;
  const register = (nodeModule as unknown as { register?: Register }).register;
  if (g[ESM_HOOK] || typeof register !== 'function') return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const iitm = require('import-in-the-middle') as { createAddHookMessageChannel(): IitmChannel };
  const { registerOptions } = iitm.createAddHookMessageChannel();
  registerOptions.data?.include?.push(...HOOKED);
  register('import-in-the-middle/hook.mjs', pathToFileURL(__filename).href, registerOptions);
  g[ESM_HOOK] = true;
}

// `--require` also runs in worker threads, including Node's own module-loader thread: only the main
// thread is instrumented.
if (isMainThread) {
  try {
    installEsmHook();
  } catch (err) {
    process.stderr.write(`[tributary] ES module hook not installed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  try {
    start();
  } catch (err) {
    process.stderr.write(`[tributary] instrumentation disabled: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  }
}
