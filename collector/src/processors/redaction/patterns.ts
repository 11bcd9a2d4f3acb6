/** The value patterns: built-ins (e-mail, card numbers, bearer tokens) and user `blocked_values`, compiled once. */
import { anyValueAsString, type ValueProbe } from '@tributary/otlp';
import { RE2JS } from 're2js';

export const MASK = '****';

export interface ValuePattern {
  /** Metric reason label: a fixed word, never the pattern text. */
  reason: 'email' | 'card_number' | 'bearer_token' | 'blocked_value';
  re: RE2JS;
  /** Cheap test that rules the pattern out without running it. */
  mayMatch?: (s: string) => boolean;
  /** Extra check on a match (Luhn for card numbers). */
  accept?: (match: string) => boolean;
  /**
   * A hand-written matcher giving exactly `re`'s matches (the leftmost match at or after `from`, as
   * `[start, end)`), used instead of running the regex.
   */
  find?: (s: string, from: number) => readonly [number, number] | undefined;
}

/** Luhn checksum over the digits of `s` (spaces and dashes ignored); 13–19 digits. */
export function luhnValid(s: string): boolean {
  let sum = 0;
  let n = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    let d = c - 48;
    if (n % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    n++;
  }
  return n >= 13 && n <= 19 && sum % 10 === 0;
}

/**
 * True when `s` has a run of at least `min` digits, each pair separated by at most one space or dash:
 * the shape the card-number pattern needs, so the regex runs only on strings that could match.
 */
export function hasDigitRun(s: string, min: number): boolean {
  let run = 0;
  let sep = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= min) return true;
      sep = false;
    } else if ((c === 32 || c === 45) && run > 0 && !sep) {
      sep = true;
    } else {
      run = 0;
      sep = false;
    }
  }
  return false;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** RE2's `\w` (ASCII): what `\b` separates from the rest. */
const isWord = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/**
 * The matches of `\b\d(?:[ \-]?\d){12,18}\b` without the regex engine. From a start digit (a word
 * boundary before it) the digits chain on, each pair separated by at most one space or dash. The regex
 * takes up to 19 digits greedily and gives digits back until a boundary follows the last one: a
 * separator (the chain goes on after it) or a non-word character or the end.
 */
export function findCardNumber(s: string, from: number): readonly [number, number] | undefined {
  const n = s.length;
  for (let i = from; i < n; i++) {
    if (!isDigit(s.charCodeAt(i)) || (i > 0 && isWord(s.charCodeAt(i - 1)))) continue;
    // Ends after each digit of the chain, up to 19 digits.
    let count = 1;
    let end = i + 1;
    let best = -1;
    for (;;) {
      if (count >= 13) {
        const next = end < n ? s.charCodeAt(end) : -1;
        if (next === -1 || !isWord(next)) best = end;
      }
      if (count === 19 || end >= n) break;
      const c = s.charCodeAt(end);
      if (isDigit(c)) end += 1;
      else if ((c === 32 || c === 45) && end + 1 < n && isDigit(s.charCodeAt(end + 1))) end += 2;
      else break;
      count++;
    }
    if (best >= 0) return [i, best];
  }
  return undefined;
}

const BEARER_HINT = /bearer/i;

export function builtinPatterns(): ValuePattern[] {
  return [
    {
      reason: 'email',
      // Letters in any script: internationalised addresses are personal data too.
      re: RE2JS.compile('[\\p{L}\\p{N}._%+\\-]+@[\\p{L}\\p{N}\\-]+(?:\\.[\\p{L}\\p{N}\\-]+)*\\.\\p{L}{2,}'),
      mayMatch: (s) => s.includes('@'),
    },
    {
      reason: 'card_number',
      re: RE2JS.compile('\\b\\d(?:[ \\-]?\\d){12,18}\\b'),
      mayMatch: (s) => hasDigitRun(s, 13),
      accept: luhnValid,
      find: findCardNumber,
    },
    {
      reason: 'bearer_token',
      re: RE2JS.compile('(?i)\\bbearer\\s+[A-Za-z0-9\\-._~+/]+=*'),
      mayMatch: (s) => BEARER_HINT.test(s),
    },
  ];
}

