/**
 * Runtime values of conditions and OTTL comparison semantics. Values are plain JS so reading a field
 * allocates nothing: int64 and double are both `number` (int64 beyond 2^53 loses precision), maps and
 * lists stay the AnyValue they came from.
 */
import { anyValueAsString, int64ToString, type AnyValue } from '@tributary/otlp';
import type { CompareOp } from './parser.js';

/** `AnyValue` here always carries a kvlistValue or arrayValue. */
export type Value = string | number | boolean | null | Uint8Array | AnyValue;

export type ValueType = 'nil' | 'string' | 'int' | 'double' | 'bool' | 'bytes' | 'map' | 'slice';

export function valueOf(v: AnyValue | null | undefined): Value {
  if (v == null) return null;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) return typeof v.intValue === 'number' ? v.intValue : v.intValue.toNumber();
  if (v.doubleValue != null) return v.doubleValue;
  if (v.kvlistValue != null || v.arrayValue != null) return v;
  if (v.bytesValue != null) return v.bytesValue;
  return null;
}

export function anyValueType(v: AnyValue | null | undefined): ValueType {
  if (v == null) return 'nil';
  if (v.stringValue != null) return 'string';
  if (v.boolValue != null) return 'bool';
  if (v.intValue != null) return 'int';
  if (v.doubleValue != null) return 'double';
  if (v.kvlistValue != null) return 'map';
  if (v.arrayValue != null) return 'slice';
  if (v.bytesValue != null) return 'bytes';
  return 'nil';
}

/** Type of a Value when no AnyValue is at hand (a whole number counts as int). */
export function valueType(v: Value): ValueType {
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return Number.isInteger(v) ? 'int' : 'double';
    default: break;
  }
  if (v instanceof Uint8Array) return 'bytes';
  return v.kvlistValue != null ? 'map' : 'slice';
}

function isComplex(v: Value): v is AnyValue {
  return v !== null && typeof v === 'object' && !(v instanceof Uint8Array);
}

function ordered(c: number, op: CompareOp): boolean {
  switch (op) {
    case '==': return c === 0;
    case '!=': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * OTTL comparison: values of different types are never equal (`!=` is true, ordering is false), except
 * int/double which compare numerically; nil equals only nil; booleans order false < true; maps and lists
 * support only `==`/`!=` (by content).
 */
export function compareValues(a: Value, b: Value, op: CompareOp): boolean {
  const ta = typeof a;
  if (ta === 'number' && typeof b === 'number') return ordered(a === b ? 0 : (a as number) < b ? -1 : (a as number) > b ? 1 : NaN, op);
  if (ta === 'string' && typeof b === 'string') return ordered(a === b ? 0 : (a as string) < b ? -1 : 1, op);
  if (ta === 'boolean' && typeof b === 'boolean') return ordered(a === b ? 0 : a ? 1 : -1, op);
  if (a === null || b === null) {
    if (op === '==') return a === b;
    if (op === '!=') return a !== b;
    return false;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return ordered(compareBytes(a, b), op);
  if (isComplex(a) && isComplex(b) && (op === '==' || op === '!=')) {
    const same = (a.kvlistValue != null) === (b.kvlistValue != null) && anyValueAsString(a) === anyValueAsString(b);
    return op === '==' ? same : !same;
  }
  return op === '!=';
}

/** The string form used by IsMatch (OTTL's StringLikeGetter): nil stays null, bytes are hex, maps JSON. */
export function stringLike(v: Value): string | null {
  if (v === null) return null;
  switch (typeof v) {
    case 'string': return v;
    case 'number': return Number.isInteger(v) ? int64ToString(v) : String(v);
    case 'boolean': return v ? 'true' : 'false';
    default: break;
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return anyValueAsString(v);
}
