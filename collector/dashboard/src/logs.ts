/**
 * Logs: search with the query language (errors shown at their position), a severity histogram that can be
 * brushed to zoom, a virtualized result list, a record's every field, click-to-filter, and Live mode on the
 * WebSocket tail (pause/resume, dropped-count banner).
 */
import { ApiError, get, tailSocket } from './api.js';
import { TimeChart } from './chart.js';
import { announce, clear, fmtNumber, fmtTime, h } from './dom.js';
import { bodyText, LEVEL_LABEL, LEVELS, withFilter, type LogRecord } from './records.js';
import { VirtualList } from './virtual-list.js';
import type { View } from './view.js';

interface QueryAnswer { records: LogRecord[]; cursor: string | null; took_ms: number }
interface HistogramAnswer { step_ms: number; buckets: { start_ms: number; counts: Record<string, number> }[] }
type TailFrame = { type: 'logs'; records: LogRecord[] } | { type: 'dropped'; count: number; since: string } | { type: 'heartbeat' };

const RANGES: readonly (readonly [string, string, number])[] = [
  ['15m', 'last 15 minutes', 15 * 60_000], ['1h', 'last hour', 3_600_000], ['6h', 'last 6 hours', 6 * 3_600_000], ['24h', 'last 24 hours', 86_400_000], ['7d', 'last 7 days', 7 * 86_400_000],
];
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);
const PAGE = 1000;
const LIVE_CAP = 100_000;
const ROW_HEIGHT = 24;

export class LogsView implements View {
  readonly title = 'Logs';
  readonly el: HTMLElement;
  private readonly query: HTMLInputElement;
  private readonly range: HTMLSelectElement;
  private readonly rangeText: HTMLElement;
  private readonly error: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly count: HTMLElement;
  private readonly liveBtn: HTMLButtonElement;
  private readonly pauseBtn: HTMLButtonElement;
  private readonly detail: HTMLElement;
  private readonly hist: TimeChart;
  private readonly list: VirtualList<LogRecord>;
  /** Search: newest first. Live: oldest first, shown reversed. */
  private rows: LogRecord[] = [];
  private cursor: string | null = null;
  private custom: { start: number; end: number } | undefined;
  private searchRun = 0;
  private loadingMore = false;
  private abort: AbortController | undefined;
  private ws: WebSocket | undefined;
  private live = false;
  private paused = false;
  private pending: LogRecord[] = [];
  private dropped = 0;
  private histStep = 60_000;
  private droppedSince = '';