export function userPatterns(sources: readonly string[]): ValuePattern[] {
  return sources.map((src) => ({ reason: 'blocked_value' as const, re: RE2JS.compile(src) }));
}

/**
 * Masks every accepted match of every pattern. Returns the masked string, or undefined when nothing
 * matched; `onMask(reason)` is called once per masked match.
 */
export function maskString(s: string, patterns: readonly ValuePattern[], onMask: (p: ValuePattern) => void): string | undefined {
  let cur = s;
  let changed = false;
  for (let i = 0; i < patterns.length; i++) {
    const p = patterns[i]!;
    if (p.mayMatch !== undefined && !p.mayMatch(cur)) continue;
    const m = p.find === undefined ? p.re.matcher(cur) : undefined;
    let out = '';
    let last = 0;
    let hit = false;
    let at = 0;
    for (;;) {
      let start: number;
      let end: number;
      if (m !== undefined) {
        if (!m.find()) break;
        start = m.start();
        end = m.end();
      } else {
        const f = p.find!(cur, at);
        if (f === undefined) break;
        [start, end] = f;
        at = end;
      }
      if (end === start) continue;
      if (p.accept !== undefined && !p.accept(cur.slice(start, end))) continue;
      out += cur.slice(last, start) + MASK;
      last = end;
      hit = true;
      onMask(p);
    }
    if (hit) {
      cur = out + cur.slice(last);
      changed = true;
    }
  }
  return changed ? cur : undefined;
}

function ignoreMask(): void {}

/**
 * The built-in patterns' prefilters over a value's UTF-8 bytes, all in one pass: an `@` (e-mail), a run of
 * 13 digits with single spaces or dashes between them (card number), `bearer` in any case (token). It is
 * true wherever the string prefilters (`mayMatch`) would be true, so a record it rejects everywhere has
 * nothing to mask. Only for the built-in patterns; user patterns have no prefilter.
 */
export class BuiltinValueProbe implements ValueProbe {
  private readonly email: boolean;
  private readonly card: boolean;
  private readonly bearer: boolean;

  constructor(private readonly patterns: readonly ValuePattern[]) {
    this.email = patterns.some((p) => p.reason === 'email');
    this.card = patterns.some((p) => p.reason === 'card_number');
    this.bearer = patterns.some((p) => p.reason === 'bearer_token');
  }

  /** True when the probe covers every pattern (none is a user pattern). */
  static covers(patterns: readonly ValuePattern[]): boolean {
    return patterns.every((p) => p.reason !== 'blocked_value');
  }

  text(buf: Uint8Array, start: number, end: number): boolean {
    let run = 0;
    let sep = false;
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 48 && c <= 57) {
        if (++run >= 13 && this.card) return true;
        sep = false;
        continue;
      }
      if ((c === 32 || c === 45) && run > 0 && !sep) sep = true;
      else {
        run = 0;
        sep = false;
      }
      if (c === 0x40 && this.email) return true;
      if ((c | 0x20) === 0x62 && this.bearer && i + 6 <= end
        && (buf[i + 1]! | 0x20) === 0x65 && (buf[i + 2]! | 0x20) === 0x61 && (buf[i + 3]! | 0x20) === 0x72
        && (buf[i + 4]! | 0x20) === 0x65 && (buf[i + 5]! | 0x20) === 0x72) return true;
    }
    return false;
  }

  string(s: string): boolean {
    for (const p of this.patterns) if (p.mayMatch === undefined || p.mayMatch(s)) return true;
    return false;
  }

  number(n: number, isDouble: boolean): boolean {
    // An integer's text is digits and a sign: only a card number (13 digits) can be in it.
    if (!isDouble) return this.card && Math.abs(n) >= 1e12;
    // A double's text is short: run the patterns on it (its fraction often has 13 digits, rarely a card number).
    const text = anyValueAsString({ doubleValue: n });
    return this.string(text) && maskString(text, this.patterns, ignoreMask) !== undefined;
  }
}
