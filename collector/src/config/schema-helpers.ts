/** Zod building blocks for component configs: durations, sizes, endpoints, secrets, and error paths. */
import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration (`200ms`, `5s`, `1m30s`, `0`) into milliseconds; undefined if invalid. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === 0 ? undefined : total;
}

/** A duration: a string like `5s`, or a number of milliseconds. Output: milliseconds. */
export const duration = () =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    if (typeof v === 'number') {
      if (v >= 0 && Number.isFinite(v)) return v;
    } else {
      const ms = parseDuration(v);
      if (ms !== undefined) return ms;
    }
    ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(v)} (use e.g. 200ms, 5s, 1m)` });
    return z.NEVER;
  });

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1024, m: 1024 ** 2, g: 1024 ** 3,
};

export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = SIZE_UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(m[1]) * unit);
}

/** A byte size: `4MiB`, `20MB`, `512KiB`, or a number of bytes. Output: bytes. */
export const byteSize = () =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : parseSize(v);
    if (n !== undefined && n >= 0 && Number.isFinite(n)) return n;
    ctx.addIssue({ code: 'custom', message: `invalid size ${JSON.stringify(v)} (use e.g. 512KiB, 4MiB, or bytes)` });
    return z.NEVER;
  });

/** `host:port` (host may be empty or a bracketed IPv6 address). */
export const endpoint = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .refine((v) => /^(\[[0-9a-fA-F:.]+\]|[^:\s/]*):\d{1,5}$/.test(v) && Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, {
      message: 'must be host:port',
    });

/** Splits `host:port` into its parts (brackets removed from IPv6 hosts). */
export function splitEndpoint(ep: string): { host: string; port: number } {
  const i = ep.lastIndexOf(':');
  let host = ep.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host: host || '0.0.0.0', port: Number(ep.slice(i + 1)) };
}

/** A config object whose unknown keys are rejected and whose missing value parses as `{}` (so inner defaults apply). */
export const section = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape).prefault({} as never);

/** One validation problem: `path` in dotted form from the config root, and the reason. */
export interface ConfigIssue {
  path: string;
  message: string;
  /** A suggestion (`did you mean "endpoint"?`), shown after the message. */
  hint?: string | undefined;
  /** The path as keys and indexes (for finding its line in the YAML). */
  parts?: readonly PropertyKey[] | undefined;
  /** Where the path is written: source (file) name, 1-based line and column. */
  source?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
}

/** `path: message (hint) (file line L, column C)`. */
export function formatConfigIssue(i: ConfigIssue): string {
  let s = i.path ? `${i.path}: ${i.message}` : i.message;
  if (i.hint) s += ` (${i.hint})`;
  if (i.line !== undefined) s += ` (${i.source ? `${i.source} ` : ''}line ${i.line}, column ${i.column ?? 1})`;
  return s;
}

export function formatPath(parts: readonly PropertyKey[]): string {
  let s = '';
  for (const p of parts) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s ? `.${String(p)}` : String(p);
  }
  return s;
}

/** Turns zod issues into `path: reason` items, with the component's own path prefixed. */
export function issuesFromZod(error: z.ZodError, prefix: readonly PropertyKey[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const parts = [...prefix, ...issue.path, key];
        out.push({ path: formatPath(parts), message: 'unknown key', parts });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'required';
    const parts = [...prefix, ...issue.path];
    out.push({ path: formatPath(parts), message, parts });
  }
  return out;
}

// Note for component authors: zod 4's `.default(v)` takes the *output* value and skips parsing;
// use `.prefault('5s')` to give a default in config syntax (it is parsed like user input).
