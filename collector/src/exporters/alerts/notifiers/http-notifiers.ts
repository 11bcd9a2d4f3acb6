/**
 * The HTTP notifiers: `webhook` (documented JSON, optional HMAC-SHA256 signature), `slack` (incoming
 * webhook, Block Kit), `alertmanager` (POST /api/v2/alerts), `pagerduty` (Events API v2) and `jira`
 * (REST API v2: one issue per firing group, a comment when it fires again, an optional transition on
 * resolve).
 */
import { createHmac } from 'node:crypto';
import type { z } from 'zod';
import { PermanentError } from '../../../errors.js';
import type { alertmanagerNotifierSchema, jiraNotifierSchema, pagerdutyNotifierSchema, slackNotifierSchema, webhookNotifierSchema } from '../config.js';
import type { Notification, NotificationKind } from '../engine.js';
import { JsonPoster, notAck, webhookBody, type Notifier, type NotifierContext } from './notifier.js';

export const SIGNATURE_HEADER = 'x-tributary-signature';

/** `sha256=<hex HMAC-SHA256 of the body>`. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class WebhookNotifier implements Notifier {
  private readonly poster: JsonPoster;
  readonly handles = notAck;
  constructor(readonly id: string, ctx: NotifierContext, private readonly c: z.output<typeof webhookNotifierSchema>) {
    this.poster = new JsonPoster(ctx, c.url);
  }
  async send(n: Notification, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(webhookBody(n));
    const headers: Record<string, string> = { ...this.c.headers };
    if (this.c.secret !== undefined) headers[SIGNATURE_HEADER] = signBody(this.c.secret, body);
    await this.poster.post(body, signal, headers);
  }
  close(): Promise<void> {
    return this.poster.close();
  }
}

const EMOJI: Record<NotificationKind, string> = { firing: ':rotating_light:', escalated: ':rotating_light:', resolved: ':white_check_mark:', acknowledged: ':eyes:' };

function title(n: Notification): string {
  const tag = n.kind === 'resolved' ? 'RESOLVED' : n.kind === 'escalated' ? 'ESCALATED' : 'FIRING';
  const group = Object.entries(n.alert.group).map(([k, v]) => `${k}=${v}`).join(', ');
  return `[${tag}] ${n.alert.rule}${group ? ` (${group})` : ''}`;
}

export { title as notificationTitle };

/** The lines of the samples, one per record: time, body, trace and correlation ids. */
export function sampleLines(n: Notification): string[] {
  return n.samples.map((s) => `${s.time} ${s.body}${s.trace_id ? ` trace_id=${s.trace_id}` : ''}${s.correlation_id ? ` correlation_id=${s.correlation_id}` : ''}`);
}

export function slackMessage(n: Notification, c: { channel?: string | undefined; username?: string | undefined }): Record<string, unknown> {
  const a = n.alert;
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: title(n).slice(0, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: `${EMOJI[n.kind]} ${a.annotations['summary'] ?? ''}`.slice(0, 3000) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Severity*\n${a.severity}` },
        { type: 'mrkdwn', text: `*Value*\n${a.value}` },
        { type: 'mrkdwn', text: `*Tenant*\n${a.tenant}` },
        { type: 'mrkdwn', text: `*Since*\n${a.fired_at ?? a.since}` },
      ],
    },
  ];
  const lines = sampleLines(n);
  if (lines.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${lines.join('\n').slice(0, 2900)}\`\`\`` } });
  blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Tributary' }, url: n.link }] });
  return { text: title(n), blocks, ...(c.channel ? { channel: c.channel } : {}), ...(c.username ? { username: c.username } : {}) };
}

export class SlackNotifier implements Notifier {
  private readonly poster: JsonPoster;
  readonly handles = notAck;
  constructor(readonly id: string, ctx: NotifierContext, private readonly c: z.output<typeof slackNotifierSchema>) {
    this.poster = new JsonPoster(ctx, c.url);
  }
  async send(n: Notification, signal: AbortSignal): Promise<void> {
    await this.poster.post(slackMessage(n, this.c), signal);
  }
  close(): Promise<void> {
    return this.poster.close();
  }
}

/** One alert in Alertmanager's API v2 format (postableAlert). */
export function alertmanagerAlert(n: Notification, now: number): Record<string, unknown> {
  const a = n.alert;
  const starts = a.fired_at ?? a.since;
  const out: Record<string, unknown> = { labels: a.labels, annotations: a.annotations, startsAt: starts, generatorURL: n.link };
  // Firing: an end well ahead, refreshed by each notification; resolved: now.
  out['endsAt'] = n.kind === 'resolved' ? new Date(now).toISOString() : new Date(now + 24 * 3600_000).toISOString();
  return out;
}

