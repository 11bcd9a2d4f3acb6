/**
 * The attribute actions shared by the `attributes` and `resource` processors (upstream
 * coreinternal/attraction): insert, update, upsert, delete, hash, extract, convert. Everything is
 * resolved at create time (regexes compiled, value templates built); applying an action walks one
 * attribute list.
 */
import { createHash } from 'node:crypto';
import { anyValueAsString, anyValueFrom, anyValueToRaw, int64ToNumber, type AnyValue, type KeyValue } from '@tributary/otlp';
import { RE2JS } from 're2js';
import { z } from 'zod';
import type { LogsBatch } from '../../component.js';

const jsonValue: z.ZodType = z.union([z.string(), z.number(), z.boolean(), z.array(z.unknown()), z.record(z.string(), z.unknown())]);

export const actionSchema = z
  .strictObject({
    key: z.string().optional(),
    action: z.enum(['insert', 'update', 'upsert', 'delete', 'hash', 'extract', 'convert']),
    value: jsonValue.optional(),
    from_attribute: z.string().optional(),
    /** `metadata.<header>` (request headers, with `include_metadata: true` on the receiver) or a bare header name. */
    from_context: z.string().optional(),
    /** delete/hash: regex on keys. extract: regex on the value of `key`, named groups become attributes. */
    pattern: z.string().optional(),
    converted_type: z.enum(['int', 'double', 'string']).optional(),
  })
  .superRefine((a, ctx) => {
    const issue = (message: string, path: string[] = []): void => { ctx.addIssue({ code: 'custom', path, message }); };
    let re: RE2JS | undefined;
    if (a.pattern !== undefined) {
      try {
        re = RE2JS.compile(a.pattern);
      } catch (err) {
        issue(`invalid regular expression (RE2 syntax): ${err instanceof Error ? err.message : String(err)}`, ['pattern']);
      }
    }
    switch (a.action) {
      case 'insert': case 'update': case 'upsert': {
        if (!a.key) issue('required', ['key']);
        const sources = [a.value !== undefined, a.from_attribute !== undefined, a.from_context !== undefined].filter(Boolean).length;
        if (sources !== 1) issue(`${a.action} needs exactly one of value, from_attribute, from_context`);
        break;
      }
      case 'delete': case 'hash':
        if (!a.key && a.pattern === undefined) issue(`${a.action} needs key or pattern`);
        break;
      case 'extract':
        if (!a.key) issue('required', ['key']);
        if (a.pattern === undefined) issue('required', ['pattern']);
        else if (re && Object.keys(re.namedGroups()).length === 0) issue('extract needs named groups, e.g. (?P<name>…)', ['pattern']);
        break;
      case 'convert':
        if (!a.key) issue('required', ['key']);
        if (a.converted_type === undefined) issue('required', ['converted_type']);
        break;
    }
  });

export type ActionConfig = z.output<typeof actionSchema>;

interface CompiledAction {
  kind: ActionConfig['action'];
  key: string;
  /** Builds a fresh value (never shared between records: later processors may change it in place). */
  template: unknown;
  hasTemplate: boolean;
  fromAttribute: string | undefined;
  fromContext: string | undefined;
  re: RE2JS | undefined;
  groups: string[];
  convertTo: ActionConfig['converted_type'];
}

function indexOf(kvs: readonly KeyValue[], key: string): number {
  for (let i = 0; i < kvs.length; i++) if (kvs[i]!.key === key) return i;
  return -1;
}

function cloneValue(v: AnyValue): AnyValue {
  if (v.kvlistValue != null || v.arrayValue != null) return anyValueFrom(anyValueToRaw(v));
  return { ...v };
}

function contextValue(metadata: LogsBatch['metadata'], name: string): AnyValue | undefined {
  if (metadata == null) return undefined;
  const header = (name.startsWith('metadata.') ? name.slice('metadata.'.length) : name).toLowerCase();
  const v = metadata[header];
  if (v === undefined) return undefined;
  // Upstream joins several values of one key with ';'.
  return { stringValue: Array.isArray(v) ? v.join(';') : v };
}

function sha256Hex(v: AnyValue): string {
  const h = createHash('sha256');
  if (v.bytesValue != null) h.update(v.bytesValue);
  else h.update(anyValueAsString(v));
  return h.digest('hex');
}

