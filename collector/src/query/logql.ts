/**
 * LogQL (Loki's query language), the subset a log store can answer, parsed into the same tree as the
 * native query language:
 *
 *   {service_name="checkout", level=~"warn|error"} |= "timeout" != "retry" |~ "5\\d\\d" | json | status >= 500
 *   count_over_time({…} |= "x" [5m])    rate({…}[1m])    sum by (level) (count_over_time({…}[5m]))
 *
 * Stream labels: `service_name`, `level` (the severity level, lower case), and every resource attribute
 * with its key's non-alphanumerics turned into `_`. Label filters after the selector look at record
 * attributes (then resource attributes). `| json`, `| logfmt` are accepted and need no work (attributes
 * are already fields).
 */
import { compileRegex, RegexError } from '../ottl/regex.js';
import { SEVERITY_LEVELS, type CompareOp, type FieldRef, type Literal, type QueryNode } from './ast.js';
import { parseRelative } from './time.js';

export class LogQLParseError extends Error {
  override name = 'LogQLParseError';
  constructor(readonly reason: string, readonly position: number) {
    super(`parse error at position ${position}: ${reason}`);
  }
}

export interface LogQLMetric {
  readonly fn: 'count_over_time' | 'rate';
  readonly rangeMs: number;
  /** `sum`/`count` … by/without the listed labels; undefined = one series per stream. */
  readonly aggregation?: { readonly op: 'sum' | 'count' | 'max' | 'min' | 'avg'; readonly by?: readonly string[]; readonly without?: readonly string[] } | undefined;
}

export interface LogQLQuery {
  readonly node: QueryNode;
  /** Present for metric queries. */
  readonly metric?: LogQLMetric | undefined;
}

/** Maps a label name to the field it stands for (the store knows which resource keys exist). */
export type LabelResolver = (label: string, afterParser: boolean) => FieldRef;

