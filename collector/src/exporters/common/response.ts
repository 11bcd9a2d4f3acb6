/** Reading and interpreting OTLP/HTTP answers: bounded body reads, google.rpc.Status decoding, error typing. */
import { decodeExportResponse, decodeExportResponseJson, decodeRpcStatus, retryDelayFromStatus, type ExportLogsServiceResponse } from '@tributary/otlp';
import { parseRetryAfter, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { truncate } from './partial-success.js';

/** Like upstream (maxHTTPResponseReadBytes): never buffer more than this of an answer. */
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

export type BodyKind = 'proto' | 'json' | 'other';

export function bodyKind(contentType: string | string[] | undefined, fallback: BodyKind): BodyKind {
  const ct = Array.isArray(contentType) ? contentType[0] : contentType;
  if (!ct) return fallback;
  if (ct.startsWith('application/x-protobuf') || ct.startsWith('application/protobuf')) return 'proto';
  if (ct.startsWith('application/json')) return 'json';
  return 'other';
}

/** The ExportLogsServiceResponse of a 2xx answer; undefined when empty or not decodable (still a success). */
export function decodeSuccessBody(body: Buffer, kind: BodyKind): ExportLogsServiceResponse | undefined {
  if (body.length === 0) return undefined;
  try {
    if (kind === 'proto') return decodeExportResponse(body);
    if (kind === 'json') return decodeExportResponseJson(body.toString('utf8'));
  } catch {
    // A 2xx means the data was accepted; an unreadable body only loses the partial-success detail.
  }
  return undefined;
}

interface StatusInfo {
  message: string;
  retryAfterMs: number | undefined;
}

/** Parses a protobuf-JSON Duration such as "1.5s". */
function parseJsonDuration(v: unknown): number | undefined {
  if (typeof v !== 'string' || !v.endsWith('s')) return undefined;
  const n = Number(v.slice(0, -1));
  return Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}

/** Extracts message and RetryInfo delay from a failure body (google.rpc.Status, protobuf or JSON). */
export function decodeFailureBody(body: Buffer, kind: BodyKind): StatusInfo {
  if (body.length === 0) return { message: '', retryAfterMs: undefined };
  try {
    if (kind === 'proto') {
      const status = decodeRpcStatus(body);
      return { message: status.message ?? '', retryAfterMs: retryDelayFromStatus(status) };
    }
    if (kind === 'json') {
      const parsed = JSON.parse(body.toString('utf8')) as { message?: unknown; details?: unknown };
      let retryAfterMs: number | undefined;
      if (Array.isArray(parsed.details)) {
        for (const d of parsed.details as Record<string, unknown>[]) {
          if (d && typeof d['@type'] === 'string' && d['@type'].endsWith('google.rpc.RetryInfo')) {
            retryAfterMs = parseJsonDuration(d['retryDelay'] ?? d['retry_delay']);
            break;
          }
        }
      }
      return { message: typeof parsed.message === 'string' ? parsed.message : '', retryAfterMs };
    }
  } catch {
    // Not a Status: fall through and show the text.
  }
  return { message: body.toString('utf8'), retryAfterMs: undefined };
}

/**
 * Maps a non-2xx answer to a typed error (OTLP spec): 429 → ThrottledError; 502/503/504 → RetryableError,
 * both with the Retry-After header (or the Status' RetryInfo) as retryAfterMs; anything else → PermanentError.
 */
export function errorForStatus(
  where: string,
  statusCode: number,
  retryAfterHeader: string | string[] | undefined,
  body: Buffer,
  kind: BodyKind,
): Error {
  const info = decodeFailureBody(body, kind);
  const detail = info.message ? `: ${truncate(info.message.trim())}` : '';
  const message = `${where}: HTTP ${statusCode}${detail}`;
  const header = Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader;
  const retryAfterMs = parseRetryAfter(header) ?? info.retryAfterMs;
  if (statusCode === 429) return new ThrottledError(message, { retryAfterMs });
  if (statusCode === 502 || statusCode === 503 || statusCode === 504) return new RetryableError(message, { retryAfterMs });
  return new PermanentError(message);
}
