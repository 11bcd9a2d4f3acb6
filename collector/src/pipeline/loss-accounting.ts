/**
 * Loss accounting: where every record the collector took ended up, from the collector's own metrics.
 * Per exporter the books must balance:
 *
 *   enqueued + recovered (from a disk queue) = sent + dead-lettered + dropped (by reason) + queued + in flight
 *
 * and for the collector: accepted by receivers, dropped by processor rules (by design, per reason).
 * The shutdown summary prints this; the same counters are on /metrics.
 */
import type { Telemetry } from '../telemetry/metrics.js';
import { Metrics } from '../telemetry/metric-names.js';

export const ENQUEUED_METRIC = Metrics.exporterEnqueued.name;

const N = {
  accepted: Metrics.receiverAccepted.name,
  processorDropped: Metrics.processorDropped.name,
  enqueued: ENQUEUED_METRIC,
  recovered: Metrics.exporterQueueRecovered.name,
  sent: Metrics.exporterSent.name,
  deadLettered: Metrics.exporterDeadLettered.name,
  failed: Metrics.exporterSendFailed.name,
  queued: Metrics.exporterQueueRecords.name,
  inFlight: Metrics.exporterInFlight.name,
  corrupt: Metrics.exporterQueueCorrupt.name,
  lost: Metrics.exporterQueueLost.name,
} as const;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text the telemetry renders (only what it emits: no escapes beyond \" \\ \n). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  const re = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
  const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = re.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(labelRe)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export interface ExporterBooks {
  exporter: string;
  enqueued: number;
  recovered: number;
  sent: number;
  deadLettered: number;
  dropped: Record<string, number>;
  queued: number;
  inFlight: number;
  corruptRecords: number;
  /** Log records in those damaged batches. */
  lostRecords: number;
  /** in − out: 0 when every record is accounted for. */
  unaccounted: number;
}

export interface DeliveryBooks {
  accepted: number;
  processorDropped: Record<string, number>;
  exporters: ExporterBooks[];
  balanced: boolean;
}

export function deliveryBooks(telemetry: Telemetry): DeliveryBooks {
  const samples = parseSamples(telemetry.render());
  const sum = (name: string, pred: (l: Record<string, string>) => boolean = () => true): number =>
    samples.filter((s) => s.name === name && pred(s.labels)).reduce((a, s) => a + s.value, 0);
  const byReason = (name: string, pred: (l: Record<string, string>) => boolean): Record<string, number> => {
    const r: Record<string, number> = {};
    for (const s of samples) if (s.name === name && pred(s.labels) && s.value > 0) r[s.labels['reason'] ?? 'unknown'] = (r[s.labels['reason'] ?? 'unknown'] ?? 0) + s.value;
    return r;
  };
  const ids = new Set<string>();
  for (const s of samples) if (s.name.startsWith('tributary_exporter_') && s.labels['exporter'] !== undefined) ids.add(s.labels['exporter']);
  const exporters: ExporterBooks[] = [...ids].sort().map((exporter) => {
    const is = (l: Record<string, string>): boolean => l['exporter'] === exporter;
    const b = {
      exporter,
      enqueued: sum(N.enqueued, is),
      recovered: sum(N.recovered, is),
      sent: sum(N.sent, is),
      deadLettered: sum(N.deadLettered, is),
      dropped: byReason(N.failed, is),
      queued: sum(N.queued, is),
      inFlight: sum(N.inFlight, is),
      corruptRecords: sum(N.corrupt, is),
      lostRecords: sum(N.lost, is),
      unaccounted: 0,
    };
    const out = b.sent + b.deadLettered + Object.values(b.dropped).reduce((a, v) => a + v, 0) + b.queued + b.inFlight;
    b.unaccounted = b.enqueued + b.recovered - out;
    return b;
  });
  return {
    accepted: sum(N.accepted),
    processorDropped: byReason(N.processorDropped, () => true),
    exporters,
    balanced: exporters.every((e) => e.unaccounted === 0),
  };
}

const fmtReasons = (r: Record<string, number>): string => {
  const parts = Object.entries(r).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : '0';
};

/** The shutdown summary, one line per exporter plus a header line. */
export function formatDeliverySummary(books: DeliveryBooks): string[] {
  const lines = [
    `delivery summary: accepted by receivers ${books.accepted}; dropped by processor rules ${fmtReasons(books.processorDropped)}; ` +
      (books.balanced ? 'every exporter balances' : 'SOME RECORDS ARE UNACCOUNTED FOR'),
  ];
  for (const e of books.exporters) {
    lines.push(
      `exporter ${e.exporter}: in ${e.enqueued}${e.recovered ? ` + ${e.recovered} recovered from disk` : ''} = sent ${e.sent} + dead-lettered ${e.deadLettered}` +
        ` + dropped ${fmtReasons(e.dropped)} + still queued ${e.queued} + in flight ${e.inFlight}` +
        (e.corruptRecords ? `; ${e.corruptRecords} corrupt queue records found (${e.lostRecords} log records lost to disk damage)` : '') +
        (e.unaccounted !== 0 ? `; UNACCOUNTED ${e.unaccounted}` : ''),
    );
  }
  return lines;
}
