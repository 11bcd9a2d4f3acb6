/**
 * Severity parsing as upstream's `severity_parser`: the `default` preset maps level names (any case)
 * to OTLP severities; `mapping` adds or overrides, with a value, a list, or a `{ min, max }` range of
 * numbers (HTTP status codes as severities, for instance).
 */
import { SeverityNumber } from '@tributary/otlp';

type Level = keyof typeof SeverityNumber;
const LEVEL_NAMES = Object.keys(SeverityNumber).filter((k) => k !== 'UNSPECIFIED').map((k) => k.toLowerCase());

const DEFAULT_ALIASES: Record<string, Level> = {
  warning: 'WARN', err: 'ERROR', crit: 'FATAL', critical: 'FATAL', emerg: 'FATAL', emergency: 'FATAL', alert: 'FATAL',
  panic: 'FATAL', notice: 'INFO2', informational: 'INFO', information: 'INFO', dbg: 'DEBUG', trc: 'TRACE', eror: 'ERROR',
};

export type MappingValue = string | number | { min: number; max: number } | (string | number | { min: number; max: number })[];

export interface SeverityMatcher {
  /** Returns [severityNumber, text] or undefined when nothing maps. */
  match(value: unknown): number | undefined;
}

export function levelNumber(name: string): number {
  const key = name.toUpperCase() as Level;
  const n = SeverityNumber[key];
  if (n === undefined) throw new Error(`unknown severity "${name}" (use trace, debug, info, warn, error, fatal, optionally with 2-4)`);
  return n;
}

export function compileSeverity(preset: 'default' | 'none', mapping: Record<string, MappingValue>): SeverityMatcher {
  const exact = new Map<string, number>();
  const ranges: { min: number; max: number; n: number }[] = [];
  if (preset === 'default') {
    for (const name of LEVEL_NAMES) exact.set(name, SeverityNumber[name.toUpperCase() as Level]);
    for (const [alias, level] of Object.entries(DEFAULT_ALIASES)) exact.set(alias, SeverityNumber[level]);
  }
  for (const [level, values] of Object.entries(mapping)) {
    const n = levelNumber(level);
    for (const v of Array.isArray(values) ? values : [values]) {
      if (typeof v === 'object') ranges.push({ min: v.min, max: v.max, n });
      else exact.set(String(v).toLowerCase(), n);
    }
  }
  return {
    match(value: unknown): number | undefined {
      if (typeof value === 'number') {
        for (const r of ranges) if (value >= r.min && value <= r.max) return r.n;
        return exact.get(String(value));
      }
      if (typeof value !== 'string') return undefined;
      const hit = exact.get(value.toLowerCase()) ?? exact.get(value.trim().toLowerCase());
      if (hit !== undefined) return hit;
      if (ranges.length > 0 && /^\d+$/.test(value)) {
        const num = Number(value);
        for (const r of ranges) if (num >= r.min && num <= r.max) return r.n;
      }
      return undefined;
    },
  };
}
