/**
 * The dashboard's metrics history: once a second the collector's own counters and gauges (the same
 * instruments /metrics renders) are turned into rates and kept in a ring (15 minutes at 1 s), plus a
 * per-minute ring (24 hours) that is saved in the store's directory, so longer ranges survive a restart.
 * Reading instruments is a few map walks; nothing touches the data path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ComponentStatus } from '../../component.js';
import { Metrics } from '../../telemetry/metric-names.js';
import { Counter, Gauge, Histogram, type Telemetry } from '../../telemetry/metrics.js';
import { fileBytes, listDays, listTenants } from '../../exporters/store/schema.js';
import { tenantDirName } from '../../exporters/store/encode.js';

/** One point of the history. Rates are per second over the step; null where nothing was measured. */
export interface HistorySample {
  readonly t: number;
  readonly in: number;
  readonly out: number;
  readonly refused: number;
  readonly dropped: number;
  readonly failed: number;
  readonly retries: number;
  readonly dead_lettered: number;
  /** Fullest sending queue, 0..1. */
  readonly queue_fill: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  /** Percent of one core. */
  readonly cpu: number;
  readonly rss: number;
  readonly heap: number;
  /** Event-loop delay p99 over the step, ms. */
  readonly loop_lag: number;
  /** 1 while a memory_limiter refused data during the step. */
  readonly memory_refusing: number;
  readonly store_bytes: number | null;
  readonly disk_free: number | null;
  readonly receivers: Readonly<Record<string, { in: number }>>;
  readonly exporters: Readonly<Record<string, { out: number; failed: number; queue_fill: number }>>;
}

const LOOP_RESOLUTION_MS = 10;

export const SAMPLE_KEYS = ['in', 'out', 'refused', 'dropped', 'failed', 'retries', 'dead_lettered', 'queue_fill', 'p50', 'p95', 'p99', 'cpu', 'rss', 'heap', 'loop_lag', 'memory_refusing', 'store_bytes', 'disk_free'] as const;
type SampleKey = (typeof SAMPLE_KEYS)[number];

export interface HistoryOptions {
  readonly telemetry: Telemetry;
  readonly statuses?: (() => ReadonlyMap<string, { status: ComponentStatus; error?: string | undefined; since: number }>) | undefined;
  /** Directory of the store exporter (for its size and the disk's free space). */
  readonly storeDirectory?: (() => string | undefined) | undefined;
  readonly stepMs?: number;
  /** Points in the fine ring (default 900: 15 minutes at 1 s). */
  readonly capacity?: number;
  /** Points in the per-minute ring (default 1440: 24 hours). */
  readonly minuteCapacity?: number;
  /** File the per-minute ring is saved to (each minute and at stop) and read back from at start. */
  readonly persistFile?: (() => string | undefined) | undefined;
  readonly onError?: ((message: string) => void) | undefined;
  readonly now?: () => number;
}

/** Cumulative counters, as /metrics shows them right now. */
export interface HistoryTotals {
  readonly received: number;
  readonly sent: number;
  readonly refused: number;
  readonly dropped: number;
  readonly failed: number;
  readonly retries: number;
  readonly dead_lettered: number;
}

class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  size = 0;
  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }
  push(v: T): void {
    this.items[(this.head + this.size) % this.capacity] = v;
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity;
  }
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.items[(this.head + i) % this.capacity]!);
    return out;
  }
  last(): T | undefined {
    return this.size ? this.items[(this.head + this.size - 1) % this.capacity] : undefined;
  }
}

/** `histogram_quantile` over bucket counts (not cumulative; the last is +Inf), linear within a bucket. */
export function quantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return null;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (cum + c >= rank && c > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1] ?? null;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - cum) / c);
    }
    cum += c;
  }
  return bounds[bounds.length - 1] ?? null;
}

function counterTotal(t: Telemetry, name: string, match?: Readonly<Record<string, string>>): number {
  const c = t.find(name);
  return c instanceof Counter ? c.total(match) : 0;
}

function counterBy(t: Telemetry, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  const c = t.find(name);
  if (!(c instanceof Counter)) return out;
  for (const e of c.entries()) {
    const k = e.labels[label];
    if (k !== undefined) out.set(k, (out.get(k) ?? 0) + e.value);
  }
  return out;
}

function gaugeSum(t: Telemetry, name: string, match?: Readonly<Record<string, string>>): number | undefined {
  const g = t.find(name);
  return g instanceof Gauge ? g.sum(match) : undefined;
}

