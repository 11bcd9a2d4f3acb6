/** Exact splits of unsigned nanosecond `Long`s into whole milliseconds / seconds and the rest, without a decimal string. */
import type { Long } from '@tributary/otlp';

/** Reused result of the split functions (read it before the next call). */
const SPLIT = { whole: 0, rest: 0 };

/** Whole milliseconds of unsigned nanoseconds and the remaining nanoseconds (0…999999), exactly. */
export function splitMillis(t: Long): { whole: number; rest: number } {
  const hi = t.high >>> 0;
  // hi·2^32 + lo = hi·4294·10^6 + (hi·967296 + lo), every part below 2^53.
  const b = hi * 967296 + (t.low >>> 0);
  const carry = Math.floor(b / 1e6);
  SPLIT.whole = hi * 4294 + carry;
  SPLIT.rest = b - carry * 1e6;
  return SPLIT;
}

/** Whole seconds of unsigned nanoseconds and the remaining nanoseconds (0…999999999), exactly. */
export function splitSeconds(t: Long): { whole: number; rest: number } {
  const m = splitMillis(t);
  const ms = m.whole;
  const s = Math.floor(ms / 1000);
  SPLIT.rest = (ms - s * 1000) * 1e6 + m.rest;
  SPLIT.whole = s;
  return SPLIT;
}
