/** Static bearer-token check shared by both transports. Tokens never leave this module. */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class BearerTokenAuth {
  // Only digests are kept: comparing fixed-length digests is constant time and hides token lengths.
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  /** True when `header` is `Bearer <token>` (scheme case-insensitive) for one of the configured tokens. */
  check(header: string | undefined): boolean {
    if (header === undefined || header.length < 8) return false;
    if (header.slice(0, 7).toLowerCase() !== 'bearer ') return false;
    const presented = digest(header.slice(7).trim());
    let ok = false;
    // No early exit: every token is compared so timing does not tell which one matched.
    for (const d of this.digests) ok = timingSafeEqual(d, presented) || ok;
    return ok;
  }
}
