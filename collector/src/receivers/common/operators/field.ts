/**
 * Field references as upstream's stanza writes them: `body`, `body.key`, `attributes.key`,
 * `attributes["key.with.dots"]`, `resource.key`. Parsed once at start into a root and a key path.
 */
import type { Entry } from '../records.js';

export type FieldRoot = 'body' | 'attributes' | 'resource';

export interface Field {
  readonly root: FieldRoot;
  readonly keys: readonly string[];
  readonly text: string;
}

export function parseField(text: string): Field {
  const m = /^(body|attributes|resource)(.*)$/.exec(text.trim());
  if (!m) throw new Error(`invalid field "${text}": must start with body, attributes or resource`);
  const root = m[1] as FieldRoot;
  const rest = m[2]!;
  const keys: string[] = [];
  const re = /\.([^.[\]]+)|\["((?:[^"\\]|\\.)*)"\]|\['([^']*)'\]/y;
  let pos = 0;
  while (pos < rest.length) {
    re.lastIndex = pos;
    const k = re.exec(rest);
    if (!k) throw new Error(`invalid field "${text}" at "${rest.slice(pos)}"`);
    keys.push(k[1] ?? (k[2] !== undefined ? k[2].replace(/\\(.)/g, '$1') : k[3]!));
    pos = re.lastIndex;
  }
  if (root !== 'body' && keys.length === 0) throw new Error(`invalid field "${text}": ${root} needs a key (e.g. ${root}.name)`);
  return { root, keys, text };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

export function getField(e: Entry, f: Field): unknown {
  let cur: unknown = f.root === 'body' ? e.body : f.root === 'attributes' ? e.attributes : e.resource;
  for (const k of f.keys) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

export function setField(e: Entry, f: Field, value: unknown): void {
  if (f.keys.length === 0) {
    e.body = value;
    return;
  }
  let cur: Obj;
  if (f.root === 'body') {
    if (!isObj(e.body)) e.body = {};
    cur = e.body as Obj;
  } else cur = f.root === 'attributes' ? e.attributes : e.resource;
  for (let i = 0; i < f.keys.length - 1; i++) {
    const k = f.keys[i]!;
    let nxt = cur[k];
    if (!isObj(nxt)) {
      nxt = {};
      cur[k] = nxt;
    }
    cur = nxt as Obj;
  }
  cur[f.keys[f.keys.length - 1]!] = value;
}

/** Removes a field and returns what it held. */
export function deleteField(e: Entry, f: Field): unknown {
  if (f.keys.length === 0) {
    const v = e.body;
    e.body = undefined;
    return v;
  }
  let cur: unknown = f.root === 'body' ? e.body : f.root === 'attributes' ? e.attributes : e.resource;
  for (let i = 0; i < f.keys.length - 1; i++) {
    if (!isObj(cur)) return undefined;
    cur = cur[f.keys[i]!];
  }
  if (!isObj(cur)) return undefined;
  const last = f.keys[f.keys.length - 1]!;
  const v = cur[last];
  delete cur[last];
  return v;
}

/** Writes every key of `values` into the map at `f` (parse_to semantics: merge, not replace). */
export function mergeInto(e: Entry, f: Field, values: Obj): void {
  if (f.root === 'body' && f.keys.length === 0) {
    if (isObj(e.body)) Object.assign(e.body, values);
    else e.body = values;
    return;
  }
  if (f.root !== 'body' && f.keys.length === 0) {
    Object.assign(f.root === 'attributes' ? e.attributes : e.resource, values);
    return;
  }
  const existing = getField(e, f);
  if (isObj(existing)) Object.assign(existing, values);
  else setField(e, f, values);
}

/** Like parseField, but `attributes` / `resource` alone are allowed (parse_to targets). */
export function parseTarget(text: string): Field {
  const t = text.trim();
  if (t === 'attributes' || t === 'resource' || t === 'body') return { root: t, keys: [], text: t };
  return parseField(t);
}
