/**
 * Reads a zod schema's structure (best effort): the keys an object accepts at a path, for "did you mean"
 * hints on unknown keys. Looks through optional/default/pipe/preprocess wrappers and unions.
 */
import type { z } from 'zod';

interface Def {
  type?: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod?: { def?: Def } })._zod?.def ?? {};
}

/** The object schemas `s` may stand for (unwrapping wrappers). */
function objects(s: z.ZodType, depth = 0): Def[] {
  if (depth > 20) return [];
  const d = defOf(s);
  switch (d.type) {
    case 'object':
      return [d];
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'catch': case 'readonly': case 'nonoptional':
      return d.innerType ? objects(d.innerType, depth + 1) : [];
    case 'pipe':
      return [...(d.in ? objects(d.in, depth + 1) : []), ...(d.out ? objects(d.out, depth + 1) : [])];
    case 'union':
      return (d.options ?? []).flatMap((o) => objects(o, depth + 1));
    case 'lazy':
      return d.getter ? objects(d.getter(), depth + 1) : [];
    default:
      return [];
  }
}

function child(s: z.ZodType, key: PropertyKey, depth = 0): z.ZodType[] {
  if (depth > 20) return [];
  const d = defOf(s);
  switch (d.type) {
    case 'object': {
      const c = d.shape?.[String(key)];
      return c ? [c] : [];
    }
    case 'array':
      return typeof key === 'number' && d.element ? [d.element] : [];
    case 'record':
      return d.valueType ? [d.valueType] : [];
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'catch': case 'readonly': case 'nonoptional':
      return d.innerType ? child(d.innerType, key, depth + 1) : [];
    case 'pipe':
      return [...(d.in ? child(d.in, key, depth + 1) : []), ...(d.out ? child(d.out, key, depth + 1) : [])];
    case 'union':
      return (d.options ?? []).flatMap((o) => child(o, key, depth + 1));
    case 'lazy':
      return d.getter ? child(d.getter(), key, depth + 1) : [];
    default:
      return [];
  }
}

/** Keys the object at `path` (inside `schema`) accepts; empty when unknown. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let level: z.ZodType[] = [schema];
  for (const p of path) level = level.flatMap((s) => child(s, p));
  const keys = new Set<string>();
  for (const s of level) for (const o of objects(s)) for (const k of Object.keys(o.shape ?? {})) keys.add(k);
  return [...keys];
}
