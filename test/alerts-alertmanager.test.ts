/**
 * The alertmanager notifier against a real Alertmanager (Debian's prometheus-alertmanager, started here on
 * free ports with a temp dir): the alerts arrive in its API with our labels, annotations, startsAt/endsAt
 * and generatorURL; a silence set in Alertmanager suppresses the notification it routes to a local webhook
 * receiver, while the unsilenced alert reaches it. Skipped with a message locally when the binary is
 * absent; failing when CI=true (.ci/run installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecordingServer, type RecordingServer } from './kit/index.js';
import { freePort, tempDir, waitFor } from './support/collector-process.js';
import { silentLogger } from '../collector/src/telemetry/logger.js';
import { AlertmanagerNotifier } from '../collector/src/exporters/alerts/notifiers/http-notifiers.js';
import { alertmanagerNotifierSchema } from '../collector/src/exporters/alerts/config.js';
import type { Notification } from '../collector/src/exporters/alerts/engine.js';

const BIN = '/usr/bin/prometheus-alertmanager';
const have = fs.existsSync(BIN);
const inCi = process.env.CI === 'true';
if (!have && !inCi) console.warn(`skipping: ${BIN} not installed (apt-get install prometheus-alertmanager)`);

function notification(rule: string, kind: 'firing' | 'resolved' = 'firing'): Notification {
  const firedAt = new Date(Date.now() - 5000).toISOString();
  return {
    kind,
    alert: {
      id: `id-${rule}`, rule, kind: 'pattern', tenant: 'shop', state: kind, severity: 'critical', group: { 'service.name': 'checkout' },
      labels: { alertname: rule, severity: 'critical', tenant: 'shop', service: 'checkout' }, annotations: { summary: `${rule} fired` },
      value: 3, threshold: null, since: firedAt, fired_at: firedAt, resolved_at: null, acknowledged: null, silenced_by: null,
    },
    samples: [], link: `http://127.0.0.1:3100/?query=${rule}`, notifiers: [], extra: {}, dedup: { key: rule, value: kind, mode: 'state' },
  };
}

interface AmAlert { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; generatorURL: string; status: { state: string; silencedBy: string[] } }

describe('alertmanager notifier with a real Alertmanager', () => {
  let am: ChildProcess | undefined;
  let amUrl = '';
  let hook: RecordingServer | undefined;
  let dir = '';
  let log = '';
  beforeAll(async () => {
    if (!have) return;
    hook = await startRecordingServer(() => ({ status: 200 }));
    dir = tempDir('trib-am-');
    const port = await freePort();
    fs.writeFileSync(path.join(dir, 'am.yml'), `
route: { receiver: hook, group_by: [alertname], group_wait: 100ms, group_interval: 1s, repeat_interval: 1h }
receivers:
  - name: hook
    webhook_configs: [{ url: "${hook.url}/am", send_resolved: true }]
`);
    am = spawn(BIN, [`--config.file=${path.join(dir, 'am.yml')}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], { stdio: ['ignore', 'ignore', 'pipe'] });
    am.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    amUrl = `http://127.0.0.1:${port}`;
    await waitFor('alertmanager ready', async () => (await fetch(`${amUrl}/-/ready`).catch(() => undefined))?.ok, 20_000);
  }, 30_000);
  afterAll(async () => {
    if (am && am.exitCode === null) {
      const exited = new Promise((resolve) => am!.once('exit', resolve));
      am.kill('SIGTERM');
      await exited;
    }
    await hook?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.runIf(!have && inCi)('prometheus-alertmanager must be installed when CI=true', () => {
    throw new Error(`${BIN} is missing (CI=true): .ci/run installs Debian's prometheus-alertmanager package`);
  });

  it.skipIf(!have)('alerts land in Alertmanager; its silence suppresses the routed notification', async () => {
    const now = Date.now();
    const sil = await fetch(`${amUrl}/api/v2/silences`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: [{ name: 'alertname', value: 'silenced-rule', isRegex: false, isEqual: true }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3600_000).toISOString(), createdBy: 'test', comment: 'maintenance' }),
    });
    expect(sil.status, log).toBe(200);
    const silenceId = ((await sil.json()) as { silenceID: string }).silenceID;
    const notifier = new AlertmanagerNotifier('alertmanager', { id: 'alertmanager', logger: silentLogger, setExtra: () => undefined }, alertmanagerNotifierSchema.parse({ url: amUrl }));
    await notifier.send(notification('database-trouble'), AbortSignal.timeout(5000));
    await notifier.send(notification('silenced-rule'), AbortSignal.timeout(5000));
    const alerts = await waitFor('both alerts in alertmanager', async () => {
      const list = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as AmAlert[];
      return list.length === 2 ? list : undefined;
    });
    const byName = new Map(alerts.map((a) => [a.labels['alertname'], a]));
    expect(byName.get('database-trouble')).toMatchObject({ labels: { severity: 'critical', tenant: 'shop', service: 'checkout' }, annotations: { summary: 'database-trouble fired' }, generatorURL: 'http://127.0.0.1:3100/?query=database-trouble', status: { state: 'active' } });
    expect(Date.parse(byName.get('database-trouble')!.startsAt)).toBeLessThan(now);
    expect(byName.get('silenced-rule')!.status).toMatchObject({ state: 'suppressed', silencedBy: [silenceId] });
    // Alertmanager routes the active one to the webhook receiver…
    const delivered = await waitFor('alertmanager webhook', () => (hook!.requests.length > 0 ? hook!.requests : undefined));
    const names = (reqs: typeof delivered): string[] => reqs.flatMap((r) => (JSON.parse(r.body.toString()) as { alerts: { labels: Record<string, string> }[] }).alerts.map((a) => a.labels['alertname']!));
    expect(names(delivered)).toContain('database-trouble');
    // …and after a resolve, the resolved notification; the silenced alert never comes.
    await notifier.send(notification('database-trouble', 'resolved'), AbortSignal.timeout(5000));
    await waitFor('resolved at the webhook', () => hook!.requests.some((r) => (JSON.parse(r.body.toString()) as { status: string }).status === 'resolved') || undefined);
    expect(names(hook!.requests)).not.toContain('silenced-rule');
    await notifier.close();
  }, 30_000);
});