function convert(v: AnyValue, to: ActionConfig['converted_type']): AnyValue | undefined {
  switch (to) {
    case 'string':
      return v.stringValue != null ? undefined : { stringValue: anyValueAsString(v) };
    case 'int': {
      if (v.intValue != null) return undefined;
      if (v.doubleValue != null) return Number.isFinite(v.doubleValue) ? { intValue: Math.trunc(v.doubleValue) } : undefined;
      if (v.boolValue != null) return { intValue: v.boolValue ? 1 : 0 };
      if (v.stringValue != null && /^\s*[+-]?\d+\s*$/.test(v.stringValue)) {
        const n = Number(v.stringValue);
        return Number.isSafeInteger(n) ? { intValue: n } : undefined;
      }
      return undefined;
    }
    case 'double': {
      if (v.doubleValue != null) return undefined;
      if (v.intValue != null) return { doubleValue: Number(int64ToNumber(v.intValue)) };
      if (v.boolValue != null) return { doubleValue: v.boolValue ? 1 : 0 };
      if (v.stringValue != null && v.stringValue.trim() !== '') {
        const n = Number(v.stringValue);
        return Number.isNaN(n) ? undefined : { doubleValue: n };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A compiled list of actions, applied in order to one attribute list. */
export class AttributeActions {
  private readonly actions: CompiledAction[];

  constructor(configs: readonly ActionConfig[]) {
    this.actions = configs.map((a) => {
      const re = a.pattern !== undefined ? RE2JS.compile(a.pattern) : undefined;
      return {
        kind: a.action, key: a.key ?? '', template: a.value, hasTemplate: a.value !== undefined,
        fromAttribute: a.from_attribute, fromContext: a.from_context, re,
        groups: a.action === 'extract' && re ? Object.keys(re.namedGroups()) : [],
        convertTo: a.converted_type,
      };
    });
  }

  apply(kvs: KeyValue[], metadata: LogsBatch['metadata']): void {
    for (let i = 0; i < this.actions.length; i++) {
      const a = this.actions[i]!;
      switch (a.kind) {
        case 'insert': case 'update': case 'upsert': {
          const idx = indexOf(kvs, a.key);
          if (a.kind === 'insert' && idx >= 0) break;
          if (a.kind === 'update' && idx < 0) break;
          let v: AnyValue | undefined;
          if (a.hasTemplate) v = anyValueFrom(a.template);
          else if (a.fromAttribute !== undefined) {
            const src = indexOf(kvs, a.fromAttribute);
            const sv = src >= 0 ? kvs[src]!.value : undefined;
            v = sv != null ? cloneValue(sv) : undefined;
          } else v = contextValue(metadata, a.fromContext!);
          if (v === undefined) break;
          if (idx >= 0) kvs[idx]!.value = v;
          else kvs.push({ key: a.key, value: v });
          break;
        }
        case 'delete': {
          let w = 0;
          for (let j = 0; j < kvs.length; j++) {
            const kv = kvs[j]!;
            if (kv.key === a.key || (a.re !== undefined && a.re.test(kv.key))) continue;
            kvs[w++] = kv;
          }
          kvs.length = w;
          break;
        }
        case 'hash':
          for (let j = 0; j < kvs.length; j++) {
            const kv = kvs[j]!;
            if (kv.value != null && (kv.key === a.key || (a.re !== undefined && a.re.test(kv.key)))) kv.value = { stringValue: sha256Hex(kv.value) };
          }
          break;
        case 'extract': {
          const idx = indexOf(kvs, a.key);
          const s = idx >= 0 ? kvs[idx]!.value?.stringValue : undefined;
          if (s == null) break;
          const m = a.re!.matcher(s);
          if (!m.find()) break;
          for (const g of a.groups) {
            const gv = m.group(g) ?? '';
            const at = indexOf(kvs, g);
            if (at >= 0) kvs[at]!.value = { stringValue: gv };
            else kvs.push({ key: g, value: { stringValue: gv } });
          }
          break;
        }
        case 'convert': {
          const idx = indexOf(kvs, a.key);
          const v = idx >= 0 ? kvs[idx]!.value : undefined;
          if (v == null) break;
          const c = convert(v, a.convertTo);
          if (c !== undefined) kvs[idx]!.value = c;
          break;
        }
      }
    }
  }
}
