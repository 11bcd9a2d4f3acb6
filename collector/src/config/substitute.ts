/**
 * Config value substitution, as the OpenTelemetry Collector's confmap providers: `${env:VAR}`,
 * `${env:VAR:-default}`, `${VAR}` and `${VAR:-default}` (no scheme is the env scheme, as upstream),
 * `${file:path}` and `$$` for a literal `$`. Applied to parsed YAML string scalars (never to the raw
 * text), so a value cannot inject YAML structure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ConfigIssue } from './schema-helpers.js';

const REF = /\$\$|\$\{([^}]*)\}/g;
const WHOLE_REF = /^\$\{([^}]*)\}$/;
/** `VAR` or `VAR:-default`: the default (env) scheme. */
const BARE_ENV = /^[A-Za-z_][A-Za-z0-9_]*(:-.*)?$/s;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s;

/** Splits a reference's text into its scheme and argument; `undefined` scheme when unsupported. */
function splitRef(text: string): { kind: string; arg: string } {
  if (BARE_ENV.test(text)) return { kind: 'env', arg: text };
  const m = SCHEME.exec(text);
  if (!m) return { kind: '', arg: text };
  return { kind: m[1]!, arg: m[2]! };
}

export interface SubstituteContext {
  env: NodeJS.ProcessEnv;
  /** Directory that relative `${file:…}` paths are resolved against (the config file's). */
  baseDir: string;
  issues: ConfigIssue[];
  /** Names of env vars that were referenced but unset (a warning, as upstream). */
  missingEnv: Set<string>;
}

function resolveRef(text: string, ctx: SubstituteContext, where: string): string {
  const { kind, arg } = splitRef(text);
  if (kind !== 'env' && kind !== 'file') {
    ctx.issues.push({
      path: where,
      message: kind === ''
        ? `invalid reference \${${text}} (use \${VAR}, \${env:VAR}, \${env:VAR:-default} or \${file:path}; $$ is a literal $)`
        : `the "${kind}" reference scheme in \${${text}} is not supported by Tributary (use \${env:…} or \${file:…})`,
    });
    return '';
  }
  if (kind === 'env') {
    const sep = arg.indexOf(':-');
    const name = sep >= 0 ? arg.slice(0, sep) : arg;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      ctx.issues.push({ path: where, message: `invalid environment variable name in \${env:${arg}}` });
      return '';
    }
    const value = ctx.env[name];
    if (value !== undefined && value !== '') return value;
    if (sep >= 0) return arg.slice(sep + 2);
    ctx.missingEnv.add(name);
    return '';
  }
  const file = path.resolve(ctx.baseDir, arg);
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    ctx.issues.push({ path: where, message: `cannot read \${file:${arg}}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
    return '';
  }
}

function substituteString(s: string, ctx: SubstituteContext, where: string): unknown {
  if (!s.includes('$')) return s;
  const whole = WHOLE_REF.exec(s);
  if (whole) {
    // A value that is exactly one reference takes the type its text has in YAML (a port number stays a number).
    const text = resolveRef(whole[1]!, ctx, where);
    if (text === '') return '';
    try {
      const v: unknown = parseYaml(text);
      return v !== null && typeof v !== 'object' ? v : text;
    } catch {
      return text;
    }
  }
  return s.replace(REF, (m, ref: string | undefined) => (ref === undefined ? '$' : resolveRef(ref, ctx, where)));
}

/** Returns a copy of `value` with every string scalar substituted. */
export function substituteTree(value: unknown, ctx: SubstituteContext, where = ''): unknown {
  if (typeof value === 'string') return substituteString(value, ctx, where);
  if (Array.isArray(value)) return value.map((v, i) => substituteTree(v, ctx, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteTree(v, ctx, where ? `${where}.${k}` : k);
    return out;
  }
  return value;
}
