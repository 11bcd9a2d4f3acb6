/**
 * Key-based redaction, applied to the app's own output and to the OTLP record alike.
 * Copy-on-write: an object with nothing to mask is returned as is, so the common case allocates nothing;
 * the caller's own objects are never mutated (except `redactInPlace` on a record the logger just built).
 */

const MAX_DEPTH = 8;
const CACHE_LIMIT = 2048;

export class Redactor {
  private readonly keys: Set<string>;
  /** Verdicts for keys seen before: log field names repeat, so this avoids re-normalising them. */
  private readonly seen = new Map<string, boolean>();

  constructor(keys: readonly string[], readonly censor: string) {
    this.keys = new Set(keys.map(normalise));
    for (const k of this.keys) this.seen.set(k, true);
  }

  get enabled(): boolean {
    return this.keys.size > 0;
  }

  isSensitive(key: string): boolean {
    const hit = this.seen.get(key);
    if (hit !== undefined) return hit;
    const verdict = this.keys.has(normalise(key));
    if (this.seen.size < CACHE_LIMIT + this.keys.size) this.seen.set(key, verdict);
    return verdict;
  }

  /** Returns `value` itself when nothing under it is sensitive, else a masked copy. */
  redact<T>(value: T, depth = 0): T {
    if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || !this.enabled) return value;
    if (value instanceof Error || ArrayBuffer.isView(value) || value instanceof Date) return value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        const r = this.redact(v, depth + 1);
        if (r !== v) {
          copy ??= value.slice();
          copy[i] = r;
        }
      }
      return (copy ?? value) as T;
    }
    const src = value as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const key in src) {
      if (!Object.prototype.hasOwnProperty.call(src, key)) continue;
      const v = src[key];
      const r = this.isSensitive(key) ? (v === undefined || v === null ? v : this.censor) : this.redact(v, depth + 1);
      if (r !== v) {
        copy ??= { ...src };
        copy[key] = r;
      }
    }
    return (copy ?? value) as T;
  }

  /** Masks top-level keys in place (the object is the logger's own fresh record) and nested values by copy. */
  redactInPlace(record: Record<string, unknown>): void {
    if (!this.enabled) return;
    for (const key in record) {
      if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
      const v = record[key];
      if (this.isSensitive(key)) {
        if (v !== undefined && v !== null) record[key] = this.censor;
      } else if (v !== null && typeof v === 'object') {
        const r = this.redact(v, 1);
        if (r !== v) record[key] = r;
      }
    }
  }
}

function normalise(key: string): string {
  return key.toLowerCase().replace(/-/g, '_');
}
