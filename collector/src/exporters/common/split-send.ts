/**
 * Helpers shared by the HTTP exporters that split one batch into several destination requests
 * (datadog, splunk_hec): references to the records each request carries, rebuilding a `LogsBatch` of
 * just some records (for `PartialSendError.retry` / `.rejected`), and sending requests in order so that
 * a failure retries only what was not delivered yet.
 */
import type { LogRecord, ResourceLogs, ScopeLogs } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, retryAfterOf } from '../../errors.js';

/** Where one record sits in the batch tree (no copy of the record). */
export interface RecordRef {
  readonly rl: ResourceLogs;
  readonly sl: ScopeLogs;
  readonly lr: LogRecord;
}

/** A record that can never be accepted by the destination, with the reason. */
export interface RejectedRecord {
  readonly ref: RecordRef;
  readonly reason: string;
}

/** One destination request: the records it carries (in body order). */
export interface PlannedRequest {
  readonly refs: readonly RecordRef[];
}

/**
 * A `LogsBatch` holding only the given records, under (shallow copies of) their own ResourceLogs and
 * ScopeLogs, so resource and scope stay attached. Records are not copied.
 */
export function batchOf(refs: readonly RecordRef[], receivedAt: number, metadata?: LogsBatch['metadata']): LogsBatch {
  const rls = new Map<ResourceLogs, ResourceLogs>();
  const sls = new Map<ScopeLogs, ScopeLogs>();
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    let sl = sls.get(ref.sl);
    if (sl === undefined) {
      let rl = rls.get(ref.rl);
      if (rl === undefined) {
        rl = { resource: ref.rl.resource ?? null, schemaUrl: ref.rl.schemaUrl, scopeLogs: [] };
        rls.set(ref.rl, rl);
      }
      sl = { scope: ref.sl.scope ?? null, schemaUrl: ref.sl.schemaUrl, logRecords: [] };
      sls.set(ref.sl, sl);
      rl.scopeLogs.push(sl);
    }
    sl.logRecords.push(ref.lr);
  }
  const out: LogsBatch = { resourceLogs: [...rls.values()], recordCount: refs.length, receivedAt };
  if (metadata !== undefined) out.metadata = metadata;
  return out;
}

function refsOf(requests: readonly PlannedRequest[], from: number): RecordRef[] {
  const out: RecordRef[] = [];
  for (let i = from; i < requests.length; i++) {
    const refs = requests[i]!.refs;
    for (let j = 0; j < refs.length; j++) out.push(refs[j]!);
  }
  return out;
}

/** "3 records rejected (2 × empty body, 1 × event larger than …)". */
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
  for (let i = 0; i < requests.length; i++) {
    try {
      await post(requests[i]!);
    } catch (err) {
      const permanent = err instanceof PermanentError;
      if (i === 0 && rejected.length === 0 && (!permanent || requests.length === 1)) throw err;
      const rejectedRefs = rejected.map((r) => r.ref);
      const retryRefs = refsOf(requests, permanent ? i + 1 : i);
      if (permanent) for (const ref of requests[i]!.refs) rejectedRefs.push(ref);
      const reason = err instanceof Error ? err.message : String(err);
      const what = rejected.length ? `; ${describeRejected(rejected)}` : '';
      throw new PartialSendError(`${where}: request ${i + 1} of ${requests.length} failed: ${reason}${what}`, {
        retry: retryRefs.length ? batchOf(retryRefs, batch.receivedAt, batch.metadata) : undefined,
        rejected: rejectedRefs.length ? batchOf(rejectedRefs, batch.receivedAt, batch.metadata) : undefined,
        retryAfterMs: retryAfterOf(err),
      });
    }
  }
  if (rejected.length) {
    throw new PartialSendError(`${where}: ${describeRejected(rejected)}`, {
      rejected: batchOf(rejected.map((r) => r.ref), batch.receivedAt, batch.metadata),
    });
  }
}
