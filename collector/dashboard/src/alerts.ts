/**
 * Alerts: pending, firing and acknowledged alerts with sample lines from the store, acknowledge with a
 * comment, silence, the history (who did what), and the rules with their current state. Shapes: docs/alerts.md.
 */
import { ApiError, get, send } from './api.js';
import { announce, clear, fmtTime, h } from './dom.js';
import { bodyText, LEVEL_LABEL, type LogRecord } from './records.js';
import type { View } from './view.js';

interface Alert {
  id: string;
  rule: string;
  kind: string;
  tenant: string;
  state: string;
  severity: string;
  group: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number | null;
  threshold: number | null;
  since: string;
  fired_at: string | null;
  acknowledged: { by: string; at: string; comment: string } | null;
  silenced_by: string | null;
}
interface HistoryEntry { id: number; at: string; alert_id: string; rule: string; tenant: string; group: Record<string, string>; event: string; from_state?: string | null; to_state?: string | null; value?: number | null; actor: string; reason: string }
interface Rule { name: string; kind: string; severity: string; query: string | null; group_by: string[]; window: number | null; threshold: number | null }
interface Silence { id: string; tenant: string; matchers: { name: string; value: string; is_regex: boolean }[]; starts_at: string; ends_at: string; created_by: string; comment: string }

/** A state in words with a symbol: never colour alone. */
const STATE_TEXT: Readonly<Record<string, string>> = { firing: '✖ firing', pending: '… pending', acknowledged: '✔ acknowledged', resolved: '○ resolved', inactive: '○ inactive', ok: '○ ok', silenced: '⊘ silenced' };

const stateOf = (a: Alert): string => (a.acknowledged ? 'acknowledged' : a.silenced_by ? 'silenced' : a.state);

/** A query for the records behind an alert: its rule's query and its group's values. */
function sampleQuery(rule: Rule | undefined, a: Alert): string | undefined {
  if (!rule) return undefined;
  const parts = rule.query ? [rule.query.includes(' OR ') ? `(${rule.query})` : rule.query] : [];
  for (const [k, v] of Object.entries(a.group ?? {})) parts.push(`${k}:${JSON.stringify(v)}`);
  return parts.join(' ');
}

export class AlertsView implements View {
  readonly title = 'Alerts';
  readonly el: HTMLElement;
  private readonly active: HTMLElement;
  private readonly history: HTMLElement;
  private readonly rules: HTMLElement;
  private readonly silences: HTMLElement;
  private readonly message: HTMLElement;
  private readonly sections: HTMLElement;
  private timer: number | undefined;
  private stopped = false;
  /** Alerts with a comment being typed are not re-rendered under the user's fingers. */
  private editing = false;
  private readonly samples = new Map<string, { at: number; lines: LogRecord[] }>();

  constructor() {
    this.active = h('div', { id: 'alerts-active', 'aria-live': 'polite' });
    this.history = h('tbody');
    this.rules = h('tbody');
    this.silences = h('tbody');
    this.message = h('p', { id: 'alerts-message', class: 'muted', role: 'status' });
    this.sections = h('div', { id: 'alerts-sections' },
      h('h3', {}, 'Active'), this.active,
      h('table', { class: 'grid', id: 'alert-rules' }, h('caption', {}, 'Rules'), h('thead', {}, h('tr', {}, ...['rule', 'kind', 'state', 'severity', 'query'].map((c) => h('th', { scope: 'col' }, c)))), this.rules),
      h('table', { class: 'grid', id: 'alert-silences' }, h('caption', {}, 'Silences'), h('thead', {}, h('tr', {}, ...['matchers', 'until', 'by', 'comment', ''].map((c) => h('th', { scope: 'col' }, c)))), this.silences),
      h('table', { class: 'grid', id: 'alert-history' }, h('caption', {}, 'History'), h('thead', {}, h('tr', {}, ...['time', 'rule', 'group', 'event', 'by', 'why'].map((c) => h('th', { scope: 'col' }, c)))), this.history));
    this.el = h('section', { class: 'view alerts', 'aria-labelledby': 'alerts-h' },
      h('div', { class: 'toolbar' }, h('h2', { id: 'alerts-h' }, 'Alerts'), h('button', { type: 'button', id: 'alerts-refresh', onclick: () => void this.load() }, 'Refresh')),
      this.message, this.sections);
    this.el.addEventListener('focusin', (e) => {
      if ((e.target as HTMLElement).matches('input')) this.editing = true;
    });
    this.el.addEventListener('focusout', () => {
      this.editing = false;
    });
  }

