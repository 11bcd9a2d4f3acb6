/**
 * JWT verification shared by every authenticated surface (the api extension today; live tail, alerts and
 * sources build on it). Keys: an HMAC `secret`, a PEM/JWK `public_key_file`, or a `jwks_url` (fetched and
 * cached by jose). Unsigned tokens (`alg: none`) are always refused; `exp`/`nbf` are checked.
 */
import fs from 'node:fs';
import { createRemoteJWKSet, importJWK, importSPKI, importX509, jwtVerify, errors as joseErrors, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { duration } from '../config/schema-helpers.js';

export const jwtConfigSchema = z
  .strictObject({
    secret: z.string().min(1).optional(),
    public_key_file: z.string().min(1).optional(),
    jwks_url: z.url().optional(),
    /** Allowed `alg` values; default: every algorithm the key type supports. */
    algorithms: z.array(z.string()).optional(),
    audience: z.union([z.string(), z.array(z.string())]).optional(),
    issuer: z.union([z.string(), z.array(z.string())]).optional(),
    /** Claim holding the tenant (string) or tenants (array of strings). */
    tenant_claim: z.string().min(1).default('project'),
    clock_tolerance: duration().prefault('5s'),
  })
  .refine((c) => [c.secret, c.public_key_file, c.jwks_url].filter((v) => v !== undefined).length === 1, {
    message: 'set exactly one of secret, public_key_file, jwks_url',
  });

export type JwtConfig = z.output<typeof jwtConfigSchema>;

/** Who a verified token speaks for. */
export interface Principal {
  /** Tenants the token may read (never empty). */
  readonly tenants: readonly string[];
  /** The token's `sub`, if any. */
  readonly subject: string | undefined;
  readonly claims: JWTPayload;
}

/** A token that was refused; `message` is safe to return to the client (it never echoes the token). */
export class AuthError extends Error {
  override name = 'AuthError';
}

export interface JwtVerifier {
  verify(token: string): Promise<Principal>;
}

type KeyInput = Parameters<typeof jwtVerify>[1];

async function loadKey(config: JwtConfig): Promise<KeyInput | JWTVerifyGetKey> {
  if (config.secret !== undefined) return new TextEncoder().encode(config.secret);
  if (config.jwks_url !== undefined) return createRemoteJWKSet(new URL(config.jwks_url));
  const file = config.public_key_file!;
  const text = fs.readFileSync(file, 'utf8').trim();
  const alg = config.algorithms?.[0];
  if (text.startsWith('{')) return importJWK(JSON.parse(text) as JWK, alg);
  if (text.includes('BEGIN CERTIFICATE')) return importX509(text, alg ?? 'RS256');
  return importSPKI(text, alg ?? 'RS256');
}

function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${err.claim}" is not acceptable`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key matches the token';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed or unsigned token';
  return 'token refused';
}

/** Builds a verifier; reads key files now so a bad file fails at start, not at the first request. */
export async function createJwtVerifier(config: JwtConfig): Promise<JwtVerifier> {
  const key = await loadKey(config);
  const options = {
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
    ...(config.algorithms !== undefined ? { algorithms: config.algorithms } : config.secret !== undefined ? { algorithms: ['HS256', 'HS384', 'HS512'] } : {}),
    clockTolerance: Math.round(config.clock_tolerance / 1000),
  };
  return {
    async verify(token: string): Promise<Principal> {
      let payload: JWTPayload;
      try {
        const r = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
        payload = r.payload;
      } catch (err) {
        throw new AuthError(reason(err));
      }
      const raw = payload[config.tenant_claim];
      const tenants = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((t): t is string => typeof t === 'string' && t !== '') : [];
      if (tenants.length === 0) throw new AuthError(`token has no "${config.tenant_claim}" claim naming a tenant`);
      return { tenants, subject: typeof payload.sub === 'string' ? payload.sub : undefined, claims: payload };
    },
  };
}

/** The bearer token of an Authorization header value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
