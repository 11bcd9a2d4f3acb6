/**
 * Config sources as the OpenTelemetry Collector's confmap: each `--config` is a URI (`file:path`, a bare
 * path, `env:NAME` or `yaml:key::path: value`), `--set key.path=value` is a `yaml:` source with `.` turned
 * into `::`; sources are merged in order (maps merge deeply, lists and scalars are replaced). The YAML
 * documents are kept so that validation problems can be reported with their line and column.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ConfigIssue } from './schema-helpers.js';

export interface ConfigSources {
  /** `--config` values in order; empty means the default file. */
  uris: readonly string[];
  /** `--set key=value` values in order (applied after every `--config`). */
  sets?: readonly string[] | undefined;
}

/** One parsed source document, for positions. */
export interface SourceDoc {
  /** What to call it in messages: the file path, `env:NAME`, `--set a.b=c`. */
  name: string;
  doc: Document;
  lines: LineCounter;
}

export interface ResolvedSources {
  raw: Record<string, unknown>;
  docs: SourceDoc[];
  /** Directory relative `${file:…}` paths resolve against: the first file source's, else the working directory. */
  baseDir: string;
  /** A short label for messages: the file when there is one source, else the sources joined with ` + `. */
  label: string;
}

/** Key delimiter of the `yaml:` provider and of `--set` (confmap's KeyDelimiter). */
const KEY_DELIMITER = '::';
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s;
const SUPPORTED_SCHEMES = ['file', 'env', 'yaml'];

export class SourceError extends Error {
  override name = 'SourceError';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => i.message).join('\n'));
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** confmap merge: maps merge key by key, anything else (lists included) is replaced by the later value. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeConfig(out[k], v) : v;
  return out;
}

/** Turns `a::b::c: v` keys into nested maps, as confmap does for the `yaml:` provider. */
function expandDelimitedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(expandDelimitedKeys);
  if (!isPlainObject(v)) return v;
  let out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    const parts = k.split(KEY_DELIMITER);
    let nested: unknown = expandDelimitedKeys(val);
    for (let i = parts.length - 1; i > 0; i--) nested = { [parts[i]!]: nested };
    out = mergeConfig(out, { [parts[0]!]: nested }) as Record<string, unknown>;
  }
  return out;
}

function parse(name: string, text: string, issues: ConfigIssue[]): SourceDoc | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length) {
    for (const e of doc.errors) {
      issues.push({ path: '', message: `${name}: YAML ${e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : ''}: ${e.message.split('\n')[0]}` });
    }
    return undefined;
  }
  return { name, doc, lines };
}

function readFileSource(file: string, issues: ConfigIssue[]): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const plain =
      code === 'ENOENT' ? `: the file does not exist (looked for ${path.resolve(file)})`
        : code === 'EISDIR' ? ': it is a directory, not a file'
          : code === 'EACCES' ? ': permission denied' : '';
    issues.push({ path: '', message: `cannot read config file ${file}: ${code ?? (e as Error).message}${plain}` });
    return undefined;
  }
}

/** Parses one YAML text as a config source (used by loadConfigText). */
export function parseSourceText(name: string, text: string): { value: Record<string, unknown>; doc: SourceDoc } {
  const issues: ConfigIssue[] = [];
  const doc = parse(name, text, issues);
  if (!doc) throw new SourceError(issues);
  const value: unknown = doc.doc.toJS();
  return { value: isPlainObject(value) ? value : {}, doc };
}

/** `--set a.b=c` → the yaml: source `a::b: c`, exactly as upstream's flag does. */
export function setToYaml(set: string): string | undefined {
  const eq = set.indexOf('=');
  if (eq < 0) return undefined;
  return `${set.slice(0, eq).trim().replaceAll('.', KEY_DELIMITER)}: ${set.slice(eq + 1).trim()}`;
}

