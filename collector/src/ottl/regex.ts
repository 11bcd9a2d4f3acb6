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
  const literal = literalTest(pattern);
  return { source: pattern, test: literal ?? ((input) => re.test(input)) };
}

const META = /[\\.[\]{}()*+?|^$]/;

/**
 * Patterns that are plain text, optionally anchored (`^GET `, `timeout$`, `health`), need no regex
 * engine: a string search gives the same answer at a fraction of the cost.
 */
function literalTest(pattern: string): ((input: string) => boolean) | undefined {
  const start = pattern.startsWith('^');
  const end = pattern.endsWith('$') && pattern.length > (start ? 1 : 0);
  const body = pattern.slice(start ? 1 : 0, end ? -1 : undefined);
  if (body === '' || META.test(body)) return undefined;
  if (start && end) return (input) => input === body;
  if (start) return (input) => input.startsWith(body);
  if (end) return (input) => input.endsWith(body);
  return (input) => input.includes(body);
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
