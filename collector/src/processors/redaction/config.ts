/** Config of the `redaction` processor: upstream redactionprocessor keys plus Tributary's `blocked_keys` and built-in patterns. */
import { z } from 'zod';
import { RE2JS } from 're2js';

/** Keys whose values are always masked entirely (matched case-insensitively), unless the user replaces the list. */
export const DEFAULT_BLOCKED_KEYS: readonly string[] = [
  'password', 'passwd', 'secret', 'token', 'api_key', 'apikey', 'authorization', 'cookie', 'set-cookie',
];

/** A regex list checked at load time: RE2 syntax (linear-time matching), so a bad pattern names its path. */
const re2List = () =>
  z.array(z.string()).default([]).superRefine((list, ctx) => {
    list.forEach((p, i) => {
      try {
        RE2JS.compile(p);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: [i], message: `invalid regular expression (RE2 syntax): ${err instanceof Error ? err.message : String(err)}` });
      }
    });
  });

export const redactionConfigSchema = z.strictObject({
  /** Upstream: true keeps every attribute key; false removes keys not in `allowed_keys` (fails closed). */
  allow_all_keys: z.boolean().default(false),
  /** Upstream: attribute keys kept when `allow_all_keys` is false (their values are still checked). */
  allowed_keys: z.array(z.string()).default([]),
  /** Upstream: attribute keys left alone entirely (not removed, not masked). */
  ignored_keys: z.array(z.string()).default([]),
  /** Tributary: keys whose values are masked entirely (case-insensitive), in attributes and map bodies. */
  blocked_keys: z.array(z.string()).default([...DEFAULT_BLOCKED_KEYS]),
  /** Upstream: regexes on attribute keys whose values are masked entirely. */
  blocked_key_patterns: re2List(),
  /** Upstream: regexes whose matches are masked in attribute values (and, in Tributary, in bodies). */
  blocked_values: re2List(),
  /** Tributary: also mask e-mail addresses, Luhn-valid card numbers and bearer tokens. */
  builtin_patterns: z.boolean().default(true),
  /** Upstream: `debug` adds redaction.*.keys and .count attributes, `info` only the counts, `silent` nothing. */
  summary: z.enum(['debug', 'info', 'silent']).default('silent'),
});

export type RedactionConfig = z.output<typeof redactionConfigSchema>;
