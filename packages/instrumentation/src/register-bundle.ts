/**
 * Entry of the single-file bundle (`node --require /path/to/tributary-register.cjs app.js`): the same
 * start-up as `register` without the ES module loader hook, which needs import-in-the-middle's hook file
 * on disk. CommonJS apps are instrumented fully; ES module apps use the package's `register.mjs`.
 */
import { isMainThread } from 'node:worker_threads';
import { start } from './sdk';

if (isMainThread) {
  try {
    start();
  } catch (err) {
    process.stderr.write(`[tributary] instrumentation disabled: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  }
}
