/**
 * The alerts exporter in a collector process: OTLP in → a pattern rule fires → a signed webhook; the api
 * routes (JWT, confined to the token's tenant): active alerts, acknowledgement with the token's subject in
 * the history, silences, rules; a rules file with an error refused on SIGHUP at its path and line with the
 * previous rules kept, then a good one taken; a restart while firing restores the alert without notifying
 * it again.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postOtlpJson, recordsRequestJson, startRecordingServer, type RecordingServer } from './kit/index.js';
import { cliPath, freePort, repoRoot, startCollector, tempDir, waitFor, type RunningCollector } from './support/collector-process.js';

const secret = 'an-alerts-test-secret-0123456789abcdefgh';
const token = (project: string, sub: string): Promise<string> =>
  new SignJWT({ project }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').setAudience('tributary').sign(new TextEncoder().encode(secret));

describe('alerts exporter in a collector', () => {
  let c: RunningCollector | undefined;
  let hook: RecordingServer;
  let dir = '';
  let otlp = 0;
  let api = 0;
  let health = 0;
  let config = '';
  let shop = '';
  let other = '';
  const call = async (method: string, p: string, tok: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const r = await fetch(`http://127.0.0.1:${api}${p}`, { method, headers: { authorization: `Bearer ${tok}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    hook = await startRecordingServer(() => ({ status: 200 }));
    dir = tempDir('trib-alerts-');
    fs.mkdirSync(path.join(dir, 'rules'));
    fs.writeFileSync(path.join(dir, 'rules', 'levels.yaml'), 'rules:\n  - { name: critical-logs, kind: level, level: CRITICAL, severity: critical, notify: [webhook] }\n');
    [otlp, api, health] = [await freePort(), await freePort(), await freePort()];
    config = `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlp} } } } }
exporters:
  alerts:
    history: { path: ./alerts/alerts.db }
    evaluation_interval: 100ms
    rules_files: [./rules/*.yaml]
    notifiers:
      webhook: { url: "${hook.url}/hook", secret: hook-secret }
      live_tail: {}
    rules:
      - { name: database-trouble, kind: pattern, pattern: '(?i)(database|connection).*?(error|failed)', cooldown: 15m, group_by: [service.name], notify: [webhook, live_tail] }
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
  api: { endpoint: 127.0.0.1:${api}, auth: { jwt: { secret: "${secret}", audience: tributary } } }
service:
  extensions: [health_check, api]
  pipelines: { logs: { receivers: [otlp], exporters: [alerts] } }
`;
    c = await startCollector(config, { healthPort: health, dir });
    shop = await token('shop', 'alice');
    other = await token('other', 'mallory');
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
    await hook.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fires on a matching record, sends a signed webhook and a live tail alert frame, and serves the alert to its tenant only', async () => {
    const frames: { tenant: string; frame: { type: string; event?: string; alert?: { rule: string; tenant: string } } }[] = [];
    const viewers = await Promise.all(['shop', 'other'].map(async (tenant) => {
      const ws = new WebSocket(`ws://127.0.0.1:${api}/api/v1/tail?query=`, ['bearer', tenant === 'shop' ? shop : other]);
      ws.on('message', (d: Buffer) => frames.push({ tenant, frame: JSON.parse(d.toString()) as (typeof frames)[number]['frame'] }));
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      return ws;
    }));
    const res = await postOtlpJson(otlp, recordsRequestJson([{ n: 1, body: 'all good' }, { n: 2, body: 'Database connection failed: timeout', sev: 17, attrs: { correlation_id: 'req-9' } }], { 'service.name': 'checkout', 'project.id': 'shop' }));
    expect(res.status).toBe(200);
    const req = await waitFor('webhook', () => hook.requests[0]);
    expect(req.headers['x-tributary-signature']).toBe(`sha256=${createHmac('sha256', 'hook-secret').update(req.body).digest('hex')}`);
    const body = JSON.parse(req.body.toString()) as { status: string; alert: { rule: string; tenant: string; group: Record<string, string> }; samples: { body: string; correlation_id: string }[]; link: string };
    expect(body).toMatchObject({ status: 'firing', alert: { rule: 'database-trouble', tenant: 'shop', group: { 'service.name': 'checkout' } } });
    expect(body.samples).toEqual([expect.objectContaining({ body: 'Database connection failed: timeout', correlation_id: 'req-9' })]);
    expect(body.link).toMatch(/^http:\/\/127\.0\.0\.1:3100\/\?query=/);
    expect(new URL(body.link).searchParams.get('query')).toBe('body:/(?i)(database|connection).*?(error|failed)/');
    expect(new URL(body.link).searchParams.get('tenant')).toBe('shop');

    const mine = await call('GET', '/api/v1/alerts', shop);
    expect(mine.status).toBe(200);
    expect(mine.json['alerts']).toMatchObject([{ rule: 'database-trouble', state: 'firing', tenant: 'shop' }]);
    expect((await call('GET', '/api/v1/alerts', other)).json['alerts']).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${api}/api/v1/alerts`)).status).toBe(401);
    const alertFrame = await waitFor('alert frame', () => frames.find((f) => f.frame.type === 'alert'));
    expect(alertFrame).toMatchObject({ tenant: 'shop', frame: { type: 'alert', event: 'firing', alert: { rule: 'database-trouble', tenant: 'shop' } } });
    // The ack marks it read for the tenant's viewers (an `acknowledged` frame); the other tenant never sees either.
    const id = ((await call('GET', '/api/v1/alerts', shop)).json['alerts'] as { id: string }[])[0]!.id;
    await call('POST', `/api/v1/alerts/${id}/ack`, shop, { comment: 'seen' });
    await waitFor('acknowledged frame', () => frames.find((f) => f.frame.event === 'acknowledged'));
    expect(frames.filter((f) => f.frame.type === 'alert').map((f) => `${f.tenant}:${f.frame.event ?? ''}`)).toEqual(['shop:firing', 'shop:acknowledged']);
    for (const ws of viewers) ws.close();
  });

  it('acknowledges with the token\'s subject (other tenants get 404), and writes the audit trail', async () => {
    const id = ((await call('GET', '/api/v1/alerts', shop)).json['alerts'] as { id: string }[])[0]!.id;
    expect((await call('POST', `/api/v1/alerts/${id}/ack`, other, { comment: 'mine now' })).status).toBe(404);
    const ack = await call('POST', `/api/v1/alerts/${id}/ack`, shop, { comment: 'looking into it' });
    expect(ack.status).toBe(200);
    expect(ack.json['alert']).toMatchObject({ id, acknowledged: { by: 'alice', comment: 'looking into it' } });
    const hist = await call('GET', `/api/v1/alerts/history?alert_id=${id}`, shop);
    const events = (hist.json['entries'] as { event: string; actor: string }[]).map((e) => `${e.event}/${e.actor}`);
    expect(events).toContain('acknowledged/alice');
    expect(events).toContain('firing/engine');
    expect(events).toContain('notified/dispatcher');
    expect((await call('GET', `/api/v1/alerts/history?alert_id=${id}`, other)).json['entries']).toEqual([]);
  });

  it('silences: created for the token\'s tenant, suppress notifications, deleted', async () => {
    const created = await call('POST', '/api/v1/silences', shop, { matchers: [{ name: 'alertname', value: 'critical-logs' }], duration: '1h', comment: 'deploy' });
    expect(created.status).toBe(201);
    const s = created.json['silence'] as { id: string; tenant: string; created_by: string };
    expect(s).toMatchObject({ tenant: 'shop', created_by: 'alice' });
    expect((await call('POST', '/api/v1/silences', shop, { matchers: [{ name: 'a', value: 'b' }], duration: '1h', tenant: 'other' })).status).toBe(403);
    expect((await call('POST', '/api/v1/silences', shop, { matchers: [{ name: 'a', value: '(', is_regex: true }], duration: '1h' })).status).toBe(400);
    const before = hook.requests.length;
    await postOtlpJson(otlp, recordsRequestJson([{ n: 3, body: 'kernel panic', sev: 21 }], { 'service.name': 'checkout', 'project.id': 'shop' }));
    const silenced = await waitFor('silenced alert', async () => ((await call('GET', '/api/v1/alerts', shop)).json['alerts'] as { rule: string; silenced_by: string | null }[]).find((a) => a.rule === 'critical-logs'));
    expect(silenced.silenced_by).toBe(s.id);
    expect(hook.requests.length).toBe(before);
    expect((await call('GET', '/api/v1/silences', shop)).json['silences']).toMatchObject([{ id: s.id }]);
    expect((await call('DELETE', `/api/v1/silences/${s.id}`, other)).status).toBe(404);
    expect((await call('DELETE', `/api/v1/silences/${s.id}`, shop)).json).toEqual({ deleted: s.id });
    expect((await call('GET', '/api/v1/silences', shop)).json['silences']).toEqual([]);
  });

  it('a rules file with an error is refused at its path and line on SIGHUP; the previous rules keep running', async () => {
    const names = async (): Promise<string[]> => ((await call('GET', '/api/v1/rules', shop)).json['rules'] as { name: string }[]).map((r) => r.name);
    expect(await names()).toEqual(['database-trouble', 'critical-logs']);
    const file = path.join(dir, 'rules', 'levels.yaml');
    fs.writeFileSync(file, 'rules:\n  - { name: critical-logs, kind: level, level: CRITICAL }\n  - name: bad\n    kind: pattern\n    pattern: "(unclosed"\n');
    c!.child.kill('SIGHUP');
    const err = await waitFor('refusal in the log', () => /rule files refused[^\n]*/.exec(c!.stderr())?.[0]);
    expect(err).toContain(file);
    expect(c!.stderr()).toMatch(/rules\[1\]\.pattern: invalid regex[^\n]*line 5/);
    expect(await names()).toEqual(['database-trouble', 'critical-logs']);
    fs.writeFileSync(file, 'rules:\n  - { name: critical-logs, kind: level, level: CRITICAL }\n  - { name: heartbeat-gone, kind: absence, query: heartbeat, window: 5m }\n');
    c!.child.kill('SIGHUP');
    await waitFor('new rules', async () => ((await names()).includes('heartbeat-gone') ? true : undefined));
  });

  it('tributary alerts list|ack|silence work against the api', async () => {
    const { spawnSync } = await import('node:child_process');
    const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
      const r = spawnSync(process.execPath, [cliPath, 'alerts', ...args, '--url', `http://127.0.0.1:${api}`], { env: { ...process.env, TRIBUTARY_TOKEN: shop }, encoding: 'utf8', timeout: 20_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const list = cli('list');
    expect(list.status, list.stderr).toBe(0);
    const id = /^([0-9a-f]{16}) +firing +warning +database-trouble \{service\.name=checkout\}/m.exec(list.stdout)?.[1];
    expect(id, list.stdout).toBeDefined();
    const ack = cli('ack', id!, '--comment', 'from the cli');
    expect(ack.stdout.trim()).toBe(`acknowledged ${id!} (database-trouble)`);
    const sil = cli('silence', 'alertname=database-trouble', 'service.name=~check.*', '--duration', '10m');
    expect(sil.stdout).toMatch(/^silence [0-9a-f-]{36} until /);
    const silenceId = /^silence (\S+)/.exec(sil.stdout)![1]!;
    const json = cli('list', '--output', 'json');
    expect(JSON.parse(json.stdout.trim().split('\n')[0]!)).toMatchObject({ id, acknowledged: { by: 'alice', comment: 'from the cli' } });
    expect(cli('list', '--history').stdout).toMatch(/acknowledged +database-trouble +[0-9a-f]{16} +by alice: from the cli/);
    expect(cli('silence', '--expire', silenceId).stdout.trim()).toBe(`silence ${silenceId} expired`);
    const bad = cli('ack', 'no-such-alert');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('404 no pending or firing alert with this id');
  });

  it('a restart while firing restores the alert and does not notify it again', async () => {
    const before = hook.requests.length;
    await c!.stop();
    c = await startCollector(config, { healthPort: health, dir });
    const restored = ((await call('GET', '/api/v1/alerts', shop)).json['alerts'] as { rule: string; state: string; acknowledged: unknown }[]).find((a) => a.rule === 'database-trouble');
    expect(restored).toMatchObject({ state: 'firing', acknowledged: { by: 'alice', comment: 'from the cli' } });
    await postOtlpJson(otlp, recordsRequestJson([{ n: 4, body: 'database error again', sev: 17 }, { n: 5, body: 'database error again', sev: 17 }, { n: 6, body: 'database error again', sev: 17 }], { 'service.name': 'checkout', 'project.id': 'shop' }));
    // The record reached the engine (the alert's value counts it) and nothing was sent.
    await waitFor('the new match counted', async () => {
      const a = ((await call('GET', '/api/v1/alerts', shop)).json['alerts'] as { rule: string; value: number }[]).find((x) => x.rule === 'database-trouble');
      return a && a.value === 3 ? a : undefined;
    });
    expect(hook.requests.length).toBe(before);
  }, 60_000);
});

describe('README alerts section', () => {
  it('the ready-to-use rules are a valid alerts config with the three seed examples', async () => {
    const { parse } = await import('yaml');
    const { alertsConfigSchema } = await import('../collector/src/exporters/alerts/config.js');
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const m = /## Alerts[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme);
    expect(m?.[1], 'README has an Alerts section with a yaml block').toBeDefined();
    const doc = parse(m![1]!) as { exporters: { alerts: unknown } };
    const c = alertsConfigSchema.parse(doc.exporters.alerts);
    expect(c.rules.map((r) => r.kind)).toEqual(['error_rate', 'pattern', 'level']);
    expect(c.rules[0]).toMatchObject({ threshold: 10, per: 60_000, window: 300_000, cooldown: 900_000 });
    expect(c.rules[1]!.pattern).toBe('(?i)(database|connection).*?(error|failed)');
    expect(c.rules[2]!.level).toBe(21);
  });
});
