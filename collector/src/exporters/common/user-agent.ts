/** The User-Agent both OTLP exporters send: `Tributary/<collector version>`. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// src/ and dist/ are at the same depth, so one relative path serves tests and the build.
const pkg = require('../../../package.json') as { version?: string };

export const USER_AGENT_VERSION = pkg.version ?? '0.0.0';
export const USER_AGENT = `Tributary/${USER_AGENT_VERSION}`;
