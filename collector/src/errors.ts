/**
 * Typed consumer errors. A consumer's promise rejects with one of these;
 * receivers map them to OTLP answers and the exporter queue decides from them whether to retry.
 * Anything else thrown is treated as retryable (a bug or an unexpected transport failure should not
 * silently lose data).
 */
export class RetryableError extends Error {
  override name = 'RetryableError';
  /** Server-suggested wait (Retry-After) in milliseconds. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { retryAfterMs?: number | undefined; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** Back-pressure: the data is fine, the receiver side is over a limit. Receivers answer 429 / RESOURCE_EXHAUSTED. */
export class ThrottledError extends Error {
  override name = 'ThrottledError';
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { retryAfterMs?: number | undefined; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** The data can never be accepted (bad data, 400 from a destination, too large). Never retried. */
export class PermanentError extends Error {
  override name = 'PermanentError';
  /** How many records of the batch were refused; undefined means all of them. */
  readonly rejected: number | undefined;
  constructor(message: string, options?: { rejected?: number | undefined; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.rejected = options?.rejected;
  }
}

export type ConsumerErrorKind = 'retryable' | 'throttled' | 'permanent';

export function classifyError(err: unknown): ConsumerErrorKind {
  if (err instanceof PermanentError) return 'permanent';
  if (err instanceof ThrottledError) return 'throttled';
  return 'retryable';
}

export function retryAfterOf(err: unknown): number | undefined {
  return err instanceof RetryableError || err instanceof ThrottledError ? err.retryAfterMs : undefined;
}

/** Parses an HTTP Retry-After header (delta-seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value == null || value === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** An AbortSignal's reason as text: the Error's message, the string, or "aborted". */
export function abortReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  return reason === undefined ? 'aborted' : (JSON.stringify(reason) ?? 'aborted');
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Some records of a batch were accepted and some were not (e.g. an Elasticsearch bulk response with
 * failed items). `retry` holds the records to send again (the queue retries only those);
 * `rejected` holds records that can never be accepted: they are counted and go to the exporter's
 * dead-letter file when one is configured. Either may be undefined.
 */
export class PartialSendError extends Error {
  override name = 'PartialSendError';
  readonly retry: import('./component.js').LogsBatch | undefined;
  readonly rejected: import('./component.js').LogsBatch | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    parts: {
      retry?: import('./component.js').LogsBatch | undefined;
      rejected?: import('./component.js').LogsBatch | undefined;
      retryAfterMs?: number | undefined;
    },
  ) {
    super(message);
    this.retry = parts.retry;
    this.rejected = parts.rejected;
    this.retryAfterMs = parts.retryAfterMs;
  }
}
