/** Severity names in config (`WARN`, `warn2`, `SEVERITY_NUMBER_ERROR`, `17`) to OTLP severity numbers. */
import { SeverityNumber } from '@tributary/otlp';

const ALIASES: Record<string, string> = { WARNING: 'WARN', ERR: 'ERROR', CRITICAL: 'FATAL', INFORMATION: 'INFO' };

/**
 * Parses a severity bound. A level name without a digit is a whole range (WARN = WARN..WARN4), so as a
 * lower bound it means its first number (13) and as an upper bound its last (16): `max_severity: WARN`
 * includes WARN4. Names with a digit and plain numbers are exact. Returns undefined when not a severity.
 */
export function parseSeverityBound(value: string | number, bound: 'min' | 'max'): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 24 ? value : undefined;
  let name = value.trim().toUpperCase();
  if (/^\d+$/.test(name)) return parseSeverityBound(Number(name), bound);
  if (name.startsWith('SEVERITY_NUMBER_')) name = name.slice('SEVERITY_NUMBER_'.length);
  name = ALIASES[name] ?? name;
  const n = (SeverityNumber as Record<string, number>)[name];
  if (n === undefined) return undefined;
  const wholeRange = n > 0 && !/\d$/.test(name);
  return bound === 'max' && wholeRange ? n + 3 : n;
}

/** `SEVERITY_NUMBER_WARN` (enum name in conditions) to its number, or undefined. */
export function severityEnumValue(name: string): number | undefined {
  if (!name.startsWith('SEVERITY_NUMBER_')) return undefined;
  return (SeverityNumber as Record<string, number>)[name.slice('SEVERITY_NUMBER_'.length)];
}