/** Bytes of every day file (with WAL) under a store directory. */
export function storeBytes(dir: string): number {
  let n = 0;
  for (const tenant of listTenants(dir)) for (const f of listDays(path.join(dir, tenantDirName(tenant)), tenant)) n += fileBytes(f.path);
  return n;
}

interface Snapshot {
  readonly t: number;
  readonly cpuMicros: number;
  readonly totals: HistoryTotals;
  readonly memoryRefused: number;
  readonly receivers: Map<string, number>;
  readonly exporters: Map<string, number>;
  readonly exporterFailed: Map<string, number>;
  readonly latency: readonly number[];
}

export class MetricsHistory {
  private readonly fine: Ring<HistorySample>;
  private readonly minutes: Ring<HistorySample>;
  private readonly minuteAcc: HistorySample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private loop: IntervalHistogram | undefined;
  private prev: Snapshot | undefined;
  private storeStat: { at: number; bytes: number | null; free: number | null } = { at: 0, bytes: null, free: null };
  private readonly now: () => number;
  readonly stepMs: number;

  constructor(private readonly o: HistoryOptions) {
    this.stepMs = o.stepMs ?? 1000;
    this.fine = new Ring(o.capacity ?? 900);
    this.minutes = new Ring(o.minuteCapacity ?? 1440);
    this.now = o.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.restore();
    this.loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.loop.enable();
    this.prev = this.snapshot();
    this.timer = setInterval(() => this.sample(), this.stepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) this.save(true);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.loop?.disable();
    this.loop = undefined;
  }

  /** Counters now, the same values /metrics renders. */
  totals(): HistoryTotals {
    const t = this.o.telemetry;
    return {
      received: counterTotal(t, Metrics.receiverAccepted.name),
      sent: counterTotal(t, Metrics.exporterSent.name),
      refused: counterTotal(t, Metrics.receiverRefused.name),
      dropped: counterTotal(t, Metrics.processorDropped.name) + counterTotal(t, Metrics.exporterEnqueueFailed.name),
      failed: counterTotal(t, Metrics.exporterSendFailed.name),
      retries: counterTotal(t, Metrics.exporterRetries.name),
      dead_lettered: counterTotal(t, Metrics.exporterDeadLettered.name),
    };
  }

  private snapshot(): Snapshot {
    const t = this.o.telemetry;
    const u = process.cpuUsage();
    const lat = t.find(Metrics.exporterLatency.name);
    let latency: number[] = [];
    if (lat instanceof Histogram) {
      for (const e of lat.entries()) {
        if (latency.length === 0) latency = new Array<number>(e.counts.length).fill(0);
        e.counts.forEach((c, i) => (latency[i]! += c));
      }
    }
    return {
      t: this.now(),
      cpuMicros: u.user + u.system,
      totals: this.totals(),
      memoryRefused: counterTotal(t, Metrics.processorRefused.name, { reason: 'memory_limit' }),
      receivers: counterBy(t, Metrics.receiverAccepted.name, 'receiver'),
      exporters: counterBy(t, Metrics.exporterSent.name, 'exporter'),
      exporterFailed: counterBy(t, Metrics.exporterSendFailed.name, 'exporter'),
      latency,
    };
  }

  private readStore(now: number): { bytes: number | null; free: number | null } {
    // Walking the store's files every second would cost more than the rest together: every 5 s.
    if (now - this.storeStat.at < 5_000) return this.storeStat;
    const dir = this.o.storeDirectory?.();
    let bytes: number | null = null;
    let free: number | null = null;
    if (dir) {
      try {
        bytes = storeBytes(dir);
        const s = fs.statfsSync(fs.existsSync(dir) ? dir : path.dirname(path.resolve(dir)));
        free = s.bavail * s.bsize;
      } catch {
        // A store directory not created yet, or removed: nothing to show.
      }
    }
    this.storeStat = { at: now, bytes, free };
    return this.storeStat;
  }

