/**
 * NATS connection settings shared by the `nats` exporter, the `nats` receiver and the `coordination`
 * block: servers, auth (user/password, token, NKey seed, creds file) and TLS, with one connect function
 * that keeps reconnecting forever (a collector must outlive a NATS restart).
 */
import { readFile } from 'node:fs/promises';
// nats.js (~13 MiB) is imported when a connection is made: its settings schema is part of every config.
import type { ConnectionOptions, NatsConnection } from 'nats';
import { z } from 'zod';
import { duration, section } from '../config/schema-helpers.js';
import type { Logger } from '../telemetry/logger.js';

const NATS_URL = /^(nats|tls|ws|wss):\/\/[^\s]+$|^[^\s:/]+:\d{1,5}$/;

export const natsAuthSchema = section({
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  token: z.string().min(1).optional(),
  /** File holding an NKey seed (`SU…`). */
  nkey_file: z.string().min(1).optional(),
  /** A `.creds` file (JWT + NKey seed), as `nsc` writes it. */
  creds_file: z.string().min(1).optional(),
});

export const natsTlsSchema = section({
  /** Use TLS even when the server does not require it. */
  enabled: z.boolean().default(false),
  ca_file: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  /** Accept any server certificate (testing only). */
  insecure_skip_verify: z.boolean().default(false),
});

export const natsConnectionShape = {
  /** NATS server URLs (`nats://host:4222`); several = a cluster, the client fails over. */
  servers: z
    .union([z.string(), z.array(z.string()).min(1)])
    .default(['nats://127.0.0.1:4222'])
    .transform((v) => (typeof v === 'string' ? [v] : v))
    .refine((v) => v.every((s) => NATS_URL.test(s)), { message: 'each server must be nats://host:port (or tls://, ws://, wss://, host:port)' }),
  auth: natsAuthSchema,
  tls: natsTlsSchema,
  /** Time allowed to (re)connect to one server. */
  connect_timeout: duration().prefault('5s'),
  /** Wait between reconnect attempts. */
  reconnect_wait: duration().prefault('1s'),
};

/** The connection keys alone (what NatsConnectionConfig describes). */
export const natsConnectionSchema = z.strictObject(natsConnectionShape);
export type NatsConnectionConfig = z.output<typeof natsConnectionSchema>;

/** Cross-key checks every schema that spreads `natsConnectionShape` runs in its superRefine. */
export function checkNatsAuth(c: Pick<NatsConnectionConfig, 'auth' | 'tls'>, ctx: z.RefinementCtx): void {
  const modes = [c.auth.user !== undefined || c.auth.password !== undefined, c.auth.token !== undefined, c.auth.nkey_file !== undefined, c.auth.creds_file !== undefined].filter(Boolean).length;
  if (modes > 1) ctx.addIssue({ code: 'custom', path: ['auth'], message: 'set only one of user/password, token, nkey_file, creds_file' });
  if (c.auth.password !== undefined && c.auth.user === undefined) ctx.addIssue({ code: 'custom', path: ['auth', 'user'], message: 'required with auth.password' });
  if (Boolean(c.tls.cert_file) !== Boolean(c.tls.key_file)) {
    ctx.addIssue({ code: 'custom', path: ['tls', c.tls.cert_file ? 'key_file' : 'cert_file'], message: 'tls.cert_file and tls.key_file must be set together' });
  }
}

/** The two armoured blocks of a `.creds` file, as nats.js reads them: a user JWT, then an NKey seed. */
const CREDS_BLOCK = /\s*(?:(?:-{3,}[^\n]*-{3,}\n)(.+)(?:\n\s*-{3,}[^\n]*-{3,}\n))/g;

/** Checks a creds file's shape at start, so a wrong file is a start error and not an endless reconnect. */
function checkCreds(where: string, path: string, creds: Uint8Array): void {
  const blocks = [...new TextDecoder().decode(creds).matchAll(CREDS_BLOCK)].map((m) => (m[1] ?? '').trim());
  const [jwt, seed] = blocks;
  if (jwt === undefined || seed === undefined || !jwt.startsWith('eyJ') || !/^SU[A-Z2-7]+$/.test(seed)) {
    throw new Error(`${where}: auth.creds_file: ${path} is not a NATS creds file (expected a user JWT block and a user NKey seed block, as nsc writes them)`);
  }
}

async function readSecret(where: string, key: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`${where}: ${key}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** The nats.js options for a config (reads NKey / creds files; errors name the key, never the secret). */
export async function natsConnectOptions(where: string, c: NatsConnectionConfig, name: string): Promise<ConnectionOptions> {
  const o: ConnectionOptions = {
    servers: c.servers,
    name,
    timeout: c.connect_timeout,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: c.reconnect_wait,
    waitOnFirstConnect: true,
  };
  if (c.auth.user !== undefined) {
    o.user = c.auth.user;
    o.pass = c.auth.password ?? '';
  }
  if (c.auth.token !== undefined) o.token = c.auth.token;
  if (c.auth.nkey_file !== undefined) {
    const { nkeyAuthenticator } = await import('nats');
    const seed = new TextDecoder().decode(await readSecret(where, 'auth.nkey_file', c.auth.nkey_file)).trim();
    o.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (c.auth.creds_file !== undefined) {
    const creds = await readSecret(where, 'auth.creds_file', c.auth.creds_file);
    checkCreds(where, c.auth.creds_file, creds);
    o.authenticator = (await import('nats')).credsAuthenticator(creds);
  }
  const t = c.tls;
  if (t.enabled || t.ca_file || t.cert_file) {
    const tls: NonNullable<ConnectionOptions['tls']> & { rejectUnauthorized?: boolean } = {};
    if (t.ca_file) tls.caFile = t.ca_file;
    if (t.cert_file) tls.certFile = t.cert_file;
    if (t.key_file) tls.keyFile = t.key_file;
    if (t.insecure_skip_verify) tls.rejectUnauthorized = false;
    o.tls = tls;
  }
  return o;
}

/**
 * Connects with options from natsConnectOptions (read at start, so a missing or malformed key file fails
 * the start), retrying until `signal` aborts; resolves with the connection. The client then reconnects
 * by itself. Status changes are logged (servers only, never credentials).
 */
export async function connectNats(c: NatsConnectionConfig, options: ConnectionOptions, logger: Logger, signal: AbortSignal): Promise<NatsConnection> {
  const where = options.name ?? 'nats';
  const { connect } = await import('nats');
  let warned = false;
  for (;;) {
    if (signal.aborted) throw new Error(`${where}: stopped before NATS was reached`);
    try {
      // waitOnFirstConnect retries inside nats.js, but cannot be cancelled: bound each attempt instead.
      const nc = await connect({ ...options, waitOnFirstConnect: false, maxReconnectAttempts: -1 });
      if (warned) logger.info('connected to NATS', { servers: c.servers.join(',') });
      void watchStatus(nc, logger, c.servers.join(','));
      return nc;
    } catch (e) {
      if (!warned) logger.warn('cannot reach NATS yet; retrying', { servers: c.servers.join(','), error: e instanceof Error ? e.message : String(e) });
      warned = true;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, c.reconnect_wait);
        signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
    }
  }
}

async function watchStatus(nc: NatsConnection, logger: Logger, servers: string): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') logger.warn('NATS connection lost; reconnecting', { servers });
    else if (s.type === 'reconnect') logger.info('NATS connection restored', { servers });
  }
}
