/**
 * Notifiers against their documented formats: webhook (signature recomputed independently), Slack Block
 * Kit, PagerDuty Events v2, Jira REST v2 (issue, comment, transition), e-mail through a real SMTP server
 * (smtp-server, parsed with mailparser), the live tail frame; retry, back-off and timeouts through the
 * dispatcher.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { startRecordingServer, type RecordingServer } from '../../../../test/kit/index.js';
import { silentLogger } from '../../telemetry/logger.js';
import { Telemetry, type Counter } from '../../telemetry/metrics.js';
import { tailHub, type TailSubscriber } from '../../tail/hub.js';
import { MATCH_ALL } from '../../query/ast.js';
import { compileMatcher } from '../../query/matcher.js';
import { alertsConfigSchema } from './config.js';
import { Dispatcher, type NotifierEntry } from './dispatcher.js';
import type { Notification } from './engine.js';
import { createNotifier } from './index.js';
import type { NotifierContext } from './notifiers/notifier.js';

function notification(kind: Notification['kind'] = 'firing', extra: Record<string, string> = {}): Notification {
  return {
    kind,
    alert: {
      id: 'a1b2c3d4e5f60718', rule: 'database-trouble', kind: 'pattern', tenant: 'shop', state: kind === 'resolved' ? 'resolved' : 'firing', severity: 'critical',
      group: { 'service.name': 'checkout' }, labels: { alertname: 'database-trouble', severity: 'critical', tenant: 'shop', 'service.name': 'checkout' },
      annotations: { summary: 'database-trouble: 2 record(s) matched' }, value: 2, threshold: null,
      since: '2026-12-05T01:00:00.000Z', fired_at: '2026-12-05T01:00:00.000Z', resolved_at: kind === 'resolved' ? '2026-12-05T01:10:00.000Z' : null, acknowledged: null, silenced_by: null,
    },
    samples: [
      { time: '2026-12-05T00:59:58.000Z', body: 'database connection failed: timeout', severity: 'ERROR', service: 'checkout', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', correlation_id: 'req-42' },
      { time: '2026-12-05T00:59:59.000Z', body: 'Connection error on pool', severity: 'ERROR', service: 'checkout', trace_id: null, correlation_id: null },
    ],
    link: 'http://127.0.0.1:3100/?query=x&start=2026-12-05T00%3A59%3A00.000Z&end=2026-12-05T01%3A00%3A00.000Z&tenant=shop',
    notifiers: [],
    extra,
    dedup: { key: 'a1b2c3d4e5f60718:state', value: kind, mode: 'state' },
  };
}

const extras: Record<string, string>[] = [];
const ctx = (id: string): NotifierContext => ({ id, logger: silentLogger, setExtra: (_a, k, v) => extras.push({ [k]: v }) });

function notifierFrom(id: string, raw: unknown) {
  const c = alertsConfigSchema.parse({ notifiers: { [id]: raw } });
  const n = c.notifiers[id]!;
  return { notifier: createNotifier(id, n.type, n.config, ctx(id)), config: n.config as { timeout: number; retry_on_failure: NotifierEntry['retry'] } };
}

const servers: RecordingServer[] = [];
async function server(respond?: RecordingServer['respond']): Promise<RecordingServer> {
  const s = await startRecordingServer(respond);
  servers.push(s);
  return s;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const json = (buf: Buffer): Record<string, unknown> => JSON.parse(buf.toString('utf8')) as Record<string, unknown>;

describe('alert notifiers', () => {
  it('webhook: the documented JSON body, signed with HMAC-SHA256 of the exact bytes', async () => {
    const s = await server();
    const { notifier } = notifierFrom('webhook/ops', { url: `${s.url}/hook?x=1`, secret: 'sh-secret', headers: { 'x-team': 'ops' } });
    await notifier.send(notification(), AbortSignal.timeout(5000));
    const r = s.requests[0]!;
    expect(r.url).toBe('/hook?x=1');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-team']).toBe('ops');
    const expected = createHmac('sha256', 'sh-secret').update(r.body).digest();
    const got = Buffer.from(String(r.headers['x-tributary-signature']).replace(/^sha256=/, ''), 'hex');
    expect(got.length).toBe(32);
    expect(timingSafeEqual(got, expected)).toBe(true);
    const body = json(r.body);
    expect(body).toMatchObject({ version: '1', status: 'firing', event: 'firing', link: notification().link });
    expect(body['alert']).toMatchObject({ id: 'a1b2c3d4e5f60718', rule: 'database-trouble', group: { 'service.name': 'checkout' }, value: 2 });
    expect(body['samples']).toEqual(notification().samples);
    await notifier.close?.();
  });

  it('slack: an incoming-webhook Block Kit message with the samples and a link button', async () => {
    const s = await server(() => ({ status: 200, body: 'ok' }));
    const { notifier } = notifierFrom('slack', { url: `${s.url}/services/T000/B000/XXX`, channel: '#alerts' });
    await notifier.send(notification(), AbortSignal.timeout(5000));
    const body = json(s.requests[0]!.body) as { text: string; channel: string; blocks: { type: string; text?: { text: string }; elements?: { url: string }[] }[] };
    expect(body.text).toBe('[FIRING] database-trouble (service.name=checkout)');
    expect(body.channel).toBe('#alerts');
    expect(body.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'actions']);
    expect(body.blocks[3]!.text!.text).toContain('database connection failed: timeout trace_id=4bf92f3577b34da6a3ce929d0e0e4736 correlation_id=req-42');
    expect(body.blocks[4]!.elements![0]!.url).toBe(notification().link);
  });

  it('pagerduty: Events API v2 trigger and resolve with one dedup_key', async () => {
    const s = await server(() => ({ status: 202, body: '{"status":"success"}' }));
    const { notifier } = notifierFrom('pagerduty', { routing_key: 'R0UT1NGKEY0000000000000000000000', url: `${s.url}/v2/enqueue` });
    await notifier.send(notification(), AbortSignal.timeout(5000));
    await notifier.send(notification('resolved'), AbortSignal.timeout(5000));
    const [t, r] = s.requests.map((x) => json(x.body));
    expect(s.requests[0]!.url).toBe('/v2/enqueue');
    expect(t).toMatchObject({ routing_key: 'R0UT1NGKEY0000000000000000000000', event_action: 'trigger', dedup_key: 'tributary-a1b2c3d4e5f60718' });
    expect(t!['payload']).toMatchObject({ summary: '[FIRING] database-trouble (service.name=checkout)', source: 'tributary', severity: 'critical', timestamp: '2026-12-05T01:00:00.000Z', class: 'database-trouble' });
    expect(t!['links']).toEqual([{ href: notification().link, text: 'Open in Tributary' }]);
    expect(r).toEqual({ routing_key: 'R0UT1NGKEY0000000000000000000000', event_action: 'resolve', dedup_key: 'tributary-a1b2c3d4e5f60718' });
  });

  it('jira: creates one issue, comments when it fires again, comments and transitions on resolve', async () => {
    const s = await server((req) => ({ status: req.url === '/jira/rest/api/2/issue' ? 201 : req.url.endsWith('/transitions') ? 204 : 201, headers: { 'content-type': 'application/json' }, body: req.url === '/jira/rest/api/2/issue' ? '{"id":"10001","key":"OPS-7"}' : '{}' }));
    extras.length = 0;
    const { notifier } = notifierFrom('jira', { url: `${s.url}/jira`, username: 'bot@example.com', api_token: 'tok-123', project: 'OPS', issue_type: 'Incident', resolve_transition: '31' });
    const first = notification();
    await notifier.send(first, AbortSignal.timeout(5000));
    expect(extras).toEqual([{ 'jira:jira': 'OPS-7' }]);
    await notifier.send(notification('firing', { 'jira:jira': 'OPS-7' }), AbortSignal.timeout(5000));
    await notifier.send(notification('resolved', { 'jira:jira': 'OPS-7' }), AbortSignal.timeout(5000));
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /jira/rest/api/2/issue', 'POST /jira/rest/api/2/issue/OPS-7/comment', 'POST /jira/rest/api/2/issue/OPS-7/comment', 'POST /jira/rest/api/2/issue/OPS-7/transitions',
    ]);
    expect(s.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('bot@example.com:tok-123').toString('base64')}`);
    const issue = json(s.requests[0]!.body) as { fields: Record<string, unknown> };
    expect(issue.fields).toMatchObject({ project: { key: 'OPS' }, issuetype: { name: 'Incident' }, summary: '[FIRING] database-trouble (service.name=checkout)' });
    expect(String(issue.fields['description'])).toContain('database connection failed: timeout');
    expect(String(issue.fields['description'])).toContain(notification().link);
    expect(json(s.requests[3]!.body)).toEqual({ transition: { id: '31' } });
  });

  it('email: a real SMTP server receives subject, rule, sample lines and the link', async () => {
    const mails: ParsedMail[] = [];
    let authed = '';
    const smtp = new SMTPServer({
      secure: false, disabledCommands: ['STARTTLS'], authOptional: false,
      onAuth(auth, _session, cb) { authed = `${auth.username}:${auth.password ?? ''}`; cb(null, { user: auth.username }); },
      onData(stream, _session, cb) { simpleParser(stream).then((m) => { mails.push(m); cb(); }, cb); },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as { port: number }).port;
    try {
      const { notifier } = notifierFrom('email', { host: '127.0.0.1', port, security: 'none', username: 'alerts', password: 'pw', from: 'tributary@example.com', to: ['oncall@example.com'] });
      await notifier.send(notification(), AbortSignal.timeout(10_000));
      expect(authed).toBe('alerts:pw');
      const m = mails[0]!;
      expect(m.subject).toBe('[FIRING] database-trouble (service.name=checkout)');
      expect(m.from?.text).toBe('tributary@example.com');
      expect(m.headers.get('x-tributary-alert')).toBe('a1b2c3d4e5f60718');
      expect(m.text).toContain('Rule: database-trouble (pattern)');
      expect(m.text).toContain('database connection failed: timeout trace_id=4bf92f3577b34da6a3ce929d0e0e4736 correlation_id=req-42');
      expect(m.text).toContain(`Search: ${notification().link}`);
      expect(String(m.html)).toContain('href="http://127.0.0.1:3100/?query=x&#38;start=');
      await notifier.close?.();
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });

  it('live_tail: an alert frame to the tenant\'s viewers only', async () => {
    const frames: { tenant: string; frame: unknown }[] = [];
    const sub = (tenant: string): TailSubscriber => ({ tenants: new Set([tenant]), matcher: compileMatcher(MATCH_ALL), push: () => undefined, notice: (f) => frames.push({ tenant, frame: f }) });
    const offA = tailHub.subscribe(sub('shop'));
    const offB = tailHub.subscribe(sub('other'));
    try {
      const { notifier } = notifierFrom('live_tail', {});
      await notifier.send(notification(), AbortSignal.timeout(1000));
      await notifier.send(notification('acknowledged'), AbortSignal.timeout(1000));
      expect(frames.map((f) => f.tenant)).toEqual(['shop', 'shop']);
      expect(frames[0]!.frame).toMatchObject({ type: 'alert', event: 'firing', alert: { id: 'a1b2c3d4e5f60718' }, link: notification().link });
      expect(frames[1]!.frame).toMatchObject({ type: 'alert', event: 'acknowledged' });
    } finally {
      offA();
      offB();
    }
  });

  it('dispatcher: retries 503 with back-off, gives up on 400, times out a hung notifier; all counted', async () => {
    const flaky = await server((_r, _i, attempt) => (attempt < 2 ? { status: 503 } : { status: 200 }));
    const bad = await server(() => ({ status: 400, body: 'bad payload' }));
    const hung = await server(() => ({ status: 200, delayMs: 3000 }));
    const retry = { enabled: true, initial_interval: 20, randomization_factor: 0, multiplier: 1, max_interval: 20, max_elapsed_time: 10_000 };
    const entries = new Map<string, NotifierEntry>([
      ['webhook/flaky', { notifier: notifierFrom('webhook/flaky', { url: flaky.url }).notifier, timeoutMs: 2000, retry }],
      ['webhook/bad', { notifier: notifierFrom('webhook/bad', { url: bad.url }).notifier, timeoutMs: 2000, retry }],
      ['webhook/hung', { notifier: notifierFrom('webhook/hung', { url: hung.url }).notifier, timeoutMs: 100, retry: { ...retry, max_elapsed_time: 400 } }],
    ]);
    const telemetry = new Telemetry();
    const outcomes: string[] = [];
    const d = new Dispatcher(entries, { exporterId: 'alerts', logger: silentLogger, telemetry, onOutcome: (_a, e, reason) => outcomes.push(`${e} ${reason.split(':')[0]!}`) });
    d.dispatch({ ...notification(), notifiers: ['webhook/flaky', 'webhook/bad', 'webhook/hung'] });
    await d.idle();
    const count = (name: string, labels: Record<string, string>): number => (telemetry.find(name) as Counter | undefined)?.total(labels) ?? 0;
    expect(flaky.attempts).toHaveLength(3);
    expect(count('tributary_alerts_notifications_sent_total', { notifier: 'webhook/flaky' })).toBe(1);
    expect(count('tributary_alerts_notification_retries_total', { notifier: 'webhook/flaky' })).toBe(2);
    expect(bad.attempts).toHaveLength(1);
    expect(count('tributary_alerts_notifications_failed_total', { notifier: 'webhook/bad', reason: 'permanent' })).toBe(1);
    expect(hung.attempts.length).toBeGreaterThanOrEqual(2);
    expect(count('tributary_alerts_notifications_failed_total', { notifier: 'webhook/hung', reason: 'retries_exhausted' })).toBe(1);
    expect(outcomes.sort()).toEqual(['notified firing sent to webhook/flaky', 'notify_failed firing to webhook/bad', 'notify_failed firing to webhook/hung']);
    await d.shutdown(100);
  });

  it('errors never show a webhook\'s path (Slack\'s is its secret)', async () => {
    const s = await server(() => ({ status: 404, body: 'no_service' }));
    const { notifier } = notifierFrom('slack', { url: `${s.url}/services/T000/B000/SECRETPATH` });
    const err = await notifier.send(notification(), AbortSignal.timeout(5000)).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toContain('HTTP 404');
    expect(err?.message).not.toContain('SECRETPATH');
    await notifier.close?.();
  });
});
