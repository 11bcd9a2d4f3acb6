/** The debug exporter's sender: writes batches as text to stderr (or an injected writer), sampled. */
import { countLogRecords } from '@tributary/otlp';
import type { LogsBatch, LogsSender } from '../../component.js';
import { concatRequests, protoToJsonObject, topList, type OpaqueSignal } from '../../signals/otlp-signals.js';
import { formatDetailed, formatNormal, formatSummary } from './format.js';

export type Verbosity = 'basic' | 'normal' | 'detailed';

export interface DebugSenderOptions {
  /** Component id, shown in the summary line. */
  name: string;
  verbosity: Verbosity;
  /** Batches written per second before sampling starts (upstream `sampling_initial`). */
  samplingInitial: number;
  /** After that, every Nth batch in the same second is written (upstream `sampling_thereafter`; 0 = none). */
  samplingThereafter: number;
  /** Where the text goes; stderr by default. */
  write?: (text: string) => void;
  /** Clock in ms for the per-second sampling window; Date.now by default. */
  now?: () => number;
}

export class DebugSender implements LogsSender {
  private readonly write: (text: string) => void;
  private readonly now: () => number;
  private windowStart = -Infinity;
  private seen = 0;

  constructor(private readonly options: DebugSenderOptions) {
    this.write = options.write ?? ((text) => void process.stderr.write(text));
    this.now = options.now ?? Date.now;
  }

  send(batch: LogsBatch, _signal: AbortSignal): Promise<void> {
    if (this.sample()) this.write(this.render(batch));
    return Promise.resolve();
  }

  /** The text written for one batch (no sampling). */
  render(batch: LogsBatch): string {
    if (batch.opaque !== undefined) return this.renderOpaque(batch.opaque.signal, batch.opaque.requests, batch.recordCount);
    const rls = batch.resourceLogs;
    const summary = formatSummary(this.options.name, rls.length, countLogRecords(rls));
    switch (this.options.verbosity) {
      case 'normal':
        return summary + formatNormal(rls);
      case 'detailed':
        return summary + formatDetailed(rls);
      default:
        return summary;
    }
  }

  /** Traces / metrics: upstream's summary line; with normal/detailed verbosity, the data as OTLP/JSON. */
  private renderOpaque(signal: OpaqueSignal, requests: readonly Uint8Array[], items: number): string {
    const obj = protoToJsonObject(signal, concatRequests(requests));
    const resources = topList(signal, obj).length;
    const summary = signal === 'traces'
      ? `TracesExporter {"kind": "exporter", "data_type": "traces", "name": ${JSON.stringify(this.options.name)}, "resource spans": ${resources}, "spans": ${items}}\n`
      : `MetricsExporter {"kind": "exporter", "data_type": "metrics", "name": ${JSON.stringify(this.options.name)}, "resource metrics": ${resources}, "data points": ${items}}\n`;
    if (this.options.verbosity === 'basic') return summary;
    return summary + JSON.stringify(obj, null, this.options.verbosity === 'detailed' ? 2 : undefined) + '\n';
  }

  /** zap's sampler, as upstream uses it: the first N per second, then every Mth. */
  private sample(): boolean {
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      this.windowStart = t;
      this.seen = 0;
    }
    const n = ++this.seen;
    const { samplingInitial: first, samplingThereafter: every } = this.options;
    return n <= first || (every > 0 && (n - first) % every === 0);
  }
}
