/**
 * Compiles a query tree into SQL for one store file (schema in exporters/store/schema.ts): a WHERE clause
 * over `logs AS l`, plus, when the query's top level ANDs full-text terms, one FTS5 MATCH expression that
 * drives the scan (newest first through the FTS index). Text terms elsewhere (under OR/NOT) become
 * `l.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?)`. Regexes call `re2match(pattern, value)`, a
 * function the store registers on its connections (re2js: linear time).
 */
import type { FieldRef, Literal, QueryNode } from './ast.js';
import { tokenize, type TextMode } from './matcher.js';

export type SqlParam = string | number | bigint | Buffer | null;

export interface SqlPlan {
  /** Boolean SQL over `l` (the logs row); `1` when there is no condition. */
  readonly where: string;
  readonly params: readonly SqlParam[];
  /** FTS5 MATCH expression to drive the query, or undefined (scan by rowid). */
  readonly ftsMatch?: string | undefined;
}

/** FTS5 string literal. */
function ftsString(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** The FTS5 expression of one text term, or undefined when it has nothing to look up. */
export function ftsTerm(value: string, bodyOnly: boolean, mode: TextMode): string | undefined {
  let expr: string;
  if (mode === 'trigram') {
    // The trigram index cannot answer substrings shorter than 3 characters.
    // eslint-disable-next-line @typescript-eslint/no-misused-spread -- SQLite trigrams count code points, which is what spreading counts
    if ([...value].length < 3) return undefined;
    expr = ftsString(value);
  } else {
    const tokens = tokenize(value);
    if (tokens.length === 0) return undefined;
    expr = ftsString(tokens.join(' '));
  }
  return bodyOnly ? `body : ${expr}` : expr;
}

/** Whole tokens inside a substring (the first/last may be cut off), as an FTS phrase that must be present. */
function containsNarrowing(value: string, mode: TextMode): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-misused-spread -- SQLite trigrams count code points, which is what spreading counts
  if (mode === 'trigram') return [...value].length >= 3 ? `body : ${ftsString(value)}` : undefined;
  const tokens = tokenize(value);
  const isTok = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}]/u.test(c);
  let from = 0;
  let to = tokens.length;
  if (isTok(value[0])) from++;
  if (isTok(value[value.length - 1])) to--;
  if (to <= from) return undefined;
  return `body : ${ftsString(tokens.slice(from, to).join(' '))}`;
}

