/** Overview: component status, throughput, errors, latency, queues, process and store, at 1 s for 15 min. */
import { get } from './api.js';
import { TimeChart } from './chart.js';
import { announce, clear, fmtBytes, fmtNumber, fmtSeconds, h } from './dom.js';
import type { View } from './view.js';

type Col = (number | null)[];

interface History {
  resolution_ms: number;
  now: number;
  time: number[];
  series: Record<string, Col>;
  receivers: Record<string, { in: Col }>;
  exporters: Record<string, { out: Col; failed: Col; queue_fill: Col }>;
  totals: Record<'received' | 'sent' | 'refused' | 'dropped' | 'failed' | 'retries' | 'dead_lettered', number>;
  current: { memory_limiter: 'ok' | 'refusing' | 'absent'; store_bytes: number | null; disk_free: number | null; files_tracked: number | null; files_open: number | null };
  components: { id: string; kind: string; status: string; error?: string; since: number }[];
}

const STATUS_TEXT: Readonly<Record<string, string>> = {
  ok: '✔ ok', starting: '… starting', stopping: '… stopping', stopped: '■ stopped', recoverable_error: '⚠ recoverable error', permanent_error: '✖ permanent error',
};

/** Axis steps for bytes: whole KiB, MiB and GiB multiples, so ticks read 64 MiB rather than 95.4 MiB. */
const BYTE_STEPS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].flatMap((k) => [k * 1024, k * 1024 ** 2, k * 1024 ** 3]).sort((a, b) => a - b);

const rate = (v: number | null): string => (v === null ? '–' : `${fmtNumber(v, v < 10 ? 1 : 0)}/s`);
const pct = (v: number | null): string => (v === null ? '–' : `${v.toFixed(1)} %`);

export class OverviewView implements View {
  readonly title = 'Overview';
  readonly el: HTMLElement;
  private timer: number | undefined;
  private readonly charts: TimeChart[];
  private readonly tiles = new Map<string, HTMLElement>();
  private readonly components: HTMLElement;
  private readonly exporters: HTMLElement;
  private time: number[] = [];
  private series: Record<string, Col> = {};
  private resolution: '1s' | '1m' = '1s';
  private refreshMs = 1000;
  private busy = false;

