/**
 * Parser of the search query language (docs/query-language.md):
 *
 *   query   := or
 *   or      := and ("OR" and)*
 *   and     := unary (["AND"] unary)*          adjacent terms are ANDed
 *   unary   := ("NOT" | "-") unary | "(" or ")" | term
 *   term    := WORD | "PHRASE" | field (":" | op) value
 *   value   := WORD | "QUOTED" | /REGEX/ | * | op value     op := >= <= > < = !=
 *
 * Errors carry the 0-based position and what was expected there.
 */
import { compileRegex, RegexError } from '../ottl/regex.js';
import { SEVERITY_LEVELS, type CompareOp, type FieldRef, type Literal, type QueryNode } from './ast.js';

export class QueryParseError extends Error {
  override name = 'QueryParseError';
  constructor(
    /** What went wrong, e.g. `expected ")"`. */
    readonly reason: string,
    /** 0-based character offset in the query text. */
    readonly position: number,
  ) {
    super(`${reason} at position ${position}`);
  }
}

const FIELD_HEAD = /^([A-Za-z_][\w.-]*?)(:|>=|<=|!=|>|<|=)/;
const OPS: Readonly<Record<string, CompareOp>> = { '>=': 'ge', '<=': 'le', '>': 'gt', '<': 'lt', '=': 'eq', '!=': 'ne' };
const HEX = /^[0-9a-f]*$/;

/** Maps a field name as typed to what it refers to. Unknown names are record attribute keys. */
export function resolveField(name: string): FieldRef {
  switch (name) {
    case 'service': case 'service.name': case 'service_name': return { kind: 'service' };
    case 'severity': case 'level': case 'severity_number': return { kind: 'severity' };
    case 'severity_text': return { kind: 'severity_text' };
    case 'body': case 'message': return { kind: 'body' };
    case 'trace_id': case 'traceid': return { kind: 'trace_id' };
    case 'span_id': case 'spanid': return { kind: 'span_id' };
    case 'correlation_id': return { kind: 'correlation_id' };
    case 'scope': case 'scope.name': return { kind: 'scope' };
    case 'event_name': return { kind: 'event_name' };
    case 'retention.class': case 'retention_class': return { kind: 'retention_class' };
    case 'retention.days': case 'retention_days': return { kind: 'retention_days' };
    default: break;
  }
  if (name.startsWith('attributes.')) return resolveAttr(name.slice(11));
  if (name.startsWith('attr.')) return resolveAttr(name.slice(5));
  if (name.startsWith('resource.attributes.')) return { kind: 'resource', key: name.slice(20) };
  if (name.startsWith('resource.')) return { kind: 'resource', key: name.slice(9) };
  return resolveAttr(name);
}

function resolveAttr(key: string): FieldRef {
  // These attributes live in their own columns; one spelling for each.
  if (key === 'correlation_id') return { kind: 'correlation_id' };
  if (key === 'retention.class') return { kind: 'retention_class' };
  if (key === 'retention.days') return { kind: 'retention_days' };
  return { kind: 'attr', key };
}