/** Reads, parses and merges the sources. Throws SourceError listing every unreadable or unparsable one. */
export function resolveSources(sources: ConfigSources, env: NodeJS.ProcessEnv, defaultFile: string): ResolvedSources {
  const uris = sources.uris.length ? sources.uris : [defaultFile];
  const issues: ConfigIssue[] = [];
  const docs: SourceDoc[] = [];
  let raw: unknown = {};
  let baseDir: string | undefined;
  const add = (name: string, text: string, delimited: boolean): void => {
    const d = parse(name, text, issues);
    if (!d) return;
    docs.push(d);
    let value: unknown = d.doc.toJS();
    if (value === null || value === undefined) value = {};
    if (!isPlainObject(value)) {
      issues.push({ path: '', message: `${name}: a config must be a YAML map (got ${Array.isArray(value) ? 'a list' : typeof value})` });
      return;
    }
    raw = mergeConfig(raw, delimited ? expandDelimitedKeys(value) : value);
  };
  for (const uri of uris) {
    const m = SCHEME.exec(uri);
    // One-letter "schemes" are Windows drive letters; no scheme is a file path (as upstream).
    const scheme = m && m[1]!.length > 1 ? m[1]! : undefined;
    const rest = scheme !== undefined ? m![2]! : uri;
    if (scheme === undefined || scheme === 'file') {
      if (rest === '') {
        issues.push({ path: '', message: `--config ${uri}: needs a file path` });
        continue;
      }
      const text = readFileSource(rest, issues);
      baseDir ??= path.dirname(path.resolve(rest));
      if (text !== undefined) add(rest, text, false);
    } else if (scheme === 'env') {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(rest)) {
        issues.push({ path: '', message: `--config ${uri}: invalid environment variable name "${rest}"` });
        continue;
      }
      const text = env[rest];
      if (text === undefined) issues.push({ path: '', message: `--config ${uri}: environment variable ${rest} is not set` });
      else add(uri, text, false);
    } else if (scheme === 'yaml') {
      add(uri, rest, true);
    } else {
      issues.push({
        path: '',
        message: `--config ${uri}: the "${scheme}" config source is not supported by Tributary (use ${SUPPORTED_SCHEMES.map((s) => `${s}:`).join(', ')}; fetch remote configs to a file first)`,
      });
    }
  }
  for (const set of sources.sets ?? []) {
    const yaml = setToYaml(set);
    if (yaml === undefined) issues.push({ path: '', message: `--set ${set}: missing equal sign (use --set key.path=value)` });
    else add(`--set ${set}`, yaml, true);
  }
  if (issues.length) throw new SourceError(issues);
  const files = uris.filter((u) => !SCHEME.exec(u) || u.startsWith('file:')).map((u) => (u.startsWith('file:') ? u.slice(5) : u));
  const label = uris.length === 1 ? (files[0] ?? uris[0]!) : uris.join(' + ');
  return { raw: raw as Record<string, unknown>, docs, baseDir: baseDir ?? process.cwd(), label };
}

/**
 * Where `parts` is written: `{source, line, column}` of the deepest node found along the path, taking the
 * last source that has the deepest match (a later source overrides an earlier one).
 */
export function locate(docs: readonly SourceDoc[], parts: readonly PropertyKey[]): { source: string; line: number; column: number } | undefined {
  let best: { depth: number; source: string; line: number; column: number } | undefined;
  for (let d = docs.length - 1; d >= 0; d--) {
    const { doc, lines, name } = docs[d]!;
    let node: Node | null | undefined = doc.contents;
    let at: Node | undefined;
    let depth = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (isMap(node)) {
        let pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part));
        if (!pair) {
          // A `yaml:` / --set source writes nested keys as `a::b::c`.
          pair = node.items.find((p) => {
            if (!isPair(p) || !isScalar(p.key)) return false;
            const ks = String(p.key.value).split(KEY_DELIMITER);
            return ks.length > 1 && ks.every((k, j) => String(parts[i + j]) === k);
          });
          if (!pair) break;
          const skip = String((pair.key as { value: unknown }).value).split(KEY_DELIMITER).length - 1;
          i += skip;
          depth += skip;
        }
        at = pair.key as Node;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof part === 'number') {
        const item = node.items[part] as Node | undefined;
        if (!item) break;
        at = item;
        node = item;
      } else break;
      depth++;
    }
    if (at?.range && (!best || depth > best.depth)) {
      const pos = lines.linePos(at.range[0]);
      best = { depth, source: name, line: pos.line, column: pos.col };
      if (depth === parts.length) break;
    }
  }
  return best && { source: best.source, line: best.line, column: best.column };
}
