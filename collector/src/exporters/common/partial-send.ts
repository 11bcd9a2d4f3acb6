/**
 * Helpers for exporters that send one batch as several requests or get per-item answers: references to
 * single records, rebuilding a LogsBatch from a subset of them, and turning the outcome of a split send
 * into the right typed error (nothing / RetryableError / ThrottledError / PermanentError / PartialSendError).
 */
import type { LogRecord, ResourceLogs, ScopeLogs } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, RetryableError } from '../../errors.js';

/** One record of a batch, with the resource and scope it belongs to (no copies). */
export interface RecordRef {
  readonly rl: ResourceLogs;
  readonly sl: ScopeLogs;
  readonly lr: LogRecord;
}

/** A LogsBatch holding only `refs` (same resource/scope objects, records in the given order). */
export function batchOfRecords(refs: readonly RecordRef[], receivedAt: number): LogsBatch {
  const resources = new Map<ResourceLogs, { out: ResourceLogs; scopes: Map<ScopeLogs, ScopeLogs> }>();
  const resourceLogs: ResourceLogs[] = [];
  for (let i = 0; i < refs.length; i++) {
    const { rl, sl, lr } = refs[i]!;
    let r = resources.get(rl);
    if (r === undefined) {
      r = { out: { resource: rl.resource ?? null, schemaUrl: rl.schemaUrl, scopeLogs: [] }, scopes: new Map() };
      resources.set(rl, r);
      resourceLogs.push(r.out);
    }
    let s = r.scopes.get(sl);
    if (s === undefined) {
      s = { scope: sl.scope ?? null, schemaUrl: sl.schemaUrl, logRecords: [] };
      r.scopes.set(sl, s);
      r.out.scopeLogs.push(s);
    }
    s.logRecords.push(lr);
  }
  return { resourceLogs, recordCount: refs.length, receivedAt };
}

/** Every record of a batch as a RecordRef, in order. */
export function recordsOf(resourceLogs: readonly ResourceLogs[]): RecordRef[] {
  const out: RecordRef[] = [];
  for (const rl of resourceLogs) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) out.push({ rl, sl, lr });
  return out;
}

/**
 * Collects what happened to the records of one batch across several requests (and per-item answers),
 * then `finish()` throws what the exporter helper needs to know.
 */
export class SplitSendOutcome {
  private readonly retry: RecordRef[] = [];
  private readonly rejected: RecordRef[] = [];
  private readonly reasons = new Map<string, number>();
  private retryError: Error | undefined;
  private retryAfterMs: number | undefined;

  constructor(private readonly where: string, private readonly total: number) {}

  /** These records were not accepted but may be on a later attempt (`err` says why; may carry Retry-After). */
  addRetry(refs: readonly RecordRef[], err: Error): void {
    for (let i = 0; i < refs.length; i++) this.retry.push(refs[i]!);
    this.retryError ??= err;
    const after = (err as { retryAfterMs?: number }).retryAfterMs;
    if (after !== undefined) this.retryAfterMs = Math.max(this.retryAfterMs ?? 0, after);
  }

  addRetryOne(ref: RecordRef, reason: string): void {
    this.retry.push(ref);
    this.retryError ??= new RetryableError(`${this.where}: ${reason}`);
  }

  /** These records can never be accepted. */
  addRejected(refs: readonly RecordRef[], reason: string): void {
    for (let i = 0; i < refs.length; i++) this.rejected.push(refs[i]!);
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + refs.length);
  }

  addRejectedOne(ref: RecordRef, reason: string): void {
    this.rejected.push(ref);
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  get retryCount(): number { return this.retry.length; }
  get rejectedCount(): number { return this.rejected.length; }

  private describeRejected(): string {
    const parts: string[] = [];
    let n = 0;
    for (const [reason, count] of this.reasons) {
      if (n++ === 3) { parts.push('…'); break; }
      parts.push(`${count}× ${reason}`);
    }
    return parts.join('; ');
  }

  /** Returns when every record was accepted; throws otherwise. */
  finish(receivedAt: number): void {
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
    throw new PartialSendError(`${this.where}: ${this.total - retry - rejected} of ${this.total} records accepted; ${bits.join(', ')}`, {
      retry: retry > 0 ? batchOfRecords(this.retry, receivedAt) : undefined,
      rejected: rejected > 0 ? batchOfRecords(this.rejected, receivedAt) : undefined,
      retryAfterMs: this.retryAfterMs,
    });
  }
}
