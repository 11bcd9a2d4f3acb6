/**
 * OTLP partial success (shared by the otlp and otlphttp exporters): the destination accepted the request
 * but refused some records. The spec forbids retrying, so like upstream this is logged (rate-limited) and
 * the send succeeds; the refused records are counted so the loss is visible on /metrics.
 */
import type { ExportLogsServiceResponse } from '@tributary/otlp';
import { RateLimitedLog, type Logger } from '../../telemetry/logger.js';
import type { BoundCounter, Telemetry } from '../../telemetry/metrics.js';
import { Metrics } from '../../telemetry/metric-names.js';

export const PARTIAL_REJECTED_METRIC = Metrics.exporterPartialRejected.name;

const MAX_MESSAGE = 256;

export function truncate(s: string, max = MAX_MESSAGE): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

export class PartialSuccessHandler {
  private readonly rejected: BoundCounter;
  private readonly log: RateLimitedLog;

  constructor(exporterId: string, logger: Logger, telemetry: Telemetry) {
    this.rejected = telemetry
      .counter(Metrics.exporterPartialRejected)
      .bind({ exporter: exporterId });
    this.log = new RateLimitedLog(logger);
  }

  /** Records a partial success if the response carries one; returns the number of rejected records. */
  handle(response: ExportLogsServiceResponse | undefined): number {
    const ps = response?.partialSuccess;
    if (ps == null) return 0;
    const r = ps.rejectedLogRecords;
    const rejected = typeof r === 'number' ? r : r ? r.toNumber() : 0;
    if (rejected > 0) {
      this.rejected.add(rejected);
      this.log.warn('destination rejected some log records (partial success; not retried)', {
        rejected_log_records: rejected,
        error_message: truncate(ps.errorMessage ?? ''),
      });
    } else if (ps.errorMessage) {
      // rejected=0 with a message is a warning from the server (spec).
      this.log.warn('destination answered with a warning', { error_message: truncate(ps.errorMessage) });
    }
    return rejected;
  }
}
