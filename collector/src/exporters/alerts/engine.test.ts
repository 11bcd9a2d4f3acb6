import Long from 'long';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyValue, ResourceLogs } from '@tributary/otlp';
import { Telemetry } from '../../telemetry/metrics.js';
import { alertsConfigSchema, ruleSchema } from './config.js';
import { AlertEngine, type Notification } from './engine.js';
import { AlertsDatabase } from './history.js';
import { compileRule, literalPrefilter } from './rule.js';
import { compileRegex } from '../../ottl/regex.js';

const kv = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

interface Rec { body?: string; sev?: number; service?: string; tenant?: string; attrs?: Record<string, string> }

function batch(recs: Rec[]): ResourceLogs[] {
  return recs.map((r) => ({
    resource: { attributes: [kv('service.name', r.service ?? 'checkout'), kv('project.id', r.tenant ?? 'shop')], droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeLogs: [{
      scope: null, schemaUrl: '',
      logRecords: [{
        timeUnixNano: Long.fromNumber(1_700_000_000_000).multiply(1_000_000), observedTimeUnixNano: Long.ZERO,
        severityNumber: r.sev ?? 9, severityText: r.sev && r.sev >= 21 ? 'FATAL' : r.sev && r.sev >= 17 ? 'ERROR' : 'INFO',
        body: { stringValue: r.body ?? 'hello' }, attributes: Object.entries(r.attrs ?? {}).map(([k, v]) => kv(k, v)),
        droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(16).fill(7), spanId: new Uint8Array(0), eventName: '',
      }],
    }],
  }));
}

const many = (n: number, r: Rec): ResourceLogs[] => batch(Array.from({ length: n }, () => r));

class Harness {
  clock = 1_800_000_000_000;
  sent: Notification[] = [];
  telemetry = new Telemetry();
  engine: AlertEngine;
  constructor(readonly db: AlertsDatabase, rules: unknown[], opts: { maxGroups?: number } = {}) {
    this.engine = this.make(rules, opts);
  }
  make(rules: unknown[], opts: { maxGroups?: number } = {}): AlertEngine {
    const e = new AlertEngine({
      exporterId: 'alerts', tenantKey: 'project.id', defaultTenant: 'default', maxGroups: opts.maxGroups ?? 100, sampleLines: 5,
      dashboardUrl: 'http://127.0.0.1:3100', now: () => this.clock, db: this.db, sink: { dispatch: (n) => this.sent.push(n) }, telemetry: this.telemetry,
      metrics: this.telemetry,
    });
    e.setRules(rules.map((r) => compileRule(ruleSchema.parse(r), { cooldownMs: 300_000, textMode: 'words' })));
    return e;
  }
  advance(ms: number, step = 1000): void {
    for (let t = 0; t < ms; t += step) {
      this.clock += step;
      this.engine.tick();
    }
  }
  kinds(): string[] {
    return this.sent.map((n) => `${n.kind}:${n.alert.rule}`);
  }
}

let db: AlertsDatabase;
beforeEach(() => {
  db = new AlertsDatabase(':memory:');
});
afterEach(() => db.close());

describe('alerts engine', () => {
  it('seed: error rate above 10/min over 5 min fires once, respects the 15 min cooldown, resolves', () => {
    const h = new Harness(db, [{ name: 'errors', kind: 'error_rate', threshold: 10, per: '1m', window: '5m', cooldown: '15m', group_by: ['service.name'], notify: ['webhook'] }]);
    // 50 errors in 5 min is exactly 10/min: not above.
    for (let i = 0; i < 5; i++) {
      h.engine.observe(many(10, { sev: 17 }));
      h.advance(60_000, 10_000);
    }
    h.engine.observe(batch([{ sev: 9 }, { sev: 9 }]));
    expect(h.engine.active(undefined)).toEqual([]);
    h.engine.observe(many(60, { sev: 17 }));
    const active = h.engine.active(undefined);
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ rule: 'errors', state: 'firing', tenant: 'shop', group: { 'service.name': 'checkout' } });
    expect(active[0]!.value).toBeGreaterThan(10);
    expect(h.kinds()).toEqual(['firing:errors']);
    expect(h.sent[0]!.samples).toHaveLength(5);
    expect(h.sent[0]!.samples[0]).toMatchObject({ severity: 'ERROR', body: 'hello', trace_id: '07'.repeat(16) });
    expect(h.sent[0]!.link).toContain('query=level%3E%3Derror');
    // Quiet for 5 min: resolves.
    h.advance(301_000);
    expect(h.kinds()).toEqual(['firing:errors', 'resolved:errors']);
    // Fires again within the 15 min cooldown: state firing, no notification; the history says why.
    h.engine.observe(many(60, { sev: 17 }));
    expect(h.engine.active(undefined)[0]!.state).toBe('firing');
    expect(h.kinds()).toEqual(['firing:errors', 'resolved:errors']);
    expect(db.history({ tenants: undefined, limit: 10 }).find((e) => e.event === 'suppressed')!.reason).toMatch(/cooldown/);
    // Resolve, wait out the cooldown, fire: notified.
    h.advance(16 * 60_000, 10_000);
    h.engine.observe(many(60, { sev: 17 }));
    expect(h.kinds()).toEqual(['firing:errors', 'resolved:errors', 'firing:errors']);
  });

  it('seed: the database pattern fires on a matching record only, once per cooldown', () => {
    const h = new Harness(db, [{ name: 'db', kind: 'pattern', pattern: '(?i)(database|connection).*?(error|failed)', cooldown: '15m', notify: ['webhook'] }]);
    h.engine.observe(batch([{ body: 'database is fine' }, { body: 'error: disk' }]));
    expect(h.sent).toHaveLength(0);
    h.engine.observe(batch([{ body: 'Connection to 10.0.0.5 FAILED after 3 tries' }]));
    expect(h.kinds()).toEqual(['firing:db']);
    expect(h.sent[0]!.samples[0]!.body).toBe('Connection to 10.0.0.5 FAILED after 3 tries');
    h.engine.observe(batch([{ body: 'DATABASE error again' }]));
    expect(h.sent).toHaveLength(1);
    h.advance(61_000);
    expect(h.kinds()).toEqual(['firing:db', 'resolved:db']);
    h.engine.observe(batch([{ body: 'database write failed' }]));
    expect(h.sent).toHaveLength(2); // within the cooldown: no second firing notification
    h.advance(15 * 60_000, 5000);
    h.engine.observe(batch([{ body: 'database write failed' }]));
    expect(h.kinds().filter((k) => k === 'firing:db')).toHaveLength(2);
  });

  it('seed: CRITICAL/FATAL level rule fires on FATAL records and not on ERROR', () => {
    const h = new Harness(db, [{ name: 'critical', kind: 'level', level: 'CRITICAL', severity: 'critical', notify: ['webhook'] }]);
    h.engine.observe(batch([{ sev: 17 }, { sev: 20 }]));
    expect(h.sent).toHaveLength(0);
    h.engine.observe(batch([{ sev: 21, body: 'out of memory' }]));
    expect(h.kinds()).toEqual(['firing:critical']);
    expect(h.sent[0]!.alert.severity).toBe('critical');
  });

  it('count with for: pending first, firing after the duration, back to inactive when it stops early', () => {
    const h = new Harness(db, [{ name: 'c', kind: 'count', threshold: 3, window: '1m', for: '30s', notify: ['n'] }]);
    h.engine.observe(many(5, {}));
    expect(h.engine.active(undefined)[0]!.state).toBe('pending');
    h.advance(20_000);
    expect(h.sent).toHaveLength(0);
    h.engine.observe(many(5, {}));
    h.advance(11_000);
    expect(h.kinds()).toEqual(['firing:c']);
    // A pending alert whose condition stops holding goes back to inactive without notifying.
    const h2 = new Harness(db, [{ name: 'c2', kind: 'count', threshold: 3, window: '10s', for: '30s', notify: ['n'] }]);
    h2.engine.observe(many(5, {}));
    h2.advance(15_000);
    expect(h2.engine.active(undefined)).toEqual([]);
    expect(h2.sent).toHaveLength(0);
    expect(db.history({ tenants: undefined, rule: 'c2', limit: 10 }).map((e) => e.event)).toEqual(['inactive', 'pending']);
  });

  it('ratio: matching over base above the threshold with min_count', () => {
    const h = new Harness(db, [{ name: 'r', kind: 'ratio', query: 'level>=error', threshold: 0.5, window: '1m', min_count: 10, notify: ['n'] }]);
    h.engine.observe(many(4, { sev: 17 }));
    expect(h.sent).toHaveLength(0); // only 4 base records
    h.engine.observe(many(4, { sev: 9 }));
    h.engine.observe(many(2, { sev: 17 }));
    expect(h.kinds()).toEqual(['firing:r']);
    expect(h.sent[0]!.alert.value).toBeCloseTo(0.6);
    h.engine.observe(many(20, { sev: 9 }));
    expect(h.kinds()).toEqual(['firing:r', 'resolved:r']);
  });

  it('absence: a heartbeat that stops fires after the window, resolves when it is back', () => {
    const h = new Harness(db, [{ name: 'hb', kind: 'absence', query: 'heartbeat', window: '2m', group_by: ['service.name'], notify: ['n'] }]);
    h.engine.observe(batch([{ body: 'heartbeat', service: 'cron' }]));
    h.advance(60_000);
    h.engine.observe(batch([{ body: 'heartbeat', service: 'cron' }]));
    h.advance(119_000);
    expect(h.sent).toHaveLength(0);
    h.advance(2000);
    expect(h.kinds()).toEqual(['firing:hb']);
    expect(h.sent[0]!.alert.group).toEqual({ 'service.name': 'cron' });
    h.engine.observe(batch([{ body: 'heartbeat', service: 'cron' }]));
    expect(h.kinds()).toEqual(['firing:hb', 'resolved:hb']);
  });

  it('spike: the rate over the window above factor x the baseline rate', () => {
    const h = new Harness(db, [{ name: 's', kind: 'spike', window: '1m', baseline: '5m', factor: 3, min_count: 5, notify: ['n'] }]);
    for (let i = 0; i < 6 * 6; i++) {
      h.engine.observe(many(1, {}));
      h.advance(10_000, 10_000);
    }
    expect(h.sent).toHaveLength(0); // steady 6/min
    for (let i = 0; i < 6; i++) {
      h.engine.observe(many(5, {}));
      h.advance(5000, 5000);
    }
    expect(h.kinds()).toEqual(['firing:s']);
    expect(h.sent[0]!.alert.value).toBeGreaterThan(3);
  });

  it('new_value: a first-seen error type fires, a repeat within the lookback does not', () => {
    const h = new Harness(db, [{ name: 'nv', kind: 'new_value', field: 'attributes.error.type', query: 'level>=error', lookback: '1h', cooldown: '0s', notify: ['n'] }]);
    h.engine.observe(batch([{ sev: 17, attrs: { 'error.type': 'Timeout' } }, { sev: 17, attrs: { 'error.type': 'Timeout' } }]));
    expect(h.kinds()).toEqual(['firing:nv']);
    expect(h.sent[0]!.alert.group).toEqual({ 'attributes.error.type': 'Timeout' });
    h.engine.observe(batch([{ sev: 17, attrs: { 'error.type': 'Timeout' } }]));
    h.engine.observe(batch([{ sev: 17, attrs: { 'error.type': 'NullPointer' } }]));
    expect(h.sent.filter((n) => n.kind === 'firing').map((n) => n.alert.group['attributes.error.type'])).toEqual(['Timeout', 'NullPointer']);
  });

  it('metric rules read the collector\'s own metrics', () => {
    const h = new Harness(db, [{ name: 'dropping', kind: 'metric', source: 'metrics', expr: 'tributary_processor_dropped_log_records_total > 100', window: '1m', notify: ['n'] }]);
    const c = h.telemetry.counter('tributary_processor_dropped_log_records_total', 'x').bind({ processor: 'p' });
    c.add(50);
    h.advance(2000);
    c.add(500);
    h.advance(1000);
    expect(h.kinds()).toEqual(['firing:dropping']);
    h.advance(61_000);
    expect(h.kinds()).toEqual(['firing:dropping', 'resolved:dropping']);
  });

  it('metric rules divide two metrics (queue fill) and read the disk\'s used share', () => {
    const h = new Harness(db, [
      { name: 'queue-80', kind: 'metric', source: 'metrics', expr: 'tributary_exporter_queue_size{exporter="loki"} / tributary_exporter_queue_capacity{exporter="loki"} > 0.8', notify: ['n'] },
      { name: 'disk', kind: 'metric', source: 'metrics', expr: 'tributary_disk_used_ratio{path="."} >= 0', notify: ['n'] },
      { name: 'disk-full', kind: 'metric', source: 'metrics', expr: 'tributary_disk_used_ratio{path="."} > 1', notify: ['n'] },
    ]);
    let size = 100;
    h.telemetry.gauge('tributary_exporter_queue_size', 'x').track({ exporter: 'loki' }, () => size);
    h.telemetry.gauge('tributary_exporter_queue_capacity', 'x').track({ exporter: 'loki' }, () => 1000);
    h.advance(1000);
    expect(h.kinds()).toEqual(['firing:disk']);
    size = 850;
    h.advance(1000);
    expect(h.kinds()).toEqual(['firing:disk', 'firing:queue-80']);
    expect(h.sent[1]!.alert.value).toBeCloseTo(0.85);
    expect(ruleSchema.safeParse({ name: 'x', kind: 'metric', source: 'metrics', expr: 'a / > 1' }).success).toBe(false);
  });

  it('acknowledgement stops escalation; an unacknowledged alert escalates once per step', () => {
    const rule = { name: 'e', kind: 'level', level: 'ERROR', window: '1h', notify: ['n'], escalate: [{ after: '15m', notify: ['pagerduty'] }] };
    const h = new Harness(db, [rule]);
    h.engine.observe(batch([{ sev: 17 }]));
    h.advance(16 * 60_000, 10_000);
    expect(h.sent.map((n) => `${n.kind}:${n.notifiers.join()}`)).toEqual(['firing:n', 'escalated:pagerduty']);
    const h2 = new Harness(new AlertsDatabase(':memory:'), [{ ...rule, notify: ['n', 'live_tail'] }]);
    h2.engine.observe(batch([{ sev: 17 }]));
    const id = h2.engine.active(undefined)[0]!.id;
    expect(h2.engine.acknowledge(id, ['other-tenant'], 'bob', 'x')).toBeUndefined();
    const acked = h2.engine.acknowledge(id, ['shop'], 'alice', 'on it')!;
    expect(acked.acknowledged).toMatchObject({ by: 'alice', comment: 'on it' });
    expect(h2.sent.map((n) => `${n.kind}:${n.notifiers.join()}`)).toEqual(['firing:n,live_tail', 'acknowledged:live_tail']);
    h2.advance(16 * 60_000, 10_000);
    expect(h2.sent.filter((n) => n.kind === 'escalated')).toHaveLength(0);
    expect(h2.db.history({ tenants: ['shop'], limit: 10 }).find((e) => e.event === 'acknowledged')).toMatchObject({ actor: 'alice', reason: 'on it' });
    h2.db.close();
  });

  it('silences suppress notifications of matching alerts of their tenant only', () => {
    const h = new Harness(db, [{ name: 'lvl', kind: 'level', level: 'ERROR', group_by: ['service.name'], notify: ['n'] }]);
    h.engine.addSilence({ id: 's1', tenant: 'shop', matchers: [{ name: 'service.name', value: 'check.*', is_regex: true }], starts_at: h.clock, ends_at: h.clock + 3600_000, created_by: 'alice', comment: '' });
    h.engine.observe(batch([{ sev: 17, service: 'checkout' }, { sev: 17, service: 'search' }, { sev: 17, service: 'checkout', tenant: 'other' }]));
    expect(h.sent.map((n) => `${n.alert.tenant}/${n.alert.group['service.name']}`).sort()).toEqual(['other/checkout', 'shop/search']);
    expect(h.engine.active(['shop']).find((a) => a.group['service.name'] === 'checkout')!.silenced_by).toBe('s1');
    expect(h.engine.expireSilence('s1', ['other'])).toBe(false);
    expect(h.engine.expireSilence('s1', ['shop'])).toBe(true);
    expect(h.engine.listSilences(undefined)).toEqual([]);
  });

  it('max_groups bounds the groups of a rule and counts what it drops', () => {
    const h = new Harness(db, [{ name: 'g', kind: 'count', threshold: 100, window: '1m', group_by: ['attributes.user'] }], { maxGroups: 10 });
    h.engine.observe(batch(Array.from({ length: 1000 }, (_, i) => ({ attrs: { user: `u${i}` } }))));
    expect(h.telemetry.find('tributary_alerts_groups_dropped_total')).toBeDefined();
    expect((h.telemetry.find('tributary_alerts_groups_dropped_total') as unknown as { total(): number }).total()).toBe(990);
    // Quiet groups are forgotten, so new values get room again.
    h.advance(61_000);
    h.engine.observe(batch([{ attrs: { user: 'new' } }]));
    expect((h.telemetry.find('tributary_alerts_groups_dropped_total') as unknown as { total(): number }).total()).toBe(990);
  });

  it('a restart while firing keeps the alert firing and does not notify it again', () => {
    const rules = [{ name: 'errors', kind: 'error_rate', threshold: 10, per: '1m', window: '5m', cooldown: '15m', notify: ['n'] }];
    const h = new Harness(db, rules);
    h.engine.observe(many(60, { sev: 17 }));
    expect(h.kinds()).toEqual(['firing:errors']);
    // A new engine on the same database (the process restarted).
    const sent: Notification[] = h.sent;
    h.sent = [];
    h.engine = h.make(rules);
    h.advance(30_000);
    expect(h.engine.active(undefined)).toMatchObject([{ rule: 'errors', state: 'firing' }]);
    h.engine.observe(many(60, { sev: 17 }));
    expect(h.sent).toEqual([]);
    expect(sent).toHaveLength(1);
    // It resolves normally once quiet for the window.
    h.advance(301_000);
    expect(h.kinds()).toEqual(['resolved:errors']);
  });

  it('tenants: each tenant has its own alert state, and the views are confined', () => {
    const h = new Harness(db, [{ name: 'lvl', kind: 'level', level: 'ERROR', notify: ['n'] }]);
    h.engine.observe(batch([{ sev: 17, tenant: 'a' }, { sev: 17, tenant: 'b' }]));
    expect(h.engine.active(['a']).map((x) => x.tenant)).toEqual(['a']);
    expect(db.history({ tenants: ['b'], limit: 10 }).every((e) => e.tenant === 'b')).toBe(true);
  });

  it('the pattern prefilter never refuses a text the full RE2 pattern matches', () => {
    expect(literalPrefilter('(?i)(database|connection).*?(error|failed)')?.source).toBe('database|connection');
    expect(literalPrefilter('timeout after \\d+ms')?.source).toBe('timeout after ');
    // A hyphen in the literal part (the `u` flag refuses `\-`).
    expect(literalPrefilter('order-47\\d+')?.test('order-4711')).toBe(true);
    expect(() => compileRule(ruleSchema.parse({ name: 'h', kind: 'pattern', pattern: 'order-47\\d+ failed', notify: ['n'] }), { cooldownMs: 1000, textMode: 'words' })).not.toThrow();
    expect(literalPrefilter('ab*c')).toBeUndefined();
    expect(literalPrefilter('(db|conn)?x')).toBeUndefined();
    expect(literalPrefilter('x|database')).toBeUndefined();
    expect(literalPrefilter('(?s)abc')).toBeUndefined();
    expect(literalPrefilter('^abc')).toBeUndefined();
    const patterns = ['(?i)(database|connection).*?(error|failed)', 'timeout after \\d+ms', 'abc+d', '(?i)kelvin', '(?i)(ss|ſ)x', 'Err(or)?'];
    const texts = ['DATABASE write FAILED', 'Connection error', 'timeout after 25ms', 'abccd', 'KELVIN', '\u212Aelvin', 'ſx', 'SSX', 'Err', 'nothing here', 'dbase error'];
    for (const p of patterns) {
      const full = compileRegex(p);
      const pre = literalPrefilter(p);
      for (const t of texts) if (full.test(t)) expect(pre === undefined || pre.test(t), `${p} on ${t}`).toBe(true);
    }
  });

  it('config refuses bad rules with their path', () => {
    const bad = alertsConfigSchema.safeParse({ rules: [{ name: 'x', kind: 'pattern', pattern: '(a' }, { name: 'y', kind: 'count', window: '1m' }, { name: 'z', kind: 'level', level: 'ERROR', query: 'level:(' , notify: ['nope'] }] });
    expect(bad.success).toBe(false);
    const msgs = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msgs.some((m) => m.startsWith('rules.0.pattern: invalid regex'))).toBe(true);
    expect(msgs).toContain('rules.1.threshold: required for kind count');
    expect(msgs.some((m) => m.startsWith('rules.2.query: invalid query'))).toBe(true);
    expect(msgs).toContain('rules.2.notify.0: no notifier "nope" in notifiers');
  });
});
