// npm run pack: installable tarballs of the three packages in dist/packages/ (from their built dist/),
// and the single-file instrumentation bundle dist/tributary-register.cjs. `--out DIR` puts all four in DIR.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleRegister, root } from './bundle.mjs';

export const WORKSPACES = ['packages/otlp', 'collector', 'packages/instrumentation'];

export async function pack(dest = path.join(root, 'dist/packages')) {
  fs.mkdirSync(dest, { recursive: true });
  const args = ['pack', '--json', '--pack-destination', dest, ...WORKSPACES.flatMap((w) => ['--workspace', w])];
  const out = execFileSync('npm', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const packed = JSON.parse(out.slice(out.indexOf('[')));
  for (const p of packed) {
    const bad = p.files.map((f) => f.path).filter((f) => /\.test\.|testdata|test-support|\.tsbuildinfo|\.map$/.test(f));
    if (bad.length > 0) throw new Error(`${p.name}: test or build files in the tarball: ${bad.join(', ')}`);
  }
  return packed.map((p) => ({ name: p.name, file: path.join(dest, p.filename), files: p.files.length, size: p.size }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const out = at > 0 ? path.resolve(process.argv[at + 1]) : undefined;
  for (const p of await pack(out)) process.stdout.write(`${path.relative(root, p.file)}  ${p.name}  ${p.files} files, ${(p.size / 1024).toFixed(0)} kB\n`);
  const bundle = await bundleRegister(out ? path.join(out, 'tributary-register.cjs') : undefined);
  process.stdout.write(`${path.relative(root, bundle)}  single-file instrumentation (${(fs.statSync(bundle).size / 1024).toFixed(0)} kB)\n`);
}
