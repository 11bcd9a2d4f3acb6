#!/usr/bin/env node
// Generates the docs that follow from the code, so they cannot drift from it:
// - docs/components/<kind>/<type>.md for every registered built-in component: its stability level, the prose
//   of its own README.md (collector/src/<kind>s/<type>/README.md, the source of truth for prose) and a key
//   table generated from its zod config schema (names, types, defaults; meanings from the keys' doc comments);
// - docs/<page>.md from the other source documents (the CLI, the exporter helper, delivery, OTTL, instrumentation),
//   and docs/metrics.md from the collector's list of metrics;
// - the component tables between `<!-- components:start -->` / `<!-- components:end -->` in README.md and docs/index.md.
// A new component folder with a README.md and a registered factory is picked up with no edit here.
// Reads the built collector (collector/dist): run `npm run build` first. `npm run readme` writes the files,
// `npm run readme -- --check` only reports; test/readme.test.ts fails when a generated file is out of date.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'collector/src');
const dist = path.join(root, 'collector/dist');
const docsDir = path.join(root, 'docs');


/** Source documents that become docs/<file>: [source (from the repository root), doc file, title]. */
const PAGES = [
  ['collector/src/cli/README.md', 'cli.md', 'The `tributary` command'],
  ['collector/src/pipeline/EXPORTER-HELPER.md', 'exporter-helper.md', 'Exporter queue, retry and dead letters'],
  ['collector/src/pipeline/DELIVERY.md', 'delivery.md', 'Delivery guarantees'],
  ['collector/src/ottl/README.md', 'ottl.md', 'Conditions (the OTTL subset used by filter and retention)'],
  ['packages/instrumentation/README.md', 'instrumentation.md', 'Instrumentation for Node apps'],
];

async function loadCollector() {
  const index = path.join(dist, 'index.js');
  if (!fs.existsSync(index)) throw new Error('collector/dist is missing: run `npm run build` first');
  return import(pathToFileURL(index).href);
}

const posix = (p) => p.split(path.sep).join('/');
const rel = (fromFile, toFile) => posix(path.relative(path.dirname(fromFile), toFile)) || path.basename(toFile);

// ---------------------------------------------------------------------------------------------------------
// zod v4 schemas → key tables

/** Recognises the duration and byte-size helpers by their transform (each call makes a new closure). */
function helperKinds(api) {
  const fnOf = (s) => s._zod.def.out?._zod.def.transform?.toString();
  return new Map([[fnOf(api.duration()), 'duration'], [fnOf(api.byteSize()), 'size']]);
}