export class AlertmanagerNotifier implements Notifier {
  private readonly poster: JsonPoster;
  readonly handles = notAck;
  constructor(readonly id: string, ctx: NotifierContext, private readonly c: z.output<typeof alertmanagerNotifierSchema>) {
    this.poster = new JsonPoster(ctx, c.url.replace(/\/+$/, '') + '/api/v2/alerts');
  }
  async send(n: Notification, signal: AbortSignal): Promise<void> {
    await this.poster.post([alertmanagerAlert(n, Date.now())], signal, this.c.headers);
  }
  close(): Promise<void> {
    return this.poster.close();
  }
}

const PD_SEVERITY: Record<string, string> = { info: 'info', warning: 'warning', critical: 'critical' };

export function pagerdutyEvent(n: Notification, c: { routing_key: string; source: string }): Record<string, unknown> {
  const a = n.alert;
  const action = n.kind === 'resolved' ? 'resolve' : n.kind === 'acknowledged' ? 'acknowledge' : 'trigger';
  const ev: Record<string, unknown> = { routing_key: c.routing_key, event_action: action, dedup_key: `tributary-${a.id}` };
  if (action === 'trigger') {
    ev['payload'] = {
      summary: title(n).slice(0, 1024),
      source: c.source,
      severity: PD_SEVERITY[a.severity] ?? 'warning',
      timestamp: a.fired_at ?? a.since,
      component: a.labels['service.name'] ?? a.labels['service'],
      group: a.tenant,
      class: a.rule,
      custom_details: { value: a.value, labels: a.labels, annotations: a.annotations, samples: sampleLines(n) },
    };
    ev['links'] = [{ href: n.link, text: 'Open in Tributary' }];
  }
  return ev;
}

export class PagerDutyNotifier implements Notifier {
  private readonly poster: JsonPoster;
  constructor(readonly id: string, ctx: NotifierContext, private readonly c: z.output<typeof pagerdutyNotifierSchema>) {
    this.poster = new JsonPoster(ctx, c.url, [c.routing_key]);
  }
  handles(): boolean {
    return true;
  }
  async send(n: Notification, signal: AbortSignal): Promise<void> {
    await this.poster.post(pagerdutyEvent(n, this.c), signal);
  }
  close(): Promise<void> {
    return this.poster.close();
  }
}

export function jiraDescription(n: Notification): string {
  const a = n.alert;
  const lines = [
    a.annotations['summary'] ?? '',
    '',
    `Rule: ${a.rule} (${a.kind}), severity ${a.severity}, tenant ${a.tenant}`,
    `Value: ${a.value}`,
    `Labels: ${Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    `Fired at: ${a.fired_at ?? a.since}`,
    `Search: ${n.link}`,
  ];
  const samples = sampleLines(n);
  if (samples.length) lines.push('', '{noformat}', ...samples, '{noformat}');
  return lines.join('\n');
}

export class JiraNotifier implements Notifier {
  private readonly poster: JsonPoster;
  private readonly auth: string;
  readonly handles = (k: NotificationKind): boolean => k === 'firing' || k === 'escalated' || k === 'resolved';
  constructor(readonly id: string, private readonly ctx: NotifierContext, private readonly c: z.output<typeof jiraNotifierSchema>) {
    this.poster = new JsonPoster(ctx, c.url, [c.api_token]);
    this.auth = `Basic ${Buffer.from(`${c.username}:${c.api_token}`).toString('base64')}`;
  }
  async send(n: Notification, signal: AbortSignal): Promise<void> {
    const base = this.poster.url.pathname.replace(/\/+$/, '');
    const keyName = `jira:${this.id}`;
    const issue = n.extra[keyName];
    const headers = { authorization: this.auth, accept: 'application/json' };
    if (n.kind === 'resolved') {
      if (issue === undefined) return;
      await this.poster.post({ body: `Resolved at ${n.alert.resolved_at ?? new Date().toISOString()}.\n${n.link}` }, signal, headers, `${base}/rest/api/2/issue/${encodeURIComponent(issue)}/comment`);
      if (this.c.resolve_transition !== undefined) await this.poster.post({ transition: { id: this.c.resolve_transition } }, signal, headers, `${base}/rest/api/2/issue/${encodeURIComponent(issue)}/transitions`);
      return;
    }
    if (issue !== undefined) {
      await this.poster.post({ body: `${n.kind === 'escalated' ? 'Escalated' : 'Fired again'}:\n${jiraDescription(n)}` }, signal, headers, `${base}/rest/api/2/issue/${encodeURIComponent(issue)}/comment`);
      return;
    }
    const answer = await this.poster.post({
      fields: {
        project: { key: this.c.project },
        issuetype: { name: this.c.issue_type },
        summary: title(n).slice(0, 250),
        description: jiraDescription(n),
        labels: this.c.labels,
      },
    }, signal, headers, `${base}/rest/api/2/issue`);
    let key: unknown;
    try {
      key = (JSON.parse(answer.toString('utf8')) as { key?: unknown }).key;
    } catch {
      key = undefined;
    }
    if (typeof key !== 'string') throw new PermanentError(`notifier ${this.id}: Jira answered without an issue key`);
    n.extra[keyName] = key;
    this.ctx.setExtra(n.alert.id, keyName, key);
  }
  close(): Promise<void> {
    return this.poster.close();
  }
}