export function jsonPath(key: string): string {
  return `$."${key.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

class Builder {
  readonly params: SqlParam[] = [];
  constructor(private readonly mode: TextMode) {}

  private p(v: SqlParam): string {
    this.params.push(v);
    return '?';
  }

  /** SQL expression of a field's value for row `l`. */
  private value(f: FieldRef): string {
    switch (f.kind) {
      case 'service': return '(SELECT service FROM resources WHERE id = l.resource_id)';
      case 'severity': return 'l.severity';
      case 'severity_text': return 'l.severity_text';
      case 'body': return 'l.body';
      case 'trace_id': return 'lower(hex(l.trace_id))';
      case 'span_id': return 'lower(hex(l.span_id))';
      case 'correlation_id': return 'l.correlation_id';
      case 'scope': return '(SELECT name FROM scopes WHERE id = l.scope_id)';
      case 'event_name': return 'l.event_name';
      case 'retention_class': return 'l.retention_class';
      case 'retention_days': return 'l.retention_days';
      case 'attr': return `json_extract(l.attrs, ${this.p(jsonPath(f.key))})`;
      case 'resource': return `(SELECT json_extract(attrs, ${this.p(jsonPath(f.key))}) FROM resources WHERE id = l.resource_id)`;
    }
  }

  private eq(f: FieldRef, lit: Literal): string {
    if (f.kind === 'service') return `l.resource_id IN (SELECT id FROM resources WHERE service = ${this.p(lit.text)})`;
    if (f.kind === 'trace_id' || f.kind === 'span_id') return `l.${f.kind} = ${this.p(Buffer.from(lit.text, 'hex'))}`;
    if (f.kind === 'resource') {
      return `l.resource_id IN (SELECT id FROM resources WHERE ${this.eqValue(`json_extract(attrs, ${this.p(jsonPath(f.key))})`, lit)})`;
    }
    if (f.kind === 'attr' && (lit.text === 'true' || lit.text === 'false') && !lit.quoted) {
      return `json_type(l.attrs, ${this.p(jsonPath(f.key))}) = ${this.p(lit.text)}`;
    }
    return this.eqValue(this.value(f), lit);
  }

  private eqValue(v: string, lit: Literal): string {
    if (lit.number !== undefined) return `${v} IN (${this.p(lit.number)}, ${this.p(lit.text)})`;
    return `${v} = ${this.p(lit.text)}`;
  }

  private cmp(f: FieldRef, op: string, lit: Literal): string {
    switch (op) {
      case 'exists': return `${this.value(f)} IS NOT NULL`;
      case 'eq': return this.eq(f, lit);
      case 'ne': {
        const v = this.value(f);
        return `(${v} IS NULL OR NOT (${this.eq(f, lit)}))`;
      }
      case 're': return `re2match(${this.p(lit.text)}, ${this.value(f)})`;
      case 'nre': return `NOT re2match(${this.p(lit.text)}, ${this.value(f)})`;
      default: {
        const sym = op === 'gt' ? '>' : op === 'ge' ? '>=' : op === 'lt' ? '<' : '<=';
        if (f.kind === 'severity' || f.kind === 'retention_days') return `${this.value(f)} ${sym} ${this.p(lit.number ?? 0)}`;
        // The value expression is spelled twice, so its parameters are bound twice.
        const typed = `typeof(${this.value(f)}) IN ('integer', 'real')`;
        return `(${typed} AND ${this.value(f)} ${sym} ${this.p(lit.number ?? 0)})`;
      }
    }
  }

  private textSql(value: string, bodyOnly: boolean): string {
    const term = ftsTerm(value, bodyOnly, this.mode);
    if (term !== undefined) return `l.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ${this.p(term)})`;
    if (this.mode === 'trigram' && value !== '') {
      const lower = value.toLowerCase();
      return bodyOnly ? `instr(lower(l.body), ${this.p(lower)}) > 0` : `(instr(lower(l.body), ${this.p(lower)}) > 0 OR instr(lower(l.attrs), ${this.p(lower)}) > 0)`;
    }
    return '1';
  }

  sql(node: QueryNode): string {
    switch (node.type) {
      case 'all': return '1';
      case 'text': return this.textSql(node.value, node.bodyOnly);
      case 'contains': return `instr(l.body, ${this.p(node.value)}) > 0`;
      case 'cmp': return this.cmp(node.field, node.op, node.value);
      case 'not': return `NOT (${this.sql(node.item)})`;
      case 'and': return node.items.map((n) => `(${this.sql(n)})`).join(' AND ');
      case 'or': return node.items.map((n) => `(${this.sql(n)})`).join(' OR ');
    }
  }
}

/** Plans a query for one store file. */
export function planSql(node: QueryNode, mode: TextMode = 'words'): SqlPlan {
  const items = node.type === 'and' ? node.items : [node];
  const fts: string[] = [];
  const rest: QueryNode[] = [];
  for (const n of items) {
    if (n.type === 'text') {
      const term = ftsTerm(n.value, n.bodyOnly, mode);
      if (term !== undefined) {
        fts.push(term);
        continue;
      }
    } else if (n.type === 'contains') {
      const narrow = containsNarrowing(n.value, mode);
      if (narrow !== undefined) fts.push(narrow);
    }
    rest.push(n);
  }
  const b = new Builder(mode);
  const where = rest.length === 0 ? '1' : rest.map((n) => `(${b.sql(n)})`).join(' AND ');
  return { where, params: b.params, ftsMatch: fts.length ? fts.join(' AND ') : undefined };
}

/**
 * When a query only names services and severities (ANDed), the per-minute rollup can answer a histogram:
 * returns the rollup WHERE (over columns `service`, `severity`) or undefined when raw rows are needed.
 */
export function planRollup(node: QueryNode): { where: string; params: SqlParam[] } | undefined {
  const items = node.type === 'and' ? node.items : [node];
  const parts: string[] = [];
  const params: SqlParam[] = [];
  for (const n of items) {
    if (n.type === 'all') continue;
    if (n.type === 'cmp' && n.field.kind === 'service' && n.op === 'eq') {
      parts.push('service = ?');
      params.push(n.value.text);
    } else if (n.type === 'cmp' && n.field.kind === 'severity' && n.value.number !== undefined && n.op !== 'exists' && n.op !== 're' && n.op !== 'nre') {
      const sym = { eq: '=', ne: '!=', gt: '>', ge: '>=', lt: '<', le: '<=' }[n.op];
      parts.push(`severity ${sym} ?`);
      params.push(n.value.number);
    } else if (n.type === 'and') {
      const inner = planRollup(n);
      if (!inner) return undefined;
      parts.push(`(${inner.where})`);
      params.push(...inner.params);
    } else if (n.type === 'or' && n.items.every((i) => i.type === 'cmp' && (i.field.kind === 'severity' || i.field.kind === 'service'))) {
      const subs = n.items.map((i) => planRollup(i));
      if (subs.some((s) => !s)) return undefined;
      parts.push(`(${subs.map((s) => `(${s!.where})`).join(' OR ')})`);
      for (const s of subs) params.push(...s!.params);
    } else {
      return undefined;
    }
  }
  return { where: parts.length ? parts.join(' AND ') : '1', params };
}
