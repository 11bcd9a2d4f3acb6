/** Compiles upstream-style include/exclude match properties into one record predicate, once. */
import { anyValueAsString, findAttribute, type KeyValue } from '@tributary/otlp';
import {
  allOf,
  attributeEquals,
  categoryIn,
  compileRegex,
  severityBetween,
  stringLike,
  valueOf,
  type Condition,
  type LogContext,
} from '../../ottl/index.js';
import type { MatchProperties } from './config.js';

type StringTest = (s: string) => boolean;

function stringTest(patterns: readonly string[], regexp: boolean): StringTest {
  if (!regexp) {
    const set = new Set(patterns);
    return (s) => set.has(s);
  }
  const res = patterns.map(compileRegex);
  return (s) => {
    for (let i = 0; i < res.length; i++) if (res[i]!.test(s)) return true;
    return false;
  };
}

function attributeTest(key: string, value: string | number | boolean | undefined, regexp: boolean, where: 'record' | 'resource'): Condition {
  if (!regexp || value === undefined) return attributeEquals(key, value, where);
  const re = compileRegex(String(value));
  const list = where === 'record' ? (ctx: LogContext): KeyValue[] | undefined => ctx.record.attributes : (ctx: LogContext) => ctx.resource?.attributes;
  return (ctx) => {
    const s = stringLike(valueOf(findAttribute(list(ctx), key)));
    return s !== null && re.test(s);
  };
}

export function compileMatchProperties(p: MatchProperties): Condition {
  const regexp = p.match_type === 'regexp';
  const parts: Condition[] = [];
  if (p.severity_texts !== undefined) {
    const test = stringTest(p.severity_texts, regexp);
    parts.push((ctx) => test(ctx.record.severityText ?? ''));
  }
  if (p.bodies !== undefined) {
    const test = stringTest(p.bodies, regexp);
    parts.push((ctx) => test(anyValueAsString(ctx.record.body)));
  }
  if (p.severity_number !== undefined) {
    const { min, match_undefined: matchUndefined } = p.severity_number;
    parts.push((ctx) => {
      const s = ctx.record.severityNumber;
      return s === 0 ? matchUndefined : s >= min;
    });
  }
  if (p.min_severity !== undefined || p.max_severity !== undefined) parts.push(severityBetween(p.min_severity, p.max_severity));
  if (p.categories !== undefined) parts.push(categoryIn(p.categories));
  for (const a of p.record_attributes ?? []) parts.push(attributeTest(a.key, a.value, regexp, 'record'));
  for (const a of p.resource_attributes ?? []) parts.push(attributeTest(a.key, a.value, regexp, 'resource'));
  return allOf(parts);
}
