/**
 * A rule compiled once: its record predicate (query, OTTL condition, regex, level, all compiled at load),
 * its group key getters, and its window arithmetic. Per record it allocates nothing unless the record
 * matches.
 */
import { createHash } from 'node:crypto';
import type { InstrumentationScope, LogRecord, Resource } from '@tributary/otlp';
import { compileCondition, compileRegex, type LogContext } from '../../ottl/index.js';
import { compileMatcher, getter, type TextMode } from '../../query/matcher.js';
import { parseQuery, resolveField } from '../../query/parser.js';
import { bodyText } from '../../query/matcher.js';
import { parseMetricExpr, type MetricExpr, type RuleConfig, type RuleKind } from './config.js';

type Pred = (r: Resource | null | undefined, s: InstrumentationScope | null | undefined, l: LogRecord) => boolean;
type Get = (r: Resource | null | undefined, s: InstrumentationScope | null | undefined, l: LogRecord) => string | number | boolean | undefined;

const ERROR_SEVERITY = 17;

/** Per-second counts over a fixed span: O(1) per add, old seconds zeroed as time moves on. */
export class SecondRing {
  private readonly buckets: Float64Array;
  private head = -1;
  sum = 0;

  constructor(readonly size: number) {
    this.buckets = new Float64Array(size);
  }

  advance(sec: number): void {
    if (this.head < 0) {
      this.head = sec;
      return;
    }
    if (sec <= this.head) return;
    const steps = Math.min(sec - this.head, this.size);
    for (let i = 1; i <= steps; i++) {
      const idx = (this.head + i) % this.size;
      this.sum -= this.buckets[idx]!;
      this.buckets[idx] = 0;
    }
    if (steps === this.size) this.sum = 0;
    this.head = sec;
  }

  add(sec: number, n: number): void {
    this.advance(sec);
    this.buckets[sec % this.size] = this.buckets[sec % this.size]! + n;
    this.sum += n;
  }

  /** Sum of the latest `n` seconds (after advance). */
  recent(n: number): number {
    let s = 0;
    for (let i = 0; i < n && i < this.size; i++) s += this.buckets[(((this.head - i) % this.size) + this.size) % this.size]!;
    return s;
  }
}

export interface CompiledRule {
  readonly config: RuleConfig;
  readonly name: string;
  readonly kind: RuleKind;
  /** JSON of the config: a reload keeps a rule's groups only when this is unchanged. */
  readonly fingerprint: string;
  readonly matches: Pred;
  /** `ratio`: the denominator (undefined = every record). */
  readonly base: Pred | undefined;
  readonly groupKeys: readonly string[];
  readonly groupGetters: readonly Get[];
  /** `new_value`: the field whose first-seen values fire. */
  readonly field: Get | undefined;
  readonly windowMs: number;
  /** Seconds of per-second buckets a group keeps. */
  readonly ringSeconds: number;
  readonly forMs: number;
  readonly cooldownMs: number;
  readonly threshold: number;
  readonly metric: MetricExpr | undefined;
  /** The query shown in the dashboard link. */
  readonly searchQuery: string;
}

