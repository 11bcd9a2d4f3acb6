/**
 * `basicauth` extension (upstream basicauthextension): with `htpasswd` it is a server authenticator
 * checking `Authorization: Basic …` against an htpasswd file and/or inline entries; with `client_auth` it
 * is a client authenticator adding that header to outgoing requests.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { UnauthenticatedError, type ClientAuthenticator, type RequestHeaders, type ServerAuthenticator } from '../../auth.js';
import type { CreateSettings, Extension, ExtensionFactory } from '../../component.js';
import { errorMessage } from '../../errors.js';
import { headerValue } from '../bearertokenauth/index.js';
import { parseHtpasswd, verifyHtpasswd } from './htpasswd.js';

export const basicAuthConfigSchema = z
  .strictObject({
    htpasswd: z
      .strictObject({
        /** htpasswd file (bcrypt, SHA, SSHA, MD5-crypt or plain entries). */
        file: z.string().min(1).optional(),
        /** htpasswd entries inline, one `user:hash-or-password` per line; merged after the file's. */
        inline: z.string().optional(),
      })
      .optional(),
    client_auth: z.strictObject({ username: z.string().min(1), password: z.string() }).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.htpasswd && c.client_auth) ctx.addIssue({ code: 'custom', path: ['client_auth'], message: 'htpasswd and client_auth are exclusive (one basicauth extension per direction)' });
    if (!c.htpasswd && !c.client_auth) ctx.addIssue({ code: 'custom', path: ['htpasswd'], message: 'one of htpasswd or client_auth is required' });
    if (c.htpasswd && c.htpasswd.file === undefined && !c.htpasswd.inline) ctx.addIssue({ code: 'custom', path: ['htpasswd'], message: 'needs file or inline' });
  });

export type BasicAuthConfig = z.output<typeof basicAuthConfigSchema>;

export class BasicAuthExtension implements Extension, ServerAuthenticator, ClientAuthenticator {
  private users = new Map<string, string>();
  readonly challenge = 'Basic realm="tributary"';

  constructor(private readonly settings: CreateSettings, private readonly config: BasicAuthConfig) {}

  async start(): Promise<void> {
    const h = this.config.htpasswd;
    if (!h) return;
    const users = new Map<string, string>();
    if (h.file !== undefined) {
      try {
        for (const [u, p] of parseHtpasswd(fs.readFileSync(h.file, 'utf8'))) users.set(u, p);
      } catch (e) {
        throw new Error(`basicauth ${this.settings.id.id}: htpasswd.file ${h.file}: ${errorMessage(e)}`, { cause: e });
      }
    }
    for (const [u, p] of parseHtpasswd(h.inline ?? '')) users.set(u, p);
    this.users = users;
  }

  async shutdown(): Promise<void> {}

  authenticate(headers: RequestHeaders): Promise<void> {
    if (!this.config.htpasswd) return Promise.reject(new UnauthenticatedError('basicauth: this extension has no htpasswd (server) configuration'));
    const h = headerValue(headers, 'authorization');
    if (h === undefined) return Promise.reject(new UnauthenticatedError('missing Authorization header'));
    if (h.slice(0, 6).toLowerCase() !== 'basic ') return Promise.reject(new UnauthenticatedError('Authorization is not Basic'));
    const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return Promise.reject(new UnauthenticatedError('malformed Basic credentials'));
    const hash = this.users.get(decoded.slice(0, colon));
    if (hash === undefined || !verifyHtpasswd(hash, decoded.slice(colon + 1))) {
      return Promise.reject(new UnauthenticatedError('invalid username or password'));
    }
    return Promise.resolve();
  }

  clientHeaders(): Promise<Record<string, string>> {
    const c = this.config.client_auth;
    if (!c) return Promise.reject(new Error(`basicauth ${this.settings.id.id}: no client_auth configured`));
    return Promise.resolve({ authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}` });
  }
}

export const basicAuthExtensionFactory: ExtensionFactory<BasicAuthConfig> = {
  kind: 'extension',
  type: 'basicauth',
  configSchema: basicAuthConfigSchema,
  create: (settings, config) => new BasicAuthExtension(settings, config),
};
