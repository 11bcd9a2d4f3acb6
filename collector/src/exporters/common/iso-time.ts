/**
 * RFC 3339 UTC timestamps of nanosecond `Long`s written straight into a `JsonByteWriter`, from integer
 * arithmetic (no decimal string, no Date per record): the same text as
 * `new Date(seconds * 1000).toISOString().slice(0, 19)` + `.` + the first `fractionDigits` digits of the
 * nanoseconds + `Z`.
 */
import type Long from 'long';
import type { JsonByteWriter } from '@tributary/otlp';

// Records of a batch share their day (a record's time and observed time often differ in the second):
// the date part is rendered once per day, the time of day from integers.
let lastDay = -1;
let lastDate = '';
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/** `YYYY-MM-DDTHH:MM:SS.fffffffffZ` with 1..9 fraction digits (truncated); quoted when `quote`. */
export function writeIsoNanos(out: JsonByteWriter, t: Long, fractionDigits: number, quote: boolean): void {
  // t = hi·2^32 + lo = (hi·4294 + carry)·10^6 + b: whole milliseconds and the nanoseconds below, all below 2^53.
  const hi = t.high >>> 0;
  let b = hi * 967296 + (t.low >>> 0);
  const carry = Math.floor(b / 1e6);
  b -= carry * 1e6;
  const ms = hi * 4294 + carry;
  const seconds = Math.floor(ms / 1000);
  if (quote) out.byte(0x22);
  // Unsigned 64-bit nanoseconds end in 2554: always a four-digit year.
  const day = Math.floor(seconds / 86400);
  if (day !== lastDay) {
    lastDate = new Date(day * 86400000).toISOString().slice(0, 11);
    lastDay = day;
  }
  out.ascii(lastDate);
  const s = seconds - day * 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s - h * 3600) / 60);
  out.digits(h, 2);
  out.byte(0x3a);
  out.digits(m, 2);
  out.byte(0x3a);
  out.digits(s - h * 3600 - m * 60, 2);
  out.byte(0x2e);
  const nanos = (ms - seconds * 1000) * 1e6 + b;
  out.digits(Math.floor(nanos / POW10[9 - fractionDigits]!), fractionDigits);
  out.byte(0x5a);
  if (quote) out.byte(0x22);
}
