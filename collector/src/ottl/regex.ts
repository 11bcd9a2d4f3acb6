/**
 * Regexes for conditions and filters. All go through re2js (a pure-JS port of RE2): matching is linear in
 * the input, so no pattern from config can make the collector hang on a hostile log line. The price is
 * RE2 syntax: no backreferences or lookaround, which compile() reports as an error.
 */
import { RE2JS } from 're2js';

export interface SafeRegex {
  readonly source: string;
  /** True when the pattern matches anywhere in `input` (unanchored, like Go's MatchString). */
  test(input: string): boolean;
}

export class RegexError extends Error {
  override name = 'RegexError';
}

/** Compiles an RE2 pattern once. Throws RegexError with the engine's reason. */
export function compileRegex(pattern: string): SafeRegex {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new RegexError(msg.replace(/^error parsing regexp: /, ''));
  }
  return { source: pattern, test: (input) => re.test(input) };
}

/** The reason a pattern does not compile, or undefined when it does. */
export function regexProblem(pattern: string): string | undefined {
  try {
    compileRegex(pattern);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