const code = (v) => (v === '' ? '`""`' : '`' + String(v).replace(/`/g, "'") + '`');

function formatDefault(value, type) {
  if (value === undefined) return '';
  if (typeof value === 'number' && type === 'duration') return code(value === 0 ? '0' : value % 3_600_000 === 0 ? `${value / 3_600_000}h` : value % 60_000 === 0 ? `${value / 60_000}m` : value % 1000 === 0 ? `${value / 1000}s` : `${value}ms`);
  if (typeof value === 'number' && type === 'size') {
    for (const [unit, n] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]]) if (value >= n && value % n === 0) return code(`${value / n}${unit}`);
    return code(value);
  }
  if (typeof value === 'string') return value === '' ? '`""`' : code(value);
  // Spaces after commas let long defaults wrap in a table cell.
  return code(JSON.stringify(value).replace(/,(?=["{[\d-tfn])/g, ', '));
}

/** Range and format notes from a number's or string's checks: `integer ≥ 1`, `string (url)`. */
function scalarType(schema, base) {
  const checks = schema._zod.def.checks ?? [];
  let name = base;
  const bounds = [];
  for (const c of checks) {
    const d = c._zod.def;
    if (d.check === 'number_format' && /int/.test(d.format)) name = 'integer';
    else if (d.check === 'greater_than') bounds.push(`${d.inclusive ? '≥' : '>'} ${d.value}`);
    else if (d.check === 'less_than') bounds.push(`${d.inclusive ? '≤' : '<'} ${d.value}`);
    else if (d.check === 'string_format' && d.format !== 'regex') name = `string (${d.format})`;
  }
  return bounds.length ? `${name} ${bounds.join(', ')}` : name;
}

/**
 * Describes one schema: `{ type, default?, optional, fields?, each? }`. `fields` are an object's keys;
 * `each` is the element (array) or value (record) schema when it is an object, for nested rows.
 */
function describe(schema, helpers, seen = new Set()) {
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return { ...describe(def.innerType, helpers, seen), optional: def.type === 'optional' || def.type === 'nullable' || undefined };
    case 'default':
    case 'prefault': {
      const inner = describe(def.innerType, helpers, seen);
      const value = typeof def.defaultValue === 'function' ? def.defaultValue() : def.defaultValue;
      return { ...inner, default: value, hasDefault: true };
    }
    case 'pipe': {
      const kind = helpers.get(def.out?._zod.def.transform?.toString());
      if (kind) return { type: kind };
      // A config schema's input side is what users write.
      return describe(def.in._zod.def.type === 'transform' ? def.out : def.in, helpers, seen);
    }
    case 'lazy': {
      if (seen.has(schema)) return { type: 'object (recursive)' };
      seen.add(schema);
      return describe(def.getter(), helpers, seen);
    }
    case 'object': {
      const fields = Object.entries(def.shape);
      return { type: 'object', fields };
    }
    case 'array': {
      const el = describe(def.element, helpers, seen);
      return { type: `list of ${plural(el.type)}`, each: el.fields ? el : undefined };
    }
    case 'record': {
      const v = describe(def.valueType, helpers, seen);
      return { type: `map of ${describe(def.keyType, helpers, seen).type} → ${v.type}`, each: v.fields ? v : undefined, eachKey: '<name>' };
    }
    case 'union': {
      const opts = def.options.map((o) => describe(o, helpers, seen));
      const objects = opts.filter((o) => o.fields);
      const types = [...new Set(opts.map((o) => o.type))];
      if (objects.length) {
        const fields = [];
        const names = new Set();
        for (const o of objects) for (const [k, v] of o.fields) if (!names.has(k)) (names.add(k), fields.push([k, v]));
        return { type: types.join(' \\| '), fields: objects.length === opts.length ? fields : undefined, each: objects.length < opts.length ? { fields } : undefined };
      }
      return { type: types.join(' \\| ') };
    }
    case 'intersection': {
      const l = describe(def.left, helpers, seen);
      const r = describe(def.right, helpers, seen);
      return l.fields && r.fields ? { type: 'object', fields: [...l.fields, ...r.fields] } : { type: `${l.type} & ${r.type}` };
    }
    case 'enum':
      return { type: Object.values(def.entries).map((v) => code(v)).join(' \\| ') };
    case 'literal':
      return { type: def.values.map((v) => code(v)).join(' \\| ') };
    case 'string':
      return { type: scalarType(schema, 'string') };
    case 'number':
      return { type: scalarType(schema, 'number') };
    case 'int':
      return { type: scalarType(schema, 'integer') };
    case 'boolean':
      return { type: 'boolean' };
    case 'tuple':
      return { type: `[${def.items.map((i) => describe(i, helpers, seen).type).join(', ')}]` };
    case 'transform':
    case 'custom':
    case 'any':
    case 'unknown':
      return { type: 'any' };
    default:
      return { type: def.type };
  }
}

function plural(type) {
  if (/^(string|number|integer|boolean|object|duration|size)\b/.test(type)) return type.replace(/^(\w+)/, '$1s');
  return type;
}

/** Rows `[key, type, default, schema]` for every key, nested keys dotted (`tls.ca_file`, `rules[].rate`, `headers.<name>`). */
function keyRows(fields, helpers, prefix = '', skip = new Set()) {
  const rows = [];
  for (const [key, schema] of fields) {
    if (!prefix && skip.has(key)) continue;
    const d = describe(schema, helpers);
    const name = prefix + key;
    const required = !d.optional && !d.hasDefault;
    if (d.fields) {
      // An object row only says something when the object itself is required or has a non-empty default.
      const dflt = d.hasDefault && !(d.default && typeof d.default === 'object' && Object.keys(d.default).length === 0) ? formatDefault(d.default, d.type) : '';
      // A section that is optional with no default is listed too: its keys marked required are required only when it is given.
      if (required || dflt || d.optional || d.fields.length === 0) rows.push([name, d.type, required ? 'required' : dflt, schema]);
      rows.push(...keyRows(d.fields, helpers, `${name}.`));
      continue;
    }
    rows.push([name, d.type, required ? 'required' : d.hasDefault ? formatDefault(d.default, d.type) : '', schema]);
    if (d.each?.fields) rows.push(...keyRows(d.each.fields, helpers, `${name}${d.eachKey ? `.${d.eachKey}` : '[]'}.`));
  }
  return rows;
}

function keyTable(schema, helpers, skip, meaningOf = () => '') {
  const d = describe(schema, helpers);
  if (!d.fields) return `The config is ${d.type}.`;
  const rows = keyRows(d.fields, helpers, '', skip);
  if (!rows.length) return 'No keys: write `{}` (or nothing) as its config.';
  const cell = (t) => t.replace(/\|/g, '\\|');
  return ['| key | type | default | meaning |', '|---|---|---|---|', ...rows.map(([k, t, v, sch]) => `| ${code(k)} | ${t} | ${v || '—'} | ${cell(meaningOf(k, sch))} |`)].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Key descriptions: the doc comment (`/** … */`) on the key in the schema's source

let ts;
const commentCache = new Map();

/** `[{ variable, path: ['tls', 'ca_file'], text }]` for every commented property in one file's object literals. */
function commentsOf(file) {
  if (commentCache.has(file)) return commentCache.get(file);
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = [];
  const visit = (node) => {
    if (ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node)) {
      const text = (node.jsDoc ?? []).map((d) => (typeof d.comment === 'string' ? d.comment : ts.getTextOfJSDocComment(d.comment) ?? '')).join(' ').replace(/\s+/g, ' ').trim();
      if (text) {
        const keys = [];
        let n = node;
        for (; n && !ts.isVariableDeclaration(n) && !ts.isSourceFile(n); n = n.parent) {
          if ((ts.isPropertyAssignment(n) || ts.isShorthandPropertyAssignment(n)) && (ts.isIdentifier(n.name) || ts.isStringLiteral(n.name))) keys.unshift(n.name.text);
        }
        const variable = n && ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) ? n.name.text : undefined;
        out.push({ variable, path: keys, text });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  commentCache.set(file, out);
  return out;
}

const sourcesIn = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts')).map((f) => path.join(dir, f)) : []);

/** The object shape a schema (or a plain shape) holds, through wrappers; undefined when it holds none. */
function shapeOf(v) {
  for (let i = 0; v && i < 20; i++) {
    const def = v._zod?.def;
    if (!def) return typeof v === 'object' ? v : undefined;
    if (def.type === 'object') return def.shape;
    v = def.innerType ?? def.in ?? def.element ?? def.valueType ?? (def.type === 'lazy' ? def.getter() : undefined);
  }
  return undefined;
}

/**
 * Comments on keys of shared schemas (exported from config/ and pipeline/), keyed by the schema instance
 * itself, so a key spread into a component's schema finds its comment and a same-named key elsewhere does not.
 */
async function sharedComments(files) {
  const byInstance = new Map();
  for (const file of files) {
    const js = path.join(dist, path.relative(src, file)).replace(/\.ts$/, '.js');
    if (!fs.existsSync(js)) continue;
    const mod = await import(pathToFileURL(js).href);
    for (const { variable, path: keys, text } of commentsOf(file)) {
      let v = variable === undefined ? undefined : mod[variable];
      for (const k of keys) v = shapeOf(v)?.[k];
      if (v && typeof v === 'object' && v._zod) byInstance.set(v, text);
    }
  }
  return byInstance;
}

/**
 * A key's meaning: the comment on that very schema instance in the shared files, else, in the component's
 * own files, the comment whose property path is the longest suffix of the key's path (ambiguous → none).
 */
function describer(ownFiles, shared) {
  const entries = ownFiles.flatMap(commentsOf);
  return (key, schema) => {
    for (let v = schema, i = 0; v && i < 10; i++) {
      if (shared.has(v)) return shared.get(v);
      const def = v._zod?.def;
      v = def?.innerType ?? (def?.type === 'pipe' ? def.in : undefined);
    }
    const parts = key.split('.').filter((p) => p !== '<name>').map((p) => p.replace(/\[\]$/, ''));
    for (let len = parts.length; len >= 1; len--) {
      const tail = parts.slice(-len).join('.');
      const texts = new Set(entries.filter((e) => e.path.length === len && e.path.join('.') === tail).map((e) => e.text));
      if (texts.size === 1) return [...texts][0];
      if (texts.size > 1) return '';
    }
    return '';
  };
}

// ---------------------------------------------------------------------------------------------------------
// Markdown from source documents

/** A source document's body under a new title: its first heading goes, the rest move up so the top level is `##`. */
function asPage(md) {
  const body = md.replace(/^\s*#{1,6} [^\n]*\n+/, '');
  let inFence = false;
  let min = 6;
  const lines = body.split('\n');
  for (const l of lines) {
    if (/^\s*```/.test(l)) inFence = !inFence;
    else if (!inFence && /^#{1,6} /.test(l)) min = Math.min(min, /^#+/.exec(l)[0].length);
  }
  const shift = min - 2;
  if (shift <= 0) return body;
  inFence = false;
  return lines.map((l) => {
    if (/^\s*```/.test(l)) inFence = !inFence;
    return !inFence && /^#{1,6} /.test(l) ? l.slice(shift) : l;
  }).join('\n');
}

function stripTitle(md) {
  return md.replace(/^\s*# [^\n]*\n+/, '');
}

/** Rewrites relative links (relative to `fromFile`) for a doc at `toFile`; links to a generated doc's source go to the doc. */
function relink(md, fromFile, toFile, docOf) {
  let inFence = false;
  return md.split('\n').map((line) => {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) return line;
    return line.replace(/\]\((?!https?:|mailto:|#|\/)([^)#\s]+)(#[^)\s]*)?\)/g, (_m, p, anchor = '') => {
      const target = path.resolve(path.dirname(fromFile), p);
      return `](${rel(toFile, docOf.get(target) ?? target)}${anchor})`;
    });
  }).join('\n');
}

/** The first sentence of the first paragraph after the title, links reduced to their text, for tables. */
export function summaryOf(md) {
  const para = stripTitle(md).split(/\n\s*\n/).find((p) => p.trim() && !/^\s*(```|\||#|<!--)/.test(p)) ?? '';
  let text = para.replace(/\s+/g, ' ').replace(/\[([^\]]+)\]\([^)]+\)/g, '$1').replace(/\*\*/g, '').trim();
  // "Tributary's own." says where it comes from, not what it does: take the next sentence then
  // ("Tributary's own: does X" keeps "Does X").
  const own = /^Tributary's own: (\S)/.exec(text);
  if (own) text = own[1].toUpperCase() + text.slice(own[0].length);
  for (;;) {
    const end = text.search(/\.(\s|$)/);
    const first = end >= 0 ? text.slice(0, end + 1) : text;
    if (/^Tributary's own\b/.test(first) && end >= 0 && text.slice(end + 1).trim()) text = text.slice(end + 1).trim();
    else {
      text = first;
      break;
    }
  }
  if (text.length > 100) {
    // Cut at the first clause boundary outside code spans (a colon or dash after 40 characters, a parenthesis or a
    // joining ", like", ", as", ", and", ", so", ", for", ", through", ", in" after 50).
    const at = (re, from) => [...text.matchAll(re)].find((m) => m.index >= from && (text.slice(0, m.index).split('`').length % 2 === 1))?.index ?? -1;
    const cuts = [at(/: |; | — /g, 40), at(/ \(|, like |, as |, and |, so |, for |, through |, in |, from /g, 50)].filter((i) => i >= 0);
    const cut = cuts.length ? Math.min(...cuts) : -1;
    if (cut >= 0) text = text.slice(0, cut) + '.';
  }
  return text.replace(/\|/g, '\\|');
}

const GENERATED = (from) => `<!-- Generated by \`npm run readme\` from ${from}: edit that, not this file. -->`;

// ---------------------------------------------------------------------------------------------------------

/** `<kind>s/<type>/`, or else the folder of that kind whose sources declare `type: '<type>'` (a folder named otherwise). */
function folderOf(componentsDir, kind, type) {
  const base = path.join(componentsDir, `${kind}s`);
  const direct = path.join(base, type);
  if (fs.existsSync(direct) || !fs.existsSync(base)) return direct;
  const declares = new RegExp(`\\btype:\\s*['"]${type}['"]`);
  for (const d of fs.readdirSync(base)) {
    const dir = path.join(base, d);
    if (fs.statSync(dir).isDirectory() && sourcesIn(dir).some((f) => declares.test(fs.readFileSync(f, 'utf8')))) return dir;
  }
  return direct;
}

/** Every registered component with its source README (if any) and its doc's path. */
function componentsOf(api, registry, componentsDir) {
  return registry.list().map((f) => {
    const folder = folderOf(componentsDir, f.kind, f.type);
    const readme = path.join(folder, 'README.md');
    // A registry may wrap a factory (Object.create) to add keys to its schema; the component's own schema documents it.
    const proto = Object.getPrototypeOf(f);
    const schema = proto !== null && proto !== Object.prototype && proto.configSchema !== undefined ? proto.configSchema : f.configSchema;
    return {
      factory: f,
      schema,
      kind: f.kind,
      type: f.type,
      stability: api.stabilityOf ? api.stabilityOf(f) : f.stability ?? 'alpha',
      folder,
      readme: fs.existsSync(readme) ? readme : undefined,
      doc: path.join(docsDir, 'components', f.kind, `${f.type}.md`),
    };
  });
}

function componentDoc(c, api, helpers, docOf, shared) {
  const source = c.readme ? posix(path.relative(root, c.readme)) : `${posix(path.relative(root, c.folder))}/`;
  const title = c.readme ? (/^\s*# ([^\n]+)/.exec(fs.readFileSync(c.readme, 'utf8'))?.[1] ?? `\`${c.type}\` ${c.kind}`) : `\`${c.type}\` ${c.kind}`;
  const body = c.readme ? relink(stripTitle(fs.readFileSync(c.readme, 'utf8')), c.readme, c.doc, docOf).trim() : `_This component has no README.md yet (\`${source}\`)._`;
  // The queue/retry keys are the same for every exporter: one table in exporter-helper.md, not one per exporter.
  const helperKeys = c.kind === 'exporter' ? new Set(Object.keys(api.exporterHelperShape ?? { timeout: 0, sending_queue: 0, retry_on_failure: 0, dead_letter: 0 })) : new Set();
  const helperNote = c.kind === 'exporter'
    ? `\n\nEvery exporter also takes ${[...helperKeys].sort().map(code).join(', ')}: see [Exporter queue, retry and dead letters](${rel(c.doc, path.join(docsDir, 'exporter-helper.md'))}).`
    : '';
  return [
    `<!-- Generated by \`npm run readme\` from ${source} and the component's config schema: edit those, not this file. -->`,
    `# ${title}`,
    '',
    `**Stability: ${c.stability}** ([levels](${rel(c.doc, path.join(docsDir, 'index.md'))}#stability-levels)) · ${c.kind} \`${c.type}\` · source: [\`${posix(path.relative(root, c.folder))}/\`](${rel(c.doc, c.folder)}/) · [all keys](#all-keys)`,
    '',
    body,
    '',
    '## All keys',
    '',
    `Generated from the component's config schema (the meaning is the doc comment on the key in its source). A key marked required inside a section that has no default is required when that section is given. Unknown keys are refused; durations take \`200ms\`, \`5s\`, \`1m\` or milliseconds, sizes take \`512KiB\`, \`4MiB\` or bytes.${helperNote}`,
    '',
    keyTable(c.schema, helpers, helperKeys, describer(sourcesIn(c.folder), shared)),
    '',
  ].join('\n');
}

function pageDoc([from, file, title], api, helpers, docOf, shared) {
  const source = path.join(root, from);
  const doc = path.join(docsDir, file);
  const parts = [GENERATED(from), `# ${title}`, '', relink(asPage(fs.readFileSync(source, 'utf8')), source, doc, docOf).trim(), ''];
  if (file === 'exporter-helper.md' && api.exporterHelperShape) {
    parts.push('## All keys', '', 'Generated from the schema every exporter\'s config includes.', '', keyTable(api.z.strictObject(api.exporterHelperShape), helpers, new Set(), describer([], shared)), '');
  }
  return parts.join('\n');
}

/** docs/metrics.md from the collector's one list of metrics (name, type, labels, help). */
function metricsDoc(api) {
  const list = api.METRIC_LIST ?? Object.values(api.MetricNames ?? {}).map((name) => ({ name, type: '', labels: [], help: '' }));
  const lines = [
    '<!-- Generated by `npm run readme` from the collector\'s list of metrics: edit that, not this file. -->',
    '# Metrics',
    '',
    'Every series the collector exposes on the [`metrics`](components/extension/metrics.md) extension\'s endpoint',
    '(`http://127.0.0.1:8888/metrics` with the default config), in Prometheus text format. Component labels hold',
    'the component id from the config (`exporter="otlphttp/upstream"`). How the exporter counters balance is in',
    '[Delivery guarantees](delivery.md).',
    '',
    '| metric | type | labels | meaning |',
    '|---|---|---|---|',
    ...list.map((m) => `| \`${m.name}\` | ${m.type} | ${m.labels.map((l) => `\`${l}\``).join(', ')} | ${m.help.replace(/\|/g, '\\|')} |`),
    '',
  ];
  return lines.join('\n');
}

/** The component table for a file at `fromFile` (README.md or docs/index.md). */
function componentTable(components, fromFile) {
  const lines = ['<!-- components:start -->', '<!-- Generated by `npm run readme` from the registered components and their README.md. -->', ''];
  lines.push('| component | kind | stability | what it does |', '|---|---|---|---|');
  for (const c of components) {
    const summary = c.readme ? summaryOf(fs.readFileSync(c.readme, 'utf8')) : '';
    lines.push(`| [\`${c.type}\`](${rel(fromFile, c.doc)}) | ${c.kind} | ${c.stability} | ${summary} |`);
  }
  lines.push('', '<!-- components:end -->');
  return lines.join('\n');
}

function replaceBetween(text, name, body, file) {
  const a = `<!-- ${name}:start -->`;
  const b = `<!-- ${name}:end -->`;
  const start = text.indexOf(a);
  const end = text.indexOf(b);
  if (start < 0 || end < 0) throw new Error(`${file} has no ${a} / ${b} markers`);
  return text.slice(0, start) + body + text.slice(end + b.length);
}

/**
 * Every generated file: `Map<absolute path, content>`, for the built-in registry and collector/src (or
 * `options.registry`, and `options.componentsDir` where `<kind>s/<type>/README.md` are looked up). Files
 * with markers (README.md, docs/index.md) are read and only their marked part replaced. `stale` lists
 * generated component docs no component has any more.
 */
export async function renderAll(options = {}) {
  const api = await loadCollector();
  ts = (await import('typescript')).default;
  const helpers = helperKinds(api);
  // Options exist for the test that shows a new component needs no edit here: another registry, another folder.
  const components = componentsOf(api, options.registry ?? (await api.loadDefaultRegistry()), options.componentsDir ?? src);
  const docOf = new Map();
  for (const c of components) if (c.readme) docOf.set(c.readme, c.doc);
  for (const [from, file] of PAGES) docOf.set(path.join(root, from), path.join(docsDir, file));

  const shared = await sharedComments([...sourcesIn(path.join(src, 'config')), ...sourcesIn(path.join(src, 'pipeline'))]);
  const files = new Map();
  for (const c of components) files.set(c.doc, componentDoc(c, api, helpers, docOf, shared));
  for (const page of PAGES) if (fs.existsSync(path.join(root, page[0]))) files.set(path.join(docsDir, page[1]), pageDoc(page, api, helpers, docOf, shared));
  files.set(path.join(docsDir, 'metrics.md'), metricsDoc(api));
  for (const file of [path.join(root, 'README.md'), path.join(docsDir, 'index.md')]) {
    files.set(file, replaceBetween(fs.readFileSync(file, 'utf8'), 'components', componentTable(components, file), posix(path.relative(root, file))));
  }

  const stale = [];
  const compDir = path.join(docsDir, 'components');
  for (const kind of fs.existsSync(compDir) ? fs.readdirSync(compDir) : []) {
    const dir = path.join(compDir, kind);
    for (const f of fs.readdirSync(dir)) if (!files.has(path.join(dir, f))) stale.push(path.join(dir, f));
  }
  return { files, stale, components };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { files, stale } = await renderAll();
  const check = process.argv.includes('--check');
  const changed = [...files].filter(([f, text]) => !fs.existsSync(f) || fs.readFileSync(f, 'utf8') !== text).map(([f]) => f);
  if (check) {
    for (const f of [...changed, ...stale]) console.error(`${posix(path.relative(root, f))} is out of date: run npm run readme`);
    process.exit(changed.length || stale.length ? 1 : 0);
  }
  for (const f of changed) {
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, files.get(f));
  }
  for (const f of stale) fs.rmSync(f);
  console.log(`docs: ${changed.length} written, ${stale.length} removed, ${files.size - changed.length} unchanged`);
}
