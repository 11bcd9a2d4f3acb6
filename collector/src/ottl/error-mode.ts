/** Applies `error_mode` to a compiled condition: what happens when a record cannot be evaluated. */
import type { RateLimitedLog } from '../telemetry/logger.js';
import type { Condition } from './compile.js';
import { EvaluationError } from './errors.js';
import type { ErrorMode } from './schema.js';

/**
 * propagate: rethrow as EvaluationError naming the condition (the caller rejects the batch);
 * ignore: log (rate-limited) and treat as not matching; silent: not matching, no log.
 */
export function guardCondition(condition: Condition, label: string, mode: ErrorMode, log?: RateLimitedLog): Condition {
  if (mode === 'propagate') {
    return (ctx) => {
      try {
        return condition(ctx);
      } catch (err) {
        throw new EvaluationError(`condition ${label}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    };
  }
  return (ctx) => {
    try {
      return condition(ctx);
    } catch (err) {
      if (mode === 'ignore') log?.warn('condition failed on a record; treated as not matching', { condition: label, error: err instanceof Error ? err.message : String(err) });
      return false;
    }
  };
}
