/**
 * The collector's own metrics, rendered in the Prometheus text format by the `metrics` extension.
 * Instruments are created once (at component creation) and bound to their labels, so the hot path is
 * a property increment. Label values are component ids and fixed reasons, never config values, so
 * secrets cannot reach /metrics.
 */
import type { MetricDef } from './metric-names.js';

export type Labels = Readonly<Record<string, string>>;

interface Series<T> { labels: Labels; key: string; value: T }

function labelKey(labels: Labels): string {
  let s = '';
  for (const k of Object.keys(labels).sort()) s += `${k}=${labels[k]}\u0000`;
  return s;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function renderLabels(labels: Labels, extra?: string): string {
  const parts = Object.keys(labels).sort().map((k) => `${k}="${escapeLabel(labels[k]!)}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** A monotonically increasing count bound to one label set. */
export class BoundCounter {
  value = 0;
  add(n = 1): void {
    this.value += n;
  }
}

export class Counter {
  readonly type = 'counter';
  private readonly series = new Map<string, Series<BoundCounter>>();
  constructor(readonly name: string, readonly help: string) {}
  /** The counter for one label set (create once, keep the handle). */
  bind(labels: Labels = {}): BoundCounter {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, key, value: new BoundCounter() };
      this.series.set(key, s);
    }
    return s.value;
  }
  /** Every series with its labels and current value (dry runs, tests). */
  entries(): { labels: Labels; value: number }[] {
    return [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value.value }));
  }
  /** Sum over the series whose labels include `match`. */
  total(match: Labels = {}): number {
    let t = 0;
    for (const s of this.series.values()) if (Object.keys(match).every((k) => s.labels[k] === match[k])) t += s.value.value;
    return t;
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`);
    for (const s of this.series.values()) out.push(`${this.name}${renderLabels(s.labels)} ${formatNumber(s.value.value)}`);
  }
}

/** A gauge read at scrape time from callbacks (queue sizes, RSS, …). */
export class Gauge {
  readonly type = 'gauge';
  private readonly sources: { labels: Labels; read: () => number }[] = [];
  constructor(readonly name: string, readonly help: string) {}
  track(labels: Labels, read: () => number): void {
    this.sources.push({ labels, read });
  }
  /** Current sum over the sources whose labels include `match` (reads each callback once). */
  sum(match: Labels = {}): number {
    let t = 0;
    for (const s of this.sources) if (Object.keys(match).every((k) => s.labels[k] === match[k])) t += s.read();
    return t;
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`);
    // Sources with the same labels are summed (an exporter still draining after a reload and its successor).
    const byKey = new Map<string, { labels: Labels; value: number }>();
    for (const s of this.sources) {
      const key = labelKey(s.labels);
      const e = byKey.get(key);
      if (e === undefined) byKey.set(key, { labels: s.labels, value: s.read() });
      else e.value += s.read();
    }
    for (const e of byKey.values()) out.push(`${this.name}${renderLabels(e.labels)} ${formatNumber(e.value)}`);
  }
}

export class BoundHistogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }
  observe(v: number, times = 1): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]! += times;
    this.sum += v * times;
    this.count += times;
  }
}

export class Histogram {
  readonly type = 'histogram';
  private readonly series = new Map<string, Series<BoundHistogram>>();
  constructor(readonly name: string, readonly help: string, readonly bounds: readonly number[]) {}
  bind(labels: Labels = {}): BoundHistogram {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, key, value: new BoundHistogram(this.bounds) };
      this.series.set(key, s);
    }
    return s.value;
  }
  /** Every series with its labels and live bucket counts (not cumulative; the last bucket is +Inf). */
  entries(): { labels: Labels; counts: readonly number[]; count: number; sum: number }[] {
    return [...this.series.values()].map((s) => ({ labels: s.labels, counts: s.value.counts, count: s.value.count, sum: s.value.sum }));
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
    for (const s of this.series.values()) {
      let cum = 0;
      const h = s.value;
      for (let i = 0; i < h.bounds.length; i++) {
        cum += h.counts[i]!;
        out.push(`${this.name}_bucket${renderLabels(s.labels, `le="${formatNumber(h.bounds[i]!)}"`)} ${cum}`);
      }
      cum += h.counts[h.bounds.length]!;
      out.push(`${this.name}_bucket${renderLabels(s.labels, 'le="+Inf"')} ${cum}`);
      out.push(`${this.name}_sum${renderLabels(s.labels)} ${formatNumber(h.sum)}`);
      out.push(`${this.name}_count${renderLabels(s.labels)} ${h.count}`);
    }
  }
}

type Instrument = Counter | Gauge | Histogram;

/** The registry of every instrument in the process. One per running service. */
export class Telemetry {
  private readonly instruments = new Map<string, Instrument>();

  counter(metric: MetricDef): Counter;
  counter(name: string, help: string): Counter;
  counter(metric: string | MetricDef, help = ''): Counter {
    const [name, h] = typeof metric === 'string' ? [metric, help] : [metric.name, metric.help];
    return this.get(name, () => new Counter(name, h), 'counter');
  }
  gauge(metric: MetricDef): Gauge;
  gauge(name: string, help: string): Gauge;
  gauge(metric: string | MetricDef, help = ''): Gauge {
    const [name, h] = typeof metric === 'string' ? [metric, help] : [metric.name, metric.help];
    return this.get(name, () => new Gauge(name, h), 'gauge');
  }
  histogram(metric: MetricDef, bounds: readonly number[]): Histogram;
  histogram(name: string, help: string, bounds: readonly number[]): Histogram;
  histogram(metric: string | MetricDef, helpOrBounds: string | readonly number[], maybeBounds?: readonly number[]): Histogram {
    const [name, h] = typeof metric === 'string' ? [metric, helpOrBounds as string] : [metric.name, metric.help];
    const bounds = typeof helpOrBounds === 'string' ? (maybeBounds ?? []) : helpOrBounds;
    return this.get(name, () => new Histogram(name, h, bounds), 'histogram');
  }
  find(name: string): Instrument | undefined {
    return this.instruments.get(name);
  }
  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    for (const i of this.instruments.values()) i.render(out);
    return out.join('\n') + '\n';
  }
  private get<T extends Instrument>(name: string, make: () => T, type: T['type']): T {
    const existing = this.instruments.get(name);
    if (existing) {
      if (existing.type !== type) throw new Error(`metric ${name} already registered as a ${existing.type}`);
      return existing as T;
    }
    const created = make();
    this.instruments.set(name, created);
    return created;
  }
}

export { MetricNames } from './metric-names.js';

export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
