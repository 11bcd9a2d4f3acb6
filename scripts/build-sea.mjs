// npm run build:sea: the collector as a Node single executable application, dist/tributary.
// The CLI is bundled into one CommonJS file (scripts/bundle.mjs), turned into a preparation blob with
// `node --experimental-sea-config`, and injected with postject into a copy of the node binary running this.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bundleCli, root } from './bundle.mjs';

const started = Date.now();

function quiet(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: 'pipe' });
  } catch (e) {
    process.stderr.write(`${e.stdout ?? ''}${e.stderr ?? ''}`);
    throw e;
  }
}
// `--out FILE` builds elsewhere than dist/tributary (the work files go beside it).
const at = process.argv.indexOf('--out');
const out = at > 0 ? path.resolve(process.argv[at + 1]) : path.join(root, 'dist/tributary');
const seaDir = at > 0 ? path.dirname(out) : path.join(root, 'dist/sea');
fs.mkdirSync(seaDir, { recursive: true });
const main = await bundleCli(path.join(seaDir, 'tributary-cli.cjs'));
const blob = path.join(seaDir, 'sea-prep.blob');
const configFile = path.join(seaDir, 'sea-config.json');
fs.writeFileSync(configFile, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true }, null, 2));
quiet(process.execPath, ['--experimental-sea-config', configFile]);

fs.rmSync(out, { force: true });
fs.copyFileSync(process.execPath, out);
fs.chmodSync(out, 0o755);
// postject's ELF library prints harmless section-name warnings: its output is shown only on failure.
const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
quiet(process.execPath, [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2', '--overwrite']);
const mb = (fs.statSync(out).size / 1024 / 1024).toFixed(0);
process.stdout.write(`${path.relative(root, out)} (${mb} MB, Node ${process.versions.node}) built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