  constructor() {
    const refresh = h('select', { id: 'refresh', onchange: (e) => this.setRefresh(Number((e.target as HTMLSelectElement).value)) },
      h('option', { value: 1000, selected: true }, 'every second'), h('option', { value: 5000 }, 'every 5 s'), h('option', { value: 15000 }, 'every 15 s'), h('option', { value: 0 }, 'paused'));
    const range = h('select', { id: 'overview-range', onchange: (e) => this.setResolution((e.target as HTMLSelectElement).value === '1m' ? '1m' : '1s') },
      h('option', { value: '1s', selected: true }, 'last 15 minutes (1 s)'), h('option', { value: '1m' }, 'last 24 hours (1 min)'));
    const tiles = h('dl', { class: 'tiles' });
    const tile = (key: string, label: string): void => {
      const dd = h('dd', { id: `stat-${key}` }, '–');
      this.tiles.set(key, dd);
      tiles.append(h('div', { class: 'tile' }, h('dt', {}, label), dd));
    };
    tile('in', 'records/s in');
    tile('out', 'records/s out');
    tile('received', 'received (total)');
    tile('sent', 'exported (total, all exporters)');
    tile('queue_fill', 'fullest queue');
    tile('retries', 'retries (total)');
    tile('dropped', 'dropped (total)');
    tile('failed', 'failed (total)');
    tile('dead_lettered', 'dead-lettered (total)');
    tile('latency', 'latency p50 / p95 / p99');
    tile('memory_limiter', 'memory limiter');
    tile('cpu', 'CPU (one core)');
    tile('rss', 'RSS / heap');
    tile('loop_lag', 'event-loop lag p99');
    tile('store', 'store size / disk free');
    tile('files', 'filelog files open / tracked');
    this.charts = [
      new TimeChart('Throughput (records/s)', [
        { label: 'in', color: '--c-in', fmt: rate, fill: true },
        { label: 'out', color: '--c-out', fmt: rate, dash: [6, 3] },
      ], { id: 'chart-throughput', yFmt: (v) => fmtNumber(v) }),
      new TimeChart('Problems (records/s)', [
        { label: 'refused', color: '--c-warn', fmt: rate },
        { label: 'dropped', color: '--c-error', fmt: rate, dash: [6, 3] },
        { label: 'failed', color: '--c-fatal', fmt: rate, dash: [2, 2] },
        { label: 'retries', color: '--c-info', fmt: rate, dash: [8, 2, 2, 2] },
      ], { id: 'chart-problems', yFmt: (v) => fmtNumber(v) }),
      new TimeChart('End-to-end latency', [
        { label: 'p50', color: '--c-in', fmt: fmtSeconds },
        { label: 'p95', color: '--c-warn', fmt: fmtSeconds, dash: [6, 3] },
        { label: 'p99', color: '--c-error', fmt: fmtSeconds, dash: [2, 2] },
      ], { id: 'chart-latency', yFmt: fmtSeconds }),
      new TimeChart('Queue fill', [{ label: 'fullest queue', color: '--c-warn', fmt: (v) => (v === null ? '–' : `${(v * 100).toFixed(0)} %`), fill: true }], { id: 'chart-queue', yFmt: (v) => `${(v * 100).toFixed(0)}%`, yRange: [0, 1] }),
      new TimeChart('CPU and event loop', [
        { label: 'CPU %', color: '--c-in', fmt: pct },
        { label: 'loop lag ms', color: '--c-warn', fmt: (v) => (v === null ? '–' : `${v.toFixed(1)} ms`), dash: [6, 3] },
      ], { id: 'chart-cpu' }),
      new TimeChart('Memory', [
        { label: 'RSS', color: '--c-in', fmt: fmtBytes },
        { label: 'heap', color: '--c-out', fmt: fmtBytes, dash: [6, 3] },
      ], { id: 'chart-memory', yFmt: fmtBytes, yIncrs: BYTE_STEPS }),
    ];
    this.components = h('tbody');
    this.exporters = h('tbody');
    this.el = h('section', { class: 'view overview', 'aria-labelledby': 'overview-h' },
      h('div', { class: 'toolbar' }, h('h2', { id: 'overview-h' }, 'Overview'),
        h('label', {}, 'Range ', range), h('label', {}, 'Refresh ', refresh)),
      tiles,
      h('div', { class: 'charts' }, ...this.charts.map((c) => c.el)),
      h('div', { class: 'tables' },
        h('table', { class: 'grid', id: 'components' }, h('caption', {}, 'Components'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'kind'), h('th', { scope: 'col' }, 'id'), h('th', { scope: 'col' }, 'status'))), this.components),
        h('table', { class: 'grid', id: 'exporters' }, h('caption', {}, 'Exporters and receivers (now)'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'component'), h('th', { scope: 'col' }, 'records/s'), h('th', { scope: 'col' }, 'failed/s'), h('th', { scope: 'col' }, 'queue'))), this.exporters)),
    );
  }

  mount(): void {
    for (const c of this.charts) c.mount();
    void this.poll();
  }

  unmount(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.refreshMs = -1;
    for (const c of this.charts) c.destroy();
  }

  private setRefresh(ms: number): void {
    this.refreshMs = ms;
    window.clearTimeout(this.timer);
    if (ms > 0) void this.poll();
  }

  private setResolution(r: '1s' | '1m'): void {
    this.resolution = r;
    this.time = [];
    this.series = {};
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const since = this.resolution === '1s' ? this.time[this.time.length - 1] ?? 0 : 0;
      const d = await get<History>('/api/v1/metrics/history', { since, resolution: this.resolution });
      this.merge(d);
      this.render(d);
    } catch (err) {
      announce(`Overview: ${(err as Error).message}`);
    } finally {
      this.busy = false;
      if (this.refreshMs > 0) this.timer = window.setTimeout(() => void this.poll(), this.resolution === '1m' ? Math.max(this.refreshMs, 15_000) : this.refreshMs);
    }
  }

  private merge(d: History): void {
    if (this.resolution === '1m') {
      this.time = d.time;
      this.series = d.series;
      return;
    }
    this.time.push(...d.time);
    for (const [k, v] of Object.entries(d.series)) (this.series[k] ??= []).push(...v);
    const cut = d.now - 15 * 60_000;
    let drop = 0;
    while (drop < this.time.length && this.time[drop]! < cut) drop++;
    if (drop > 0) {
      this.time.splice(0, drop);
      for (const v of Object.values(this.series)) v.splice(0, drop);
    }
  }

  private last(key: string): number | null {
    const v = this.series[key];
    return v && v.length ? v[v.length - 1] ?? null : null;
  }

  /** The latest measured value (latency has gaps while nothing is exported). */
  private lastMeasured(key: string): number | null {
    const v = this.series[key] ?? [];
    for (let i = v.length - 1; i >= 0; i--) if (v[i] !== null && v[i] !== undefined) return v[i]!;
    return null;
  }

  private setTile(key: string, text: string, value?: number | string, state?: string): void {
    const t = this.tiles.get(key);
    if (!t) return;
    t.textContent = text;
    if (value !== undefined) t.dataset.value = String(value);
    if (state !== undefined) t.dataset.state = state;
  }

  private render(d: History): void {
    const s = (k: string): Col => this.series[k] ?? [];
    const [thr, prob, lat, queue, cpu, mem] = this.charts;
    thr?.setData(this.time, [s('in'), s('out')]);
    prob?.setData(this.time, [s('refused'), s('dropped'), s('failed'), s('retries')]);
    lat?.setData(this.time, [s('p50'), s('p95'), s('p99')]);
    queue?.setData(this.time, [s('queue_fill')]);
    cpu?.setData(this.time, [s('cpu'), s('loop_lag')]);
    mem?.setData(this.time, [s('rss'), s('heap')]);
    const t = d.totals;
    this.setTile('in', rate(this.last('in')), this.last('in') ?? 0);
    this.setTile('out', rate(this.last('out')), this.last('out') ?? 0);
    this.setTile('received', t.received.toLocaleString('en'), t.received);
    this.setTile('sent', t.sent.toLocaleString('en'), t.sent);
    const fill = this.last('queue_fill') ?? 0;
    this.setTile('queue_fill', `${(fill * 100).toFixed(0)} %`, fill, fill > 0.8 ? 'bad' : fill > 0.5 ? 'warn' : 'ok');
    this.setTile('retries', t.retries.toLocaleString('en'), t.retries, t.retries > 0 ? 'warn' : 'ok');
    this.setTile('dropped', t.dropped.toLocaleString('en'), t.dropped, t.dropped > 0 ? 'bad' : 'ok');
    this.setTile('failed', t.failed.toLocaleString('en'), t.failed, t.failed > 0 ? 'bad' : 'ok');
    this.setTile('dead_lettered', t.dead_lettered.toLocaleString('en'), t.dead_lettered, t.dead_lettered > 0 ? 'warn' : 'ok');
    this.setTile('latency', `${fmtSeconds(this.lastMeasured('p50'))} / ${fmtSeconds(this.lastMeasured('p95'))} / ${fmtSeconds(this.lastMeasured('p99'))}`);
    const ml = d.current.memory_limiter;
    this.setTile('memory_limiter', ml === 'refusing' ? '✖ refusing data' : ml === 'ok' ? '✔ accepting' : 'not configured', ml, ml === 'refusing' ? 'bad' : 'ok');
    this.setTile('cpu', pct(this.last('cpu')), this.last('cpu') ?? 0);
    this.setTile('rss', `${fmtBytes(this.last('rss'))} / ${fmtBytes(this.last('heap'))}`);
    this.setTile('loop_lag', `${(this.last('loop_lag') ?? 0).toFixed(1)} ms`);
    this.setTile('store', `${fmtBytes(d.current.store_bytes)} / ${fmtBytes(d.current.disk_free)}`);
    const files = this.tiles.get('files')?.parentElement;
    if (files) files.hidden = d.current.files_tracked === null;
    this.setTile('files', `${d.current.files_open ?? '–'} / ${d.current.files_tracked ?? '–'}`);
    clear(this.components);
    for (const c of d.components) {
      this.components.append(h('tr', { 'data-status': c.status }, h('td', {}, c.kind), h('td', {}, c.id), h('td', { class: `status ${c.status}`, title: c.error ?? '' }, STATUS_TEXT[c.status] ?? c.status, c.error ? ` — ${c.error}` : '')));
    }
    clear(this.exporters);
    const lastOf = (c: Col): number | null => (c.length ? c[c.length - 1] ?? null : null);
    for (const [id, r] of Object.entries(d.receivers)) this.exporters.append(h('tr', {}, h('td', {}, `receiver ${id}`), h('td', {}, rate(lastOf(r.in))), h('td', {}, '–'), h('td', {}, '–')));
    for (const [id, e] of Object.entries(d.exporters)) {
      const q = lastOf(e.queue_fill);
      this.exporters.append(h('tr', {}, h('td', {}, `exporter ${id}`), h('td', {}, rate(lastOf(e.out))), h('td', {}, rate(lastOf(e.failed))), h('td', {}, q === null ? '–' : `${(q * 100).toFixed(0)} %`)));
    }
  }
}
