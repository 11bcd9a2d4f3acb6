/**
 * The search query language: parse once, then run the result on an in-memory record (`compileMatcher`,
 * for live tail and alerts) or on a store file (`planSql`, SQL + FTS5). LogQL (Loki's query language)
 * parses into the same tree (`parseLogQL`). See docs/query-language.md.
 */
export { parseQuery, QueryParseError, resolveField } from './parser.js';
export { compileMatcher, tokenize, bodyText, type RecordMatcher, type TextMode } from './matcher.js';
export { planSql, planRollup, jsonPath, type SqlPlan, type SqlParam } from './sql.js';
export { parseTime, parseRelative, TimeParseError } from './time.js';
export { parseLogQL, LogQLParseError, labelName, defaultLabelResolver, type LogQLQuery, type LogQLMetric, type LabelResolver } from './logql.js';
export { MATCH_ALL, SEVERITY_LEVELS, severityLevel, LEVEL_NAMES, fieldName, type QueryNode, type FieldRef, type CompareOp, type Literal } from './ast.js';

import { parseQuery } from './parser.js';
import { compileMatcher, type RecordMatcher, type TextMode } from './matcher.js';
import { planSql, type SqlPlan } from './sql.js';
import type { QueryNode } from './ast.js';

/** A query parsed once, with both back ends built. */
export interface CompiledQuery {
  readonly text: string;
  readonly ast: QueryNode;
  readonly matcher: RecordMatcher;
  readonly sql: SqlPlan;
}

/** Parses and compiles a query for both back ends. Throws QueryParseError (with position) on bad input. */
export function compileQuery(text: string, mode: TextMode = 'words'): CompiledQuery {
  const ast = parseQuery(text);
  return { text, ast, matcher: compileMatcher(ast, mode), sql: planSql(ast, mode) };
}
