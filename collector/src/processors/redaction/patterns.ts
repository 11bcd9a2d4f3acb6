/** The value patterns: built-ins (e-mail, card numbers, bearer tokens) and user `blocked_values`, compiled once. */
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
    const m = p.re.matcher(cur);
    let out = '';
    let last = 0;
    let hit = false;
    while (m.find()) {
      const start = m.start();
      const end = m.end();
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
