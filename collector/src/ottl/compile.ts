/**
 * Compiles a parsed condition into a tree of closures, once. Field paths, attribute keys, enum names and
 * regexes are resolved here; evaluating a record then only reads fields and compares, with no per-record
 * allocation (except for the string forms some functions need).
 */
import {
  anyValueAsString,
  findAttribute,
  idToHex,
  recordAttribute,
  recordBody,
  type AnyValue,
  type InstrumentationScope,
  type KeyValue,
  type LogRecord,
  type Resource,
} from '@tributary/otlp';
import { EvaluationError, ParseError } from './errors.js';
import { parseCondition, type BoolNode, type CompareOp, type ValueNode } from './parser.js';
import { compileRegex, RegexError } from './regex.js';
import { severityEnumValue } from './severity.js';
import { anyValueType, compareValues, stringLike, valueOf, type Value, type ValueType } from './values.js';

/**
 * What a condition sees of one record. Callers reuse one object for a whole batch and overwrite its
 * fields per record, so evaluating allocates nothing.
 */
export interface LogContext {
  record: LogRecord;
  resource: Resource | null | undefined;
  scope: InstrumentationScope | null | undefined;
}

/** A compiled condition. Throws EvaluationError when the record cannot be evaluated (see error_mode). */
export type Condition = (ctx: LogContext) => boolean;

type Getter = (ctx: LogContext) => Value;
type AnyGetter = (ctx: LogContext) => AnyValue | null | undefined;

interface CompiledValue {
  get: Getter;
  type: (ctx: LogContext) => ValueType;
  /** Set when the value is known at compile time (literals, enums). */
  constant?: { value: Value };
}

const FUNCTIONS = ['IsMatch', 'IsString', 'IsInt', 'IsDouble', 'IsBool', 'IsMap', 'IsList'] as const;
const TYPE_CHECKS: Record<string, ValueType> = { IsString: 'string', IsInt: 'int', IsDouble: 'double', IsBool: 'bool', IsMap: 'map', IsList: 'slice' };

function constantValue(value: Value, type: ValueType): CompiledValue {
  return { get: () => value, type: () => type, constant: { value } };
}

function fromAny(getAny: AnyGetter): CompiledValue {
  return { get: (ctx) => valueOf(getAny(ctx)), type: (ctx) => anyValueType(getAny(ctx)) };
}

function typed(get: Getter, type: ValueType): CompiledValue {
  return { get, type: () => type };
}

function indexMap(v: AnyValue | null | undefined, key: string): AnyValue | null | undefined {
  if (v == null) return null;
  if (v.kvlistValue != null) return findAttribute(v.kvlistValue.values, key);
  const t = anyValueType(v);
  if (t === 'nil') return null;
  throw new EvaluationError(`cannot index a ${t} value with ${JSON.stringify(key)}`);
}

function indexList(v: AnyValue | null | undefined, index: number): AnyValue | null | undefined {
  if (v == null) return null;
  if (v.arrayValue != null) {
    const values = v.arrayValue.values;
    if (index < 0 || index >= values.length) throw new EvaluationError(`index ${index} out of range (list of ${values.length})`);
    return values[index];
  }
  const t = anyValueType(v);
  if (t === 'nil') return null;
  throw new EvaluationError(`cannot index a ${t} value with [${index}]`);
}

function withKeys(root: AnyGetter, keys: readonly { value: string | number }[]): AnyGetter {
  let get = root;
  for (const { value } of keys) {
    const prev = get;
    get = typeof value === 'string' ? (ctx) => indexMap(prev(ctx), value) : (ctx) => indexList(prev(ctx), value);
  }
  return get;
}

