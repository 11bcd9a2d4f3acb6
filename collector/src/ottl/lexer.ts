/** Tokenizer of the condition language (the OTTL condition subset, see README.md). */
import { ParseError } from './errors.js';

export type TokenKind = 'ident' | 'string' | 'int' | 'float' | 'op' | '(' | ')' | '[' | ']' | ',' | '.' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Source text of the token (for strings: including the quotes). */
  readonly text: string;
  /** Decoded value of string/int/float tokens. */
  readonly value?: string | number;
  /** 0-based offset of the token's first character. */
  readonly pos: number;
}

const PUNCT: Record<string, TokenKind> = { '(': '(', ')': ')', '[': '[', ']': ']', ',': ',', '.': '.' };
const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', '/': '/' };

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < n && (isIdentStart(text[i]!) || isDigit(text[i]))) i++;
      out.push({ kind: 'ident', text: text.slice(start, i), pos: start });
      continue;
    }
    if (isDigit(c) || (c === '-' && isDigit(text[i + 1]))) {
      i++;
      while (isDigit(text[i])) i++;
      let float = false;
      if (text[i] === '.' && isDigit(text[i + 1])) {
        float = true;
        i++;
        while (isDigit(text[i])) i++;
      }
      if ((text[i] === 'e' || text[i] === 'E') && (isDigit(text[i + 1]) || ((text[i + 1] === '+' || text[i + 1] === '-') && isDigit(text[i + 2])))) {
        float = true;
        i += 2;
        while (isDigit(text[i])) i++;
      }
      const raw = text.slice(start, i);
      if (!float && !Number.isSafeInteger(Number(raw))) throw new ParseError('integer out of range', start);
      out.push({ kind: float ? 'float' : 'int', text: raw, value: Number(raw), pos: start });
      continue;
    }
    if (c === '"') {
      i++;
      let s = '';
      let closed = false;
      while (i < n) {
        const d = text[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d !== '\\') {
          s += d;
          i++;
          continue;
        }
        const e = text[i + 1];
        if (e === undefined) break;
        const simple = SIMPLE_ESCAPES[e];
        if (simple !== undefined) {
          s += simple;
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          s += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          // Unknown escapes are kept as written, so `"\d+"` reaches the regex engine as `\d+`.
          s += '\\' + e;
          i += 2;
        }
      }
      if (!closed) throw new ParseError('unterminated string', start);
      out.push({ kind: 'string', text: text.slice(start, i), value: s, pos: start });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '==' || two === '!=' || two === '<=' || two === '>=') {
      out.push({ kind: 'op', text: two, pos: start });
      i += 2;
      continue;
    }
    if (c === '<' || c === '>') {
      out.push({ kind: 'op', text: c, pos: start });
      i++;
      continue;
    }
    const punct = PUNCT[c];
    if (punct !== undefined) {
      out.push({ kind: punct, text: c, pos: start });
      i++;
      continue;
    }
    if (two === '&&') throw new ParseError('unexpected "&&" (use "and")', start);
    if (two === '||') throw new ParseError('unexpected "||" (use "or")', start);
    if (c === '=') throw new ParseError('unexpected "=" (use "==")', start);
    if (c === '!') throw new ParseError('unexpected "!" (use "not" or "!=")', start);
    if (c === "'") throw new ParseError('unexpected "\'" (strings use double quotes)', start);
    throw new ParseError(`unexpected character ${JSON.stringify(c)}`, start);
  }
  out.push({ kind: 'eof', text: '', pos: n });
  return out;
}
