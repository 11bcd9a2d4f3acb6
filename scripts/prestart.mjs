// `npm start`'s first step: makes sure the collector's JavaScript is current, and says so when it builds.
// Starting (and trying the instrumentation on the example apps) needs only runnable JavaScript, so this
// transpiles the workspaces file by file with esbuild (about a second) instead of a full `tsc -b` (types,
// declarations: tens of seconds on a cold machine). `npm run build` and `npm test` still run tsc, which checks types
// and overwrites this output.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['packages/otlp', 'collector', 'packages/instrumentation'];
const STAMP = '.start-build';

const isSource = (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('test-support.ts') && !f.split(/[\\/]/).includes('testdata');

function sources(pkg) {
  return fs.readdirSync(path.join(root, pkg, 'src'), { recursive: true }).filter(isSource).map((f) => path.join(root, pkg, 'src', f));
}

const mtime = (f) => {
  try {
    return fs.statSync(f).mtimeMs;
  } catch {
    return 0;
  }
};

/** Newest input of a package, or 0 when its build output (by tsc or by this script) is older. */
function stale(pkg) {
  const dist = path.join(root, pkg, 'dist');
  const built = Math.max(mtime(path.join(dist, '.tsbuildinfo')), mtime(path.join(dist, STAMP)));
  if (built === 0) return true;
  const inputs = [...sources(pkg), path.join(root, pkg, 'tsconfig.json'), path.join(root, 'tsconfig.base.json')];
  return inputs.some((f) => mtime(f) > built);
}

const todo = PACKAGES.filter(stale);
if (todo.length > 0) {
  const first = !fs.existsSync(path.join(root, 'collector/dist/cli/main.js'));
  process.stderr.write(`tributary: building the collector (${first ? 'first run' : 'sources changed'}, ~2 s)…\n`);
  const started = Date.now();
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    esbuild = undefined;
  }
  if (esbuild) {
    for (const pkg of todo) {
      await esbuild.build({
        entryPoints: sources(pkg),
        outdir: path.join(root, pkg, 'dist'),
        outbase: path.join(root, pkg, 'src'),
        // Each package's own module format: the instrumentation is CommonJS.
        format: JSON.parse(fs.readFileSync(path.join(root, pkg, 'package.json'), 'utf8')).type === 'module' ? 'esm' : 'cjs',
        platform: 'node',
        target: 'node20',
        sourcemap: true,
        logLevel: 'error',
      });
      fs.writeFileSync(path.join(root, pkg, 'dist', STAMP), '');
    }
  } else {
    // Installed without dev dependencies: fall back to the TypeScript build, if TypeScript is there.
    process.stderr.write('tributary: esbuild is not installed; running `tsc -b` (may take a minute)…\n');
    const { execFileSync } = await import('node:child_process');
    execFileSync('npx', ['tsc', '-b'], { cwd: root, stdio: 'inherit' });
  }
  process.stderr.write(`tributary: built in ${((Date.now() - started) / 1000).toFixed(1)} s; starting\n`);
}