/** `attributes["k"]…` style paths: the first key must be a string (an attribute name). */
function attributesPath(node: Extract<ValueNode, { kind: 'path' }>, list: ((ctx: LogContext) => readonly KeyValue[] | null | undefined) | 'record'): CompiledValue {
  const first = node.keys[0];
  if (first === undefined) throw new ParseError(`path "${node.fields.join('.')}" needs a key, e.g. ["name"]`, node.pos);
  if (typeof first.value !== 'string') throw new ParseError('attribute keys are strings', first.pos);
  const key = first.value;
  // A record's attribute is looked up without decoding a record still in its received bytes.
  const root: AnyGetter = list === 'record' ? (ctx) => recordAttribute(ctx.record, key) : (ctx) => findAttribute(list(ctx), key);
  return fromAny(node.keys.length === 1 ? root : withKeys(root, node.keys.slice(1)));
}

function compilePath(node: Extract<ValueNode, { kind: 'path' }>): CompiledValue {
  // Newer OTTL prefixes log fields with their context (`log.body`); both spellings are accepted.
  const fields = node.fields[0] === 'log' && node.fields.length > 1 ? node.fields.slice(1) : node.fields;
  const name = fields.join('.');
  const noKeys = (): void => {
    const k = node.keys[0];
    if (k !== undefined) throw new ParseError(`path "${name}" cannot be indexed`, k.pos);
  };
  switch (name) {
    case 'severity_number':
      noKeys();
      return typed((ctx) => ctx.record.severityNumber, 'int');
    case 'severity_text':
      noKeys();
      return typed((ctx) => ctx.record.severityText ?? '', 'string');
    case 'event_name':
      noKeys();
      return typed((ctx) => ctx.record.eventName ?? '', 'string');
    case 'flags':
      noKeys();
      return typed((ctx) => ctx.record.flags, 'int');
    case 'dropped_attributes_count':
      noKeys();
      return typed((ctx) => ctx.record.droppedAttributesCount, 'int');
    case 'body':
      return fromAny(withKeys((ctx) => recordBody(ctx.record), node.keys));
    case 'body.string':
      noKeys();
      return typed((ctx) => anyValueAsString(recordBody(ctx.record)), 'string');
    case 'attributes':
      return attributesPath(node, 'record');
    case 'resource.attributes':
      return attributesPath(node, (ctx) => ctx.resource?.attributes);
    case 'instrumentation_scope.attributes':
    case 'scope.attributes':
      return attributesPath(node, (ctx) => ctx.scope?.attributes);
    case 'instrumentation_scope.name':
    case 'scope.name':
      noKeys();
      return typed((ctx) => ctx.scope?.name ?? '', 'string');
    case 'instrumentation_scope.version':
    case 'scope.version':
      noKeys();
      return typed((ctx) => ctx.scope?.version ?? '', 'string');
    case 'trace_id':
      noKeys();
      return typed((ctx) => ctx.record.traceId, 'bytes');
    case 'span_id':
      noKeys();
      return typed((ctx) => ctx.record.spanId, 'bytes');
    case 'trace_id.string':
      noKeys();
      return typed((ctx) => idToHex(ctx.record.traceId), 'string');
    case 'span_id.string':
      noKeys();
      return typed((ctx) => idToHex(ctx.record.spanId), 'string');
    default:
      throw new ParseError(`unknown path "${node.fields.join('.')}"`, node.pos);
  }
}

function compileCall(node: Extract<ValueNode, { kind: 'call' }>): CompiledValue {
  const arity = (n: number): void => {
    if (node.args.length !== n) throw new ParseError(`${node.name} takes ${n} argument${n === 1 ? '' : 's'}, got ${node.args.length}`, node.pos);
  };
  if (node.name === 'IsMatch') {
    arity(2);
    const target = compileValue(node.args[0]!);
    const patternNode = node.args[1]!;
    if (patternNode.kind !== 'literal' || patternNode.type !== 'string') throw new ParseError('IsMatch pattern must be a string literal', patternNode.pos);
    const pattern = patternNode.value as string;
    let re;
    try {
      re = compileRegex(pattern);
    } catch (err) {
      if (err instanceof RegexError) throw new ParseError(`invalid regex ${JSON.stringify(pattern)}`, patternNode.pos, err.message);
      throw err;
    }
    const get = target.get;
    return typed((ctx) => {
      const s = stringLike(get(ctx));
      return s !== null && re.test(s);
    }, 'bool');
  }
  const wanted = TYPE_CHECKS[node.name];
  if (wanted !== undefined) {
    arity(1);
    const type = compileValue(node.args[0]!).type;
    return typed((ctx) => type(ctx) === wanted, 'bool');
  }
  throw new ParseError(`unknown function "${node.name}"`, node.pos, `supported: ${FUNCTIONS.join(', ')}`);
}

