/**
 * What both transports share once a request is decoded: record validation, handing the batch to the
 * pipeline, mapping the consumer's typed errors to an outcome, and the receiver metrics.
 */
import { countLogRecords, type ResourceLogs } from '@tributary/otlp';
import type { ComponentId, LogsBatch, LogsConsumer } from '../../component.js';
import { PermanentError, ThrottledError, RetryableError, errorMessage } from '../../errors.js';
import { RateLimitedLog, type Logger } from '../../telemetry/logger.js';
import type { BoundCounter, Telemetry } from '../../telemetry/metrics.js';
import { acceptsSignal, type Signal } from '../../pipeline/signal-router.js';
import { countItems } from '../../signals/otlp-signals.js';
import { removeInvalidRecords } from './validate.js';
import { Metrics } from '../../telemetry/metric-names.js';

export type Transport = 'http' | 'grpc';
export type RefuseReason = 'malformed' | 'too_large' | 'throttled' | 'unavailable' | 'permanent' | 'unauthenticated';
const REASONS: readonly RefuseReason[] = ['malformed', 'too_large', 'throttled', 'unavailable', 'permanent', 'unauthenticated'];

export const REFUSED_REQUESTS_METRIC = Metrics.receiverRefusedRequests.name;

export type RequestMetadata = Readonly<Record<string, string | string[] | undefined>>;

/**
 * - `accepted`: answer success; `rejected`/`message` > 0 / non-empty make it a partial success.
 * - `throttled` / `unavailable`: back-pressure, the client should retry after `retryAfterMs`.
 * - `invalid`: the pipeline refused the whole request for good.
 */
export interface IngestOutcome {
  kind: 'accepted' | 'throttled' | 'unavailable' | 'invalid';
  rejected: number;
  message: string;
  retryAfterMs: number | undefined;
}

interface TransportMetrics {
  accepted: BoundCounter;
  refused: Record<RefuseReason, BoundCounter>;
  refusedRequests: Record<RefuseReason, BoundCounter>;
  invalidUtf8: BoundCounter;
}

export const INVALID_UTF8_METRIC = Metrics.receiverInvalidUtf8.name;

const ACCEPTED_ALL: IngestOutcome = Object.freeze({ kind: 'accepted', rejected: 0, message: '', retryAfterMs: undefined });

export class Ingest {
  private readonly metrics: Record<Transport, TransportMetrics>;
  private readonly unexpected: RateLimitedLog;

  constructor(id: ComponentId, telemetry: Telemetry, private readonly next: LogsConsumer, private readonly logger: Logger) {
    const accepted = telemetry.counter(Metrics.receiverAccepted);
    const refused = telemetry.counter(Metrics.receiverRefused);
    const refusedReq = telemetry.counter(Metrics.receiverRefusedRequests);
    const invalidUtf8 = telemetry.counter(Metrics.receiverInvalidUtf8);
    const bind = (transport: Transport): TransportMetrics => {
      const r = {} as Record<RefuseReason, BoundCounter>;
      const rq = {} as Record<RefuseReason, BoundCounter>;
      for (const reason of REASONS) {
        r[reason] = refused.bind({ receiver: id.id, transport, reason });
        rq[reason] = refusedReq.bind({ receiver: id.id, transport, reason });
      }
      return { accepted: accepted.bind({ receiver: id.id, transport }), refused: r, refusedRequests: rq, invalidUtf8: invalidUtf8.bind({ receiver: id.id, transport }) };
    };
    this.metrics = { http: bind('http'), grpc: bind('grpc') };
    this.unexpected = new RateLimitedLog(logger);
  }

  /** Counts a request refused before it reached the pipeline (bad request, auth, size). */
  refuse(transport: Transport, reason: RefuseReason, records = 0): void {
    const m = this.metrics[transport];
    m.refusedRequests[reason].add(1);
    if (records > 0) m.refused[reason].add(records);
  }

  /** Counts strings of a decoded request whose invalid UTF-8 was replaced with U+FFFD. */
  invalidUtf8(transport: Transport, strings: number): void {
    if (strings > 0) this.metrics[transport].invalidUtf8.add(strings);
  }

