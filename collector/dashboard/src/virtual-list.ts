/**
 * A virtualized list: only the rows in view exist in the DOM (a fixed pool, repositioned on scroll), so
 * 100k results scroll as smoothly as 100. Keyboard: arrows, Page Up/Down, Home/End move the active row;
 * Enter opens it.
 */
import { h } from './dom.js';

export interface ListSource<T> {
  length(): number;
  at(i: number): T;
}

export class VirtualList<T> {
  readonly el: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly pool: HTMLElement[] = [];
  private active = -1;
  private frame = 0;
  private lastFirst = -1;
  private lastLen = -1;

  constructor(
    id: string,
    label: string,
    private readonly source: ListSource<T>,
    private readonly rowHeight: number,
    private readonly renderRow: (row: HTMLElement, item: T, index: number) => void,
    private readonly onOpen: (item: T, index: number) => void,
    private readonly onNearEnd?: () => void,
  ) {
    this.spacer = h('div', { class: 'vl-spacer' });
    this.el = h('div', { id, class: 'vlist', role: 'listbox', tabindex: 0, 'aria-label': label }, this.spacer);
    this.el.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.el.addEventListener('keydown', (e) => this.key(e));
    this.el.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.vl-row');
      if (!row || (e.target as HTMLElement).closest('button')) return;
      const i = Number(row.dataset.index);
      this.setActive(i);
      this.onOpen(this.source.at(i), i);
    });
    new ResizeObserver(() => this.refresh()).observe(this.el);
  }

  /** Re-render after the data changed (cheap when nothing visible moved). */
  refresh(force = true): void {
    if (force) this.lastFirst = -1;
    this.schedule();
  }

  /** Keeps the view where it is when `n` rows were added above it. */
  shiftBy(n: number): void {
    if (this.el.scrollTop > 0) this.el.scrollTop += n * this.rowHeight;
    if (this.active >= 0) this.active += n;
  }

  scrollToTop(): void {
    this.el.scrollTop = 0;
    this.active = -1;
    this.el.removeAttribute('aria-activedescendant');
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const n = this.source.length();
    const rh = this.rowHeight;
    if (n !== this.lastLen) {
      this.spacer.style.height = `${n * rh}px`;
      this.el.setAttribute('aria-setsize', String(n));
    }
    const view = this.el.clientHeight || 400;
    const first = Math.max(0, Math.floor(this.el.scrollTop / rh) - 5);
    const count = Math.min(n - first, Math.ceil(view / rh) + 10);
    if (first === this.lastFirst && n === this.lastLen) return;
    this.lastFirst = first;
    this.lastLen = n;
    while (this.pool.length < count) {
      const row = h('div', { class: 'vl-row', role: 'option' });
      row.style.height = `${rh}px`;
      this.pool.push(row);
      this.el.append(row);
    }
    for (let k = 0; k < this.pool.length; k++) {
      const row = this.pool[k]!;
      const i = first + k;
      if (k >= count) {
        if (!row.hidden) {
          row.hidden = true;
          row.replaceChildren();
          delete row.dataset.id;
        }
        continue;
      }
      row.hidden = false;
      if (row.dataset.index !== String(i)) {
        row.style.transform = `translateY(${i * rh}px)`;
        row.dataset.index = String(i);
        row.id = `${this.el.id}-row-${i}`;
        row.setAttribute('aria-posinset', String(i + 1));
      }
      // Only real changes: an attribute write restyles the row even when the value is the same.
      const selected = String(i === this.active);
      if (row.getAttribute('aria-selected') !== selected) row.setAttribute('aria-selected', selected);
      this.renderRow(row, this.source.at(i), i);
    }
    if (this.onNearEnd && first + count >= n - 50) this.onNearEnd();
  }

  private setActive(i: number): void {
    const n = this.source.length();
    if (n === 0) return;
    this.active = Math.max(0, Math.min(n - 1, i));
    const top = this.active * this.rowHeight;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (top + this.rowHeight > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + this.rowHeight - this.el.clientHeight;
    this.el.setAttribute('aria-activedescendant', `${this.el.id}-row-${this.active}`);
    this.refresh();
  }

  private key(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.el.clientHeight / this.rowHeight) - 1);
    const moves: Readonly<Record<string, number>> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) this.setActive((this.active < 0 ? -1 : this.active) + moves[e.key]!);
    else if (e.key === 'Home') this.setActive(0);
    else if (e.key === 'End') this.setActive(this.source.length() - 1);
    else if (e.key === 'Enter' && this.active >= 0) this.onOpen(this.source.at(this.active), this.active);
    else return;
    e.preventDefault();
  }
}
