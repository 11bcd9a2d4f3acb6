/**
 * The query language's syntax tree. One tree feeds both back ends: `compileMatcher` (a predicate on an
 * in-memory record, for live tail and alerts) and `planSql` (SQL + FTS5 on a store file).
 */

/** A field a condition can name. `attr`/`resource` carry the attribute key. */
export type FieldRef =
  | { readonly kind: 'service' }
  | { readonly kind: 'severity' }
  | { readonly kind: 'severity_text' }
  | { readonly kind: 'body' }
  | { readonly kind: 'trace_id' }
  | { readonly kind: 'span_id' }
  | { readonly kind: 'correlation_id' }
  | { readonly kind: 'scope' }
  | { readonly kind: 'event_name' }
  | { readonly kind: 'retention_class' }
  | { readonly kind: 'retention_days' }
  | { readonly kind: 'attr'; readonly key: string }
  | { readonly kind: 'resource'; readonly key: string };

export type CompareOp = 'eq' | 'ne' | 're' | 'nre' | 'gt' | 'ge' | 'lt' | 'le' | 'exists';

/** A literal: numbers keep their text so `500` can equal the string "500" too. */
export interface Literal {
  readonly text: string;
  /** Set when the literal was unquoted and parses as a finite number. */
  readonly number?: number | undefined;
  readonly quoted: boolean;
}

export type QueryNode =
  /** Full-text: a word (token sequence) or a quoted phrase, in the body and string attribute values. */
  | { readonly type: 'text'; readonly value: string; readonly bodyOnly: boolean }
  /** Case-sensitive substring of the body (LogQL line filters). */
  | { readonly type: 'contains'; readonly value: string }
  | { readonly type: 'cmp'; readonly field: FieldRef; readonly op: CompareOp; readonly value: Literal }
  | { readonly type: 'and'; readonly items: readonly QueryNode[] }
  | { readonly type: 'or'; readonly items: readonly QueryNode[] }
  | { readonly type: 'not'; readonly item: QueryNode }
  | { readonly type: 'all' };

export const MATCH_ALL: QueryNode = { type: 'all' };

/** Severity level names and the number range each covers (OTLP SeverityNumber). */
export const SEVERITY_LEVELS: Readonly<Record<string, readonly [number, number]>> = {
  trace: [1, 4],
  debug: [5, 8],
  info: [9, 12],
  warn: [13, 16],
  warning: [13, 16],
  error: [17, 20],
  fatal: [21, 24],
  critical: [21, 24],
};

/** The level name of a severity number (`unspecified` for 0). */
export function severityLevel(n: number): string {
  if (n <= 0) return 'unspecified';
  if (n <= 4) return 'trace';
  if (n <= 8) return 'debug';
  if (n <= 12) return 'info';
  if (n <= 16) return 'warn';
  if (n <= 20) return 'error';
  return 'fatal';
}

export const LEVEL_NAMES = ['unspecified', 'trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/** Prints a field reference the way the query language spells it. */
export function fieldName(f: FieldRef): string {
  if (f.kind === 'attr') return `attributes.${f.key}`;
  if (f.kind === 'resource') return `resource.${f.key}`;
  return f.kind;
}
