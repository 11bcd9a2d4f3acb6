/**
 * Partial delivery, for exporters that send one batch as several requests or get per-item answers:
 * references from converted items back to their records, rebuilding a `LogsBatch` of some of them
 * (resource, scope and `metadata` kept), and one outcome that turns what happened to each record into
 * the error the exporter helper needs (nothing, the request's own error, PermanentError or
 * PartialSendError with only the records still to send).
 */
import type { LogRecord, ResourceLogs, ScopeLogs } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';
import { errorMessage, PartialSendError, PermanentError, RetryableError, retryAfterOf } from '../../errors.js';

/** One record of a batch, with the resource and scope it belongs to (no copies). */
export interface RecordRef {
  readonly rl: ResourceLogs;
  readonly sl: ScopeLogs;
  readonly lr: LogRecord;
}

/** A record the destination can never accept, with the reason. */
export interface RejectedRecord {
  readonly ref: RecordRef;
  readonly reason: string;
}

/** One destination request: the records it carries (in body order). */
export interface PlannedRequest {
  readonly refs: readonly RecordRef[];
}

/** Every record of a batch as a RecordRef, in order. */
export function recordsOf(resourceLogs: readonly ResourceLogs[]): RecordRef[] {
  const out: RecordRef[] = [];
  for (const rl of resourceLogs) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) out.push({ rl, sl, lr });
  return out;
}

/**
 * A batch holding only the referenced records, under shallow copies of their own ResourceLogs and
 * ScopeLogs (records are not copied), with `from`'s `receivedAt` and `metadata`. A record referenced
 * twice (split into several items) counts once. Undefined when `refs` is empty.
 */
export function batchFromRefs(refs: Iterable<RecordRef>, from: Pick<LogsBatch, 'receivedAt' | 'metadata'>): LogsBatch | undefined {
  const byResource = new Map<ResourceLogs, { out: ResourceLogs; scopes: Map<ScopeLogs, ScopeLogs> }>();
  const resourceLogs: ResourceLogs[] = [];
  const seen = new Set<LogRecord>();
  let recordCount = 0;
  for (const ref of refs) {
    if (seen.has(ref.lr)) continue;
    seen.add(ref.lr);
    let r = byResource.get(ref.rl);
    if (r === undefined) {
      r = { out: { ...ref.rl, scopeLogs: [] }, scopes: new Map() };
      byResource.set(ref.rl, r);
      resourceLogs.push(r.out);
    }
    let s = r.scopes.get(ref.sl);
    if (s === undefined) {
      s = { ...ref.sl, logRecords: [] };
      r.scopes.set(ref.sl, s);
      r.out.scopeLogs.push(s);
    }
    s.logRecords.push(ref.lr);
    recordCount++;
  }
  if (recordCount === 0) return undefined;
  const out: LogsBatch = { resourceLogs, recordCount, receivedAt: from.receivedAt };
  if (from.metadata !== undefined) out.metadata = from.metadata;
  return out;
}

/**
 * What happened to the records of one batch across several requests (and per-item answers). Exporters
 * add what was not accepted; `finish()` (or `error()`) gives the helper the right error.
 */
export class SplitSendOutcome {
  private readonly retry: RecordRef[] = [];
  private readonly rejected: RecordRef[] = [];
  private readonly reasons = new Map<string, number>();
  private retryError: Error | undefined;
  private retryAfterMs: number | undefined;

  constructor(
    private readonly where: string,
    private readonly total: number,
  ) {}

  /** These records were not accepted but may be on a later attempt (`err` says why; may carry Retry-After). */
  addRetry(refs: Iterable<RecordRef>, err: Error): void {
    for (const ref of refs) this.retry.push(ref);
    this.noteRetryError(err);
  }

  addRetryOne(ref: RecordRef, reason: string): void {
    this.retry.push(ref);
    this.retryError ??= new RetryableError(`${this.where}: ${reason}`);
  }

  /** These records were not attempted (an earlier request failed); they go with the retry. */
  addPending(refs: Iterable<RecordRef>): void {
    for (const ref of refs) this.retry.push(ref);
  }

  /** Keeps the first retry error and the longest Retry-After. */
  noteRetryError(err: Error): void {
    this.retryError ??= err;
    const after = retryAfterOf(err);
    if (after !== undefined) this.retryAfterMs = Math.max(this.retryAfterMs ?? 0, after);
  }

