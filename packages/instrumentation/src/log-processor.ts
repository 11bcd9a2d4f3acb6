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
