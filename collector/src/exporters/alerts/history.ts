/**
 * The alerts database (SQLite, one file): the history of every transition with who/when/why (the audit
 * trail), the current state of each alert group (restored at start, so a restart neither forgets a
 * firing alert nor notifies it twice), and silences. Writes happen only on transitions, acks and
 * silences: rare enough for the main thread.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export type AlertStateName = 'inactive' | 'pending' | 'firing' | 'resolved';

export interface Acknowledgement {
  by: string;
  at: number;
  comment: string;
}

export interface HistoryEntry {
  id: number;
  at: number;
  alert_id: string;
  rule: string;
  tenant: string;
  group: Record<string, string>;
  /** `pending`, `firing`, `resolved`, `inactive`, or an action: `acknowledged`, `notified`, `notify_failed`, `suppressed`, `escalated`. */
  event: string;
  from_state: string | null;
  to_state: string | null;
  value: number | null;
  actor: string;
  reason: string;
}

/** What is kept of an alert group across restarts. */
export interface SavedState {
  alert_id: string;
  rule: string;
  tenant: string;
  group: Record<string, string>;
  state: AlertStateName;
  since: number;
  fired_at: number | null;
  resolved_at: number | null;
  last_notified_at: number | null;
  notified_firing: boolean;
  value: number;
  ack: Acknowledgement | null;
  escalations_sent: number;
  /** Notifier-owned data (e.g. a Jira issue key per notifier id). */
  extra: Record<string, string>;
}

export interface Silence {
  id: string;
  tenant: string;
  matchers: { name: string; value: string; is_regex: boolean }[];
  starts_at: number;
  ends_at: number;
  created_by: string;
  comment: string;
}

export interface HistoryQuery {
  tenants: readonly string[] | undefined;
  alert_id?: string | undefined;
  rule?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  limit: number;
}

export class AlertsDatabase {
  private readonly db: Database.Database;
  private readonly insertHistory: Database.Statement;
  private readonly upsertState: Database.Statement;

  constructor(file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS alert_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, alert_id TEXT NOT NULL, rule TEXT NOT NULL,
        tenant TEXT NOT NULL, grp TEXT NOT NULL, event TEXT NOT NULL, from_state TEXT, to_state TEXT,
        value REAL, actor TEXT NOT NULL, reason TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS alert_history_tenant_at ON alert_history (tenant, at);
      CREATE INDEX IF NOT EXISTS alert_history_alert ON alert_history (alert_id, at);
      CREATE TABLE IF NOT EXISTS alert_state (alert_id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, data TEXT NOT NULL, ends_at INTEGER NOT NULL);
    `);
    this.insertHistory = this.db.prepare('INSERT INTO alert_history (at, alert_id, rule, tenant, grp, event, from_state, to_state, value, actor, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)');
    this.upsertState = this.db.prepare('INSERT INTO alert_state (alert_id, data) VALUES (?, ?) ON CONFLICT(alert_id) DO UPDATE SET data = excluded.data');
  }

  record(e: Omit<HistoryEntry, 'id'>): void {
    this.insertHistory.run(e.at, e.alert_id, e.rule, e.tenant, JSON.stringify(e.group), e.event, e.from_state, e.to_state, Number.isFinite(e.value) ? e.value : null, e.actor, e.reason);
  }

  saveState(s: SavedState): void {
    this.upsertState.run(s.alert_id, JSON.stringify(s));
  }

  deleteState(alertId: string): void {
    this.db.prepare('DELETE FROM alert_state WHERE alert_id = ?').run(alertId);
  }

  loadStates(): SavedState[] {
    return (this.db.prepare('SELECT data FROM alert_state').all() as { data: string }[]).map((r) => JSON.parse(r.data) as SavedState);
  }

  history(q: HistoryQuery): HistoryEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.tenants !== undefined) {
      if (q.tenants.length === 0) return [];
      where.push(`tenant IN (${q.tenants.map(() => '?').join(',')})`);
      args.push(...q.tenants);
    }
    if (q.alert_id !== undefined) { where.push('alert_id = ?'); args.push(q.alert_id); }
    if (q.rule !== undefined) { where.push('rule = ?'); args.push(q.rule); }
    if (q.since !== undefined) { where.push('at >= ?'); args.push(q.since); }
    if (q.until !== undefined) { where.push('at < ?'); args.push(q.until); }
    const sql = `SELECT * FROM alert_history ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit) as (Omit<HistoryEntry, 'group'> & { grp: string })[];
    return rows.map(({ grp, ...r }) => ({ ...r, group: JSON.parse(grp) as Record<string, string> }));
  }

  /** Deletes history older than `before` (ms). */
  prune(before: number): void {
    this.db.prepare('DELETE FROM alert_history WHERE at < ?').run(before);
    this.db.prepare('DELETE FROM silences WHERE ends_at < ?').run(before);
  }

  saveSilence(s: Silence): void {
    this.db.prepare('INSERT INTO silences (id, tenant, data, ends_at) VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET data = excluded.data, ends_at = excluded.ends_at').run(s.id, s.tenant, JSON.stringify(s), s.ends_at);
  }

  loadSilences(): Silence[] {
    return (this.db.prepare('SELECT data FROM silences').all() as { data: string }[]).map((r) => JSON.parse(r.data) as Silence);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