export function compileRule(c: RuleConfig, defaults: { cooldownMs: number; textMode: TextMode }): CompiledRule {
  const preds: Pred[] = [];
  let search = c.query ?? '';
  if (c.query !== undefined) {
    const m = compileMatcher(parseQuery(c.query), defaults.textMode);
    preds.push((r, s, l) => m.matches(r, s, l));
  }
  if (c.condition !== undefined) {
    const cond = compileCondition(c.condition);
    const ctx: LogContext = { record: undefined as unknown as LogRecord, resource: undefined, scope: undefined };
    preds.push((r, s, l) => {
      ctx.record = l;
      ctx.resource = r;
      ctx.scope = s;
      try {
        return cond(ctx);
      } catch {
        return false;
      }
    });
  }
  if (c.pattern !== undefined) {
    const full = compileRegex(c.pattern);
    const pre = literalPrefilter(c.pattern);
    const re = pre ? { test: (t: string) => pre.test(t) && full.test(t) } : full;
    search = [search, `body:/${c.pattern.replaceAll('/', '\\/')}/`].filter(Boolean).join(' AND ');
    preds.push((_r, _s, l) => re.test(bodyText(l)));
  }
  if (c.level !== undefined) {
    const min = c.level;
    preds.push((_r, _s, l) => l.severityNumber >= min);
    if (search === '') search = `level>=${min >= 21 ? 'fatal' : min >= 17 ? 'error' : min >= 13 ? 'warn' : 'info'}`;
  }
  if (c.kind === 'error_rate' && c.query === undefined && c.condition === undefined) {
    preds.push((_r, _s, l) => l.severityNumber >= ERROR_SEVERITY);
    search = 'level>=error';
  }
  const matches: Pred = preds.length === 0 ? () => true : preds.length === 1 ? preds[0]! : (r, s, l) => preds.every((p) => p(r, s, l));
  let base: Pred | undefined;
  if (c.base_query !== undefined) {
    const m = compileMatcher(parseQuery(c.base_query), defaults.textMode);
    base = (r, s, l) => m.matches(r, s, l);
  }
  const eventLike = c.kind === 'pattern' || c.kind === 'level' || c.kind === 'new_value';
  const windowMs = c.window ?? (eventLike ? 60_000 : 0);
  const windowSec = Math.max(1, Math.ceil(windowMs / 1000));
  const ringSeconds = c.kind === 'spike' ? windowSec + Math.ceil((c.baseline ?? 0) / 1000) : windowSec;
  return {
    config: c,
    name: c.name,
    kind: c.kind,
    fingerprint: JSON.stringify(c),
    matches,
    base,
    groupKeys: c.group_by,
    groupGetters: c.group_by.map((k) => getter(resolveField(k))),
    field: c.field !== undefined ? getter(resolveField(c.field)) : undefined,
    windowMs,
    ringSeconds,
    forMs: c.for,
    cooldownMs: c.cooldown ?? (eventLike ? defaults.cooldownMs : 0),
    threshold: c.threshold ?? 0,
    metric: c.expr !== undefined ? parseMetricExpr(c.expr) : undefined,
    searchQuery: search,
  };
}

const LITERAL = /^[A-Za-z0-9 _\-:/=@#%,;'"<>!~&]+$/;

/**
 * A cheap test every match of `pattern` must pass, or undefined. For patterns that start with a literal
 * or a group of literal alternatives (`(?i)(database|connection).*?(error|failed)`), with no alternation at
 * the top level: the text must contain one of those literals. A JS regex of plain ASCII literal
 * alternatives cannot backtrack, and with `iu` it folds case as RE2's `(?i)` does, so it never refuses
 * a text the full RE2 pattern would match; it only spares the RE2 engine most non-matching texts.
 */
export function literalPrefilter(pattern: string): RegExp | undefined {
  let p = pattern;
  let flags = 'u';
  if (p.startsWith('(?i)')) {
    p = p.slice(4);
    flags = 'iu';
  }
  if (p.startsWith('^') || p.startsWith('(?')) {
    if (!p.startsWith('(?:')) return undefined;
  }
  // No top-level alternation (then no part is required).
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    if (ch === '\\') i++;
    else if (ch === '[') {
      while (i < p.length && p[i] !== ']') i += p[i] === '\\' ? 2 : 1;
    } else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) return undefined;
  }
  let alts: string[];
  let rest: string;
  const g = /^\((?:\?:)?([^()]*)\)/.exec(p);
  if (g) {
    alts = g[1]!.split('|');
    rest = p.slice(g[0].length);
  } else {
    const m = /^[A-Za-z0-9 _\-:/=@#%,;'"<>!~&]+/.exec(p);
    if (!m) return undefined;
    // The last character may be quantified (`abc?`): keep it out.
    alts = [m[0].length < p.length && /^[?*{]/.test(p.slice(m[0].length)) ? m[0].slice(0, -1) : m[0]];
    rest = '';
  }
  if (/^[?*{]/.test(rest)) return undefined;
  if (alts.some((a) => a.length < 2 || !LITERAL.test(a))) return undefined;
  // Escapes valid with the `u` flag (which refuses `\-` outside a class).
  return new RegExp(alts.map((a) => a.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&')).join('|'), flags);
}

/** A stable alert id for a rule's group (the same across restarts and instances). */
export function alertId(rule: string, key: string): string {
  return createHash('sha256').update(rule).update('\0').update(key).digest('hex').slice(0, 16);
}

/** Fills `{{ $value }}`, `{{ $labels.key }}`, `{{ $rule }}`, `{{ $tenant }}` and `{{ key }}` (a group value). */
export function renderTemplate(text: string, vars: { value: number; labels: Readonly<Record<string, string>>; rule: string; tenant: string }): string {
  return text.replace(/\{\{\s*\$?([A-Za-z_][\w.]*)\s*\}\}/g, (whole, name: string) => {
    if (name === 'value') return formatValue(vars.value);
    if (name === 'rule') return vars.rule;
    if (name === 'tenant') return vars.tenant;
    const key = name.startsWith('labels.') ? name.slice(7) : name;
    return vars.labels[key] ?? whole;
  });
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
}
