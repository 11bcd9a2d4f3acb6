/**
 * Request authentication for both transports: the receiver's own `auth.bearer_tokens` shorthand, or an
 * authenticator extension named by `auth.authenticator` (as upstream's configauth). Tokens never leave
 * this module.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isServerAuthenticator, UnauthenticatedError, type RequestHeaders, type ServerAuthenticator } from '../../auth.js';
import type { Host } from '../../component.js';
import type { AuthConfig } from './config.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class BearerTokenAuth implements ServerAuthenticator {
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

  authenticate(headers: RequestHeaders): Promise<void> {
    const h = headers['authorization'];
    return this.check(Array.isArray(h) ? h[0] : h) ? Promise.resolve() : Promise.reject(new UnauthenticatedError('missing or invalid bearer token'));
  }
}

/** What a server calls per request; `challenge` is the WWW-Authenticate value of a 401. */
export interface RequestAuth {
  authenticate(headers: RequestHeaders): Promise<void>;
  readonly challenge: string;
}

/** The server authenticator for an `auth` section; extensions are looked up on the host (at start). */
export function resolveAuth(auth: AuthConfig | undefined, host: Host, where: string): RequestAuth | undefined {
  if (auth === undefined) return undefined;
  if (auth.bearer_tokens !== undefined) {
    const b = new BearerTokenAuth(auth.bearer_tokens);
    return { authenticate: (h) => b.authenticate(h), challenge: 'Bearer' };
  }
  const id = auth.authenticator!;
  const ext = host.getExtension(id);
  if (ext === undefined) throw new Error(`${where}.auth.authenticator: extension "${id}" is not running (define it under extensions and list it in service.extensions)`);
  if (!isServerAuthenticator(ext)) throw new Error(`${where}.auth.authenticator: extension "${id}" cannot authenticate incoming requests`);
  const challenge = (ext as { challenge?: unknown }).challenge;
  return { authenticate: (h) => ext.authenticate(h), challenge: typeof challenge === 'string' ? challenge : 'Bearer' };
}