function compileValue(node: ValueNode): CompiledValue {
  switch (node.kind) {
    case 'literal':
      return constantValue(node.value, node.type);
    case 'enum': {
      const n = severityEnumValue(node.name);
      if (n === undefined) throw new ParseError(`unknown enum "${node.name}"`, node.pos, 'expected SEVERITY_NUMBER_<LEVEL>');
      return constantValue(n, 'int');
    }
    case 'call':
      return compileCall(node);
    case 'path':
      return compilePath(node);
  }
}

const FLIPPED: Record<CompareOp, CompareOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** `get(ctx) op c` with c known: the common shapes get a closure without the generic type dispatch. */
function compareWithConstant(get: Getter, op: CompareOp, c: Value): Condition {
  if (op === '==' && (c === null || typeof c !== 'object')) return (ctx) => get(ctx) === c;
  if (op === '!=' && (c === null || typeof c !== 'object')) return (ctx) => get(ctx) !== c;
  if (typeof c === 'number') {
    switch (op) {
      case '<': return (ctx) => { const v = get(ctx); return typeof v === 'number' && v < c; };
      case '<=': return (ctx) => { const v = get(ctx); return typeof v === 'number' && v <= c; };
      case '>': return (ctx) => { const v = get(ctx); return typeof v === 'number' && v > c; };
      case '>=': return (ctx) => { const v = get(ctx); return typeof v === 'number' && v >= c; };
      default: break;
    }
  }
  return (ctx) => compareValues(get(ctx), c, op);
}

function compileCompare(node: Extract<BoolNode, { kind: 'compare' }>): Condition {
  const left = compileValue(node.left);
  const right = compileValue(node.right);
  if (left.constant && right.constant) {
    const result = compareValues(left.constant.value, right.constant.value, node.op);
    return () => result;
  }
  if (right.constant) return compareWithConstant(left.get, node.op, right.constant.value);
  if (left.constant) return compareWithConstant(right.get, FLIPPED[node.op], left.constant.value);
  const l = left.get;
  const r = right.get;
  const op = node.op;
  return (ctx) => compareValues(l(ctx), r(ctx), op);
}

function compileBool(node: BoolNode): Condition {
  switch (node.kind) {
    case 'or': {
      const items = node.items.map(compileBool);
      if (items.length === 2) {
        const [a, b] = items as [Condition, Condition];
        return (ctx) => a(ctx) || b(ctx);
      }
      return (ctx) => {
        for (let i = 0; i < items.length; i++) if (items[i]!(ctx)) return true;
        return false;
      };
    }
    case 'and': {
      const items = node.items.map(compileBool);
      if (items.length === 2) {
        const [a, b] = items as [Condition, Condition];
        return (ctx) => a(ctx) && b(ctx);
      }
      return (ctx) => {
        for (let i = 0; i < items.length; i++) if (!items[i]!(ctx)) return false;
        return true;
      };
    }
    case 'not': {
      const item = compileBool(node.item);
      return (ctx) => !item(ctx);
    }
    case 'compare':
      return compileCompare(node);
    case 'term': {
      const v = compileValue(node.value);
      if (v.constant) {
        const result = v.constant.value === true;
        return () => result;
      }
      const get = v.get;
      return (ctx) => get(ctx) === true;
    }
  }
}

/**
 * Compiles an OTTL-style condition (see ottl/README.md for the language) into a predicate over one log
 * record. Throws ParseError (with `position`) when the text is not a valid condition.
 */
export function compileCondition(text: string): Condition {
  return compileBool(parseCondition(text));
}

/** The ParseError a condition would throw, or undefined when it compiles. For config validation. */
export function conditionError(text: string): ParseError | undefined {
  try {
    compileCondition(text);
    return undefined;
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw err;
  }
}