  /** Validates and forwards one decoded request. Never rejects. */
  async ingest(transport: Transport, resourceLogs: ResourceLogs[], receivedAt: number, metadata: RequestMetadata | undefined): Promise<IngestOutcome> {
    const m = this.metrics[transport];
    const v = removeInvalidRecords(resourceLogs);
    if (v.rejected > 0) m.refused.malformed.add(v.rejected);
    const count = countLogRecords(resourceLogs);
    const partial: IngestOutcome =
      v.rejected > 0 ? { kind: 'accepted', rejected: v.rejected, message: v.firstError, retryAfterMs: undefined } : ACCEPTED_ALL;
    if (count === 0) {
      if (v.rejected > 0) m.refusedRequests.malformed.add(1);
      return partial;
    }
    const batch: LogsBatch = { resourceLogs, recordCount: count, receivedAt };
    if (metadata !== undefined) batch.metadata = metadata;
    try {
      await this.next.consume(batch);
      m.accepted.add(count);
      return partial;
    } catch (err) {
      return this.failure(m, err, count, v.rejected, v.firstError);
    }
  }

  /**
   * Forwards one traces / metrics request as it arrived (protobuf), counted in spans / data points.
   * Never rejects. Malformed protobuf is refused before the pipeline sees it.
   */
  async ingestOpaque(transport: Transport, signal: 'traces' | 'metrics', request: Uint8Array, receivedAt: number, metadata: RequestMetadata | undefined): Promise<IngestOutcome> {
    const m = this.metrics[transport];
    let count: number;
    try {
      count = countItems(signal, request);
    } catch (err) {
      m.refusedRequests.malformed.add(1);
      return { kind: 'invalid', rejected: 0, message: `malformed ${signal} request: ${errorMessage(err)}`, retryAfterMs: undefined };
    }
    if (count === 0) return ACCEPTED_ALL;
    const batch: LogsBatch = { resourceLogs: [], recordCount: count, receivedAt, opaque: { signal, requests: [request] } };
    if (metadata !== undefined) batch.metadata = metadata;
    try {
      await this.next.consume(batch);
      m.accepted.add(count);
      return ACCEPTED_ALL;
    } catch (err) {
      return this.failure(m, err, count, 0, '');
    }
  }

  /** Whether the pipelines behind this receiver take `signal`. */
  accepts(signal: Signal): boolean {
    return acceptsSignal(this.next, signal);
  }

  private failure(m: TransportMetrics, err: unknown, count: number, invalid: number, invalidMessage: string): IngestOutcome {
    const message = errorMessage(err);
    if (err instanceof PermanentError) {
      const r = err.rejected;
      if (r !== undefined && r >= 0 && r < count) {
        m.accepted.add(count - r);
        if (r > 0) m.refused.permanent.add(r);
        const msg = invalid > 0 ? `${message}; ${invalidMessage}` : message;
        return { kind: 'accepted', rejected: invalid + r, message: msg, retryAfterMs: undefined };
      }
      m.refused.permanent.add(count);
      m.refusedRequests.permanent.add(1);
      return { kind: 'invalid', rejected: invalid + count, message, retryAfterMs: undefined };
    }
    if (err instanceof ThrottledError) {
      m.refused.throttled.add(count);
      m.refusedRequests.throttled.add(1);
      return { kind: 'throttled', rejected: count, message, retryAfterMs: err.retryAfterMs };
    }
    if (!(err instanceof RetryableError)) {
      // An untyped error is a bug or an unexpected failure downstream: answer retryable, and say so.
      this.unexpected.warn('pipeline failed with an unexpected error; answering unavailable', { error: message });
    }
    m.refused.unavailable.add(count);
    m.refusedRequests.unavailable.add(1);
    return { kind: 'unavailable', rejected: count, message, retryAfterMs: err instanceof RetryableError ? err.retryAfterMs : undefined };
  }

  get log(): Logger {
    return this.logger;
  }
}
