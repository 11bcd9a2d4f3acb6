/**
 * The `filter` processor: drops records matching OTTL conditions or exclude properties, or not matching
 * include properties. Everything is compiled in the constructor; per record it only evaluates, and
 * dropped records are removed in place (write index), so a batch costs no allocation.
 */
import { countLogRecords, retainLogRecords, type LogRecord } from '@tributary/otlp';
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import { PermanentError } from '../../errors.js';
import { anyOf, compileCondition, EvaluationError, guardCondition, type Condition, type LogContext } from '../../ottl/index.js';
import { RateLimitedLog } from '../../telemetry/logger.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import type { FilterProcessorConfig } from './config.js';
import { compileMatchProperties } from './match-properties.js';
import { Metrics } from '../../telemetry/metric-names.js';

/** Builds the "drop this record?" predicate from config; undefined when nothing is configured. */
export function compileFilter(config: FilterProcessorConfig, log?: RateLimitedLog): Condition | undefined {
  const parts: Condition[] = [];
  const { include, exclude, log_record: conditions } = config.logs;
  if (include !== undefined) {
    const keep = compileMatchProperties(include);
    parts.push((ctx) => !keep(ctx));
  }
  if (exclude !== undefined) parts.push(compileMatchProperties(exclude));
  conditions.forEach((text, i) => {
    parts.push(guardCondition(compileCondition(text), `logs.log_record[${i}] ${JSON.stringify(text)}`, config.error_mode, log));
  });
  return parts.length === 0 ? undefined : anyOf(parts);
}

export class FilterProcessor implements Processor {
  readonly mutatesData = true;

  private readonly drop: Condition | undefined;
  private readonly incoming: BoundCounter;
  private readonly outgoing: BoundCounter;
  private readonly dropped: BoundCounter;
  private readonly refused: BoundCounter;

  constructor(settings: CreateSettings, config: FilterProcessorConfig, private readonly next: LogsConsumer) {
    this.drop = compileFilter(config, new RateLimitedLog(settings.logger));
    const labels = { processor: settings.id.id };
    const t = settings.telemetry;
    this.incoming = t.counter(Metrics.processorIncoming).bind(labels);
    this.outgoing = t.counter(Metrics.processorOutgoing).bind(labels);
    this.dropped = t.counter(Metrics.processorDropped).bind({ ...labels, reason: 'filter' });
    this.refused = t.counter(Metrics.processorRefused).bind(labels);
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  consume(batch: LogsBatch): Promise<void> {
    const total = countLogRecords(batch.resourceLogs);
    this.incoming.add(total);
    if (this.drop === undefined) {
      this.outgoing.add(total);
      return this.next.consume(batch);
    }
    let kept: number;
    try {
      kept = removeMatching(batch, this.drop);
    } catch (err) {
      // propagate mode: the whole batch is refused (it may be partly filtered already; it goes no further).
      this.refused.add(total);
      const message = err instanceof EvaluationError ? err.message : `filter failed: ${String(err)}`;
      return Promise.reject(new PermanentError(message, { cause: err }));
    }
    batch.recordCount = kept;
    this.dropped.add(total - kept);
    this.outgoing.add(kept);
    if (kept === 0) return Promise.resolve();
    return this.next.consume(batch);
  }
}

/**
 * Removes the records for which `drop` is true, in place, and then empty ScopeLogs and ResourceLogs.
 * Returns the number of records left.
 */
export function removeMatching(batch: LogsBatch, drop: Condition): number {
  // One context per batch, refilled per record: evaluation allocates nothing.
  const ctx: LogContext = { record: undefined as unknown as LogRecord, resource: undefined, scope: undefined };
  return retainLogRecords(batch.resourceLogs, (rec, sl, rl) => {
    ctx.record = rec;
    ctx.scope = sl.scope;
    ctx.resource = rl.resource;
    return !drop(ctx);
  });
}
