/**
 * The alert engine: counts matching records per rule and group as batches arrive (per-second buckets,
 * O(1) per record), moves each group through `inactive → pending → firing → resolved` (with
 * `acknowledged` and `silenced` on top), writes every transition to the history, and hands
 * notifications to the dispatcher. Synchronous and clock-injected: tests drive it with a fake clock.
 */
import fs from 'node:fs';
import { findAttribute, idToHex, nanosToDecimal, type InstrumentationScope, type LogRecord, type Resource, type ResourceLogs } from '@tributary/otlp';
import { compileRegex, type SafeRegex } from '../../ottl/regex.js';
import { bodyText } from '../../query/matcher.js';
import type { Telemetry, Counter, Gauge } from '../../telemetry/metrics.js';
import { Metrics } from '../../telemetry/metric-names.js';
import type { Acknowledgement, AlertsDatabase, AlertStateName, HistoryEntry, SavedState, Silence } from './history.js';
import { alertId, formatValue, renderTemplate, SecondRing, type CompiledRule } from './rule.js';
import type { MetricSelector } from './config.js';

/** A built-in metric for `metric` rules: the used share (0-1) of the filesystem holding `path`. */
export const DISK_USED_RATIO = 'tributary_disk_used_ratio';

export interface Sample {
  time: string;
  body: string;
  severity: string;
  service: string | null;
  trace_id: string | null;
  correlation_id: string | null;
}

/** An alert as the API and the notifiers show it. */
export interface AlertView {
  id: string;
  rule: string;
  kind: string;
  tenant: string;
  state: AlertStateName;
  severity: string;
  group: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number;
  threshold: number | null;
  since: string;
  fired_at: string | null;
  resolved_at: string | null;
  acknowledged: { by: string; at: string; comment: string } | null;
  silenced_by: string | null;
}

export type NotificationKind = 'firing' | 'resolved' | 'escalated' | 'acknowledged';

export interface Notification {
  kind: NotificationKind;
  alert: AlertView;
  samples: Sample[];
  /** The dashboard's search for the alert's window. */
  link: string;
  /** Notifier ids to send to. */
  notifiers: string[];
  /** Notifier-owned data of this alert group (persisted): e.g. the Jira issue key. */
  extra: Record<string, string>;
  /**
   * Identifies this transition across instances (exactly-once with Redis): `state` = send when the shared
   * value of `key` was not already `value` (firing/resolved alternate); `once` = send when `key` is new.
   */
  dedup: { key: string; value: string; mode: 'state' | 'once' };
}

export interface NotificationSink {
  dispatch(n: Notification): void;
}

interface Group {
  id: string;
  key: string;
  tenant: string;
  values: Record<string, string>;
  ring: SecondRing | undefined;
  /** Shared counts (Redis): the window's total over every instance at the last sync. */
  sharedSum: number | undefined;
  /** Shared counts: this instance's counts per second not yet added to the shared total. */
  unflushed: Map<number, number> | undefined;
  unflushedSum: number;
  baseRing: SecondRing | undefined;
  lastSeen: number;
  state: AlertStateName;
  since: number;
  firedAt: number | undefined;
  resolvedAt: number | undefined;
  lastNotifiedAt: number | undefined;
  notifiedFiring: boolean;
  value: number;
  ack: Acknowledgement | undefined;
  silencedBy: string | undefined;
  escalationsSent: number;
  /** After a restart, a firing group is not resolved before its window has refilled. */
  holdUntil: number;
  samples: { lr: LogRecord; service: string | null }[];
  extra: Record<string, string>;
  /** Times a transition happened, to key notifications of this group (exactly-once across instances). */
  seq: number;
}

interface RuleState {
  rule: CompiledRule;
  groups: Map<string, Group>;
  /** `new_value`: when each value was last seen. */
  seen: Map<string, number> | undefined;
  dropped: ReturnType<Counter['bind']>;
  /** `metric`: (time, value) samples for increases over the window. */
  samples: { at: number; v: number }[];
}

interface CompiledSilence extends Silence {
  tests: ((labels: Readonly<Record<string, string>>) => boolean)[];
}