  /** These records can never be accepted. */
  addRejected(refs: Iterable<RecordRef>, reason: string): void {
    let n = 0;
    for (const ref of refs) {
      this.rejected.push(ref);
      n++;
    }
    if (n > 0) this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + n);
  }

  addRejectedOne(ref: RecordRef, reason: string): void {
    this.rejected.push(ref);
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  get retryCount(): number {
    return this.retry.length;
  }

  get rejectedCount(): number {
    return this.rejected.length;
  }

  /** "2× empty body; 1× too large" (at most three reasons). */
  describeRejected(): string {
    const parts: string[] = [];
    let n = 0;
    for (const [reason, count] of this.reasons) {
      if (n++ === 3) {
        parts.push('…');
        break;
      }
      parts.push(`${count}× ${reason}`);
    }
    return parts.join('; ');
  }

  /** A PartialSendError with `message`, carrying the records to retry and the rejected ones. */
  error(message: string, batch: Pick<LogsBatch, 'receivedAt' | 'metadata'>): PartialSendError {
    return new PartialSendError(message, {
      retry: batchFromRefs(this.retry, batch),
      rejected: batchFromRefs(this.rejected, batch),
      retryAfterMs: this.retryAfterMs,
    });
  }

  /** Returns when every record was accepted; throws otherwise. */
  finish(batch: Pick<LogsBatch, 'receivedAt' | 'metadata'>): void {
    const retry = this.retry.length;
    const rejected = this.rejected.length;
    if (retry === 0 && rejected === 0) return;
    if (rejected === 0 && retry === this.total && this.retryError !== undefined) {
      // Nothing got through and nothing is bad: the whole batch is retried with the error's own type.
      throw this.retryError;
    }
    if (retry === 0 && rejected === this.total) {
      throw new PermanentError(`${this.where}: all ${rejected} records rejected: ${this.describeRejected()}`);
    }
    const bits: string[] = [];
    if (retry > 0) bits.push(`${retry} to retry (${this.retryError?.message ?? 'retryable'})`);
    if (rejected > 0) bits.push(`${rejected} rejected (${this.describeRejected()})`);
    throw this.error(`${this.where}: ${this.total - retry - rejected} of ${this.total} records accepted; ${bits.join(', ')}`, batch);
  }
}

/** "3 record(s) rejected (2 × empty body, 1 × event larger than …)". */
export function describeRejected(rejected: readonly RejectedRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of rejected) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  const parts: string[] = [];
  for (const [reason, n] of counts) parts.push(`${n} × ${reason}`);
  return `${rejected.length} record(s) rejected (${parts.join(', ')})`;
}

/**
 * Sends `requests` one after the other with `post`, which throws the classified error of a failed request.
 * - Every request delivered and nothing rejected by `convert`: resolves.
 * - Nothing delivered yet and nothing rejected: the error of the first request is thrown as is (the whole
 *   batch is retried, or is permanent when it was the only request).
 * - Otherwise a `PartialSendError`: `retry` = the failed request (when retryable) and every request not
 *   attempted; `rejected` = the failed request (when permanent) and the records `convert` rejected.
 */
export async function sendInOrder<R extends PlannedRequest>(
  where: string,
  batch: LogsBatch,
  requests: readonly R[],
  rejected: readonly RejectedRecord[],
  post: (request: R) => Promise<void>,
): Promise<void> {
  const outcome = new SplitSendOutcome(where, batch.recordCount);
  for (const r of rejected) outcome.addRejectedOne(r.ref, r.reason);
  for (let i = 0; i < requests.length; i++) {
    try {
      await post(requests[i]!);
    } catch (err) {
      const permanent = err instanceof PermanentError;
      if (i === 0 && rejected.length === 0 && (!permanent || requests.length === 1)) throw err;
      const reason = errorMessage(err);
      if (permanent) outcome.addRejected(requests[i]!.refs, reason);
      else if (err instanceof Error) outcome.addRetry(requests[i]!.refs, err);
      else outcome.addPending(requests[i]!.refs);
      for (let j = i + 1; j < requests.length; j++) outcome.addPending(requests[j]!.refs);
      const what = rejected.length ? `; ${describeRejected(rejected)}` : '';
      throw outcome.error(`${where}: request ${i + 1} of ${requests.length} failed: ${reason}${what}`, batch);
    }
  }
  if (rejected.length) throw outcome.error(`${where}: ${describeRejected(rejected)}`, batch);
}
