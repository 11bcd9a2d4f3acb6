/**
 * One HTTP POST over a keep-alive undici Pool, shared by the datadog and splunk_hec exporters: a transport
 * failure (refused, reset, timeout, abort) becomes a RetryableError that names only the method, origin
 * and path (never headers, query strings or credentials); the answer body is read bounded.
 */
import { Pool, type Dispatcher } from 'undici';
import { errorMessage, RetryableError } from '../../errors.js';
import { readBounded } from './response.js';

export interface HttpAnswer {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Buffer;
}

export function createPool(url: URL, tls?: { rejectUnauthorized: boolean; ca?: Buffer | undefined }): Pool {
  const connect = url.protocol === 'https:' && tls ? { rejectUnauthorized: tls.rejectUnauthorized, ca: tls.ca } : undefined;
  // One pool per exporter, kept for its lifetime, so connections are reused across sends.
  return new Pool(url.origin, { connect, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
}

export async function postOnce(
  where: string,
  pool: Pool,
  path: string,
  headers: Record<string, string>,
  body: Buffer | string,
  signal: AbortSignal,
  method: 'POST' | 'GET' = 'POST',
): Promise<HttpAnswer> {
  try {
    const res = await pool.request({ method, path, headers, body: method === 'GET' ? null : body, signal });
    const answer = await readBounded(res.body);
    return { status: res.statusCode, headers: res.headers, body: answer };
  } catch (err) {
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
      throw new RetryableError(`${where}: request aborted (${why})`, { cause: err });
    }
    const code = (err as { code?: unknown }).code;
    throw new RetryableError(`${where}: ${typeof code === 'string' ? `${code}: ` : ''}${errorMessage(err)}`, { cause: err });
  }
}

/** A header value as one string. */
export function headerOf(headers: HttpAnswer['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The first 256 characters of an answer body, for error messages, with any of `secrets` masked. */
export function answerText(body: Buffer, secrets: readonly string[]): string {
  let s = body.subarray(0, 4096).toString('utf8').trim();
  for (const secret of secrets) if (secret.length >= 4) s = s.split(secret).join('***');
  return s.length > 256 ? `${s.slice(0, 256)}…` : s;
}
