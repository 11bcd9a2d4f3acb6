/** uPlot time-series charts that follow the page's theme and size. */
import uPlot from 'uplot';
import { cssVar, h } from './dom.js';

export interface SeriesSpec {
  readonly label: string;
  /** CSS custom property with the colour (e.g. `--c-in`). */
  readonly color: string;
  readonly fmt: (v: number | null) => string;
  readonly dash?: number[];
  readonly fill?: boolean;
}

export type Columns = [number[], ...(number | null)[][]];

const charts = new Set<TimeChart>();
// Theme changes (system light/dark) repaint every chart with the new colours.
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  for (const c of charts) c.restyle();
});

export class TimeChart {
  readonly el: HTMLElement;
  private plot: uPlot | undefined;
  private data: Columns;
  private readonly ro: ResizeObserver;

  constructor(readonly title: string, private readonly series: readonly SeriesSpec[], private readonly opts: { yFmt?: (v: number) => string; yRange?: [number, number]; yIncrs?: number[]; bars?: boolean; onBrush?: (minMs: number, maxMs: number) => void; height?: number; id?: string } = {}) {
    this.data = [[], ...series.map(() => [])];
    this.el = h('figure', { class: 'chart', 'aria-label': title, ...(opts.id ? { id: opts.id } : {}) }, h('figcaption', {}, title));
    this.ro = new ResizeObserver(() => this.resize());
    charts.add(this);
  }

  /** Call once the element is in the document. */
  mount(): void {
    this.ro.observe(this.el);
    this.build();
  }

  destroy(): void {
    this.ro.disconnect();
    this.plot?.destroy();
    charts.delete(this);
  }

  restyle(): void {
    this.build();
  }

  private width(): number {
    return Math.max(200, this.el.clientWidth - 8);
  }

  private resize(): void {
    if (this.plot && Math.abs(this.plot.width - this.width()) > 2) this.plot.setSize({ width: this.width(), height: this.opts.height ?? 160 });
  }

  private build(): void {
    this.plot?.destroy();
    const axis = { stroke: cssVar('--fg-muted'), grid: { stroke: cssVar('--grid'), width: 1 }, ticks: { stroke: cssVar('--grid') } };
    const yFmt = this.opts.yFmt;
    const bars = this.opts.bars ? uPlot.paths.bars?.({ size: [0.9, 40] }) : undefined;
    const onBrush = this.opts.onBrush;
    const options: uPlot.Options = {
      width: this.width(),
      height: this.opts.height ?? 160,
      legend: { show: true, live: true },
      cursor: onBrush ? { drag: { x: true, y: false, setScale: false } } : { drag: { x: false, y: false } },
      scales: { x: { time: true }, ...(this.opts.yRange ? { y: { range: this.opts.yRange } } : {}) },
      axes: [axis, { ...axis, size: 84, ...(this.opts.yIncrs ? { incrs: this.opts.yIncrs } : {}), ...(yFmt ? { values: (_u: uPlot, vals: number[]) => vals.map((v) => yFmt(v)) } : {}) }],
      series: [
        {},
        ...this.series.map((s) => {
          const color = cssVar(s.color);
          return {
            label: s.label,
            stroke: color,
            width: bars ? 0 : 1.5,
            ...(s.dash ? { dash: s.dash } : {}),
            ...(bars ? { paths: bars, fill: color } : s.fill ? { fill: `${color}33` } : {}),
            value: (_u: uPlot, v: number | null) => s.fmt(v),
            spanGaps: false,
            points: { show: false },
          };
        }),
      ],
      hooks: onBrush
        ? {
            setSelect: [
              (u: uPlot) => {
                if (u.select.width < 3) return;
                const min = u.posToVal(u.select.left, 'x');
                const max = u.posToVal(u.select.left + u.select.width, 'x');
                u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
                onBrush(Math.floor(min * 1000), Math.ceil(max * 1000));
              },
            ],
          }
        : {},
    };
    this.plot = new uPlot(options, this.data, this.el);
  }

  /** x in ms; converted to uPlot's seconds. */
  setData(timesMs: readonly number[], columns: readonly (readonly (number | null)[])[]): void {
    this.data = [timesMs.map((t) => t / 1000), ...columns.map((c) => [...c])];
    this.el.dataset.points = String(timesMs.length);
    this.el.dataset.last = String(timesMs[timesMs.length - 1] ?? '');
    this.plot?.setData(this.data);
  }
}
