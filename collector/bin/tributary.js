#!/usr/bin/env node
// The `tributary` command. A committed shim (not dist/ itself) so npm links the bin at install time,
// before the first build; it loads the compiled CLI.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('tributary: the collector is not built yet; run `npm run build` in the repository first\n');
  process.exit(1);
}
await import(main.href);
