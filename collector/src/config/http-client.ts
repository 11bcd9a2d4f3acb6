/**
 * The HTTP client config every HTTP exporter shares, with the OpenTelemetry Collector's confighttp
 * ClientConfig keys and meanings, and `openHttpClient()`: one pooled undici dispatcher per destination
 * origin (through `proxy_url` when set), transport errors turned into RetryableError, answer bodies read
 * bounded, `auth.authenticator` headers added, and one classified-error mapper for status codes.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Pool, ProxyAgent, type Dispatcher } from 'undici';
import { z } from 'zod';
import { isClientAuthenticator, type ClientAuthenticator, type RequestHeaders } from '../auth.js';
import type { Host } from '../component.js';
import { abortReason, errorMessage, parseRetryAfter, PermanentError, RetryableError, ThrottledError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import { byteSize, duration, section } from './schema-helpers.js';
import { loadTlsClient, tlsClientSchema, type TlsClientConfig } from './tls-client.js';

export { tlsClientSchema, loadTlsClient, type TlsClientConfig, type TlsClientMaterial } from './tls-client.js';

/** An `http://` or `https://` URL (or, with `allowEmpty`, the empty string). */
export const httpUrl = (message = 'must be an http:// or https:// URL', options: { allowEmpty?: boolean } = {}) =>
  z.string().refine((v) => {
    if (v === '' && options.allowEmpty === true) return true;
    if (!URL.canParse(v)) return false;
    const p = new URL(v).protocol;
    return p === 'http:' || p === 'https:';
  }, { message });