  /** Takes one point (the timer calls this; tests may call it directly). */
  sample(): HistorySample {
    const prev = this.prev ?? this.snapshot();
    const cur = this.snapshot();
    this.prev = cur;
    const dt = Math.max(1, cur.t - prev.t) / 1000;
    const rate = (a: number, b: number): number => Math.max(0, b - a) / dt;
    const tel = this.o.telemetry;
    const exporters: Record<string, { out: number; failed: number; queue_fill: number }> = {};
    let fill = 0;
    for (const [id, sent] of cur.exporters) {
      const cap = gaugeSum(tel, Metrics.exporterQueueCapacity.name, { exporter: id });
      const size = gaugeSum(tel, Metrics.exporterQueueSize.name, { exporter: id });
      const f = cap && size !== undefined ? Math.min(1, size / cap) : 0;
      fill = Math.max(fill, f);
      exporters[id] = { out: rate(prev.exporters.get(id) ?? 0, sent), failed: rate(prev.exporterFailed.get(id) ?? 0, cur.exporterFailed.get(id) ?? 0), queue_fill: f };
    }
    const receivers: Record<string, { in: number }> = {};
    for (const [id, n] of cur.receivers) receivers[id] = { in: rate(prev.receivers.get(id) ?? 0, n) };
    const bounds = (tel.find(Metrics.exporterLatency.name) as Histogram | undefined)?.bounds ?? [];
    const delta = cur.latency.map((c, i) => Math.max(0, c - (prev.latency[i] ?? 0)));
    const loop = this.loop;
    // The monitor measures timer intervals: what exceeds its resolution is the lag.
    const lag = loop && loop.count > 0 ? Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS) : 0;
    loop?.reset();
    const mem = process.memoryUsage();
    const st = this.readStore(cur.t);
    const s: HistorySample = {
      t: cur.t,
      in: rate(prev.totals.received, cur.totals.received),
      out: rate(prev.totals.sent, cur.totals.sent),
      refused: rate(prev.totals.refused, cur.totals.refused),
      dropped: rate(prev.totals.dropped, cur.totals.dropped),
      failed: rate(prev.totals.failed, cur.totals.failed),
      retries: rate(prev.totals.retries, cur.totals.retries),
      dead_lettered: rate(prev.totals.dead_lettered, cur.totals.dead_lettered),
      queue_fill: fill,
      p50: quantile(0.5, bounds, delta),
      p95: quantile(0.95, bounds, delta),
      p99: quantile(0.99, bounds, delta),
      cpu: ((cur.cpuMicros - prev.cpuMicros) / 1e6 / dt) * 100,
      rss: mem.rss,
      heap: mem.heapUsed,
      loop_lag: lag,
      memory_refusing: cur.memoryRefused > prev.memoryRefused ? 1 : 0,
      store_bytes: st.bytes,
      disk_free: st.free,
      receivers,
      exporters,
    };
    this.fine.push(s);
    this.rollMinute(s);
    return s;
  }

  private rollMinute(s: HistorySample): void {
    const first = this.minuteAcc[0];
    if (first && Math.floor(first.t / 60_000) !== Math.floor(s.t / 60_000)) {
      this.minutes.push(mergeSamples(this.minuteAcc, Math.floor(first.t / 60_000) * 60_000));
      this.minuteAcc.length = 0;
      if (this.timer) this.save(false);
    }
    this.minuteAcc.push(s);
  }

  private restore(): void {
    const file = this.o.persistFile?.();
    if (!file) return;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return; // first start
    }
    try {
      const saved = JSON.parse(text) as { version?: number; minutes?: HistorySample[] };
      const oldest = this.now() - this.minutes.capacity * 60_000;
      if (saved.version === 1 && Array.isArray(saved.minutes)) for (const m of saved.minutes) if (typeof m.t === 'number' && m.t >= oldest) this.minutes.push(m);
    } catch (err) {
      this.o.onError?.(`metrics history: ignoring ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private saving = false;

  /** Writes the per-minute ring (a temp file renamed over the old one: never half a file). */
  private save(sync: boolean): void {
    const file = this.o.persistFile?.();
    if (!file || (this.saving && !sync) || this.minutes.size === 0) return;
    const text = JSON.stringify({ version: 1, minutes: this.minutes.toArray() });
    const tmp = `${file}.tmp`;
    const fail = (err: unknown): void => this.o.onError?.(`metrics history: cannot save ${file}: ${err instanceof Error ? err.message : String(err)}`);
    if (sync) {
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(tmp, text);
        fs.renameSync(tmp, file);
      } catch (err) {
        fail(err);
      }
      return;
    }
    this.saving = true;
    fs.promises.mkdir(path.dirname(file), { recursive: true })
      .then(() => fs.promises.writeFile(tmp, text))
      .then(() => fs.promises.rename(tmp, file))
      .catch(fail)
      .finally(() => (this.saving = false));
  }

  /** Points after `sinceMs`, oldest first: the 1 s ring, or the per-minute ring. */
  samples(sinceMs = 0, resolution: 'fine' | 'minute' = 'fine'): HistorySample[] {
    const all = resolution === 'fine' ? this.fine.toArray() : this.minutes.toArray();
    return sinceMs > 0 ? all.filter((s) => s.t > sinceMs) : all;
  }

  /** A gauge's current sum, or null when nothing registered it. */
  gauge(name: string): number | null {
    return gaugeSum(this.o.telemetry, name) ?? null;
  }

  latest(): HistorySample | undefined {
    return this.fine.last();
  }

  components(): { id: string; kind: string; status: ComponentStatus; error?: string; since: number }[] {
    const m = this.o.statuses?.();
    if (!m) return [];
    return [...m].map(([key, s]) => {
      const i = key.indexOf(':');
      const base = { id: key.slice(i + 1), kind: key.slice(0, i), status: s.status, since: s.since };
      return s.error !== undefined ? { ...base, error: s.error } : base;
    });
  }
}

/** A minute's points as one: averages of rates, maxima of levels. */
function mergeSamples(list: readonly HistorySample[], t: number): HistorySample {
  const avg = (k: SampleKey): number => list.reduce((a, s) => a + (s[k] ?? 0), 0) / list.length;
  const max = (k: SampleKey): number | null => {
    let m: number | null = null;
    for (const s of list) {
      const v = s[k];
      if (v !== null && (m === null || v > m)) m = v;
    }
    return m;
  };
  const last = list[list.length - 1]!;
  const receivers: Record<string, { in: number }> = {};
  const exporters: Record<string, { out: number; failed: number; queue_fill: number }> = {};
  for (const s of list) {
    for (const [id, r] of Object.entries(s.receivers)) receivers[id] = { in: (receivers[id]?.in ?? 0) + r.in / list.length };
    for (const [id, e] of Object.entries(s.exporters)) {
      const a = exporters[id] ?? { out: 0, failed: 0, queue_fill: 0 };
      exporters[id] = { out: a.out + e.out / list.length, failed: a.failed + e.failed / list.length, queue_fill: Math.max(a.queue_fill, e.queue_fill) };
    }
  }
  return {
    t,
    in: avg('in'), out: avg('out'), refused: avg('refused'), dropped: avg('dropped'), failed: avg('failed'), retries: avg('retries'), dead_lettered: avg('dead_lettered'),
    queue_fill: max('queue_fill') ?? 0, p50: max('p50'), p95: max('p95'), p99: max('p99'), cpu: avg('cpu'), rss: max('rss') ?? last.rss, heap: max('heap') ?? last.heap,
    loop_lag: max('loop_lag') ?? 0, memory_refusing: max('memory_refusing') ?? 0, store_bytes: last.store_bytes, disk_free: last.disk_free, receivers, exporters,
  };
}

/** The answer of `/api/v1/metrics/history`: columns, ready for a chart. */
export function historyBody(h: MetricsHistory, sinceMs: number, resolution: 'fine' | 'minute'): Record<string, unknown> {
  const list = h.samples(sinceMs, resolution);
  const series: Record<string, (number | null)[]> = {};
  for (const k of SAMPLE_KEYS) series[k] = list.map((s) => s[k]);
  const receivers: Record<string, { in: (number | null)[] }> = {};
  const exporters: Record<string, { out: (number | null)[]; failed: (number | null)[]; queue_fill: (number | null)[] }> = {};
  list.forEach((s, i) => {
    for (const [id, r] of Object.entries(s.receivers)) (receivers[id] ??= { in: new Array<number | null>(list.length).fill(null) }).in[i] = r.in;
    for (const [id, e] of Object.entries(s.exporters)) {
      const c = (exporters[id] ??= { out: new Array<number | null>(list.length).fill(null), failed: new Array<number | null>(list.length).fill(null), queue_fill: new Array<number | null>(list.length).fill(null) });
      c.out[i] = e.out;
      c.failed[i] = e.failed;
      c.queue_fill[i] = e.queue_fill;
    }
  });
  const last = h.latest();
  const comps = h.components();
  const limiter = comps.some((c) => c.kind === 'processor' && c.id.startsWith('memory_limiter'));
  return {
    resolution_ms: resolution === 'fine' ? h.stepMs : 60_000,
    now: Date.now(),
    time: list.map((s) => s.t),
    series,
    receivers,
    exporters,
    totals: h.totals(),
    current: {
      memory_limiter: !limiter ? 'absent' : last?.memory_refusing ? 'refusing' : 'ok',
      store_bytes: last?.store_bytes ?? null,
      disk_free: last?.disk_free ?? null,
      // The filelog receivers' files (rotation shows as tracked files beyond the open ones); null without filelog.
      files_tracked: h.gauge('tributary_filelog_files_tracked'),
      files_open: h.gauge('tributary_filelog_files_open'),
    },
    components: comps,
  };
}