export interface EngineOptions {
  exporterId: string;
  tenantKey: string;
  defaultTenant: string;
  maxGroups: number;
  sampleLines: number;
  dashboardUrl: string;
  now: () => number;
  db: AlertsDatabase;
  sink: NotificationSink;
  telemetry: Telemetry;
  /** Count rules (`count`, `error_rate`) use totals shared across instances (see takeDeltas). */
  sharedCounts?: boolean | undefined;
  /** Where `metric` rules read the collector's own metrics. */
  metrics?: Telemetry | undefined;
}

const QUIET_STATES: ReadonlySet<AlertStateName> = new Set(['inactive', 'resolved']);

export class AlertEngine {
  private rules: RuleState[] = [];
  private readonly byName = new Map<string, RuleState>();
  private silences = new Map<string, CompiledSilence>();
  private readonly touched = new Set<Group>();
  private readonly transitions: Counter;
  private readonly droppedCounter: Counter;
  private restored = new Map<string, SavedState>();
  private readonly startedAt: number;

  constructor(private readonly o: EngineOptions) {
    this.transitions = o.telemetry.counter(Metrics.alertsTransitions);
    this.droppedCounter = o.telemetry.counter(Metrics.alertsGroupsDropped);
    const active: Gauge = o.telemetry.gauge(Metrics.alertsFiring);
    active.track({ exporter: o.exporterId }, () => {
      let n = 0;
      for (const r of this.rules) for (const g of r.groups.values()) if (g.state === 'firing') n++;
      return n;
    });
    this.startedAt = o.now();
    for (const s of o.db.loadStates()) this.restored.set(s.alert_id, s);
    for (const s of o.db.loadSilences()) this.addSilenceCompiled(s);
  }

  /** Whether a rule's counts are shared across instances (count and error_rate, with shared counting on). */
  private shares(r: CompiledRule): boolean {
    return this.o.sharedCounts === true && (r.kind === 'count' || r.kind === 'error_rate');
  }

  /**
   * Shared counts, step 1: takes this instance's counts not yet shared, per group (`key` = alert id) and
   * second. They count as part of the shared total until the next `setSharedTotals`.
   */
  takeDeltas(): { id: string; windowMs: number; deltas: [number, number][] }[] {
    const out: { id: string; windowMs: number; deltas: [number, number][] }[] = [];
    for (const rs of this.rules) {
      if (!this.shares(rs.rule)) continue;
      for (const g of rs.groups.values()) {
        const active = g.unflushedSum > 0 || (g.sharedSum ?? 0) > 0;
        if (!active) continue;
        out.push({ id: g.id, windowMs: rs.rule.windowMs, deltas: [...(g.unflushed ?? new Map<number, number>())] });
        g.sharedSum = (g.sharedSum ?? 0) + g.unflushedSum;
        g.unflushed?.clear();
        g.unflushedSum = 0;
      }
    }
    return out;
  }

  /** Shared counts, step 2: the window's total over every instance, per alert id (from Redis). */
  setSharedTotals(totals: ReadonlyMap<string, number>): void {
    for (const rs of this.rules) {
      if (!this.shares(rs.rule)) continue;
      for (const g of rs.groups.values()) {
        const t = totals.get(g.id);
        if (t !== undefined) g.sharedSum = t;
      }
    }
  }

  /** Shared counts unavailable (Redis down): every group counts what this instance saw again. */
  clearShared(): void {
    for (const rs of this.rules) {
      for (const g of rs.groups.values()) {
        g.sharedSum = undefined;
        g.unflushed?.clear();
        g.unflushedSum = 0;
      }
    }
  }