  mount(): void {
    void this.load();
  }

  unmount(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
  }

  private async load(force = true): Promise<void> {
    window.clearTimeout(this.timer);
    try {
      const [alerts, history, rules, silences] = await Promise.all([
        get<{ alerts: Alert[] }>('/api/v1/alerts'),
        get<{ entries: HistoryEntry[] }>('/api/v1/alerts/history', { limit: 200 }),
        get<{ rules: Rule[] }>('/api/v1/rules'),
        get<{ silences: Silence[] }>('/api/v1/silences'),
      ]);
      this.message.textContent = '';
      this.sections.hidden = false;
      if (force || !this.editing) await this.renderActive(alerts.alerts, rules.rules);
      this.renderRules(rules.rules, alerts.alerts);
      this.renderSilences(silences.silences);
      this.renderHistory(history.entries);
      this.el.dataset.loaded = String(Date.now());
    } catch (err) {
      const absent = err instanceof ApiError && (err.status === 404 || err.status === 503);
      this.message.textContent = absent ? 'No alerts engine in this collector: add the alerts exporter (docs/alerts.md) to a logs pipeline.' : `Alerts: ${(err as Error).message}`;
      this.sections.hidden = absent;
    }
    if (!this.stopped) this.timer = window.setTimeout(() => void this.load(false), 5000);
  }

  /** Up to 3 recent records behind the alert, from the store (cached for 30 s). */
  private async sampleLines(a: Alert, rule: Rule | undefined): Promise<LogRecord[]> {
    const cached = this.samples.get(a.id);
    if (cached && Date.now() - cached.at < 30_000) return cached.lines;
    const q = sampleQuery(rule, a);
    if (q === undefined) return [];
    const start = Date.parse(a.since) - (rule?.window ?? 60_000);
    try {
      const r = await get<{ records: LogRecord[] }>('/api/v1/query', { query: q, start, end: Date.now(), limit: 3 });
      this.samples.set(a.id, { at: Date.now(), lines: r.records });
      return r.records;
    } catch {
      return []; // no store, or the rule's query is not a search: the alert still shows
    }
  }

