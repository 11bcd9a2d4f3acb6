/**
 * `node --require @tributary/instrumentation/register app.js`: starts the SDK before the app loads.
 * Start-up problems are reported on stderr and never stop the app.
 */
import { start } from './sdk';

try {
  start();
} catch (err) {
  process.stderr.write(`[tributary] instrumentation disabled: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
}