/** Headers the client owns (framing, body encoding); a user header of one of these names is refused. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-encoding', 'content-length', 'host', 'transfer-encoding', 'connection']);

/** Extra request headers (values may be secrets: never logged). Names are matched case-insensitively. */
export const clientHeaders = (reserved: ReadonlySet<string> = RESERVED_HEADERS) =>
  z.record(z.string(), z.string()).default({}).superRefine((headers, ctx) => {
    for (const name of Object.keys(headers)) {
      if (reserved.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is set by the exporter itself and cannot be overridden` });
    }
  });

/** `auth: { authenticator: <extension id> }`: an extension that adds headers to each request. */
export const clientAuthSchema = z.strictObject({ authenticator: z.string().min(1, { message: 'required' }) }).optional();

/**
 * The confighttp keys other than `endpoint`, `headers` and `compression` (whose defaults differ per
 * exporter) and `timeout` (the exporter helper's per-attempt timeout).
 */
export const httpClientTransportShape = {
  tls: tlsClientSchema,
  /** Send requests through this HTTP(S) proxy. */
  proxy_url: httpUrl('must be an http:// or https:// proxy URL').optional(),
  /** Upstream's idle-pool caps: accepted and ignored (undici keeps idle connections per origin, bounded by max_conns_per_host). */
  max_idle_conns: z.number().int().min(0).optional(),
  max_idle_conns_per_host: z.number().int().min(0).optional(),
  /** Most connections to the destination (0 or unset = no limit). */
  max_conns_per_host: z.number().int().min(0).optional(),
  /** How long an idle keep-alive connection is kept. */
  idle_conn_timeout: duration().prefault('30s'),
  /** Close the connection after every request. */
  disable_keep_alives: z.boolean().default(false),
  /** Socket buffer sizes: accepted and ignored (Node sizes them itself). */
  read_buffer_size: byteSize().optional(),
  write_buffer_size: byteSize().optional(),
  /** Compression level (gzip: 1 fastest … 9 best; unset = the library default). */
  compression_params: section({ level: z.number().int().min(-1).max(9).optional() }),
};

/** `httpClientTransportShape` plus `auth` (exporters whose `auth` key means something else use the former). */
export const httpClientSettingsShape = {
  ...httpClientTransportShape,
  auth: clientAuthSchema,
};

export const compressionSchema = (defaultValue: 'gzip' | 'none') => z.enum(['gzip', 'none']).default(defaultValue);

const gzipAsync = promisify(gzipCb);

/** The body gzipped (at `compression_params.level` when set), or as is. */
export async function compressBody(body: Uint8Array | string, gzip: boolean, level?: number): Promise<Uint8Array> {
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (!gzip) return raw;
  return level === undefined ? gzipAsync(raw) : gzipAsync(raw, { level });
}

/** The whole client config (endpoint required), for exporters with no special endpoint rules. */
export const httpClientShape = (defaults: { compression: 'gzip' | 'none' }) => ({
  endpoint: httpUrl(),
  headers: clientHeaders(),
  compression: compressionSchema(defaults.compression),
  ...httpClientSettingsShape,
});

export interface HttpClientSettings {
  tls: TlsClientConfig;
  proxy_url?: string | undefined;
  max_idle_conns?: number | undefined;
  max_idle_conns_per_host?: number | undefined;
  max_conns_per_host?: number | undefined;
  idle_conn_timeout: number;
  disable_keep_alives: boolean;
  read_buffer_size?: number | undefined;
  write_buffer_size?: number | undefined;
  compression_params: { level?: number | undefined };
  auth?: { authenticator: string } | undefined;
}

/** Lower-cased user headers (reserved names were refused by the schema). */
export function userHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/** Like upstream (maxHTTPResponseReadBytes): never buffer more than this of an answer by default. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

const EMPTY = Buffer.alloc(0);

/** Reads at most `limit` bytes of a body, then drops the rest (the connection is closed if it was cut). */
export async function readBounded(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }, limit = MAX_RESPONSE_BYTES): Promise<Buffer> {
  let chunks: Buffer[] | undefined;
  let first: Buffer | undefined;
  let size = 0;
  for await (const chunk of body) {
    if (size + chunk.length > limit) {
      const rest = chunk.subarray(0, limit - size);
      if (first === undefined) first = rest;
      else (chunks ??= [first]).push(rest);
      size = limit;
      body.destroy();
      break;
    }
    if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
    size += chunk.length;
  }
  if (chunks) return Buffer.concat(chunks, size);
  return first ?? EMPTY;
}

export interface HttpAnswer {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Buffer;
}

/** A header value as one string. */
export function headerOf(headers: HttpAnswer['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Which statuses mean what; anything neither throttled nor retryable is permanent. */
export interface StatusPolicy {
  throttled(status: number): boolean;
  retryable(status: number): boolean;
}

/** The OTLP/HTTP spec: 429 throttled; 502/503/504 retryable. */
export const OTLP_STATUS: StatusPolicy = {
  throttled: (s) => s === 429,
  retryable: (s) => s === 502 || s === 503 || s === 504,
};

/** Most HTTP APIs: 429 throttled; 5xx and 408 retryable. */
export const SERVER_ERROR_STATUS: StatusPolicy = {
  throttled: (s) => s === 429,
  retryable: (s) => s >= 500 || s === 408,
};

/**
 * The classified error of a non-2xx answer: ThrottledError / RetryableError (with the Retry-After header,
 * else `fallbackRetryAfterMs`) or PermanentError. `detail` is already clipped and free of secrets;
 * `statusName` (e.g. a google.rpc status) follows the code.
 */
export function errorForHttpStatus(
  where: string,
  status: number,
  detail: string,
  retryAfterHeader: string | string[] | undefined,
  policy: StatusPolicy = OTLP_STATUS,
  fallbackRetryAfterMs?: number,
  statusName?: string,
): Error {
  const message = `${where}: HTTP ${status}${statusName ? ` ${statusName}` : ''}${detail ? `: ${detail}` : ''}`;
  const header = Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader;
  const retryAfterMs = parseRetryAfter(header) ?? fallbackRetryAfterMs;
  if (policy.throttled(status)) return new ThrottledError(message, { retryAfterMs });
  if (policy.retryable(status)) return new RetryableError(message, { retryAfterMs });
  return new PermanentError(message);
}

/** Undefined for a 2xx answer, else its classified error with the (secret-masked) start of the body as detail. */
export function errorForAnswer(where: string, answer: HttpAnswer, policy: StatusPolicy, secrets: readonly string[] = []): Error | undefined {
  if (answer.status >= 200 && answer.status < 300) return undefined;
  return errorForHttpStatus(where, answer.status, answerText(answer.body, secrets), answer.headers['retry-after'], policy);
}

/**
 * No answer (refused, reset, timeout, aborted): retry with back-off. The message names only what
 * `where` names (method, origin, path: never headers, query strings or credentials).
 */
export function transportError(where: string, err: unknown, signal: AbortSignal | undefined): RetryableError {
  if (signal?.aborted === true) {
    return new RetryableError(`${where}: request aborted (${abortReason(signal.reason)})`, { cause: err });
  }
  const code = (err as { code?: unknown }).code;
  return new RetryableError(`${where}: ${typeof code === 'string' ? `${code}: ` : ''}${errorMessage(err)}`, { cause: err });
}

/** The first 256 characters of an answer body, for error messages, with any of `secrets` masked. */
export function answerText(body: Buffer, secrets: readonly string[] = []): string {
  let s = body.subarray(0, 4096).toString('utf8').trim();
  for (const secret of secrets) if (secret.length >= 4) s = s.split(secret).join('***');
  return s.length > 256 ? `${s.slice(0, 256)}…` : s;
}

export interface HttpRequest {
  method?: 'POST' | 'GET' | 'PUT';
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | string | null;
  signal?: AbortSignal | undefined;
  /** `where` for errors of this request, when not the client's. */
  where?: string;
  /** Most bytes of the answer to read (default MAX_RESPONSE_BYTES); more is cut off, or with `failAboveMax` an error. */
  maxAnswerBytes?: number;
  failAboveMax?: boolean;
  /** The incoming request's metadata, for authenticators that forward it. */
  metadata?: RequestHeaders | undefined;
}

/** A pooled client for one origin. `request` throws only RetryableError (no answer); statuses are the caller's. */
export class HttpClient {
  private closed = false;

  constructor(
    readonly origin: string,
    private readonly where: string,
    private readonly dispatcher: Dispatcher,
    private readonly viaProxy: boolean,
    private readonly reset: boolean,
    private readonly auth: ClientAuthenticator | undefined,
  ) {}

  async request(req: HttpRequest): Promise<HttpAnswer> {
    const where = req.where ?? this.where;
    let headers = req.headers;
    if (this.auth !== undefined) {
      try {
        headers = { ...headers, ...(await this.auth.clientHeaders(req.metadata)) };
      } catch (err) {
        throw new RetryableError(`${where}: authenticator failed: ${errorMessage(err)}`, { cause: err });
      }
    }
    const method = req.method ?? 'POST';
    const opts: Dispatcher.RequestOptions = { method, path: req.path, headers, body: method === 'GET' ? null : (req.body ?? null), signal: req.signal ?? null };
    if (this.viaProxy) opts.origin = this.origin;
    if (this.reset) opts.reset = true;
    try {
      const res = await this.dispatcher.request(opts);
      const max = req.maxAnswerBytes ?? MAX_RESPONSE_BYTES;
      const body = await readBounded(res.body, req.failAboveMax === true ? max + 1 : max);
      if (body.length > max) throw new Error(`response larger than ${max} bytes`);
      return { status: res.statusCode, headers: res.headers, body };
    } catch (err) {
      throw transportError(where, err, req.signal);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dispatcher.close();
  }
}

export interface HttpClientContext {
  /** `exporter <id>`: prefixes start errors. */
  readonly name: string;
  readonly logger: Logger;
  /** Resolves `auth.authenticator`; without it an `auth` section is an error. */
  readonly host?: Host | undefined;
}

/** Keys Node cannot honour: accepted, and said once per client. */
const IGNORED: readonly (keyof HttpClientSettings)[] = ['max_idle_conns', 'max_idle_conns_per_host', 'read_buffer_size', 'write_buffer_size'];

/** Resolves `auth.authenticator` to the extension's ClientAuthenticator, with a clear error otherwise. */
export function resolveClientAuth(name: string, host: Host | undefined, auth: { authenticator: string } | undefined): ClientAuthenticator | undefined {
  if (auth === undefined) return undefined;
  const id = auth.authenticator;
  const ext = host?.getExtension(id);
  if (ext === undefined) throw new Error(`${name}: auth.authenticator: extension "${id}" is not configured in service.extensions`);
  if (!isClientAuthenticator(ext)) throw new Error(`${name}: auth.authenticator: extension "${id}" is not a client authenticator`);
  return ext;
}

/**
 * One pooled client for `url`'s origin, honouring the config's TLS, proxy, pool and keep-alive keys.
 * `where` names requests in errors (e.g. `exporter loki: POST https://host/path`).
 */
export async function openHttpClient(ctx: HttpClientContext, url: URL, config: Partial<HttpClientSettings>, where: string, options: { auth?: boolean } = {}): Promise<HttpClient> {
  const ignored = IGNORED.filter((k) => config[k] !== undefined);
  if (config.tls?.reload_interval !== undefined) ignored.push('tls.reload_interval' as keyof HttpClientSettings);
  if (ignored.length > 0) ctx.logger.info('HTTP client settings accepted but not applied in Node', { component: ctx.name, keys: ignored.join(', ') });
  const auth = options.auth === false ? undefined : resolveClientAuth(ctx.name, ctx.host, config.auth);
  const tls = url.protocol === 'https:' ? await loadTlsClient(ctx.name, config.tls ?? {}) : undefined;
  const connect = tls !== undefined
    ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized, servername: tls.servername, minVersion: tls.minVersion, maxVersion: tls.maxVersion }
    : undefined;
  const conns = config.max_conns_per_host !== undefined && config.max_conns_per_host > 0 ? config.max_conns_per_host : null;
  const keepAliveTimeout = config.idle_conn_timeout !== undefined && config.idle_conn_timeout > 0 ? config.idle_conn_timeout : 30_000;
  const poolOptions = { connections: conns, keepAliveTimeout, keepAliveMaxTimeout: Math.max(600_000, keepAliveTimeout) };
  // One dispatcher per exporter and origin, kept for its lifetime, so connections are reused across sends.
  const dispatcher: Dispatcher = config.proxy_url !== undefined
    ? new ProxyAgent({ uri: config.proxy_url, ...poolOptions, ...(connect ? { requestTls: connect } : {}) })
    : new Pool(url.origin, { ...poolOptions, ...(connect ? { connect } : {}) });
  return new HttpClient(url.origin, where, dispatcher, config.proxy_url !== undefined, config.disable_keep_alives === true, auth);
}
