/** Alerts: firing, pending and acknowledged alerts with their sample lines; ack with a comment; silences; history; rules. */
import { ApiError, get, send } from './api.js';
import { announce, clear, fmtTime, h } from './dom.js';
import { bodyText, type LogRecord } from './records.js';
import type { View } from './view.js';

interface Alert {
  id: string;
  rule: string;
  state: string;
  tenant?: string;
  severity?: string;
  since?: string;
  value?: number;
  summary?: string;
  samples?: (LogRecord | string)[];
  acked_by?: string | null;
  ack_comment?: string | null;
  acked_at?: string | null;
  [k: string]: unknown;
}
interface HistoryEvent { time: string; alert_id?: string; rule?: string; event?: string; type?: string; by?: string | null; actor?: string | null; comment?: string | null; [k: string]: unknown }
interface Rule { name: string; query?: string; state?: string; condition?: string; severity?: string; [k: string]: unknown }
interface Silence { id: string; rule?: string; until?: string; ends_at?: string; comment?: string; by?: string; [k: string]: unknown }

const STATE_TEXT: Readonly<Record<string, string>> = { firing: '✖ firing', pending: '… pending', acknowledged: '✔ acknowledged', acked: '✔ acknowledged', resolved: '○ resolved', inactive: '○ inactive', silenced: '🔇 silenced' };

function list<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const v = (body as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(v) ? (v as T[]) : [];
}

export class AlertsView implements View {
  readonly title = 'Alerts';
  readonly el: HTMLElement;
  private readonly active: HTMLElement;
  private readonly history: HTMLElement;
  private readonly rules: HTMLElement;
  private readonly silences: HTMLElement;
  private readonly message: HTMLElement;
  private timer: number | undefined;
  private stopped = false;

  constructor() {
    this.active = h('div', { id: 'alerts-active' });
    this.history = h('tbody');
    this.rules = h('tbody');
    this.silences = h('tbody');
    this.message = h('p', { id: 'alerts-message', class: 'muted', role: 'status' });
    this.el = h('section', { class: 'view alerts', 'aria-labelledby': 'alerts-h' },
      h('div', { class: 'toolbar' }, h('h2', { id: 'alerts-h' }, 'Alerts'), h('button', { type: 'button', id: 'alerts-refresh', onclick: () => void this.load() }, 'Refresh')),
      this.message,
      h('h3', {}, 'Active'), this.active,
      h('table', { class: 'grid', id: 'alert-silences' }, h('caption', {}, 'Silences'), h('thead', {}, h('tr', {}, ...['rule', 'until', 'comment', 'by', ''].map((c) => h('th', { scope: 'col' }, c)))), this.silences),
      h('table', { class: 'grid', id: 'alert-history' }, h('caption', {}, 'History'), h('thead', {}, h('tr', {}, ...['time', 'alert', 'event', 'by', 'comment'].map((c) => h('th', { scope: 'col' }, c)))), this.history),
      h('table', { class: 'grid', id: 'alert-rules' }, h('caption', {}, 'Rules'), h('thead', {}, h('tr', {}, ...['rule', 'state', 'condition'].map((c) => h('th', { scope: 'col' }, c)))), this.rules));
  }

  mount(): void {
    void this.load();
  }

  unmount(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
  }

  private async load(): Promise<void> {
    window.clearTimeout(this.timer);
    try {
      const [alerts, history, rules, silences] = await Promise.all([
        get<unknown>('/api/v1/alerts'),
        get<unknown>('/api/v1/alerts/history'),
        get<unknown>('/api/v1/rules'),
        get<unknown>('/api/v1/silences').catch(() => undefined),
      ]);
      this.message.textContent = '';
      this.renderActive(list<Alert>(alerts, 'alerts'));
      this.renderHistory(list<HistoryEvent>(history, 'history').concat(list<HistoryEvent>(history, 'events')));
      this.renderRules(list<Rule>(rules, 'rules'));
      this.renderSilences(list<Silence>(silences, 'silences'));
    } catch (err) {
      this.message.textContent = err instanceof ApiError && err.status === 404 ? 'No alerts engine in this collector: add the alerts exporter and rules to the config.' : `Alerts: ${(err as Error).message}`;
    }
    if (!this.stopped) this.timer = window.setTimeout(() => void this.load(), 5000);
  }

