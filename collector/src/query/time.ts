/** Time bounds of a query: RFC 3339, Unix seconds/ms/µs/ns (told apart by magnitude), `now`, `now-15m`. */
import { parseDuration } from '../config/schema-helpers.js';

export class TimeParseError extends Error {
  override name = 'TimeParseError';
}

/** Parses a relative duration like `15m`, `1h30m`, `2d`, `1w` into milliseconds. */
export function parseRelative(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(d|w)$/.exec(text);
  if (m) return Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 604_800_000);
  return parseDuration(text);
}

/**
 * A point in time in milliseconds since the epoch (fraction = sub-millisecond). `what` names the
 * parameter in the error.
 */
export function parseTime(text: string, what: string, now = Date.now()): number {
  const s = text.trim();
  if (s === 'now') return now;
  const rel = /^now\s*-\s*(.+)$/.exec(s);
  if (rel) {
    const ms = parseRelative(rel[1]!.trim());
    if (ms === undefined) throw new TimeParseError(`${what}: invalid relative time "${text}" (use e.g. now-15m, now-2h, now-7d)`);
    return now - ms;
  }
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    if (s.includes('.')) return n * 1000; // Loki: float seconds
    if (s.length >= 17) return Number(BigInt(s) / 1000n) / 1000; // ns (exact enough to the µs)
    if (s.length >= 15) return n / 1000; // µs
    if (s.length >= 12) return n; // ms
    return n * 1000; // s
  }
  const d = Date.parse(s);
  if (Number.isNaN(d) || !/^\d{4}-\d{2}-\d{2}/.test(s)) throw new TimeParseError(`${what}: invalid time "${text}" (use RFC 3339, Unix seconds/ms/ns, or now-15m)`);
  // Keep sub-millisecond digits that Date.parse drops.
  const frac = /\.\d{3}(\d+)/.exec(s);
  return frac ? d + Number(`0.${frac[1]}`) : d;
}