  private async renderActive(alerts: Alert[], rules: Rule[]): Promise<void> {
    const order: Readonly<Record<string, number>> = { firing: 0, pending: 1, silenced: 2, acknowledged: 3 };
    alerts.sort((a, b) => (order[stateOf(a)] ?? 4) - (order[stateOf(b)] ?? 4));
    const byName = new Map(rules.map((r) => [r.name, r]));
    const lines = await Promise.all(alerts.map((a) => this.sampleLines(a, byName.get(a.rule))));
    // Comments being typed survive a refresh.
    const typed = new Map<string, string>();
    for (const i of this.active.querySelectorAll<HTMLInputElement>('input[name="comment"]')) if (i.value) typed.set(i.id, i.value);
    const focused = document.activeElement instanceof HTMLInputElement && this.active.contains(document.activeElement) ? document.activeElement.id : undefined;
    clear(this.active);
    if (alerts.length === 0) {
      this.active.append(h('p', { class: 'muted', id: 'no-alerts' }, 'Nothing is pending or firing.'));
      return;
    }
    alerts.forEach((a, i) => {
      const state = stateOf(a);
      const comment = h('input', { type: 'text', name: 'comment', id: `ack-comment-${a.id}`, placeholder: 'what you are doing about it', maxlength: 2000 });
      comment.value = typed.get(comment.id) ?? '';
      const group = Object.entries(a.group ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
      const sample = lines[i] ?? [];
      this.active.append(h('article', { class: `alert state-${state}`, 'data-alert-id': a.id, 'data-state': state, 'aria-label': `${a.rule}${group ? ` (${group})` : ''}: ${state}` },
        h('header', {},
          h('strong', {}, a.rule), group ? h('span', {}, ` (${group})`) : null, ' ',
          h('span', { class: `badge state-${state}` }, STATE_TEXT[state] ?? state), ' ',
          h('span', { class: 'muted' }, `${a.severity} · since ${fmtTime(Date.parse(a.since))} · ${a.tenant}`)),
        a.annotations?.summary ? h('p', {}, a.annotations.summary) : null,
        sample.length ? h('ul', { class: 'samples', 'aria-label': 'Sample lines' }, ...sample.map((r) => h('li', {}, `${fmtTime(Number(BigInt(r.timestamp) / 1_000_000n))} ${LEVEL_LABEL[r.level] ?? r.level} ${r.service ?? ''} ${bodyText(r.body)}`))) : null,
        a.acknowledged
          ? h('p', { class: 'acked' }, `Acknowledged by ${a.acknowledged.by} at ${fmtTime(Date.parse(a.acknowledged.at))}${a.acknowledged.comment ? `: “${a.acknowledged.comment}”` : ''}`)
          : h('form', { class: 'ack', onsubmit: (e) => { e.preventDefault(); void this.ack(a, comment.value); } },
            h('label', { for: comment.id }, 'Comment'), comment, h('button', { type: 'submit', class: 'ack-button' }, 'Acknowledge')),
        a.silenced_by ? h('p', { class: 'muted' }, `Silenced (${a.silenced_by})`) : h('button', { type: 'button', class: 'silence-button', onclick: () => void this.silence(a) }, 'Silence 1 h')));
    });
    if (focused) document.getElementById(focused)?.focus();
  }

  private async ack(a: Alert, comment: string): Promise<void> {
    try {
      await send('POST', `/api/v1/alerts/${encodeURIComponent(a.id)}/ack`, { comment });
      announce(`Acknowledged ${a.rule}`);
    } catch (err) {
      this.message.textContent = `Acknowledging failed: ${(err as Error).message}`;
    }
    this.editing = false;
    await this.load();
  }

  private async silence(a: Alert): Promise<void> {
    try {
      await send('POST', '/api/v1/silences', { matchers: Object.entries(a.labels ?? { alertname: a.rule }).filter(([k]) => k === 'alertname' || k in (a.group ?? {})).map(([name, value]) => ({ name, value })), duration: '1h', comment: 'silenced from the dashboard', tenant: a.tenant });
      announce(`Silenced ${a.rule} for an hour`);
    } catch (err) {
      this.message.textContent = `Silencing failed: ${(err as Error).message}`;
    }
    await this.load();
  }

  private renderRules(rules: Rule[], alerts: Alert[]): void {
    clear(this.rules);
    for (const r of rules) {
      const mine = alerts.filter((a) => a.rule === r.name).map(stateOf);
      const state = mine.includes('firing') ? 'firing' : mine.includes('pending') ? 'pending' : mine.includes('acknowledged') ? 'acknowledged' : mine.includes('silenced') ? 'silenced' : 'ok';
      this.rules.append(h('tr', { 'data-rule': r.name }, h('td', {}, r.name), h('td', {}, r.kind), h('td', { class: `state-${state}` }, STATE_TEXT[state] ?? state), h('td', {}, r.severity), h('td', {}, r.query ? h('code', {}, r.query) : '')));
    }
  }

  private renderSilences(list: Silence[]): void {
    clear(this.silences);
    for (const s of list) {
      this.silences.append(h('tr', {},
        h('td', {}, s.matchers.map((m) => `${m.name}${m.is_regex ? '=~' : '='}${m.value}`).join(', ')),
        h('td', {}, fmtTime(Date.parse(s.ends_at))), h('td', {}, s.created_by), h('td', {}, s.comment),
        h('td', {}, h('button', { type: 'button', 'aria-label': `Remove the silence of ${s.matchers.map((m) => m.value).join(', ')}`, onclick: () => void send('DELETE', `/api/v1/silences/${encodeURIComponent(s.id)}`).then(() => this.load(), (err: unknown) => { this.message.textContent = `Removing the silence failed: ${(err as Error).message}`; }) }, 'Remove'))));
    }
  }

  private renderHistory(entries: HistoryEntry[]): void {
    clear(this.history);
    for (const e of entries) {
      this.history.append(h('tr', { 'data-event': e.event },
        h('td', {}, fmtTime(Date.parse(e.at))), h('td', {}, e.rule), h('td', {}, Object.entries(e.group ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')),
        h('td', {}, e.event), h('td', { class: 'by' }, e.actor), h('td', {}, e.reason)));
    }
  }
}