  private renderActive(alerts: Alert[]): void {
    clear(this.active);
    if (alerts.length === 0) {
      this.active.append(h('p', { class: 'muted' }, 'Nothing is firing.'));
      return;
    }
    const order: Readonly<Record<string, number>> = { firing: 0, pending: 1, acknowledged: 2, acked: 2 };
    alerts.sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3));
    for (const a of alerts) {
      const comment = h('input', { type: 'text', name: 'comment', id: `ack-comment-${a.id}`, placeholder: 'what you are doing about it' });
      const acked = a.state === 'acknowledged' || a.state === 'acked' || !!a.acked_by;
      const samples = (a.samples ?? []).slice(0, 5).map((s) => h('li', {}, typeof s === 'string' ? s : `${s.service ?? ''} ${bodyText(s.body)}`));
      this.active.append(h('article', { class: `alert state-${a.state}`, 'data-alert-id': a.id, 'data-state': a.state, 'aria-label': `${a.rule}: ${a.state}` },
        h('header', {}, h('strong', {}, a.rule), ' ', h('span', { class: `badge state-${a.state}` }, STATE_TEXT[a.state] ?? a.state), a.since ? h('span', { class: 'muted' }, ` since ${fmtTime(Date.parse(a.since))}`) : null, a.tenant ? h('span', { class: 'muted' }, ` · ${a.tenant}`) : null),
        a.summary ? h('p', {}, a.summary) : null,
        samples.length ? h('ul', { class: 'samples', 'aria-label': 'Sample lines' }, ...samples) : null,
        acked ? h('p', { class: 'acked' }, `Acknowledged by ${a.acked_by ?? 'someone'}${a.ack_comment ? `: ${a.ack_comment}` : ''}`) : h('form', { class: 'ack', onsubmit: (e) => { e.preventDefault(); void this.ack(a, comment.value); } },
          h('label', { for: comment.id }, 'Comment'), comment, h('button', { type: 'submit', class: 'ack-button' }, 'Acknowledge')),
        h('button', { type: 'button', class: 'silence-button', onclick: () => void this.silence(a) }, 'Silence 1 h')));
    }
  }

  private async ack(a: Alert, comment: string): Promise<void> {
    try {
      await send('POST', `/api/v1/alerts/${encodeURIComponent(a.id)}/ack`, { comment });
      announce(`Acknowledged ${a.rule}`);
    } catch (err) {
      this.message.textContent = `Acknowledging failed: ${(err as Error).message}`;
    }
    await this.load();
  }

  private async silence(a: Alert): Promise<void> {
    try {
      await send('POST', '/api/v1/silences', { rule: a.rule, duration: '1h', comment: `silenced from the dashboard` });
      announce(`Silenced ${a.rule} for an hour`);
    } catch (err) {
      this.message.textContent = `Silencing failed: ${(err as Error).message}`;
    }
    await this.load();
  }

  private renderHistory(events: HistoryEvent[]): void {
    clear(this.history);
    for (const e of events.slice(0, 200)) {
      this.history.append(h('tr', {}, h('td', {}, e.time ? fmtTime(Date.parse(e.time)) : ''), h('td', {}, e.rule ?? e.alert_id ?? ''), h('td', {}, e.event ?? e.type ?? ''), h('td', { class: 'by' }, e.by ?? e.actor ?? ''), h('td', {}, e.comment ?? '')));
    }
  }

  private renderRules(rules: Rule[]): void {
    clear(this.rules);
    for (const r of rules) this.rules.append(h('tr', {}, h('td', {}, r.name), h('td', {}, STATE_TEXT[r.state ?? ''] ?? r.state ?? ''), h('td', {}, h('code', {}, r.condition ?? r.query ?? ''))));
  }

  private renderSilences(s: Silence[]): void {
    clear(this.silences);
    for (const x of s) {
      this.silences.append(h('tr', {}, h('td', {}, x.rule ?? ''), h('td', {}, x.until ?? x.ends_at ?? ''), h('td', {}, x.comment ?? ''), h('td', {}, x.by ?? ''),
        h('td', {}, h('button', { type: 'button', onclick: () => void send('DELETE', `/api/v1/silences/${encodeURIComponent(x.id)}`).then(() => this.load(), (err: unknown) => { this.message.textContent = `Removing the silence failed: ${(err as Error).message}`; }) }, 'Remove'))));
    }
  }
}
