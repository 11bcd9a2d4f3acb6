/**
 * Ready-made record predicates for the simple config forms (severity range, `log.category`, attribute
 * equality) that filter and retention offer beside full conditions. Same `Condition` type, so they mix.
 */
import { findAttribute, recordAttribute, type AnyValue } from '@tributary/otlp';
import type { Condition, LogContext } from './compile.js';
import { compareValues, valueOf } from './values.js';

export const CATEGORY_ATTRIBUTE = 'log.category';

/** Severity within [min, max] (inclusive). Records with severity 0 (unspecified) never match. */
export function severityBetween(min: number | undefined, max: number | undefined): Condition {
  const lo = Math.max(min ?? 1, 1);
  const hi = max ?? 24;
  return (ctx) => {
    const s = ctx.record.severityNumber;
    return s >= lo && s <= hi;
  };
}

/** Attribute `log.category` is a string equal to one of `categories` (exact, case-sensitive). */
export function categoryIn(categories: readonly string[]): Condition {
  const set = new Set(categories);
  return (ctx) => {
    const v = recordAttribute(ctx.record, CATEGORY_ATTRIBUTE);
    return v != null && v.stringValue != null && set.has(v.stringValue);
  };
}

/**
 * Attribute `key` equals `value` with condition semantics (typed: 5 matches int 5 and double 5.0, not
 * the string "5"). Without a value: the attribute is present.
 */
export function attributeEquals(key: string, value: string | number | boolean | undefined, where: 'record' | 'resource' = 'record'): Condition {
  const find = where === 'record'
    ? (ctx: LogContext): AnyValue | undefined => recordAttribute(ctx.record, key)
    : (ctx: LogContext): AnyValue | undefined => findAttribute(ctx.resource?.attributes, key);
  if (value === undefined) return (ctx) => find(ctx) != null;
  if (typeof value === 'string') {
    return (ctx) => {
      const v = find(ctx);
      return v != null && v.stringValue === value;
    };
  }
  return (ctx) => compareValues(valueOf(find(ctx)), value, '==');
}

/** All of `conditions` (true when empty). */
export function allOf(conditions: readonly Condition[]): Condition {
  if (conditions.length === 0) return () => true;
  if (conditions.length === 1) return conditions[0]!;
  if (conditions.length === 2) {
    const [a, b] = conditions as [Condition, Condition];
    return (ctx) => a(ctx) && b(ctx);
  }
  return (ctx) => {
    for (let i = 0; i < conditions.length; i++) if (!conditions[i]!(ctx)) return false;
    return true;
  };
}

/** Any of `conditions` (false when empty). */
export function anyOf(conditions: readonly Condition[]): Condition {
  if (conditions.length === 0) return () => false;
  if (conditions.length === 1) return conditions[0]!;
  return (ctx) => {
    for (let i = 0; i < conditions.length; i++) if (conditions[i]!(ctx)) return true;
    return false;
  };
}
