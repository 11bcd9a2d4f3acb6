// Builds the dashboard (collector/dashboard/) with esbuild into collector/dist/extensions/api/dashboard/,
// where the api extension serves it from: index.html, app.js, app.css. No CDN, nothing fetched at run time.
// Fails when the page's JavaScript grows past its budget (150 KB gzipped).
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'collector/dashboard');
const out = path.join(root, 'collector/dist/extensions/api/dashboard');
const JS_BUDGET = 150 * 1024;

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: { app: path.join(src, 'src/main.ts') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  outdir: out,
  legalComments: 'none',
  logLevel: 'warning',
});
await esbuild.build({
  entryPoints: { app: path.join(src, 'styles.css') },
  bundle: true,
  minify: true,
  outdir: out,
  logLevel: 'warning',
});
fs.copyFileSync(path.join(src, 'index.html'), path.join(out, 'index.html'));

const js = fs.readFileSync(path.join(out, 'app.js'));
const gz = gzipSync(js, { level: 9 }).length;
if (process.argv.includes('--report')) console.log(`dashboard: app.js ${js.length} bytes, ${gz} gzipped`);
if (gz > JS_BUDGET) {
  console.error(`dashboard: app.js is ${gz} bytes gzipped, over the ${JS_BUDGET} byte budget`);
  process.exit(1);
}
