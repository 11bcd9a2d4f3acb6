/** Interpreting OTLP/HTTP answers: google.rpc.Status decoding and error typing (OTLP status policy). */
import { decodeExportResponse, decodeExportResponseJson, decodeRpcStatus, retryDelayFromStatus, type ExportLogsServiceResponse } from '@tributary/otlp';
import { errorForHttpStatus, OTLP_STATUS } from '../../config/http-client.js';
import { truncate } from './partial-success.js';

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
  return errorForHttpStatus(where, statusCode, info.message ? truncate(info.message.trim()) : '', retryAfterHeader, OTLP_STATUS, info.retryAfterMs);
}
