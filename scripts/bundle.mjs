// esbuild bundles built from the compiled dist/ of the workspaces (run `npm run build` first):
//   dist/tributary-register.cjs  the instrumentation in one file, for `node --require /path/to/it app.js`
//   dist/sea/tributary-cli.cjs   the collector CLI in one CommonJS file, the main script of the single executable
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Native addons stay outside every bundle: they are loaded lazily from a node_modules on disk (next to the
 * executable, or the app's own), and a feature that needs one reports it missing without stopping the rest.
 */
export const NATIVE_EXTERNALS = ['better-sqlite3'];

/**
 * A native addon imported anywhere in the CLI becomes a stand-in that loads the real module on first use
 * (construct, call or property read). So a static `import Database from 'better-sqlite3'` costs nothing
 * at start, and the one feature that needs the addon fails with a message that says what to do.
 */
const lazyNative = {
  name: 'lazy-native',
  setup(build) {
    const filter = new RegExp(`^(${NATIVE_EXTERNALS.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'lazy-native' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-native' }, (args) => ({
      loader: 'js',
      contents: `
const name = ${JSON.stringify(args.path)};
let real;
function load() {
  if (real === undefined) {
    try {
      real = require(name);
    } catch (e) {
      const where = require('node:path').dirname(process.execPath);
      throw new Error(name + ' is a native module, which the tributary executable cannot contain: use the npm install of the collector for this feature, or run \`npm install ' + name + '\` in ' + where + ' (' + (e && e.message ? e.message.split('\\n')[0] : String(e)) + ')');
    }
  }
  return real;
}
module.exports = new Proxy(function () {}, {
  construct: (_t, args) => Reflect.construct(load(), args),
  apply: (_t, self, args) => Reflect.apply(load(), self, args),
  get: (_t, key) => (key === '__esModule' ? false : load()[key]),
});
`,
    }));
  },
};

/**
 * The compiled ESM files read package.json and the generated protobuf code through
 * `createRequire(import.meta.url)`, which a bundler cannot follow; dropping that line leaves plain
 * `require('../…')` calls that esbuild inlines (CommonJS output has a `require` of its own).
 */
const inlineCreateRequire = {
  name: 'inline-create-require',
  setup(build) {
    build.onLoad({ filter: /[\\/](collector|packages[\\/]otlp)[\\/]dist[\\/].*\.js$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('createRequire(import.meta.url)')) return undefined;
      // tsc keeps the name `require`; esbuild's transpile (npm start) renames it `require2`.
      let contents = text;
      for (const [line, name] of text.matchAll(/(?:const|let|var) (\w+) = createRequire\(import\.meta\.url\);/g)) {
        contents = contents.replace(line, '');
        if (name !== 'require') contents = contents.replace(new RegExp(`\\b${name}\\(`, 'g'), 'require(');
      }
      return { contents, loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

/**
 * In a single executable `require` reaches only Node's built-in modules; the documented way to load a
 * module from disk is `module.createRequire`. Externals (native addons) therefore resolve from the
 * directory of the executable, so `npm install better-sqlite3` next to it makes them available.
 */
const SEA_REQUIRE_BANNER = `var require = (function (r) {
  try { if (r('node:sea').isSea()) return r('node:module').createRequire(r('node:path').join(r('node:path').dirname(process.execPath), 'noop.js')); } catch {}
  return r;
})(require);`;

function check(result, what) {
  for (const w of result.warnings) process.stderr.write(`${what}: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}\n`);
}

/** What both bundles share: one CommonJS file for Node 20+, minified, licences in a linked file. */
const NODE_BUNDLE = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, legalComments: 'linked', logLevel: 'error' };

export async function bundleRegister(outfile = path.join(root, 'dist/tributary-register.cjs')) {
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'packages/instrumentation/dist/register-bundle.js')],
    outfile,
    ...NODE_BUNDLE,
    external: NATIVE_EXTERNALS,
  });
  check(result, 'tributary-register.cjs');
  return outfile;
}

export async function bundleCli(outfile = path.join(root, 'dist/sea/tributary-cli.cjs'), entry = path.join(root, 'collector/dist/cli/main.js')) {
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    ...NODE_BUNDLE,
    banner: { js: SEA_REQUIRE_BANNER },
    plugins: [inlineCreateRequire, lazyNative],
  });
  check(result, 'tributary-cli.cjs');
  return outfile;
}

// node scripts/bundle.mjs [register|cli] [--out FILE] [--entry FILE (cli: another entry, for tests)]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const what = process.argv[2] ?? 'register';
  const arg = (name) => (process.argv.includes(name) ? path.resolve(process.argv[process.argv.indexOf(name) + 1]) : undefined);
  const out = what === 'cli' ? await bundleCli(arg('--out'), arg('--entry')) : await bundleRegister(arg('--out'));
  process.stdout.write(`${path.relative(root, out)} (${(fs.statSync(out).size / 1024 / 1024).toFixed(1)} MB)\n`);
}
