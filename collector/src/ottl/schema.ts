/** Zod helpers so every component validates conditions, regexes and severities the same way. */
import { z } from 'zod';
import { conditionError } from './compile.js';
import { regexProblem } from './regex.js';
import { parseSeverityBound } from './severity.js';

/** An OTTL condition string; a parse error becomes a config issue at this value's path, with the position. */
export const ottlCondition = () =>
  z.string().superRefine((text, ctx) => {
    const err = conditionError(text);
    if (err) ctx.addIssue({ code: 'custom', message: err.message });
  });

/** An RE2 pattern (no backreferences or lookaround), checked at validation. */
export const regexPattern = () =>
  z.string().superRefine((text, ctx) => {
    const problem = regexProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `invalid regex ${JSON.stringify(text)}: ${problem}` });
  });

/**
 * A severity bound: a level name (`WARN`, `warn2`, `SEVERITY_NUMBER_ERROR`, `WARNING`) or a number 0–24.
 * Output: the severity number; a bare level name is its first number as `min`, its last as `max`.
 */
export const severityBound = (bound: 'min' | 'max') =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const n = parseSeverityBound(v, bound);
    if (n !== undefined) return n;
    ctx.addIssue({ code: 'custom', message: `invalid severity ${JSON.stringify(v)} (use TRACE, DEBUG, INFO, WARN, ERROR, FATAL, optionally with 2-4, or a number 0-24)` });
    return z.NEVER;
  });

/** `error_mode` of condition-evaluating components (upstream semantics). */
export const errorMode = () => z.enum(['propagate', 'ignore', 'silent']).default('propagate');
export type ErrorMode = 'propagate' | 'ignore' | 'silent';