  constructor(initialQuery = '', startMs = NaN, endMs = NaN) {
    if (Number.isFinite(startMs)) this.custom = { start: startMs, end: Number.isFinite(endMs) ? endMs : Date.now() };
    this.query = h('input', { id: 'query', type: 'search', name: 'query', value: initialQuery, autocomplete: 'off', spellcheck: 'false', placeholder: 'service:checkout severity>=warn "card expired"', 'aria-describedby': 'query-error query-help-summary' });
    this.range = h('select', { id: 'range', name: 'range' }, ...RANGES.map(([v, label]) => h('option', { value: v, selected: v === '1h' }, label)));
    this.range.addEventListener('change', () => {
      this.custom = undefined;
      void this.search();
    });
    this.rangeText = h('span', { id: 'range-text', class: 'muted' });
    this.error = h('div', { id: 'query-error', class: 'error', role: 'alert', hidden: true });
    this.banner = h('div', { id: 'dropped', class: 'banner warn', role: 'status', hidden: true });
    this.count = h('p', { id: 'result-count', class: 'muted', 'aria-live': 'polite' });
    this.liveBtn = h('button', { id: 'live', type: 'button', 'aria-pressed': 'false', onclick: () => void this.setLive(!this.live) }, '● Live');
    this.pauseBtn = h('button', { id: 'pause', type: 'button', hidden: true, 'aria-pressed': 'false', onclick: () => this.setPaused(!this.paused) }, 'Pause');
    this.detail = h('aside', { id: 'detail', class: 'detail', 'aria-label': 'Record details', hidden: true });
    this.hist = new TimeChart('Records by severity (drag to zoom)', LEVELS.slice(0, 6).map((l) => ({ label: LEVEL_LABEL[l]!, color: `--c-${l}`, fmt: (v: number | null) => (v === null ? '–' : fmtNumber(v)) })), {
      id: 'histogram', bars: true, height: 120, yFmt: (v) => fmtNumber(v),
      onBrush: (min, max) => {
        // Bars are drawn at their bucket's start: the selection includes the whole last bucket it touches.
        this.custom = { start: min, end: max + this.histStep };
        void this.search();
      },
    });
    this.list = new VirtualList<LogRecord>('results', 'Log records', { length: () => this.rows.length, at: (i) => this.rowAt(i) }, ROW_HEIGHT, (row, r) => this.renderRow(row, r), (r) => this.open(r), () => void this.more());
    this.list.el.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest('button.c-service');
      if (b?.textContent) this.filter('service', b.textContent);
    });
    const form = h('form', { class: 'searchbar', role: 'search', onsubmit: (e) => {
      e.preventDefault();
      if (this.live) void this.setLive(true);
      else void this.search();
    } },
    h('label', { for: 'query' }, 'Query'), this.query,
    h('label', { for: 'range' }, 'Time range'), this.range, this.rangeText,
    h('button', { type: 'submit', id: 'search' }, 'Search'), this.liveBtn, this.pauseBtn);
    const help = h('details', { class: 'help' }, h('summary', { id: 'query-help-summary' }, 'Query syntax'),
      h('ul', {},
        h('li', {}, h('code', {}, 'timeout'), ' word in body or attributes; ', h('code', {}, '"card expired"'), ' phrase'),
        h('li', {}, h('code', {}, 'service:checkout'), ', ', h('code', {}, 'severity>=warn'), ', ', h('code', {}, 'trace_id:5b8e…'), ', ', h('code', {}, 'correlation_id:order-42')),
        h('li', {}, h('code', {}, 'attributes.http.status_code:>=500'), ', ', h('code', {}, 'user:/^adm/'), ', ', h('code', {}, 'user:*')),
        h('li', {}, h('code', {}, 'AND'), ', ', h('code', {}, 'OR'), ', ', h('code', {}, 'NOT'), ', ', h('code', {}, '-term'), ', parentheses')));
    this.el = h('section', { class: 'view logs', 'aria-labelledby': 'logs-h' },
      h('h2', { id: 'logs-h', class: 'sr-only' }, 'Logs'),
      form, help, this.error, this.banner, this.hist.el, this.count,
      h('div', { class: 'results-wrap' }, this.list.el, this.detail));
  }

  mount(): void {
    this.hist.mount();
    void this.search();
  }

  unmount(): void {
    this.closeSocket();
    this.abort?.abort();
    this.hist.destroy();
  }

  private rowAt(i: number): LogRecord {
    return this.live ? this.rows[this.rows.length - 1 - i]! : this.rows[i]!;
  }

  private timeRange(): { start: number; end: number } {
    if (this.custom) return this.custom;
    const span = RANGES.find(([v]) => v === this.range.value)?.[2] ?? 3_600_000;
    const end = Date.now();
    return { start: end - span, end };
  }

  private showError(err: unknown): void {
    const text = this.query.value;
    clear(this.error);
    if (err instanceof ApiError && err.position !== undefined && err.status === 400) {
      const pos = Math.min(err.position, text.length);
      this.error.append(h('strong', {}, 'Query error: '), err.message, h('pre', { 'aria-hidden': 'true' }, text, '\n', `${' '.repeat(pos)}^`));
      this.query.focus();
      this.query.setSelectionRange(pos, Math.max(pos, Math.min(text.length, pos + 1)));
      this.query.setAttribute('aria-invalid', 'true');
    } else this.error.append(h('strong', {}, 'Error: '), err instanceof Error ? err.message : String(err));
    this.error.hidden = false;
  }

  private clearError(): void {
    this.error.hidden = true;
    this.query.removeAttribute('aria-invalid');
  }

  async search(): Promise<void> {
    const run = ++this.searchRun;
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    const { start, end } = this.timeRange();
    this.rangeText.textContent = this.custom ? `${fmtTime(start)} – ${fmtTime(end)}` : '';
    this.rangeText.replaceChildren(...(this.custom ? [`${fmtTime(start)} – ${fmtTime(end)} `, h('button', { type: 'button', id: 'reset-range', onclick: () => { this.custom = undefined; void this.search(); } }, 'Reset range')] : []));
    const q = this.query.value.trim();
    const step = STEPS.find((s) => (end - start) / s <= 120) ?? 86_400_000;
    this.count.textContent = 'Searching…';
    try {
      const [res, hist] = await Promise.all([
        get<QueryAnswer>('/api/v1/query', { query: q, start, end, limit: PAGE }, abort.signal),
        get<HistogramAnswer>('/api/v1/histogram', { query: q, start, end, step: `${step / 1000}s` }, abort.signal),
      ]);
      if (run !== this.searchRun) return;
      this.clearError();
      this.rows = res.records;
      this.cursor = res.cursor;
      this.list.scrollToTop();
      this.list.refresh();
      this.setHistogram(hist, start, end);
      this.updateCount(res.took_ms);
      this.el.dataset.searched = String(run);
    } catch (err) {
      if (abort.signal.aborted) return;
      this.count.textContent = '';
      this.showError(err);
    }
  }

  private setHistogram(hist: HistogramAnswer, start: number, end: number): void {
    const by = new Map(hist.buckets.map((b) => [b.start_ms, b.counts]));
    const times: number[] = [];
    const step = hist.step_ms;
    this.histStep = step;
    for (let t = Math.floor(start / step) * step; t <= end; t += step) times.push(t);
    // Stacked bars: a level's series is its count plus the less severe ones' (fatal's is the total), and
    // uPlot draws series in order, so each shorter bar lands on the taller one before it.
    const levels = LEVELS.slice(0, 6);
    const cols = levels.map(() => new Array<number | null>(times.length).fill(null));
    times.forEach((t, i) => {
      const c = by.get(t) ?? {};
      let acc = 0;
      for (let k = levels.length - 1; k >= 0; k--) {
        acc += c[levels[k]!] ?? 0;
        if (k === levels.length - 1 && levels[k] === 'trace') acc += c.unspecified ?? 0;
        cols[k]![i] = acc || null;
      }
    });
    this.hist.setData(times, cols);
    this.hist.el.dataset.start = String(start);
    this.hist.el.dataset.end = String(end);
  }

  private updateCount(tookMs?: number): void {
    const n = this.rows.length;
    if (this.live) this.count.textContent = `${n.toLocaleString('en')} live records${this.paused ? ` (paused, ${this.pending.length.toLocaleString('en')} new)` : ''}`;
    else this.count.textContent = `${n.toLocaleString('en')} records${this.cursor ? ' (scroll for more)' : ''}${tookMs !== undefined ? ` · ${tookMs} ms` : ''}`;
    this.count.dataset.count = String(n);
  }

  private async more(): Promise<void> {
    if (this.live || !this.cursor || this.loadingMore) return;
    this.loadingMore = true;
    const run = this.searchRun;
    try {
      const { start, end } = this.timeRange();
      const res = await get<QueryAnswer>('/api/v1/query', { query: this.query.value.trim(), start, end, limit: PAGE, cursor: this.cursor });
      if (run !== this.searchRun) return;
      this.rows.push(...res.records);
      this.cursor = res.records.length ? res.cursor : null;
      this.list.refresh();
      this.updateCount();
    } catch (err) {
      this.showError(err);
    } finally {
      this.loadingMore = false;
    }
  }

  /** Fills a pooled row: its four cells are made once and only their text changes while scrolling. */
  private renderRow(row: HTMLElement, r: LogRecord): void {
    if (row.dataset.id === r.id && row.firstChild) return;
    row.dataset.id = r.id;
    row.dataset.level = r.level;
    if (row.childElementCount !== 4) {
      row.replaceChildren(h('span', { class: 'c-time' }), h('span', { class: 'c-level' }), h('button', { type: 'button', class: 'c-service link', tabindex: -1 }), h('span', { class: 'c-body' }));
    }
    const [time, level, service, body] = row.children as unknown as [HTMLElement, HTMLElement, HTMLButtonElement, HTMLElement];
    time.textContent = fmtTime(Number(BigInt(r.timestamp) / 1_000_000n));
    level.className = `c-level lvl-${r.level}`;
    level.textContent = LEVEL_LABEL[r.level] ?? r.level;
    service.hidden = !r.service;
    service.textContent = r.service ?? '';
    service.title = r.service ? `filter on service:${r.service}` : '';
    body.textContent = bodyText(r.body);
  }

  private open(r: LogRecord): void {
    const filterable: Readonly<Record<string, string>> = { trace_id: 'trace_id', span_id: 'span_id', correlation_id: 'correlation_id', service: 'service' };
    const dl = h('dl', {});
    const add = (k: string, v: unknown): void => {
      if (v === null || v === undefined || v === '') return;
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      const field = filterable[k];
      dl.append(h('dt', {}, k), h('dd', {}, field ? h('button', { type: 'button', class: 'link', 'data-field': field, title: `filter on ${field}:${text}`, onclick: () => this.filter(field, text) }, text) : text));
    };
    for (const k of ['time', 'level', 'severity_text', 'severity_number', 'service', 'body', 'trace_id', 'span_id', 'correlation_id', 'event_name', 'tenant', 'retention_class', 'retention_days']) add(k, k === 'body' ? bodyText(r.body) : r[k]);
    for (const [k, v] of Object.entries(r.attributes ?? {})) add(`attributes.${k}`, v);
    for (const [k, v] of Object.entries(r.resource ?? {})) add(`resource.${k}`, v);
    if (r.scope?.name) add('scope', `${r.scope.name}${r.scope.version ? `@${r.scope.version}` : ''}`);
    this.detail.replaceChildren(h('div', { class: 'detail-head' }, h('h3', {}, 'Record'), h('button', { type: 'button', id: 'close-detail', 'aria-label': 'Close record details', onclick: () => { this.detail.hidden = true; this.list.el.focus(); } }, '✕')), dl);
    this.detail.hidden = false;
  }

  /** Adds (or replaces) a field filter and searches again (or re-subscribes in Live mode). */
  filter(field: string, value: string): void {
    this.query.value = withFilter(this.query.value, field, value);
    announce(`Filtering on ${field}:${value}`);
    this.detail.hidden = true;
    if (this.live) void this.setLive(true);
    else void this.search();
  }

  private closeSocket(): void {
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
  }

  private async setLive(on: boolean): Promise<void> {
    this.closeSocket();
    this.live = on;
    this.liveBtn.setAttribute('aria-pressed', String(on));
    this.liveBtn.classList.toggle('on', on);
    this.pauseBtn.hidden = !on;
    this.el.dataset.live = on ? 'connecting' : 'off';
    this.setPaused(false);
    this.dropped = 0;
    this.banner.hidden = true;
    if (!on) {
      await this.search();
      return;
    }
    this.rows = [];
    this.pending = [];
    this.list.scrollToTop();
    this.list.refresh();
    this.updateCount();
    const ws = tailSocket(this.query.value.trim());
    this.ws = ws;
    ws.onopen = () => {
      this.clearError();
      this.el.dataset.live = 'open';
      announce('Live: connected');
    };
    ws.onmessage = (e) => this.onFrame(JSON.parse(String(e.data)) as TailFrame);
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.el.dataset.live = 'closed';
      this.showError(new Error(e.code === 4001 ? 'Live: the token expired; sign in again' : `Live: the connection closed (${e.code}${e.reason ? ` ${e.reason}` : ''}); the query may be invalid or the collector stopped`));
    };
  }

  private setPaused(p: boolean): void {
    this.paused = p;
    this.pauseBtn.setAttribute('aria-pressed', String(p));
    this.pauseBtn.textContent = p ? 'Resume' : 'Pause';
    if (!p && this.pending.length) {
      this.append(this.pending);
      this.pending = [];
    }
    this.updateCount();
  }

  private onFrame(f: TailFrame): void {
    if (f.type === 'logs') {
      if (this.paused) {
        this.pending.push(...f.records);
        if (this.pending.length > LIVE_CAP) this.pending.splice(0, this.pending.length - LIVE_CAP);
        this.updateCount();
      } else this.append(f.records);
    } else if (f.type === 'dropped') {
      this.dropped += f.count;
      this.droppedSince ||= f.since;
      this.banner.textContent = `${this.dropped.toLocaleString('en')} records were not shown (dropped since ${fmtTime(Date.parse(this.droppedSince))}): the page or the connection was too slow.`;
      this.banner.hidden = false;
    }
  }

  private append(records: readonly LogRecord[]): void {
    for (const r of records) this.rows.push(r);
    // Trim in chunks so a steady stream does not shift the whole array on every frame.
    if (this.rows.length > LIVE_CAP * 1.1) this.rows.splice(0, this.rows.length - LIVE_CAP);
    this.list.shiftBy(records.length);
    this.list.refresh();
    this.updateCount();
  }
}
