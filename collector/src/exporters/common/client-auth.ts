/** `auth: { authenticator: <id> }` on an exporter: the client authenticator extension adding request headers. */
import { z } from 'zod';
import { isClientAuthenticator, type ClientAuthenticator } from '../../auth.js';
import type { Host } from '../../component.js';

export const clientAuthSchema = z.strictObject({ authenticator: z.string().min(1) });

export type ClientAuthConfig = z.output<typeof clientAuthSchema>;

/** Looks the extension up (at start: extensions are running by then). */
export function resolveClientAuth(auth: ClientAuthConfig | undefined, host: Host | undefined, where: string): ClientAuthenticator | undefined {
  if (auth === undefined) return undefined;
  const ext = host?.getExtension(auth.authenticator);
  if (ext === undefined) throw new Error(`${where}.auth.authenticator: extension "${auth.authenticator}" is not running (define it under extensions and list it in service.extensions)`);
  if (!isClientAuthenticator(ext)) throw new Error(`${where}.auth.authenticator: extension "${auth.authenticator}" cannot add credentials to outgoing requests`);
  return ext;
}
