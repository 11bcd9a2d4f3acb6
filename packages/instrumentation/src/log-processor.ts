/**
 * Sits in front of the batching processor: drops records below the sending threshold, adds the
 * correlation id, removes the id fields copied from the app's own line (they are the record's traceId/spanId
 * already), and masks sensitive keys as a last line of defence.
 */
import type { Context } from '@opentelemetry/api';
import type { LogAttributes } from '@opentelemetry/api-logs';
import type { LogRecordProcessor, SdkLogRecord } from '@opentelemetry/sdk-logs';
import type { LogKeys } from './config';
import { getCorrelationId } from './correlation';
import type { Redactor } from './redact';

export interface TributaryLogProcessorOptions {
  minSeverity: number;
  logKeys: LogKeys;
  redactor: Redactor;
}

const SHORT_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

/** The OpenTelemetry short name of a severity number (1–24), e.g. `WARN` for 13–16. */
export function severityShortName(n: number | undefined): string | undefined {
  return n !== undefined && n >= 1 && n <= 24 ? SHORT_NAMES[(n - 1) >> 2] : undefined;
}

/**
 * One severity text whatever the logger: the short name; the logger's own level name is kept as `log.level`
 * when it is another word (`warning`, `http`, `notice`, a custom pino level), not just another case.
 */
export function normalizeSeverityText(n: number | undefined, text: string | undefined, attrs: Record<string, unknown>): string | undefined {
  const short = severityShortName(n);
  if (short === undefined) return text;
  if (text !== undefined && text !== short && text.toUpperCase() !== short && attrs['log.level'] === undefined) attrs['log.level'] = text;
  return short;
}

export class TributaryLogProcessor implements LogRecordProcessor {
  private readonly stripKeys: string[];

  constructor(private readonly next: LogRecordProcessor, private readonly options: TributaryLogProcessorOptions) {
    const k = options.logKeys;
    // Both the configured names and the official bridges' defaults.
    this.stripKeys = [...new Set([k.traceId, k.spanId, k.traceFlags, 'trace_id', 'span_id', 'trace_flags'])];
  }

  onEmit(record: SdkLogRecord, ctx?: Context): void {
    const sev = record.severityNumber;
    if (sev !== undefined && sev < this.options.minSeverity) return;
    const attrs = record.attributes as Record<string, unknown>;
    const text = record.severityText;
    const normalized = normalizeSeverityText(sev, text, attrs);
    if (normalized !== text && normalized !== undefined) record.setSeverityText(normalized);
    for (const key of this.stripKeys) if (key in attrs) delete attrs[key];
    const correlationKey = this.options.logKeys.correlationId;
    const fromLine = attrs[correlationKey];
    if (correlationKey !== 'correlation_id' && fromLine !== undefined) delete attrs[correlationKey];
    if (attrs['correlation_id'] === undefined) {
      const id = typeof fromLine === 'string' ? fromLine : ctx !== undefined ? getCorrelationId(ctx) : undefined;
      if (id !== undefined) attrs['correlation_id'] = id;
    }
    const redactor = this.options.redactor;
    if (redactor.enabled) {
      redactor.redactInPlace(attrs);
      if (record.body !== null && typeof record.body === 'object') record.setBody(redactor.redact(record.body));
    }
    this.next.onEmit(record, ctx);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

export type { LogAttributes };
