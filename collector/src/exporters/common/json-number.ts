/**
 * Numbers into a `JsonByteWriter` exactly as `String(n)` renders them, without the string for the common
 * doubles with up to three decimals (durations, ratios): `12.5`, `0.25`, `-3.125`.
 */
import type { JsonByteWriter } from '@tributary/otlp';

const SCALE = [1, 10, 100, 1000];
/** Below this the scaled value is far from the next double, so no shorter decimal reads back as n. */
const MAX_SCALED = 2 ** 50;

/** `String(n)`, bytes only. */
export function writeNumber(out: JsonByteWriter, n: number): void {
  if (n % 1 === 0 || n !== n) {
    out.number(n);
    return;
  }
  for (let k = 1; k <= 3; k++) {
    const m = n * SCALE[k]!;
    // n is the double nearest to m / 10^k and m has no trailing zero: String(n) is those digits (no
    // shorter decimal is as close). 4.35 · 100 is not whole but 4.35 · 1000 is: that one falls through.
    if (m % 1 === 0 && m % 10 !== 0 && m / SCALE[k]! === n && m < MAX_SCALED && m > -MAX_SCALED) {
      let a = m;
      if (a < 0) {
        out.byte(0x2d);
        a = -a;
      }
      const whole = Math.floor(a / SCALE[k]!);
      out.number(whole);
      out.byte(0x2e);
      out.digits(a - whole * SCALE[k]!, k);
      return;
    }
  }
  out.number(n);
}
