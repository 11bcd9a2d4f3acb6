/**
 * Recursive-descent parser of conditions into an AST (positions kept for compile errors).
 *
 *   condition  := or EOF
 *   or         := and ("or" and)*
 *   and        := not ("and" not)*
 *   not        := "not" not | "(" or ")" | term
 *   term       := value (op value)?        -- without op, value must be a boolean (true/false/function)
 *   value      := string | int | float | true | false | nil | ENUM | Func "(" args ")" | path
 *   path       := ident ("." ident)* ("[" (string | int) "]")*
 */
import { ParseError } from './errors.js';
import { tokenize, type Token } from './lexer.js';

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type LiteralValue = string | number | boolean | null;

export type ValueNode =
  | { kind: 'literal'; value: LiteralValue; type: 'string' | 'int' | 'double' | 'bool' | 'nil'; pos: number }
  | { kind: 'enum'; name: string; pos: number }
  | { kind: 'call'; name: string; args: ValueNode[]; pos: number }
  | { kind: 'path'; fields: string[]; keys: { value: string | number; pos: number }[]; pos: number };

export type BoolNode =
  | { kind: 'or'; items: BoolNode[] }
  | { kind: 'and'; items: BoolNode[] }
  | { kind: 'not'; item: BoolNode }
  | { kind: 'compare'; op: CompareOp; left: ValueNode; right: ValueNode; pos: number }
  | { kind: 'term'; value: ValueNode; pos: number };

const KEYWORDS = new Set(['and', 'or', 'not']);

function describe(t: Token): string {
  return t.kind === 'eof' ? 'end of condition' : JSON.stringify(t.text);
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text === word;
  }
  private expect(kind: Token['kind'], shown: string): Token {
    const t = this.peek();
    if (t.kind !== kind) throw new ParseError(`expected ${shown}`, t.pos, `found ${describe(t)}`);
    return this.next();
  }

  parseCondition(): BoolNode {
    if (this.peek().kind === 'eof') throw new ParseError('empty condition', 0);
    const node = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') throw new ParseError(`unexpected ${describe(t)}`, t.pos, 'expected "and", "or" or end of condition');
    return node;
  }

  private parseOr(): BoolNode {
    const items = [this.parseAnd()];
    while (this.isKeyword('or')) {
      this.next();
      items.push(this.parseAnd());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  private parseAnd(): BoolNode {
    const items = [this.parseNot()];
    while (this.isKeyword('and')) {
      this.next();
      items.push(this.parseNot());
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private parseNot(): BoolNode {
    if (this.isKeyword('not')) {
      this.next();
      return { kind: 'not', item: this.parseNot() };
    }
    if (this.peek().kind === '(') {
      this.next();
      const inner = this.parseOr();
      this.expect(')', '")"');
      return inner;
    }
    return this.parseTerm();
  }

  private parseTerm(): BoolNode {
    const pos = this.peek().pos;
    const left = this.parseValue();
    const t = this.peek();
    if (t.kind === 'op') {
      this.next();
      const right = this.parseValue();
      return { kind: 'compare', op: t.text as CompareOp, left, right, pos: t.pos };
    }
    const isBool = (left.kind === 'literal' && left.type === 'bool') || left.kind === 'call';
    if (!isBool) throw new ParseError('expected a comparison operator (==, !=, <, <=, >, >=)', t.pos, `found ${describe(t)}`);
    return { kind: 'term', value: left, pos };
  }

  private parseValue(): ValueNode {
    const t = this.peek();
    switch (t.kind) {
      case 'string':
        this.next();
        return { kind: 'literal', value: t.value as string, type: 'string', pos: t.pos };
      case 'int':
        this.next();
        return { kind: 'literal', value: t.value as number, type: 'int', pos: t.pos };
      case 'float':
        this.next();
        return { kind: 'literal', value: t.value as number, type: 'double', pos: t.pos };
      case 'ident':
        return this.parseIdentValue();
      default:
        throw new ParseError('expected a value', t.pos, `found ${describe(t)}`);
    }
  }

  private parseIdentValue(): ValueNode {
    const t = this.next();
    const word = t.text;
    if (KEYWORDS.has(word)) throw new ParseError('expected a value', t.pos, `found keyword "${word}"`);
    if (word === 'true' || word === 'false') return { kind: 'literal', value: word === 'true', type: 'bool', pos: t.pos };
    if (word === 'nil') return { kind: 'literal', value: null, type: 'nil', pos: t.pos };
    const upper = word[0]! >= 'A' && word[0]! <= 'Z';
    if (upper && this.peek().kind === '(') return this.parseCall(t);
    if (upper) return { kind: 'enum', name: word, pos: t.pos };
    const fields = [word];
    while (this.peek().kind === '.') {
      this.next();
      fields.push(this.expect('ident', 'a field name after "."').text);
    }
    const keys: { value: string | number; pos: number }[] = [];
    while (this.peek().kind === '[') {
      this.next();
      const k = this.peek();
      if (k.kind !== 'string' && k.kind !== 'int') throw new ParseError('expected a string or integer key', k.pos, `found ${describe(k)}`);
      this.next();
      keys.push({ value: k.value as string | number, pos: k.pos });
      this.expect(']', '"]"');
    }
    return { kind: 'path', fields, keys, pos: t.pos };
  }

  private parseCall(nameToken: Token): ValueNode {
    this.next(); // (
    const args: ValueNode[] = [];
    if (this.peek().kind !== ')') {
      for (;;) {
        args.push(this.parseValue());
        if (this.peek().kind !== ',') break;
        this.next();
      }
    }
    this.expect(')', '")"');
    return { kind: 'call', name: nameToken.text, args, pos: nameToken.pos };
  }
}

/** Parses a condition into its AST. Throws ParseError. */
export function parseCondition(text: string): BoolNode {
  return new Parser(tokenize(text)).parseCondition();
}
