/**
 * The `alerts` exporter's config: rules (inline or from `rules_files`), notifiers, the history database,
 * and limits. Rule texts (queries, OTTL conditions, regexes) are checked here so a bad rule is refused
 * at load with its path.
 */
import { z } from 'zod';
import { duration, section } from '../../config/schema-helpers.js';
import { httpUrl } from '../../config/http-client.js';
import { exporterHelperShape, retryOnFailureSchema, sendingQueueSchema } from '../../pipeline/exporter-helper-config.js';
import { ottlCondition, regexPattern, severityBound } from '../../ottl/schema.js';
import { parseQuery, QueryParseError } from '../../query/parser.js';
import { coordinationRedisSchema } from '../../coordination/config.js';

const TENANT_FROM = /^(?:resource\.attributes\[\s*"([^"]+)"\s*\]|resource\.attributes\.(.+))$/;

/** A query in the store's query language; a parse error names its position. */
const queryText = () =>
  z.string().superRefine((text, ctx) => {
    try {
      parseQuery(text);
    } catch (err) {
      if (err instanceof QueryParseError) ctx.addIssue({ code: 'custom', message: `invalid query: ${err.message}` });
      else throw err;
    }
  });

export const RULE_KINDS = ['count', 'error_rate', 'ratio', 'pattern', 'level', 'absence', 'spike', 'new_value', 'metric'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

const escalationSchema = z.strictObject({ after: duration(), notify: z.array(z.string().min(1)).min(1) });

export const ruleSchema = z
  .strictObject({
    /** Unique name; the alert's `alertname` label. */
    name: z.string().min(1).regex(/^[^\s/]+$/, 'no spaces or slashes'),
    /** `count`, `error_rate`, `ratio`, `pattern`, `level`, `absence`, `spike`, `new_value` or `metric`. */
    kind: z.enum(RULE_KINDS),
    /** `logs` (records in this pipeline) or `metrics` (the collector's own metrics, kind `metric`). */
    source: z.enum(['logs', 'metrics']).default('logs'),
    /** Records the rule counts, in the store's query language. */
    query: queryText().optional(),
    /** Records the rule counts, as an OTTL condition (instead of `query`). */
    condition: ottlCondition().optional(),
    /** `pattern`: an RE2 regex on the body. */
    pattern: regexPattern().optional(),
    /** `level`: the lowest severity that fires (`ERROR`, `CRITICAL`, `FATAL`, a number). */
    level: severityBound('min').optional(),
    /** `count`/`error_rate`: fires above this many records (per `per`); `ratio`: above this share (0-1). */
    threshold: z.number().min(0).optional(),
    /** `count`/`error_rate`: the threshold is per this duration (e.g. 10 per `1m`) averaged over the window. */
    per: duration().optional(),
    /** The sliding window (`absence`: the silence that fires; `pattern`/`level`/`new_value`: how long it stays firing, default 1m). */
    window: duration().optional(),
    /** `ratio`: the denominator's query (default: every record). */
    base_query: queryText().optional(),
    /** `ratio`/`spike`: fewest records in the window before the rule may fire. */
    min_count: z.number().int().min(0).optional(),
    /** `spike`: fires when the window's rate is above factor × the baseline's. */
    factor: z.number().positive().optional(),
    /** `spike`: the window before `window` whose rate is the baseline. */
    baseline: duration().optional(),
    /** `new_value`: the field whose unseen values fire (e.g. `attributes.error.type`). */
    field: z.string().min(1).optional(),
    /** `new_value`: how long a value counts as seen (default 24h). */
    lookback: duration().optional(),
    /** `metric`: `<metric>[{label="v",…}] [/ <metric>[{…}]] <op> <number>`; ops > >= < <= == !=; `tributary_disk_used_ratio{path="…"}` is the used share of that directory's filesystem. */
    expr: z.string().optional(),
    /** Fields that split the rule into one alert per distinct value (always also per tenant). */
    group_by: z.array(z.string().min(1)).default([]),
    /** How long the condition must hold before firing (`pending` until then). */
    for: duration().default(0),
    /** Least time between two firing notifications of one group (default: `default_cooldown` for pattern/level/new_value, else 0). */
    cooldown: duration().optional(),
    /** The alert's severity label. */
    severity: z.enum(['info', 'warning', 'critical']).default('warning'),
    /** Extra labels on the alert. */
    labels: z.record(z.string(), z.string()).default({}),
    /** Texts with `{{ $value }}`, `{{ $labels.<key> }}`, `{{ $rule }}`, `{{ $tenant }}`; `summary` has a default. */
    annotations: z.record(z.string(), z.string()).default({}),
    /** Notifier ids. */
    notify: z.array(z.string().min(1)).default([]),
    /** Re-notify an unacknowledged firing alert: `[{ after: 15m, notify: [pagerduty] }]`. */
    escalate: z.array(escalationSchema).default([]),
    /** Notify when the alert resolves. */
    send_resolved: z.boolean().default(true),
    /** Alert groups of this rule (default: the exporter's `max_groups`). */
    max_groups: z.number().int().positive().optional(),
  })
  .superRefine((r, ctx) => {
    const need = (key: keyof typeof r, why: string): void => {
      if (r[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required for kind ${why}` });
    };
    if (r.query !== undefined && r.condition !== undefined) ctx.addIssue({ code: 'custom', path: ['condition'], message: 'use query or condition, not both' });
    switch (r.kind) {
      case 'count': need('threshold', 'count'); need('window', 'count'); break;
      case 'error_rate': need('threshold', 'error_rate'); need('window', 'error_rate'); break;
      case 'ratio': need('threshold', 'ratio'); need('window', 'ratio'); break;
      case 'pattern': need('pattern', 'pattern'); break;
      case 'level': need('level', 'level'); break;
      case 'absence': need('window', 'absence'); break;
      case 'spike': need('factor', 'spike'); need('window', 'spike'); need('baseline', 'spike'); break;
      case 'new_value': need('field', 'new_value'); break;
      case 'metric': need('expr', 'metric'); break;
    }
    if (r.kind === 'metric') {
      if (r.source !== 'metrics') ctx.addIssue({ code: 'custom', path: ['source'], message: 'kind metric needs source: metrics' });
      if (r.expr !== undefined && parseMetricExpr(r.expr) === undefined) ctx.addIssue({ code: 'custom', path: ['expr'], message: 'expected <metric>[{label="value",...}] [/ <metric>[{...}]] <op> <number> (op: > >= < <= == !=)' });
    } else if (r.source === 'metrics') ctx.addIssue({ code: 'custom', path: ['source'], message: 'source: metrics needs kind: metric' });
    if (r.kind === 'ratio' && r.threshold !== undefined && r.threshold > 1) ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'a ratio threshold is between 0 and 1' });
    for (const [i, w] of [r.window, r.baseline, r.lookback].entries()) {
      if (w !== undefined && w < 1000) ctx.addIssue({ code: 'custom', path: [['window', 'baseline', 'lookback'][i]!], message: 'at least 1s' });
    }
  });

export type RuleConfig = z.output<typeof ruleSchema>;

export interface MetricSelector {
  name: string;
  labels: Record<string, string>;
}

export interface MetricExpr extends MetricSelector {
  /** `a / b`: the divisor (e.g. queue size / queue capacity). */
  divisor: MetricSelector | undefined;
  op: '>' | '>=' | '<' | '<=' | '==' | '!=';
  value: number;
}

const SELECTOR = String.raw`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{([^}]*)\})?`;
const EXPR = new RegExp(String.raw`^\s*${SELECTOR}\s*(?:/\s*${SELECTOR}\s*)?(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$`);

function parseLabels(text: string | undefined): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  if (text === undefined || text.trim() === '') return labels;
  for (const part of text.split(',')) {
    const lm = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!lm) return undefined;
    labels[lm[1]!] = lm[2]!;
  }
  return labels;
}

/**
 * Parses `tributary_exporter_queue_size{exporter="x"} / tributary_exporter_queue_capacity{exporter="x"} > 0.8`
 * (the divisor is optional); undefined when malformed.
 */
export function parseMetricExpr(text: string): MetricExpr | undefined {
  const m = EXPR.exec(text);
  if (!m) return undefined;
  const labels = parseLabels(m[2]);
  const divLabels = parseLabels(m[4]);
  if (!labels || !divLabels) return undefined;
  return { name: m[1]!, labels, divisor: m[3] !== undefined ? { name: m[3], labels: divLabels } : undefined, op: m[5] as MetricExpr['op'], value: Number(m[6]) };
}

const notifierBase = {
  /** Longest wait for one attempt. */
  timeout: duration().prefault('10s'),
  retry_on_failure: retryOnFailureSchema.prefault({ max_elapsed_time: '2m' } as never),
};

const headers = z.record(z.string(), z.string()).default({});

export const webhookNotifierSchema = z.strictObject({
  ...notifierBase,
  url: httpUrl(),
  headers,
  /** HMAC-SHA256 of the body with this secret, hex, in `X-Tributary-Signature: sha256=<hex>`. */
  secret: z.string().min(1).optional(),
});

export const slackNotifierSchema = z.strictObject({ ...notifierBase, url: httpUrl(), channel: z.string().optional(), username: z.string().optional() });

export const emailNotifierSchema = z.strictObject({
  ...notifierBase,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** `starttls` (upgrade, required), `tls` (implicit TLS, e.g. port 465), `none` (plain; local relays only). */
  security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
  username: z.string().optional(),
  password: z.string().optional(),
  from: z.string().min(1),
  to: z.array(z.string().min(1)).min(1),
  /** Accept a self-signed server certificate (tests, internal relays). */
  insecure_skip_verify: z.boolean().default(false),
});

export const alertmanagerNotifierSchema = z.strictObject({ ...notifierBase, url: httpUrl(), headers });

export const pagerdutyNotifierSchema = z.strictObject({
  ...notifierBase,
  routing_key: z.string().min(1),
  url: httpUrl().default('https://events.pagerduty.com/v2/enqueue'),
  source: z.string().default('tributary'),
});

export const jiraNotifierSchema = z.strictObject({
  ...notifierBase,
  url: httpUrl(),
  username: z.string().min(1),
  api_token: z.string().min(1),
  project: z.string().min(1),
  issue_type: z.string().default('Bug'),
  labels: z.array(z.string()).default(['tributary-alert']),
  /** Transition id applied when the alert resolves (none: the ticket stays as it is). */
  resolve_transition: z.string().optional(),
});

export const liveTailNotifierSchema = z.strictObject({ ...notifierBase });

export const NOTIFIER_SCHEMAS = {
  webhook: webhookNotifierSchema,
  slack: slackNotifierSchema,
  email: emailNotifierSchema,
  alertmanager: alertmanagerNotifierSchema,
  pagerduty: pagerdutyNotifierSchema,
  jira: jiraNotifierSchema,
  live_tail: liveTailNotifierSchema,
} as const;
export type NotifierType = keyof typeof NOTIFIER_SCHEMAS;

/** Notifiers by id (`type` or `type/name`); the type picks the schema. */
const notifiersSchema = z.record(z.string(), z.unknown()).default({}).transform((raw, ctx) => {
  const out: Record<string, { type: NotifierType; config: unknown }> = {};
  for (const [id, value] of Object.entries(raw)) {
    const type = id.split('/')[0] as NotifierType;
    const schema = NOTIFIER_SCHEMAS[type] as z.ZodType | undefined;
    if (!schema) {
      ctx.addIssue({ code: 'custom', path: [id], message: `unknown notifier type "${type}" (one of ${Object.keys(NOTIFIER_SCHEMAS).join(', ')})` });
      continue;
    }
    const r = schema.safeParse(value ?? {});
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: [id, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message });
      continue;
    }
    out[id] = { type, config: r.data };
  }
  return out;
});

export const alertsConfigSchema = z
  .strictObject({
    tenant_from: z.string().default('resource.attributes["project.id"]').refine((v) => TENANT_FROM.test(v), { message: 'must be resource.attributes["<key>"]' }),
    default_tenant: z.string().min(1).default('default'),
    rules: z.array(ruleSchema).default([]),
    /** Globs of YAML files, each `{ rules: [...] }`; reloaded on SIGHUP and on change. */
    rules_files: z.array(z.string().min(1)).default([]),
    /** Notifiers by id (`webhook`, `webhook/ops`, …): see docs/alerts.md for each type's keys. */
    notifiers: notifiersSchema,
    /** SQLite file of states, history and silences (`path`), and how long history is kept (`max_age`). */
    history: section({ path: z.string().min(1).default('./data/alerts/alerts.db'), max_age: duration().prefault('2160h') }),
    /** The api extension that serves /api/v1/alerts, /silences and /rules (when it is configured). */
    api: z.string().min(1).default('api'),
    /** Base URL of the dashboard, for the search link in notifications. */
    dashboard_url: z.string().default('http://127.0.0.1:3100'),
    /** How often windows, `for`, absence and resolution are checked. */
    evaluation_interval: duration().prefault('1s'),
    /** Alert groups per rule; more are dropped (counted), never unbounded memory. */
    max_groups: z.number().int().positive().default(10_000),
    /** Matching records attached to each notification. */
    sample_lines: z.number().int().min(0).max(50).default(5),
    /** Default cooldown of `pattern`, `level` and `new_value` rules. */
    default_cooldown: duration().prefault('5m'),
    /** `auto`: with Redis configured, one notification per transition and shared counts across instances; `off`: each instance on its own. */
    coordination: z.enum(['auto', 'off']).default('auto'),
    /** With Redis: `count` and `error_rate` rules count every instance's records (per-second counters in Redis). */
    shared_counts: z.boolean().default(true),
    /** Redis for exactly-once notification and shared counts; filled from `service.coordination.redis` when unset. */
    redis: coordinationRedisSchema.optional(),
    ...exporterHelperShape,
    // Never queued, never retried: evaluation cannot fail or wait.
    sending_queue: section({ ...sendingQueueSchema.unwrap().shape, enabled: z.literal(false).default(false) }),
    retry_on_failure: section({ ...retryOnFailureSchema.unwrap().shape, enabled: z.literal(false).default(false) }),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.rules.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${r.name}"` });
      seen.add(r.name);
      const check = (ids: readonly string[], path: PropertyKey[]): void => {
        ids.forEach((id, j) => {
          if (!(id in c.notifiers)) ctx.addIssue({ code: 'custom', path: [...path, j], message: `no notifier "${id}" in notifiers` });
        });
      };
      check(r.notify, ['rules', i, 'notify']);
      r.escalate.forEach((e, k) => check(e.notify, ['rules', i, 'escalate', k, 'notify']));
    });
  });

export type AlertsConfig = z.output<typeof alertsConfigSchema>;

export function tenantKey(tenantFrom: string): string {
  const m = TENANT_FROM.exec(tenantFrom);
  return m?.[1] ?? m?.[2] ?? 'project.id';
}
