/** The collector's version, read once from collector/package.json (one level up from both src/ and dist/). */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = require('../package.json') as { version?: unknown };

if (typeof pkg.version !== 'string') throw new Error('collector/package.json has no "version" string');

export const VERSION: string = pkg.version;