  /** Replaces the rules; a rule whose config is unchanged keeps its groups (and so its state). */
  setRules(rules: readonly CompiledRule[]): void {
    const next: RuleState[] = [];
    this.byName.clear();
    const old = new Map(this.rules.map((r) => [r.rule.name, r]));
    for (const rule of rules) {
      const prev = old.get(rule.name);
      const rs: RuleState = prev && prev.rule.fingerprint === rule.fingerprint
        ? prev
        : { rule, groups: new Map(), seen: rule.kind === 'new_value' ? new Map() : undefined, dropped: this.droppedCounter.bind({ exporter: this.o.exporterId, rule: rule.name }), samples: [] };
      next.push(rs);
      this.byName.set(rule.name, rs);
      if (rs !== prev) this.restoreGroups(rs);
    }
    this.rules = next;
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  compiledRules(): readonly CompiledRule[] {
    return this.rules.map((r) => r.rule);
  }

  private restoreGroups(rs: RuleState): void {
    const now = this.o.now();
    for (const s of this.restored.values()) {
      if (s.rule !== rs.rule.name || QUIET_STATES.has(s.state) && (s.last_notified_at === null || now - s.last_notified_at >= rs.rule.cooldownMs)) continue;
      const key = groupKeyOf(s.tenant, rs.rule.groupKeys.map((k) => s.group[k] ?? ''));
      const g = this.newGroup(rs, key, s.tenant, s.group, now);
      g.state = s.state === 'pending' ? 'inactive' : s.state;
      g.since = s.since;
      g.firedAt = s.fired_at ?? undefined;
      g.resolvedAt = s.resolved_at ?? undefined;
      g.lastNotifiedAt = s.last_notified_at ?? undefined;
      g.notifiedFiring = s.notified_firing;
      g.value = s.value;
      g.ack = s.ack ?? undefined;
      g.escalationsSent = s.escalations_sent;
      g.extra = s.extra;
      g.lastSeen = now;
      g.holdUntil = now + Math.max(rs.rule.windowMs, 1000);
      rs.groups.set(key, g);
    }
  }

  private newGroup(rs: RuleState, key: string, tenant: string, values: Record<string, string>, now: number): Group {
    const r = rs.rule;
    const counted = r.kind !== 'absence' && r.kind !== 'metric';
    return {
      id: alertId(r.name, key), key, tenant, values,
      ring: counted ? new SecondRing(r.ringSeconds) : undefined,
      sharedSum: undefined, unflushed: this.shares(r) ? new Map() : undefined, unflushedSum: 0,
      baseRing: r.kind === 'ratio' ? new SecondRing(r.ringSeconds) : undefined,
      lastSeen: now, state: 'inactive', since: now, firedAt: undefined, resolvedAt: undefined, lastNotifiedAt: undefined,
      notifiedFiring: false, value: 0, ack: undefined, silencedBy: undefined, escalationsSent: 0, holdUntil: 0, samples: [], extra: {}, seq: 0,
    };
  }

  /** Takes a batch as it leaves the pipeline: counts matches, then evaluates the groups it touched. */
  observe(resourceLogs: readonly ResourceLogs[]): void {
    const rules = this.rules;
    if (rules.length === 0) return;
    const now = this.o.now();
    const sec = Math.floor(now / 1000);
    for (const rl of resourceLogs) {
      const res = rl.resource;
      const t = findAttribute(res?.attributes, this.o.tenantKey)?.stringValue;
      const tenant = t != null && t !== '' ? t : this.o.defaultTenant;
      let service: string | null | undefined;
      for (const sl of rl.scopeLogs) {
        const scope = sl.scope;
        for (const lr of sl.logRecords) {
          for (let i = 0; i < rules.length; i++) {
            const rs = rules[i]!;
            const r = rs.rule;
            if (r.kind === 'metric') continue;
            const inBase = r.base === undefined || r.base(res, scope, lr);
            if (r.kind === 'ratio') {
              if (!inBase) continue;
            }
            const hit = r.matches(res, scope, lr) && inBase;
            if (!hit && r.kind !== 'ratio') continue;
            const g = this.groupFor(rs, tenant, res, scope, lr, now);
            if (g === undefined) continue;
            if (g.baseRing) g.baseRing.add(sec, 1);
            if (!hit) {
              this.touched.add(g);
              continue;
            }
            g.ring?.add(sec, 1);
            if (g.unflushed) {
              g.unflushed.set(sec, (g.unflushed.get(sec) ?? 0) + 1);
              g.unflushedSum++;
            }
            g.lastSeen = now;
            if (this.o.sampleLines > 0) {
              service ??= findAttribute(res?.attributes, 'service.name')?.stringValue ?? null;
              if (g.samples.length >= this.o.sampleLines) g.samples.shift();
              g.samples.push({ lr, service });
            }
            this.touched.add(g);
          }
        }
      }
    }
    for (const g of this.touched) {
      const rs = this.ruleOfGroup(g);
      if (rs) this.evaluate(rs, g, now);
    }
    this.touched.clear();
  }

  private ruleOfGroup(g: Group): RuleState | undefined {
    for (const rs of this.rules) if (rs.groups.get(g.key) === g) return rs;
    return undefined;
  }

  private groupFor(rs: RuleState, tenant: string, res: Resource | null | undefined, scope: InstrumentationScope | null | undefined, lr: LogRecord, now: number): Group | undefined {
    const r = rs.rule;
    let key = tenant;
    const getters = r.groupGetters;
    for (let i = 0; i < getters.length; i++) key += `\u0000${String(getters[i]!(res, scope, lr) ?? '')}`;
    if (r.kind === 'new_value') {
      const v = String(r.field!(res, scope, lr) ?? '');
      const seenKey = `${tenant}\u0000${v}`;
      const seen = rs.seen!;
      const last = seen.get(seenKey);
      const lookback = r.config.lookback ?? 86_400_000;
      if (last !== undefined && now - last < lookback) {
        seen.set(seenKey, now);
        return undefined;
      }
      if (last === undefined && seen.size >= this.o.maxGroups * 10) {
        for (const [k, at] of seen) if (now - at >= lookback) seen.delete(k);
        if (seen.size >= this.o.maxGroups * 10) {
          rs.dropped.add(1);
          return undefined;
        }
      }
      seen.set(seenKey, now);
      key += `\u0000${v}`;
    }
    let g = rs.groups.get(key);
    if (g === undefined) {
      const max = r.config.max_groups ?? this.o.maxGroups;
      if (rs.groups.size >= max) {
        this.collect(rs, now);
        if (rs.groups.size >= max) {
          rs.dropped.add(1);
          return undefined;
        }
      }
      const values: Record<string, string> = {};
      r.groupKeys.forEach((k, i) => (values[k] = String(getters[i]!(res, scope, lr) ?? '')));
      if (r.kind === 'new_value') values[r.config.field!] = key.slice(key.lastIndexOf('\u0000') + 1);
      g = this.newGroup(rs, key, tenant, values, now);
      rs.groups.set(key, g);
    }
    return g;
  }

  /** Re-evaluates every group (windows sliding, `for`, absence, escalation, resolution). Call every second. */
  tick(): void {
    const now = this.o.now();
    for (const rs of this.rules) {
      if (rs.rule.kind === 'metric') this.evaluateMetric(rs, now);
      for (const g of rs.groups.values()) this.evaluate(rs, g, now);
      this.collect(rs, now);
    }
    for (const [id, s] of this.silences) if (s.ends_at <= now) this.silences.delete(id);
  }

  /** Forgets quiet groups with nothing counted and no cooldown left (bounded memory). */
  private collect(rs: RuleState, now: number): void {
    const r = rs.rule;
    for (const [key, g] of rs.groups) {
      if (!QUIET_STATES.has(g.state) || r.kind === 'absence' || r.kind === 'metric') continue;
      g.ring?.advance(Math.floor(now / 1000));
      g.baseRing?.advance(Math.floor(now / 1000));
      if ((g.ring?.sum ?? 0) > 0 || (g.baseRing?.sum ?? 0) > 0 || (g.sharedSum ?? 0) > 0 || g.unflushedSum > 0) continue;
      if (g.lastNotifiedAt !== undefined && now - g.lastNotifiedAt < r.cooldownMs) continue;
      if (r.kind === 'new_value' && now - g.lastSeen < r.windowMs) continue;
      rs.groups.delete(key);
    }
  }

  /** A metric's current value: the sum of its matching series, or a built-in like the disk's used share. */
  private readMetric(sel: MetricSelector): number {
    if (sel.name === DISK_USED_RATIO) {
      try {
        const st = fs.statfsSync(sel.labels['path'] ?? '.');
        return st.blocks > 0 ? 1 - st.bavail / st.blocks : 0;
      } catch {
        return 0;
      }
    }
    const inst = this.o.metrics?.find(sel.name) as { total?: (l: Record<string, string>) => number; sum?: (l: Record<string, string>) => number } | undefined;
    return inst?.total?.(sel.labels) ?? inst?.sum?.(sel.labels) ?? 0;
  }

  private evaluateMetric(rs: RuleState, now: number): void {
    const m = rs.rule.metric;
    if (!m) return;
    let v = this.readMetric(m);
    const w = rs.rule.config.window;
    if (w !== undefined) {
      rs.samples.push({ at: now, v });
      while (rs.samples.length > 1 && now - rs.samples[1]!.at >= w) rs.samples.shift();
      v -= rs.samples[0]!.v;
    }
    if (m.divisor) {
      const d = this.readMetric(m.divisor);
      v = d !== 0 ? v / d : 0;
    }
    const key = this.o.defaultTenant;
    let g = rs.groups.get(key);
    if (!g) {
      g = this.newGroup(rs, key, this.o.defaultTenant, {}, now);
      rs.groups.set(key, g);
    }
    g.value = v;
  }

  /** Whether the group's condition holds now; sets `g.value`. */
  private condition(rs: RuleState, g: Group, now: number): boolean {
    const r = rs.rule;
    const sec = Math.floor(now / 1000);
    switch (r.kind) {
      case 'count':
      case 'error_rate':
      case 'pattern':
      case 'level': {
        g.ring!.advance(sec);
        const per = r.config.per;
        const n = g.sharedSum !== undefined ? g.sharedSum + g.unflushedSum : g.ring!.sum;
        g.value = per !== undefined ? n / (r.windowMs / per) : n;
        return g.value > r.threshold;
      }
      case 'new_value':
        g.value = 1;
        return now - g.lastSeen < r.windowMs;
      case 'ratio': {
        g.ring!.advance(sec);
        g.baseRing!.advance(sec);
        const base = g.baseRing!.sum;
        g.value = base > 0 ? g.ring!.sum / base : 0;
        return base >= Math.max(1, r.config.min_count ?? 1) && g.value > r.threshold;
      }
      case 'absence':
        g.value = Math.floor((now - g.lastSeen) / 1000);
        return now - g.lastSeen >= r.windowMs;
      case 'spike': {
        const ring = g.ring!;
        ring.advance(sec);
        const wSec = Math.ceil(r.windowMs / 1000);
        const bSec = ring.size - wSec;
        const cur = ring.recent(wSec);
        const prev = ring.sum - cur;
        const curRate = cur / wSec;
        const prevRate = prev / bSec;
        g.value = prevRate > 0 ? curRate / prevRate : cur;
        // Not before a whole baseline has been watched: no spike from a cold start.
        if (now - this.startedAt < (wSec + bSec) * 1000) return false;
        return cur >= Math.max(1, r.config.min_count ?? 1) && curRate > r.config.factor! * prevRate;
      }
      case 'metric': {
        const m = r.metric!;
        const v = g.value;
        switch (m.op) {
          case '>': return v > m.value;
          case '>=': return v >= m.value;
          case '<': return v < m.value;
          case '<=': return v <= m.value;
          case '==': return v === m.value;
          case '!=': return v !== m.value;
        }
      }
    }
    return false;
  }

  private evaluate(rs: RuleState, g: Group, now: number): void {
    const r = rs.rule;
    const active = this.condition(rs, g, now);
    switch (g.state) {
      case 'inactive':
      case 'resolved':
        if (!active) return;
        if (r.forMs > 0) this.transition(rs, g, 'pending', now, 'engine', this.reason(rs, g));
        else this.fire(rs, g, now);
        return;
      case 'pending':
        if (!active) this.transition(rs, g, 'inactive', now, 'engine', 'condition no longer holds');
        else if (now - g.since >= r.forMs) this.fire(rs, g, now);
        return;
      case 'firing':
        if (!active && now >= g.holdUntil) {
          this.resolve(rs, g, now);
          return;
        }
        this.escalate(rs, g, now);
        return;
    }
  }

  private reason(rs: RuleState, g: Group): string {
    const r = rs.rule;
    const v = g.value;
    switch (r.kind) {
      case 'count': case 'error_rate':
        return `${formatValue(v)} ${r.config.per !== undefined ? `per ${r.config.per / 1000}s ` : ''}> ${r.threshold} over ${r.windowMs / 1000}s`;
      case 'ratio': return `ratio ${v.toFixed(3)} > ${r.threshold} over ${r.windowMs / 1000}s`;
      case 'pattern': return `${v} record(s) matched ${r.config.pattern ?? ''}`;
      case 'level': return `${v} record(s) at severity ${r.config.level ?? ''} or above`;
      case 'absence': return `no matching record for ${v}s`;
      case 'spike': return `rate ${v.toFixed(2)}x the baseline (factor ${r.config.factor ?? ''})`;
      case 'new_value': return `new value of ${r.config.field ?? ''}`;
      case 'metric': return `${r.config.expr ?? ''} (value ${v})`;
    }
  }

  private fire(rs: RuleState, g: Group, now: number): void {
    const r = rs.rule;
    g.firedAt = now;
    g.ack = undefined;
    g.escalationsSent = 0;
    g.silencedBy = this.silencedBy(rs, g, now);
    const cooling = g.lastNotifiedAt !== undefined && now - g.lastNotifiedAt < r.cooldownMs;
    this.transition(rs, g, 'firing', now, 'engine', this.reason(rs, g));
    if (g.silencedBy !== undefined) {
      g.notifiedFiring = false;
      this.note(rs, g, 'suppressed', now, `silenced by ${g.silencedBy}`);
    } else if (cooling) {
      g.notifiedFiring = false;
      this.note(rs, g, 'suppressed', now, `cooldown until ${new Date(g.lastNotifiedAt! + r.cooldownMs).toISOString()}`);
    } else {
      g.notifiedFiring = true;
      g.lastNotifiedAt = now;
      this.notify(rs, g, 'firing', r.config.notify, now);
    }
    this.save(rs, g);
  }

  private resolve(rs: RuleState, g: Group, now: number): void {
    g.resolvedAt = now;
    this.transition(rs, g, 'resolved', now, 'engine', 'condition no longer holds');
    if (g.notifiedFiring && rs.rule.config.send_resolved && this.silencedBy(rs, g, now) === undefined) this.notify(rs, g, 'resolved', rs.rule.config.notify, now);
    g.notifiedFiring = false;
    this.save(rs, g);
  }

  private escalate(rs: RuleState, g: Group, now: number): void {
    const steps = rs.rule.config.escalate;
    if (g.ack !== undefined || g.escalationsSent >= steps.length || g.firedAt === undefined) return;
    const step = steps[g.escalationsSent]!;
    if (now - g.firedAt < step.after) return;
    g.escalationsSent++;
    if (this.silencedBy(rs, g, now) === undefined) {
      this.note(rs, g, 'escalated', now, `unacknowledged for ${Math.round((now - g.firedAt) / 1000)}s; notifying ${step.notify.join(', ')}`);
      this.notify(rs, g, 'escalated', step.notify, now);
    }
    this.save(rs, g);
  }

  private transition(rs: RuleState, g: Group, to: AlertStateName, now: number, actor: string, reason: string): void {
    const from = g.state;
    g.state = to;
    g.since = now;
    g.seq++;
    this.transitions.bind({ exporter: this.o.exporterId, rule: rs.rule.name, state: to }).add(1);
    this.o.db.record({ at: now, alert_id: g.id, rule: rs.rule.name, tenant: g.tenant, group: g.values, event: to, from_state: from, to_state: to, value: g.value, actor, reason });
  }

  private note(rs: RuleState, g: Group, event: string, now: number, reason: string, actor = 'engine'): void {
    this.o.db.record({ at: now, alert_id: g.id, rule: rs.rule.name, tenant: g.tenant, group: g.values, event, from_state: g.state, to_state: g.state, value: g.value, actor, reason });
  }

  /** Records what happened to a notification (the dispatcher calls this: sent, failed). */
  noteDelivery(alertIdValue: string, event: 'notified' | 'notify_failed', reason: string): void {
    for (const rs of this.rules) {
      for (const g of rs.groups.values()) {
        if (g.id !== alertIdValue) continue;
        this.note(rs, g, event, this.o.now(), reason, 'dispatcher');
        this.save(rs, g);
        return;
      }
    }
  }

  private save(rs: RuleState, g: Group): void {
    this.o.db.saveState({
      alert_id: g.id, rule: rs.rule.name, tenant: g.tenant, group: g.values, state: g.state, since: g.since,
      fired_at: g.firedAt ?? null, resolved_at: g.resolvedAt ?? null, last_notified_at: g.lastNotifiedAt ?? null,
      notified_firing: g.notifiedFiring, value: g.value, ack: g.ack ?? null, escalations_sent: g.escalationsSent, extra: g.extra,
    });
  }

  private notify(rs: RuleState, g: Group, kind: Notification['kind'], notifiers: readonly string[], now: number): void {
    if (notifiers.length === 0) return;
    const r = rs.rule;
    const start = Math.min(g.firedAt ?? now, now - Math.max(r.windowMs, 60_000));
    const link = searchLink(this.o.dashboardUrl, r.searchQuery, g.tenant, start, now);
    this.o.sink.dispatch({
      kind,
      alert: this.view(rs, g),
      samples: g.samples.map((s) => toSample(s.lr, s.service)),
      link,
      notifiers: [...notifiers],
      extra: g.extra,
      dedup: kind === 'firing' || kind === 'resolved'
        ? { key: `${g.id}:state`, value: kind, mode: 'state' }
        : { key: `${g.id}:${kind}:${kind === 'escalated' ? g.escalationsSent : g.ack?.at ?? 0}`, value: '1', mode: 'once' },
    });
  }

  labelsOf(rs: RuleState, g: Group): Record<string, string> {
    return { ...rs.rule.config.labels, ...g.values, alertname: rs.rule.name, severity: rs.rule.config.severity, tenant: g.tenant };
  }

  private view(rs: RuleState, g: Group): AlertView {
    const r = rs.rule;
    const labels = this.labelsOf(rs, g);
    const vars = { value: g.value, labels, rule: r.name, tenant: g.tenant };
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.config.annotations)) annotations[k] = renderTemplate(v, vars);
    annotations['summary'] ??= `${r.name}: ${this.reason(rs, g)}`;
    return {
      id: g.id, rule: r.name, kind: r.kind, tenant: g.tenant, state: g.state, severity: r.config.severity, group: g.values, labels, annotations,
      value: g.value, threshold: r.kind === 'count' || r.kind === 'error_rate' || r.kind === 'ratio' ? r.threshold : null,
      since: iso(g.since), fired_at: g.firedAt !== undefined ? iso(g.firedAt) : null, resolved_at: g.resolvedAt !== undefined ? iso(g.resolvedAt) : null,
      acknowledged: g.ack ? { by: g.ack.by, at: iso(g.ack.at), comment: g.ack.comment } : null,
      silenced_by: g.silencedBy ?? null,
    };
  }

  /** Pending and firing alerts of these tenants (undefined = all). */
  active(tenants: readonly string[] | undefined): AlertView[] {
    const out: AlertView[] = [];
    for (const rs of this.rules) {
      for (const g of rs.groups.values()) {
        if (g.state !== 'pending' && g.state !== 'firing') continue;
        if (tenants && !tenants.includes(g.tenant)) continue;
        out.push(this.view(rs, g));
      }
    }
    return out.sort((a, b) => (a.since < b.since ? 1 : -1));
  }

  /** Acknowledges a firing alert (stops escalation); undefined when there is no such alert for these tenants. */
  acknowledge(id: string, tenants: readonly string[] | undefined, by: string, comment: string): AlertView | undefined {
    const now = this.o.now();
    for (const rs of this.rules) {
      for (const g of rs.groups.values()) {
        if (g.id !== id || (tenants && !tenants.includes(g.tenant)) || (g.state !== 'firing' && g.state !== 'pending')) continue;
        g.ack = { by, at: now, comment };
        this.note(rs, g, 'acknowledged', now, comment || 'acknowledged', by);
        this.save(rs, g);
        const liveTail = rs.rule.config.notify.filter((n) => n.split('/')[0] === 'live_tail');
        this.notify(rs, g, 'acknowledged', liveTail, now);
        return this.view(rs, g);
      }
    }
    return undefined;
  }

  history(q: Parameters<AlertsDatabase['history']>[0]): HistoryEntry[] {
    return this.o.db.history(q);
  }

  addSilence(s: Silence): Silence {
    this.addSilenceCompiled(s);
    this.o.db.saveSilence(s);
    return s;
  }

  private addSilenceCompiled(s: Silence): void {
    const tests = s.matchers.map((m) => {
      const re: SafeRegex | undefined = m.is_regex ? compileRegex(`^(?:${m.value})$`) : undefined;
      return (labels: Readonly<Record<string, string>>) => (re ? re.test(labels[m.name] ?? '') : (labels[m.name] ?? '') === m.value);
    });
    this.silences.set(s.id, { ...s, tests });
  }

  /** Ends a silence now; false when there is no such active silence for these tenants. */
  expireSilence(id: string, tenants: readonly string[] | undefined): boolean {
    const s = this.silences.get(id);
    if (!s || (tenants && !tenants.includes(s.tenant))) return false;
    this.silences.delete(id);
    const { tests: _tests, ...plain } = s;
    this.o.db.saveSilence({ ...plain, ends_at: this.o.now() });
    return true;
  }

  listSilences(tenants: readonly string[] | undefined): Silence[] {
    const now = this.o.now();
    const out: Silence[] = [];
    for (const s of this.silences.values()) {
      if (s.ends_at <= now || (tenants && !tenants.includes(s.tenant))) continue;
      const { tests: _tests, ...plain } = s;
      out.push(plain);
    }
    return out;
  }

  private silencedBy(rs: RuleState, g: Group, now: number): string | undefined {
    if (this.silences.size === 0) return undefined;
    const labels = this.labelsOf(rs, g);
    for (const s of this.silences.values()) {
      if (s.tenant !== g.tenant || s.starts_at > now || s.ends_at <= now) continue;
      if (s.tests.every((t) => t(labels))) return s.id;
    }
    return undefined;
  }

  /** Stores notifier data (e.g. a ticket key) on the alert's group. */
  setExtra(alertIdValue: string, key: string, value: string): void {
    for (const rs of this.rules) {
      for (const g of rs.groups.values()) {
        if (g.id !== alertIdValue) continue;
        g.extra[key] = value;
        this.save(rs, g);
        return;
      }
    }
  }
}

export function groupKeyOf(tenant: string, values: readonly string[]): string {
  let key = tenant;
  for (const v of values) key += `\u0000${v}`;
  return key;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function searchLink(base: string, query: string, tenant: string, startMs: number, endMs: number): string {
  const u = new URL(base.endsWith('/') ? base : `${base}/`);
  u.searchParams.set('query', query);
  u.searchParams.set('start', iso(startMs));
  u.searchParams.set('end', iso(endMs));
  u.searchParams.set('tenant', tenant);
  return u.toString();
}

function toSample(lr: LogRecord, service: string | null): Sample {
  let ns = nanosToDecimal(lr.timeUnixNano);
  if (ns === '0') ns = nanosToDecimal(lr.observedTimeUnixNano);
  const ms = Number(ns.length > 6 ? ns.slice(0, -6) : '0');
  return {
    time: new Date(ms).toISOString(),
    body: bodyText(lr),
    severity: lr.severityText,
    service,
    trace_id: lr.traceId.length ? idToHex(lr.traceId) : null,
    correlation_id: findAttribute(lr.attributes, 'correlation_id')?.stringValue ?? null,
  };
}
