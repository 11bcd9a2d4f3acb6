/**
 * Compiles a query tree into a predicate on one in-memory record (live tail, alerts, and checks of the
 * store's own answers). Everything that depends only on the query (regexes, token patterns, attribute
 * keys) is built here, once; `matches` allocates nothing but what reading an attribute needs.
 */
import { anyValueAsString, findAttribute, idToHex, int64ToNumber, type AnyValue, type InstrumentationScope, type LogRecord, type Resource } from '@tributary/otlp';
import { compileRegex } from '../ottl/regex.js';
import type { FieldRef, Literal, QueryNode } from './ast.js';

/** How words match: `words` like FTS5's unicode61 tokenizer (whole tokens, case-insensitive); `trigram` = case-insensitive substring. */
export type TextMode = 'words' | 'trigram';

export interface RecordMatcher {
  matches(resource: Resource | null | undefined, scope: InstrumentationScope | null | undefined, record: LogRecord): boolean;
}

type Pred = (r: Resource | null | undefined, s: InstrumentationScope | null | undefined, l: LogRecord) => boolean;

/** Tokens the way unicode61 splits text: runs of letters and digits. */
export function tokenize(text: string): string[] {
  return text.match(/[\p{L}\p{N}]+/gu) ?? [];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A text test for one word/phrase; undefined when the value has no tokens (then it matches everything). */
export function textTest(value: string, mode: TextMode): ((text: string) => boolean) | undefined {
  if (mode === 'trigram') {
    if (value === '') return undefined;
    const needle = value.toLowerCase();
    return (t) => t.toLowerCase().includes(needle);
  }
  const tokens = tokenize(value);
  if (tokens.length === 0) return undefined;
  const re = new RegExp(`(?<![\\p{L}\\p{N}])${tokens.map(escapeRe).join('[^\\p{L}\\p{N}]+')}(?![\\p{L}\\p{N}])`, 'iu');
  return (t) => re.test(t);
}

export function bodyText(record: LogRecord): string {
  const b = record.body;
  if (b == null) return '';
  return b.stringValue != null ? b.stringValue : anyValueAsString(b);
}

function textPred(test: (t: string) => boolean, bodyOnly: boolean): Pred {
  return (_r, _s, l) => {
    if (test(bodyText(l))) return true;
    if (bodyOnly) return false;
    const attrs = l.attributes;
    for (let i = 0; i < attrs.length; i++) {
      const v = attrs[i]!.value?.stringValue;
      if (v != null && test(v)) return true;
    }
    return false;
  };
}

/** The value of a field on a record, as string, number, or undefined when absent. */
type Getter = (r: Resource | null | undefined, s: InstrumentationScope | null | undefined, l: LogRecord) => string | number | boolean | undefined;

function plain(v: AnyValue | undefined): string | number | boolean | undefined {
  if (v == null) return undefined;
  if (v.stringValue != null) return v.stringValue;
  if (v.intValue != null) {
    const n = int64ToNumber(v.intValue);
    return typeof n === 'bigint' ? n.toString() : n;
  }
  if (v.doubleValue != null) return v.doubleValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.arrayValue == null && v.kvlistValue == null && v.bytesValue == null) return undefined;
  return anyValueAsString(v);
}

export function getter(f: FieldRef): Getter {
  switch (f.kind) {
    case 'service': return (r) => plain(findAttribute(r?.attributes, 'service.name'));
    case 'severity': return (_r, _s, l) => l.severityNumber;
    case 'severity_text': return (_r, _s, l) => l.severityText || undefined;
    case 'body': return (_r, _s, l) => (l.body == null ? undefined : bodyText(l));
    case 'trace_id': return (_r, _s, l) => (l.traceId.length ? idToHex(l.traceId) : undefined);
    case 'span_id': return (_r, _s, l) => (l.spanId.length ? idToHex(l.spanId) : undefined);
    case 'correlation_id': return (_r, _s, l) => plain(findAttribute(l.attributes, 'correlation_id'));
    case 'scope': return (_r, s) => s?.name || undefined;
    case 'event_name': return (_r, _s, l) => l.eventName || undefined;
    case 'retention_class': return (_r, _s, l) => plain(findAttribute(l.attributes, 'retention.class'));
    case 'retention_days': return (_r, _s, l) => plain(findAttribute(l.attributes, 'retention.days'));
    case 'attr': {
      const key = f.key;
      return (_r, _s, l) => plain(findAttribute(l.attributes, key));
    }
    case 'resource': {
      const key = f.key;
      return (r) => plain(findAttribute(r?.attributes, key));
    }
  }
}

function equals(v: string | number | boolean, lit: Literal): boolean {
  if (typeof v === 'number') return lit.number !== undefined ? v === lit.number : String(v) === lit.text;
  return String(v) === lit.text;
}

function cmpPred(f: FieldRef, op: string, lit: Literal): Pred {
  const get = getter(f);
  switch (op) {
    case 'exists': return (r, s, l) => get(r, s, l) !== undefined;
    case 'eq': return (r, s, l) => {
      const v = get(r, s, l);
      return v !== undefined && equals(v, lit);
    };
    case 'ne': return (r, s, l) => {
      const v = get(r, s, l);
      return v === undefined || !equals(v, lit);
    };
    case 're':
    case 'nre': {
      const re = compileRegex(lit.text);
      const want = op === 're';
      return (r, s, l) => {
        const v = get(r, s, l);
        return v === undefined ? !want : re.test(String(v)) === want;
      };
    }
    default: {
      const n = lit.number ?? NaN;
      const test = op === 'gt' ? (v: number) => v > n : op === 'ge' ? (v: number) => v >= n : op === 'lt' ? (v: number) => v < n : (v: number) => v <= n;
      return (r, s, l) => {
        const v = get(r, s, l);
        return typeof v === 'number' && test(v);
      };
    }
  }
}

function compile(node: QueryNode, mode: TextMode): Pred {
  switch (node.type) {
    case 'all': return () => true;
    case 'text': {
      const test = textTest(node.value, mode);
      return test ? textPred(test, node.bodyOnly) : () => true;
    }
    case 'contains': {
      const needle = node.value;
      return (_r, _s, l) => bodyText(l).includes(needle);
    }
    case 'cmp': return cmpPred(node.field, node.op, node.value);
    case 'not': {
      const inner = compile(node.item, mode);
      return (r, s, l) => !inner(r, s, l);
    }
    case 'and': {
      const items = node.items.map((n) => compile(n, mode));
      return (r, s, l) => {
        for (let i = 0; i < items.length; i++) if (!items[i]!(r, s, l)) return false;
        return true;
      };
    }
    case 'or': {
      const items = node.items.map((n) => compile(n, mode));
      return (r, s, l) => {
        for (let i = 0; i < items.length; i++) if (items[i]!(r, s, l)) return true;
        return false;
      };
    }
  }
}

/** Builds the record predicate of a parsed query. */
export function compileMatcher(node: QueryNode, mode: TextMode = 'words'): RecordMatcher {
  const pred = compile(node, mode);
  return { matches: pred };
}