/** Prometheus-style label name of an attribute key. */
export function labelName(key: string): string {
  const s = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

export const defaultLabelResolver: LabelResolver = (label, afterParser) => {
  if (label === 'service_name' || label === 'service') return { kind: 'service' };
  if (label === 'level' || label === 'detected_level' || label === 'severity') return { kind: 'severity' };
  if (label === 'severity_text') return { kind: 'severity_text' };
  if (label === 'trace_id') return { kind: 'trace_id' };
  if (label === 'span_id') return { kind: 'span_id' };
  if (label === 'correlation_id') return { kind: 'correlation_id' };
  return afterParser ? { kind: 'attr', key: label } : { kind: 'resource', key: label };
};

const AGGREGATIONS = new Set(['sum', 'count', 'max', 'min', 'avg']);

class LogQLParser {
  private pos = 0;
  constructor(private readonly src: string, private readonly resolve: LabelResolver) {}

  private fail(reason: string, at = this.pos): never {
    throw new LogQLParseError(reason, at);
  }

  private ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  private peek(s: string): boolean {
    this.ws();
    return this.src.startsWith(s, this.pos);
  }

  private expect(s: string): void {
    if (!this.peek(s)) this.fail(`expected "${s}"`);
    this.pos += s.length;
  }

  private ident(): string {
    this.ws();
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a label name');
    this.pos += m[0].length;
    return m[0];
  }

  private string(): string {
    this.ws();
    const q = this.src[this.pos];
    if (q === '`') {
      const end = this.src.indexOf('`', this.pos + 1);
      if (end < 0) this.fail('expected closing "`"', this.src.length);
      const s = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
      return s;
    }
    if (q !== '"') this.fail('expected a quoted string');
    const start = this.pos;
    let out = '';
    this.pos++;
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos++]!;
      if (ch === '"') return out;
      if (ch === '\\' && this.pos < this.src.length) {
        const e = this.src[this.pos++]!;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
      } else out += ch;
    }
    return this.fail(`expected closing '"' for the string at position ${start}`, this.src.length);
  }

  private checkRegex(pattern: string, at: number): void {
    try {
      compileRegex(pattern);
    } catch (err) {
      this.fail(`invalid regex (${err instanceof RegexError ? err.message : String(err)})`, at);
    }
  }

  parse(): LogQLQuery {
    this.ws();
    const m = /^([a-z_]+)\s*(?=\(|by\b|without\b)/.exec(this.src.slice(this.pos));
    const q = m ? this.metric() : { node: this.logQuery() };
    this.ws();
    if (this.pos < this.src.length) this.fail('unexpected text after the query');
    return q;
  }

  private metric(): LogQLQuery {
    const at = this.pos;
    const name = this.ident();
    if (AGGREGATIONS.has(name)) {
      let grouping = this.grouping();
      this.expect('(');
      const inner = this.metric();
      this.expect(')');
      grouping ??= this.grouping();
      if (!inner.metric || inner.metric.aggregation) this.fail('nested aggregations are not supported', at);
      return { node: inner.node, metric: { ...inner.metric, aggregation: { op: name as 'sum', ...grouping } } };
    }
    if (name !== 'count_over_time' && name !== 'rate') this.fail(`unsupported function "${name}" (supported: count_over_time, rate, sum, count, min, max, avg)`, at);
    this.expect('(');
    const node = this.logQuery();
    this.expect('[');
    this.ws();
    const dStart = this.pos;
    const end = this.src.indexOf(']', this.pos);
    if (end < 0) this.fail('expected "]"');
    const rangeMs = parseRelative(this.src.slice(this.pos, end).trim());
    if (rangeMs === undefined || rangeMs <= 0) this.fail('expected a range like 5m', dStart);
    this.pos = end + 1;
    this.expect(')');
    return { node, metric: { fn: name, rangeMs } };
  }

  private grouping(): { by?: string[]; without?: string[] } | undefined {
    this.ws();
    const m = /^(by|without)\s*\(/.exec(this.src.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    const labels: string[] = [];
    while (!this.peek(')')) {
      labels.push(this.ident());
      if (!this.peek(')')) this.expect(',');
    }
    this.expect(')');
    return m[1] === 'by' ? { by: labels } : { without: labels };
  }

  private logQuery(): QueryNode {
    const items: QueryNode[] = [];
    this.expect('{');
    while (!this.peek('}')) {
      const label = this.ident();
      this.ws();
      const op = /^(=~|!~|!=|=)/.exec(this.src.slice(this.pos))?.[1];
      if (!op) this.fail('expected one of =, !=, =~, !~');
      this.pos += op.length;
      const vAt = this.pos;
      const value = this.string();
      items.push(this.labelMatch(this.resolve(label, false), op, value, vAt));
      if (!this.peek('}')) this.expect(',');
    }
    this.expect('}');
    if (items.length === 0) this.fail('a stream selector needs at least one label matcher', this.pos - 1);
    let parsed = false;
    for (;;) {
      this.ws();
      const rest = this.src.slice(this.pos);
      const lf = /^(\|=|!=|\|~|!~)/.exec(rest);
      if (lf) {
        this.pos += 2;
        this.ws();
        const vAt = this.pos;
        const v = this.string();
        if (lf[1] === '|=') items.push({ type: 'contains', value: v });
        else if (lf[1] === '!=') items.push({ type: 'not', item: { type: 'contains', value: v } });
        else {
          this.checkRegex(v, vAt);
          const re: QueryNode = { type: 'cmp', field: { kind: 'body' }, op: 're', value: { text: v, quoted: true } };
          items.push(lf[1] === '|~' ? re : { type: 'not', item: re });
        }
        continue;
      }
      if (!rest.startsWith('|')) break;
      this.pos++;
      this.ws();
      const stageAt = this.pos;
      const name = this.ident();
      if (name === 'json' || name === 'logfmt' || name === 'unpack') {
        parsed = true;
        continue;
      }
      if (name === 'line_format' || name === 'label_format' || name === 'regexp' || name === 'pattern' || name === 'decolorize' || name === 'drop' || name === 'keep') {
        this.fail(`the "${name}" stage is not supported by this store`, stageAt);
      }
      this.ws();
      const op = /^(==|=~|!~|!=|>=|<=|>|<|=)/.exec(this.src.slice(this.pos))?.[1];
      if (!op) this.fail('expected a label filter operator (=, !=, =~, !~, >, >=, <, <=)');
      this.pos += op.length;
      this.ws();
      const vAt = this.pos;
      let value: string;
      let numeric = false;
      if (this.src[this.pos] === '"' || this.src[this.pos] === '`') value = this.string();
      else {
        const num = /^-?\d+(\.\d+)?/.exec(this.src.slice(this.pos));
        if (!num) this.fail('expected a string or a number');
        value = num[0];
        numeric = true;
        this.pos += value.length;
      }
      items.push(this.labelMatch(this.resolve(name, parsed), op === '==' ? '=' : op, value, vAt, numeric));
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  }

  private labelMatch(field: FieldRef, op: string, value: string, vAt: number, numeric = false): QueryNode {
    if (field.kind === 'severity' && (op === '=' || op === '!=')) {
      const range = SEVERITY_LEVELS[value.toLowerCase()];
      if (!range) this.fail('expected a level name (trace, debug, info, warn, error, fatal)', vAt);
      const sev = { kind: 'severity' } as const;
      const lit = (n: number): Literal => ({ text: String(n), number: n, quoted: false });
      const inRange: QueryNode = { type: 'and', items: [{ type: 'cmp', field: sev, op: 'ge', value: lit(range[0]) }, { type: 'cmp', field: sev, op: 'le', value: lit(range[1]) }] };
      return op === '=' ? inRange : { type: 'not', item: inRange };
    }
    if (field.kind === 'severity' && (op === '=~' || op === '!~')) {
      // Level regex: match against the level names, expand to the ranges that match.
      this.checkRegex(value, vAt);
      const re = compileRegex(`^(?:${value})$`);
      const ranges = Object.entries(SEVERITY_LEVELS).filter(([n]) => re.test(n)).map(([, r]) => r);
      const sev = { kind: 'severity' } as const;
      const lit = (n: number): Literal => ({ text: String(n), number: n, quoted: false });
      const any: QueryNode = { type: 'or', items: ranges.length ? ranges.map((r) => ({ type: 'and', items: [{ type: 'cmp', field: sev, op: 'ge', value: lit(r[0]) }, { type: 'cmp', field: sev, op: 'le', value: lit(r[1]) }] } as QueryNode)) : [{ type: 'cmp', field: sev, op: 'lt', value: lit(0) }] };
      return op === '=~' ? any : { type: 'not', item: any };
    }
    const ops: Record<string, CompareOp> = { '=': 'eq', '!=': 'ne', '=~': 're', '!~': 'nre', '>': 'gt', '>=': 'ge', '<': 'lt', '<=': 'le' };
    const cop = ops[op]!;
    if (cop === 're' || cop === 'nre') {
      this.checkRegex(value, vAt);
      // LogQL regexes are anchored on both ends.
      return { type: 'cmp', field, op: cop, value: { text: `^(?:${value})$`, quoted: true } };
    }
    const n = Number(value);
    if ((cop === 'gt' || cop === 'ge' || cop === 'lt' || cop === 'le') && !Number.isFinite(n)) this.fail('expected a number', vAt);
    const lit: Literal = numeric && Number.isFinite(n) ? { text: value, number: n, quoted: false } : { text: value, quoted: true };
    if (field.kind === 'trace_id' || field.kind === 'span_id') return { type: 'cmp', field, op: cop, value: { text: value.toLowerCase(), quoted: true } };
    return { type: 'cmp', field, op: cop, value: lit };
  }
}

/** Parses a LogQL log or metric query. Throws LogQLParseError with the position. */
export function parseLogQL(text: string, resolve: LabelResolver = defaultLabelResolver): LogQLQuery {
  // `curl '…?query={a="b"}'` sends `a="b"`: curl's URL globbing eats a lone {…}. Take a bare matcher list
  // as the selector it was meant to be.
  if (/^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*["`]/.test(text)) {
    const m = /^([^|]*?)(\s*(?:\|.*|!=\s*["`].*|!~\s*["`].*))?$/s.exec(text);
    if (m && !m[1]!.includes('{')) {
      try {
        return new LogQLParser(`{${m[1]}}${m[2] ?? ''}`, resolve).parse();
      } catch {
        // fall through to the error of the text as given
      }
    }
  }
  return new LogQLParser(text, resolve).parse();
}
