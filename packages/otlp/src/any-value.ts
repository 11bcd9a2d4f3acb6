/** AnyValue helpers: building values and the `AsString` rendering of pdata. */
import Long from 'long';
import type { AnyValue, KeyValue } from './model.js';

/** The JS value of an AnyValue: string, boolean, number (int64 as number, or bigint if unsafe), Uint8Array, arrays, objects. */
export type RawValue = string | boolean | number | bigint | Uint8Array | null | RawValue[] | { [key: string]: RawValue };

export function int64ToNumber(v: Long | number): number | bigint {
  if (typeof v === 'number') return v;
  const n = v.toNumber();
  return Number.isSafeInteger(n) ? n : BigInt(v.toString());
}

export function int64ToString(v: Long | number): string {
  return typeof v === 'number' ? String(Math.trunc(v)) : v.toString();
}

export function anyValueToRaw(v: AnyValue | null | undefined): RawValue {
  if (v == null) return null;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) return int64ToNumber(v.intValue);
  if (v.doubleValue != null) return v.doubleValue;
  if (v.kvlistValue != null) return keyValuesToRaw(v.kvlistValue.values);
  if (v.arrayValue != null) return v.arrayValue.values.map(anyValueToRaw);
  if (v.bytesValue != null) return v.bytesValue;
  return null;
}

export function keyValuesToRaw(kvs: readonly KeyValue[]): { [key: string]: RawValue } {
  const out: { [key: string]: RawValue } = {};
  for (let i = 0; i < kvs.length; i++) out[kvs[i]!.key] = anyValueToRaw(kvs[i]!.value);
  return out;
}

/** Builds an AnyValue from a JS value (numbers that are safe integers become intValue). */
export function anyValueFrom(v: unknown): AnyValue {
  if (v === null || v === undefined) return {};
  switch (typeof v) {
    case 'string': return { stringValue: v };
    case 'boolean': return { boolValue: v };
    case 'number': return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
    case 'bigint': return { intValue: Long.fromString(v.toString()) };
    default: break;
  }
  if (v instanceof Uint8Array) return { bytesValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValueFrom) } };
  if (typeof v === 'object') return { kvlistValue: { values: keyValuesFrom(v as Record<string, unknown>) } };
  // bigint, symbol or function: their own text.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return { stringValue: String(v) };
}

export function keyValuesFrom(obj: Record<string, unknown>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key of Object.keys(obj)) out.push({ key, value: anyValueFrom(obj[key]) });
  return out;
}

/** Finds an attribute's value by key (linear: attribute lists are short). */
export function findAttribute(kvs: readonly KeyValue[] | null | undefined, key: string): AnyValue | undefined {
  if (kvs == null) return undefined;
  for (let i = 0; i < kvs.length; i++) if (kvs[i]!.key === key) return kvs[i]!.value ?? undefined;
  return undefined;
}

const GO_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/** JSON the way Go's encoding/json writes it: map keys sorted, `<>&` escaped. */
export function goJson(v: RawValue): string {
  return JSON.stringify(sortKeysForJson(v)).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!);
}

function sortKeysForJson(v: RawValue): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? Number(v) : v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(sortKeysForJson);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeysForJson(v[k]!);
  return out;
}

/** pdata `Value.AsString()`. */
export function anyValueAsString(v: AnyValue | null | undefined): string {
  if (v == null) return '';
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue ? 'true' : 'false';
  if (v.intValue != null) return int64ToString(v.intValue);
  if (v.doubleValue != null) {
    const d = v.doubleValue;
    return Number.isFinite(d) ? String(d) : `json: unsupported value: ${d === Infinity ? '+Inf' : d === -Infinity ? '-Inf' : 'NaN'}`;
  }
  if (v.kvlistValue != null || v.arrayValue != null) return goJson(anyValueToRaw(v));
  if (v.bytesValue != null) return Buffer.from(v.bytesValue.buffer, v.bytesValue.byteOffset, v.bytesValue.byteLength).toString('base64');
  return '';
}

/** A deep copy (Longs and byte arrays, never changed in place, are shared). */
export function cloneAnyValue(v: AnyValue | null | undefined): AnyValue | null {
  if (v == null) return null;
  if (v.kvlistValue != null) return { kvlistValue: { values: cloneKeyValues(v.kvlistValue.values) } };
  if (v.arrayValue != null) return { arrayValue: { values: v.arrayValue.values.map((x) => cloneAnyValue(x) ?? {}) } };
  if (v.stringValue != null) return { stringValue: v.stringValue };
  if (v.boolValue != null) return { boolValue: v.boolValue };
  if (v.intValue != null) return { intValue: v.intValue };
  if (v.doubleValue != null) return { doubleValue: v.doubleValue };
  if (v.bytesValue != null) return { bytesValue: v.bytesValue };
  return {};
}

export function cloneKeyValues(kvs: readonly KeyValue[]): KeyValue[] {
  const out = new Array<KeyValue>(kvs.length);
  for (let i = 0; i < kvs.length; i++) out[i] = { key: kvs[i]!.key, value: cloneAnyValue(kvs[i]!.value) };
  return out;
}
