/**
 * What every HTTP server of the collector shares (the OTLP receiver, health_check, metrics, and later
 * ones): config keys named as upstream's confighttp ServerConfig (`endpoint`, `tls`, `cors`,
 * `include_metadata`, `max_request_body_size`, `read_header_timeout`, `read_timeout`, `idle_timeout`),
 * Tributary's `max_request_bytes_in_flight` budget, and the creation of the node server with them.
 *
 * Pieces are exported as zod shapes so a component spreads only the keys it has:
 *   z.strictObject({ ...httpServerFields('127.0.0.1:4318'), ...requestBodyFields(), ...includeMetadataField(), cors: corsSchema.optional() })
 * and a server is made with createConfiguredServer + listenOn; a body-reading server keeps an
 * InFlightBudget, asks memoryAllows() before reading, and answers refusals with discardRequestBody().
 */
import { readFile } from 'node:fs/promises';
import { createServer as createPlainServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { byteSize, duration, endpoint, splitEndpoint } from './schema-helpers.js';

const tlsVersion = z.enum(['1.0', '1.1', '1.2', '1.3']);

/** Node's names of the upstream TLS versions. */
export const TLS_VERSIONS = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' } as const;

/** `cert_file` + `key_file` (PEM). Both set enables TLS; both empty leaves it off. */
export const tlsServerSchema = z
  .strictObject({
    cert_file: z.string().default(''),
    key_file: z.string().default(''),
    /** CA bundle for client certificates: set, clients must present one it signed (mTLS). */
    client_ca_file: z.string().min(1).optional(),
    min_version: tlsVersion.optional(),
    max_version: tlsVersion.optional(),
    /** Accepted from upstream configs; certificates are read at start (no effect). */
    reload_interval: duration().optional(),
  })
  .refine((t) => (t.cert_file === '') === (t.key_file === ''), {
    message: 'cert_file and key_file must be set together',
  });

export const corsSchema = z.strictObject({
  /** Origins allowed to send cross-origin requests; `*` alone allows any, `https://*.example.com` a pattern. */
  allowed_origins: z.array(z.string()).default([]),
  /** Headers allowed beyond the CORS-safelisted ones. `*` allows any. */
  allowed_headers: z.array(z.string()).default([]),
  /** Seconds a browser may cache a preflight answer; 0 sends no Access-Control-Max-Age. */
  max_age: z.number().int().min(0).default(0),
});

export type TlsServerConfig = z.output<typeof tlsServerSchema>;
export type CorsConfig = z.output<typeof corsSchema>;

/** Defaults of the timeouts (upstream confighttp: read_header_timeout 1m, idle_timeout 1m, read_timeout none). */
export const DEFAULT_READ_HEADER_TIMEOUT = '1m';
export const DEFAULT_READ_TIMEOUT = '1m';
export const DEFAULT_IDLE_TIMEOUT = '1m';

/** Timeouts: how long a client may take for its headers, for the whole request, and idle between requests. */
export const httpServerTimeoutFields = () => ({
  /** Time to receive the request headers; a slow or stalled client is cut off after it (408). */
  read_header_timeout: duration().prefault(DEFAULT_READ_HEADER_TIMEOUT),
  /** Time to receive the whole request, body included; 0 = none (upstream's default; Tributary bounds it). */
  read_timeout: duration().prefault(DEFAULT_READ_TIMEOUT),
  /** How long a keep-alive connection may stay idle between requests. */
  idle_timeout: duration().prefault(DEFAULT_IDLE_TIMEOUT),
});

/** `endpoint`, `tls` and the timeouts: every HTTP server has these. */
export const httpServerFields = (defaultEndpoint: string) => ({
  endpoint: endpoint(defaultEndpoint),
  tls: tlsServerSchema.optional(),
  ...httpServerTimeoutFields(),
});

/** Servers that pass requests into pipelines: `include_metadata` hands the request headers on as `batch.metadata`. */
export const includeMetadataField = () => ({
  include_metadata: z.boolean().default(false),
});

/** Limits of servers that read request bodies. */
export const requestBodyFields = (defaultMaxBody = '20MiB', defaultInFlight = '64MiB') => ({
  /** Largest request body accepted, before and after decompression (413 above it). */
  max_request_body_size: byteSize()
    .prefault(defaultMaxBody)
    .refine((n) => n > 0, { message: 'must be greater than 0' }),
  /**
   * Tributary: most bytes of request bodies this server holds at once (declared or received, and after
   * decompression). A request that would go over is refused with 503 + Retry-After before its body is
   * read; a request alone is always let in, so one up to max_request_body_size never waits forever.
   */
  max_request_bytes_in_flight: byteSize()
    .prefault(defaultInFlight)
    .refine((n) => n > 0, { message: 'must be greater than 0' }),
});

export interface HttpServerSettings {
  endpoint: string;
  tls?: TlsServerConfig | undefined;
  read_header_timeout: number;
  read_timeout: number;
  idle_timeout: number;
}

/** Default timeouts in milliseconds, for servers whose config was built without the schema (tests, plugins). */
export const DEFAULT_TIMEOUTS_MS = { read_header_timeout: 60_000, read_timeout: 60_000, idle_timeout: 60_000 } as const;

/**
 * A node http(s) server with the config's TLS and timeouts. `what` names the component in errors
 * (`otlp receiver otlp: http` → `otlp receiver otlp: http tls.cert_file …`).
 */
export async function createConfiguredServer(config: HttpServerSettings, handler: RequestListener, what: string): Promise<Server> {
  const readHeader = config.read_header_timeout;
  const read = config.read_timeout;
  // node requires headersTimeout <= requestTimeout when both are set.
  const headersTimeout = read > 0 && readHeader > read ? read : readHeader;
  const timing = {
    requestTimeout: read,
    headersTimeout,
    keepAliveTimeout: config.idle_timeout,
    // node checks the two timeouts above only this often (30 s by default): check at a tenth of the shortest.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(Math.min(...[read, headersTimeout].filter((t) => t > 0), 10_000) / 10))),
  };
  const tls = config.tls;
  let server: Server;
  if (tls && tls.cert_file !== '') {
    const [cert, key] = await Promise.all([
      readFile(tls.cert_file).catch((e: unknown) => {
        throw new Error(`${what} tls.cert_file ${tls.cert_file}: ${(e as Error).message}`);
      }),
      readFile(tls.key_file).catch((e: unknown) => {
        throw new Error(`${what} tls.key_file ${tls.key_file}: ${(e as Error).message}`);
      }),
    ]);
    const ca = tls.client_ca_file === undefined ? undefined : await readFile(tls.client_ca_file).catch((e: unknown) => {
      throw new Error(`${what} tls.client_ca_file ${tls.client_ca_file}: ${(e as Error).message}`);
    });
    server = createTlsServer({
      cert, key, ca,
      requestCert: ca !== undefined,
      rejectUnauthorized: ca !== undefined,
      minVersion: tls.min_version === undefined ? undefined : TLS_VERSIONS[tls.min_version],
      maxVersion: tls.max_version === undefined ? undefined : TLS_VERSIONS[tls.max_version],
      ...timing,
    }, handler);
  } else {
    server = createPlainServer(timing, handler);
  }
  server.keepAliveTimeout = config.idle_timeout;
  return server;
}

/** Binds `server` to the endpoint; `describe` turns a listen error into the component's own error. */
export function listenOn(server: Server, ep: string, describe: (err: NodeJS.ErrnoException) => Error): Promise<AddressInfo> {
  const { host, port } = splitEndpoint(ep);
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(describe(err));
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

// ---------------------------------------------------------------- request bytes in flight

let processInFlight = 0;

/** Bytes of request bodies held by every HTTP server of this process (the memory limiter adds them). */
export function requestBytesInFlight(): number {
  return processInFlight;
}

/** Headroom each memory_limiter reported at its last check: bytes left below its soft limit (≤ 0: refusing). */
const headrooms = new Map<object, number>();

/** A decoded request takes a few times its body in memory; admissions leave room for that. */
export const DECODE_FACTOR = 3;

/**
 * A memory_limiter reports, at each check, how many bytes are left below its soft limit (undefined when
 * it stops). HTTP servers then admit a body only when it fits in that headroom once decoded, and answer
 * 503 before reading it otherwise: reading and decoding it would spend the memory the limiter protects.
 */
export function setMemoryHeadroom(owner: object, bytes: number | undefined): void {
  if (bytes === undefined) headrooms.delete(owner);
  else headrooms.set(owner, bytes);
}

/** Whether a new body of `n` bytes fits the memory limiters' headroom (always, when none is configured). */
export function memoryAllows(n: number): boolean {
  if (headrooms.size === 0) return true;
  let room = Number.POSITIVE_INFINITY;
  for (const h of headrooms.values()) room = Math.min(room, h);
  if (room <= 0) return false;
  // One request alone is let in (it may be larger than the headroom; the limiter catches what follows).
  return processInFlight === 0 || (processInFlight + n) * DECODE_FACTOR <= room;
}

/** One server's budget of request-body bytes in flight; also feeds the process-wide figure. */
export class InFlightBudget {
  private used = 0;
  private holders = 0;

  constructor(readonly limit: number) {}

  get bytes(): number {
    return this.used;
  }

  /**
   * Reserves `n` bytes for a new request; false when that would go over the budget. A request alone
   * is always let in, so a body up to max_request_body_size is never refused forever.
   */
  admit(n: number): boolean {
    if (this.holders > 0 && this.used + n > this.limit) return false;
    this.holders++;
    this.used += n;
    processInFlight += n;
    return true;
  }

  /** Grows a held reservation (chunked or compressed bodies); false when the budget is exhausted. */
  grow(n: number): boolean {
    if (this.holders > 1 && this.used + n > this.limit) return false;
    this.used += n;
    processInFlight += n;
    return true;
  }

  /** Gives back a request's whole reservation. */
  release(n: number): void {
    this.holders--;
    this.used -= n;
    processInFlight -= n;
  }
}

/** How long and how much of a refused request's body is read and thrown away, so the client can read the answer. */
export interface DiscardBound {
  maxBytes: number;
  maxMs: number;
}

export const DISCARD_MAX_MS = 10_000;

/**
 * Answers early without breaking the client: many clients (Python http.client, Go, most SDKs) write the
 * whole body before reading the answer, and a socket closed with unread data resets the connection,
 * so they see a broken pipe instead of the status. The rest of the body is read and discarded, up to
 * `bound` (then the connection is cut); a body read to its end leaves the connection usable.
 */
export function discardRequestBody(req: IncomingMessage, bound: DiscardBound): void {
  if (req.complete || req.destroyed) return;
  const socket = req.socket;
  let seen = 0;
  let timer: NodeJS.Timeout | undefined;
  const cleanup = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', cleanup);
  };
  const cut = (): void => {
    cleanup();
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen > bound.maxBytes) cut();
  };
  // Read to the end: the connection stays usable (keep-alive), as the client expects.
  const onEnd = cleanup;
  timer = setTimeout(cut, bound.maxMs);
  timer.unref();
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', cleanup);
  req.resume();
}
