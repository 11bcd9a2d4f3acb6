/**
 * `bearertokenauth` extension (upstream bearertokenauthextension): as a server authenticator it accepts
 * requests whose `header` is `<scheme> <token>` for one of the tokens; as a client authenticator it
 * adds that header to outgoing requests. Tokens come from `token`, `tokens` or `filename` (re-read when
 * the file changes).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { UnauthenticatedError, type ClientAuthenticator, type RequestHeaders, type ServerAuthenticator } from '../../auth.js';
import type { CreateSettings, Extension, ExtensionFactory } from '../../component.js';
import { errorMessage } from '../../errors.js';

export const bearerTokenAuthConfigSchema = z
  .strictObject({
    /** Header carrying the token. */
    header: z.string().min(1).default('Authorization'),
    /** Prefix before the token (`<scheme> <token>`); empty sends/expects the bare token. */
    scheme: z.string().default('Bearer'),
    token: z.string().min(1).optional(),
    tokens: z.array(z.string().min(1)).min(1).optional(),
    /** File holding the token (one per line for several); re-read when it changes. */
    filename: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    const given = [c.token, c.tokens, c.filename].filter((v) => v !== undefined).length;
    if (given === 0) ctx.addIssue({ code: 'custom', path: ['token'], message: 'one of token, tokens or filename is required' });
    if (given > 1) ctx.addIssue({ code: 'custom', path: ['token'], message: 'token, tokens and filename are exclusive' });
  });

export type BearerTokenAuthConfig = z.output<typeof bearerTokenAuthConfigSchema>;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** First value of a header (names compared in lower case). */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export class BearerTokenAuthExtension implements Extension, ServerAuthenticator, ClientAuthenticator {
  /** Digests of the accepted header values: constant-time comparison that hides lengths. */
  private digests: Buffer[] = [];
  private tokens: string[] = [];
  private readonly headerName: string;
  private watching = false;
  readonly challenge: string;

  constructor(private readonly settings: CreateSettings, private readonly config: BearerTokenAuthConfig) {
    this.headerName = config.header.toLowerCase();
    this.challenge = config.scheme || 'Bearer';
    if (config.token !== undefined) this.setTokens([config.token]);
    if (config.tokens !== undefined) this.setTokens(config.tokens);
  }

  private setTokens(tokens: readonly string[]): void {
    this.tokens = [...tokens];
    this.digests = tokens.map((t) => digest(this.format(t)));
  }

  private format(token: string): string {
    return this.config.scheme ? `${this.config.scheme} ${token}` : token;
  }

  private readFile(file: string): void {
    const tokens = fs.readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
    if (tokens.length === 0) throw new Error(`bearertokenauth ${this.settings.id.id}: ${file} holds no token`);
    this.setTokens(tokens);
  }

  async start(): Promise<void> {
    const file = this.config.filename;
    if (file === undefined) return;
    try {
      this.readFile(file);
    } catch (e) {
      throw new Error(`bearertokenauth ${this.settings.id.id}: filename ${file}: ${errorMessage(e)}`, { cause: e });
    }
    // Rotated tokens are picked up without a restart; a bad rewrite keeps the previous tokens.
    fs.watchFile(file, { interval: 1000, persistent: false }, () => {
      try {
        this.readFile(file);
        this.settings.logger.info('bearer token file reloaded', { file });
      } catch (e) {
        this.settings.logger.warn('bearer token file could not be reloaded; keeping the previous tokens', { file, error: errorMessage(e) });
      }
    });
    this.watching = true;
  }

  async shutdown(): Promise<void> {
    if (this.watching && this.config.filename !== undefined) fs.unwatchFile(this.config.filename);
    this.watching = false;
  }

  authenticate(headers: RequestHeaders): Promise<void> {
    const presented = headerValue(headers, this.headerName);
    if (presented === undefined) return Promise.reject(new UnauthenticatedError(`missing ${this.config.header} header`));
    const d = digest(presented.trim());
    let ok = false;
    // No early exit: every token is compared so timing does not tell which one matched.
    for (const x of this.digests) ok = timingSafeEqual(x, d) || ok;
    return ok ? Promise.resolve() : Promise.reject(new UnauthenticatedError(`invalid ${this.config.scheme || 'bearer'} token`));
  }

  clientHeaders(): Promise<Record<string, string>> {
    const token = this.tokens[0];
    if (token === undefined) return Promise.reject(new Error(`bearertokenauth ${this.settings.id.id}: no token loaded`));
    return Promise.resolve({ [this.headerName]: this.format(token) });
  }
}

export const bearerTokenAuthExtensionFactory: ExtensionFactory<BearerTokenAuthConfig> = {
  kind: 'extension',
  type: 'bearertokenauth',
  configSchema: bearerTokenAuthConfigSchema,
  create: (settings, config) => new BearerTokenAuthExtension(settings, config),
};