function literal(text: string, quoted: boolean): Literal {
  if (quoted || text === '') return { text, quoted };
  const n = Number(text);
  return Number.isFinite(n) ? { text, quoted, number: n } : { text, quoted };
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): QueryNode {
    this.skipSpace();
    if (this.pos >= this.src.length) return { type: 'all' };
    const node = this.parseOr();
    this.skipSpace();
    if (this.pos < this.src.length) {
      throw new QueryParseError(this.src[this.pos] === ')' ? 'unexpected ")" (no matching "(")' : 'expected AND, OR or end of query', this.pos);
    }
    return node;
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  /** The keyword at the current position (AND/OR/NOT as whole words), without consuming it. */
  private keyword(): 'AND' | 'OR' | 'NOT' | undefined {
    const m = /^(AND|OR|NOT)(?=[\s()]|$)/.exec(this.src.slice(this.pos, this.pos + 4));
    return m ? (m[1] as 'AND' | 'OR' | 'NOT') : undefined;
  }

  private parseOr(): QueryNode {
    const items = [this.parseAnd()];
    for (;;) {
      this.skipSpace();
      if (this.keyword() !== 'OR') break;
      this.pos += 2;
      items.push(this.parseAnd());
    }
    return items.length === 1 ? items[0]! : { type: 'or', items };
  }

  private parseAnd(): QueryNode {
    const items = [this.parseUnary()];
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.src.length || this.src[this.pos] === ')') break;
      const kw = this.keyword();
      if (kw === 'OR') break;
      if (kw === 'AND') this.pos += 3;
      items.push(this.parseUnary());
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  }

  private parseUnary(): QueryNode {
    this.skipSpace();
    if (this.pos >= this.src.length) throw new QueryParseError('expected a search term', this.pos);
    const kw = this.keyword();
    if (kw === 'NOT') {
      this.pos += 3;
      return { type: 'not', item: this.parseUnary() };
    }
    if (kw !== undefined) throw new QueryParseError(`expected a search term before ${kw}`, this.pos);
    const c = this.src[this.pos]!;
    if (c === '-' && this.pos + 1 < this.src.length && !/\s/.test(this.src[this.pos + 1]!)) {
      this.pos++;
      return { type: 'not', item: this.parseUnary() };
    }
    if (c === '(') {
      const open = this.pos++;
      const inner = this.parseOr();
      this.skipSpace();
      if (this.src[this.pos] !== ')') throw new QueryParseError(`expected ")" (to close the "(" at ${open})`, this.pos);
      this.pos++;
      return inner;
    }
    if (c === ')') throw new QueryParseError('expected a search term', this.pos);
    if (c === '"') return { type: 'text', value: this.quoted(), bodyOnly: false };
    return this.term();
  }

  /** Reads a "quoted string" at pos; returns its unescaped content. */
  private quoted(): string {
    const start = this.pos++;
    let out = '';
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos++]!;
      if (ch === '"') return out;
      if (ch === '\\' && this.pos < this.src.length) out += this.src[this.pos++]!;
      else out += ch;
    }
    throw new QueryParseError(`expected closing '"' (for the quote at ${start})`, this.src.length);
  }

  /** Reads a /regex/ at pos (`\/` is a slash); returns the pattern. */
  private regex(): string {
    const start = this.pos++;
    let out = '';
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos++]!;
      if (ch === '/') return out;
      if (ch === '\\' && this.src[this.pos] === '/') {
        out += '/';
        this.pos++;
      } else out += ch;
    }
    throw new QueryParseError(`expected closing "/" (for the regex at ${start})`, this.src.length);
  }

  /** A bare run: everything up to whitespace, parenthesis or quote. */
  private bare(): string {
    const start = this.pos;
    while (this.pos < this.src.length && !/[\s()"]/.test(this.src[this.pos]!)) this.pos++;
    return this.src.slice(start, this.pos);
  }

  private term(): QueryNode {
    const start = this.pos;
    const rest = this.src.slice(this.pos);
    const head = FIELD_HEAD.exec(rest);
    if (!head) {
      const word = this.bare();
      if (word === '') throw new QueryParseError('expected a search term', start);
      return { type: 'text', value: word, bodyOnly: false };
    }
    const name = head[1]!;
    const field = resolveField(name);
    this.pos += head[0].length;
    let op: CompareOp = head[2] === ':' ? 'eq' : OPS[head[2]!]!;
    // `field:>=500`: an operator after the colon.
    if (head[2] === ':') {
      const m = /^(>=|<=|!=|>|<|=)/.exec(this.src.slice(this.pos));
      if (m) {
        op = OPS[m[1]!]!;
        this.pos += m[1]!.length;
      }
    }
    const valuePos = this.pos;
    const ch = this.src[this.pos];
    if (ch === undefined || /[\s()]/.test(ch)) throw new QueryParseError(`expected a value after "${this.src.slice(start, valuePos)}"`, valuePos);
    if (ch === '/') {
      if (op !== 'eq' && op !== 'ne') throw new QueryParseError('expected a value (a regex takes ":" or "!=")', valuePos);
      const pattern = this.regex();
      try {
        compileRegex(pattern);
      } catch (err) {
        const why = err instanceof RegexError ? err.message : String(err);
        throw new QueryParseError(`invalid regex (${why})`, valuePos + 1);
      }
      if (field.kind === 'severity') throw new QueryParseError('severity takes a level or a number, not a regex', valuePos);
      return { type: 'cmp', field, op: op === 'eq' ? 're' : 'nre', value: { text: pattern, quoted: true } };
    }
    const quotedValue = ch === '"';
    const text = quotedValue ? this.quoted() : this.bare();
    if (!quotedValue && text === '*' && op === 'eq') return { type: 'cmp', field, op: 'exists', value: { text: '*', quoted: false } };
    const value = literal(text, quotedValue);
    return this.finishCmp(field, op, value, valuePos);
  }

  private finishCmp(field: FieldRef, op: CompareOp, value: Literal, at: number): QueryNode {
    switch (field.kind) {
      case 'severity': return severityNode(op, value, at);
      case 'body':
        if (op === 'eq') return { type: 'text', value: value.text, bodyOnly: true };
        if (op === 'ne') return { type: 'not', item: { type: 'text', value: value.text, bodyOnly: true } };
        throw new QueryParseError('body takes words, "phrases" or /regex/, not comparisons', at);
      case 'trace_id':
      case 'span_id': {
        const hex = value.text.toLowerCase();
        const len = field.kind === 'trace_id' ? 32 : 16;
        if (!HEX.test(hex) || hex.length !== len || (op !== 'eq' && op !== 'ne')) {
          throw new QueryParseError(`expected ${len} hex digits for ${field.kind}`, at);
        }
        return { type: 'cmp', field, op, value: { text: hex, quoted: true } };
      }
      case 'retention_days':
        if (value.number === undefined && op !== 'eq' && op !== 'ne') throw new QueryParseError('expected a number', at);
        return { type: 'cmp', field, op, value };
      default:
        if ((op === 'gt' || op === 'ge' || op === 'lt' || op === 'le') && value.number === undefined) {
          throw new QueryParseError('expected a number after a comparison', at);
        }
        return { type: 'cmp', field, op, value };
    }
  }
}

function severityNode(op: CompareOp, value: Literal, at: number): QueryNode {
  let lo: number;
  let hi: number;
  if (value.number !== undefined && Number.isInteger(value.number) && value.number >= 0 && value.number <= 24) {
    lo = hi = value.number;
  } else {
    const range = SEVERITY_LEVELS[value.text.toLowerCase()];
    if (!range) throw new QueryParseError('expected a severity level (trace, debug, info, warn, error, fatal) or a number 0-24', at);
    [lo, hi] = range;
  }
  const num = (n: number): Literal => ({ text: String(n), number: n, quoted: false });
  const sev = { kind: 'severity' } as const;
  switch (op) {
    case 'eq': return lo === hi ? { type: 'cmp', field: sev, op: 'eq', value: num(lo) } : { type: 'and', items: [{ type: 'cmp', field: sev, op: 'ge', value: num(lo) }, { type: 'cmp', field: sev, op: 'le', value: num(hi) }] };
    case 'ne': return { type: 'or', items: [{ type: 'cmp', field: sev, op: 'lt', value: num(lo) }, { type: 'cmp', field: sev, op: 'gt', value: num(hi) }] };
    case 'ge': return { type: 'cmp', field: sev, op: 'ge', value: num(lo) };
    case 'gt': return { type: 'cmp', field: sev, op: 'gt', value: num(hi) };
    case 'le': return { type: 'cmp', field: sev, op: 'le', value: num(hi) };
    case 'lt': return { type: 'cmp', field: sev, op: 'lt', value: num(lo) };
    default: throw new QueryParseError('expected a severity level or number', at);
  }
}

/** Parses a query. Throws QueryParseError with the position and what was expected. Empty = match all. */
export function parseQuery(text: string): QueryNode {
  return new Parser(text).parse();
}
