// `node --import @tributary/instrumentation/register.mjs app.mjs`: installs the import-in-the-middle loader
// hook (only for the modules the instrumentations name), then runs the same start-up as `register`.
import { createRequire, register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';

const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
globalThis[Symbol.for('tributary.instrumentation.esm-hook')] = true;
createRequire(import.meta.url)('./dist/register.js');
await waitForAllMessagesAcknowledged();
