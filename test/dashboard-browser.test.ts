/**
 * The dashboard in a real browser: Debian's headless Chromium (playwright-core) against one collector
 * process with the store, live tail and JWT auth. Overview graphs and counts, search, histogram brush,
 * click-to-filter, Live mode, tenant confinement (in the page and on the wire). Screenshots of each view go
 * to test-artifacts/dashboard/ (gitignored); with DASHBOARD_DOCS_SCREENSHOT=1 the overview one also
 * replaces docs/images/dashboard-overview.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumOrSkip, inCi, launchChromium, missingChromiumError } from './support/browser.js';
import { freePort, repoRoot, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';

const haveChromium = chromiumOrSkip();
const secret = 'a-dashboard-browser-test-secret-0123456789';
const artifacts = path.join(repoRoot, 'test-artifacts/dashboard');

function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + '{') || line.startsWith(name + ' ')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

interface Rec { body: string; severity?: number; traceId?: string; correlation?: string; timeMs?: number; service?: string }

describe('dashboard in headless Chromium', () => {
  let c: RunningCollector | undefined;
  let browser: Browser | undefined;
  let otlp = 0;
  let api = 0;
  let metrics = 0;
  let acmeToken = '';
  let globexToken = '';
  const base = (): string => `http://127.0.0.1:${api}`;

  const send = async (project: string, recs: readonly Rec[]): Promise<void> => {
    const byService = new Map<string, Rec[]>();
    for (const r of recs) byService.set(r.service ?? 'checkout', [...(byService.get(r.service ?? 'checkout') ?? []), r]);
    const res = await fetch(`http://127.0.0.1:${otlp}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [...byService].map(([service, list]) => ({
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }, { key: 'project.id', value: { stringValue: project } }] },
          scopeLogs: [{
            logRecords: list.map((r) => ({
              timeUnixNano: `${r.timeMs ?? Date.now()}000000`,
              severityNumber: r.severity ?? 9,
              body: { stringValue: r.body },
              ...(r.traceId ? { traceId: r.traceId, spanId: r.traceId.slice(0, 16) } : {}),
              attributes: r.correlation ? [{ key: 'correlation_id', value: { stringValue: r.correlation } }] : [],
            })),
          }],
        })),
      }),
    });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  };

  const stored = async (token: string, query: string, n: number): Promise<void> => {
    await waitFor(`${n} stored records for ${query}`, async () => {
      const r = await fetch(`${base()}/api/v1/query?query=${encodeURIComponent(query)}&start=2h`, { headers: { authorization: `Bearer ${token}` } });
      const b = (await r.json()) as { records: unknown[] };
      return b.records.length >= n ? true : undefined;
    }, 15_000, 100);
  };

  /** A fresh tab (own sessionStorage), signed in with `token`. */
  const signedIn = async (token: string): Promise<Page> => {
    const ctx = await browser!.newContext({ viewport: { width: 1400, height: 1000 }, colorScheme: 'light' });
    const page = await ctx.newPage();
    await page.goto(`${base()}/#/overview`);
    await page.fill('#token', token);
    await page.click('#sign-in');
    await page.waitForSelector('#tenant');
    return page;
  };

  const shot = async (page: Page, name: string): Promise<void> => {
    fs.mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    if (!haveChromium) return;
    otlp = await freePort();
    api = await freePort();
    metrics = await freePort();
    const health = await freePort();
    c = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlp} } } } }
processors: { batch: { timeout: 20ms } }
exporters:
  store: { directory: ./store }
  live_tail: {}
  alerts:
    history: { path: ./alerts/alerts.db }
    evaluation_interval: 100ms
    rules:
      - { name: payment-failures, kind: pattern, pattern: 'payment .* failed', group_by: [service.name], severity: critical }
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
  metrics: { endpoint: 127.0.0.1:${metrics} }
  api: { endpoint: 127.0.0.1:${api}, auth: { jwt: { secret: "${secret}", audience: tributary } } }
service:
  extensions: [health_check, metrics, api]
  pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [store, live_tail, alerts] } }
`, { healthPort: health });
    const sign = (project: string, sub: string) => new SignJWT({ project }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').setAudience('tributary').sign(new TextEncoder().encode(secret));
    acmeToken = await sign('acme', 'ann@acme');
    globexToken = await sign('globex', 'gus@globex');
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await c?.stop();
    if (c) fs.rmSync(c.dir, { recursive: true, force: true });
  });

  it.runIf(!haveChromium && inCi)('Chromium must be installed when CI=true', () => {
    throw missingChromiumError();
  });

  it.skipIf(!haveChromium)('serves the page with its assets from the package, nothing from elsewhere', async () => {
    const res = await fetch(`${base()}/`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    const js = await fetch(`${base()}/assets/app.js`);
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(10_000);
    // The API still wants a token.
    expect((await fetch(`${base()}/api/v1/metrics/history`)).status).toBe(401);
  });

  it.skipIf(!haveChromium)('overview: the throughput graph moves while a load is sent, and the counts match /metrics', async () => {
    const page = await signedIn(acmeToken);
    await page.waitForSelector('#chart-throughput[data-points]');
    const stat = async (id: string): Promise<number> => Number(await page.getAttribute(`#stat-${id}`, 'data-value'));
    // About 3 s of load: the 1 s graph must show records coming in while it runs.
    let sending = true;
    const load = (async () => {
      for (let k = 0; k < 30; k++) {
        await send('acme', Array.from({ length: 100 }, (_, i) => ({ body: `load ${k} ${i}`, severity: [9, 13, 17][i % 3]!, service: ['checkout', 'payments'][k % 2]! })));
        await new Promise((r) => setTimeout(r, 100));
      }
      sending = false;
    })();
    const seenWhileSending = await waitFor('records/s in above 0 while the load runs', async () => ((await stat('in')) > 0 ? sending || 'after' : undefined), 10_000, 100);
    expect(seenWhileSending).toBe(true);
    const inMax = await page.evaluate(() => document.querySelector('#chart-throughput')?.getAttribute('data-last'));
    await load;
    // The graph moved: its last point is newer after the load.
    await waitFor('a newer point on the throughput graph', async () => {
      const last = await page.evaluate(() => document.querySelector('#chart-throughput')?.getAttribute('data-last'));
      return Number(last) > Number(inMax) ? true : undefined;
    }, 5000, 100);
    await shot(page, 'overview');
    if (process.env.DASHBOARD_DOCS_SCREENSHOT === '1') {
      fs.mkdirSync(path.join(repoRoot, 'docs/images'), { recursive: true });
      await page.screenshot({ path: path.join(repoRoot, 'docs/images/dashboard-overview.png') });
    }
    // Totals on the page are the counters /metrics renders.
    const match = await waitFor('the page\'s totals to equal /metrics', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      const want = { received: metricSum(text, 'tributary_receiver_accepted_log_records_total'), sent: metricSum(text, 'tributary_exporter_sent_log_records_total') };
      const got = { received: await stat('received'), sent: await stat('sent') };
      return want.received >= 3000 && got.received === want.received && got.sent === want.sent ? { want, got } : undefined;
    }, 10_000, 250);
    expect(match.got.received).toBeGreaterThanOrEqual(3000);
    expect(match.got.sent).toBe(match.want.sent);
    // A status line per component.
    expect(await page.textContent('#components')).toMatch(/store[\s\S]*ok/);
    await page.context().close();
  }, 60_000);

  it.skipIf(!haveChromium)('logs: a search finds a sent record, the histogram brush narrows the range, clicking a trace_id filters', async () => {
    const t1 = '5b8efff798038103d269b633813fc60c';
    const t2 = '0af7651916cd43dd8448eb211c80319c';
    const now = Date.now();
    await send('acme', [
      { body: 'kumquat alpha (older)', traceId: t1, timeMs: now - 30 * 60_000, severity: 17 },
      { body: 'kumquat beta', traceId: t1, correlation: 'order-42', severity: 13 },
      { body: 'kumquat gamma', traceId: t2, severity: 9, service: 'payments' },
    ]);
    await stored(acmeToken, 'kumquat', 3);
    const page = await signedIn(acmeToken);
    // The query in the URL: the view searches it when it opens.
    await page.goto(`${base()}/#/logs?query=kumquat`);
    await page.waitForSelector('.view.logs[data-searched]');
    const count = async (): Promise<number> => Number(await page.getAttribute('#result-count', 'data-count'));
    const search = async (): Promise<void> => {
      const before = await page.getAttribute('.view.logs', 'data-searched');
      await page.click('#search');
      await page.waitForFunction((b) => document.querySelector('.view.logs')?.getAttribute('data-searched') !== b, before, { timeout: 10_000 });
    };
    expect(await page.inputValue('#query')).toBe('kumquat');
    expect(await count()).toBe(3);
    expect(await page.textContent('#results')).toContain('kumquat beta');
    // A malformed query: the error names the position, the input is marked invalid.
    await page.fill('#query', 'kumquat (beta');
    await page.click('#search');
    await page.waitForSelector('#query-error:not([hidden])');
    expect(await page.textContent('#query-error')).toMatch(/position 13/);
    expect(await page.getAttribute('#query', 'aria-invalid')).toBe('true');
    await page.fill('#query', 'kumquat');
    await search();
    // Brush the last tenth of the histogram (the last hour → about 6 minutes): the older record falls out.
    const startBefore = Number(await page.getAttribute('#histogram', 'data-start'));
    const over = (await page.locator('#histogram .u-over').boundingBox())!;
    const before = await page.getAttribute('.view.logs', 'data-searched');
    await page.mouse.move(over.x + over.width * 0.9, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.95, over.y + over.height / 2, { steps: 4 });
    await page.mouse.move(over.x + over.width - 1, over.y + over.height / 2, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction((b) => document.querySelector('.view.logs')?.getAttribute('data-searched') !== b, before, { timeout: 10_000 });
    expect(Number(await page.getAttribute('#histogram', 'data-start'))).toBeGreaterThan(startBefore + 30 * 60_000);
    expect(await count()).toBe(2);
    expect(await page.textContent('#results')).not.toContain('older');
    expect(await page.locator('#reset-range').count()).toBe(1);
    // Open "beta", click its trace_id: only that trace's records in the brushed range remain.
    await page.locator('#results .vl-row', { hasText: 'kumquat beta' }).click();
    await page.waitForSelector('#detail:not([hidden])');
    expect(await page.textContent('#detail')).toContain('order-42');
    await shot(page, 'logs');
    const beforeFilter = await page.getAttribute('.view.logs', 'data-searched');
    await page.click(`#detail button[data-field="trace_id"]`);
    await page.waitForFunction((b) => document.querySelector('.view.logs')?.getAttribute('data-searched') !== b, beforeFilter, { timeout: 10_000 });
    expect(await page.inputValue('#query')).toBe(`kumquat trace_id:${t1}`);
    expect(await count()).toBe(1);
    expect(await page.textContent('#results')).toContain('kumquat beta');
    expect(await page.textContent('#results')).not.toContain('gamma');
    // Keyboard: the list takes focus and Enter opens the active record.
    await page.focus('#results');
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail:not([hidden])');
    await page.context().close();
  }, 60_000);

  it.skipIf(!haveChromium)('Live shows a record sent after it was switched on within 1 s; pause holds new records back', async () => {
    const page = await signedIn(acmeToken);
    await page.goto(`${base()}/#/logs`);
    await page.waitForSelector('.view.logs[data-searched]');
    await page.fill('#query', 'tangerine');
    await page.click('#live');
    await page.waitForSelector('.view.logs[data-live="open"]', { timeout: 10_000 });
    const t0 = Date.now();
    const seen = page.waitForFunction(() => document.querySelector('#results')?.textContent?.includes('tangerine one'), undefined, { timeout: 5000, polling: 'raf' });
    await send('acme', [{ body: 'tangerine one', severity: 13 }]);
    await seen;
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(1000);
    await shot(page, 'live');
    // Paused: a new record is counted, not shown; resumed: shown.
    await page.click('#pause');
    await send('acme', [{ body: 'tangerine two', severity: 9 }]);
    await page.waitForFunction(() => /1 new/.test(document.querySelector('#result-count')?.textContent ?? ''), undefined, { timeout: 5000 });
    expect(await page.textContent('#results')).not.toContain('tangerine two');
    await page.click('#pause');
    await page.waitForFunction(() => document.querySelector('#results')?.textContent?.includes('tangerine two'), undefined, { timeout: 5000 });
    await page.context().close();
  }, 60_000);

  it.skipIf(!haveChromium)('a token for tenant A never sees tenant B\'s records, in the page or on the wire', async () => {
    await send('globex', [{ body: 'papaya secret of globex', severity: 17 }]);
    await send('acme', [{ body: 'papaya of acme', severity: 9 }]);
    await stored(globexToken, 'papaya', 1);
    await stored(acmeToken, 'papaya', 1);
    const page = await signedIn(acmeToken);
    const requests: { url: string; tenant: string | undefined }[] = [];
    const bodies: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) requests.push({ url: r.url(), tenant: r.headers()['x-scope-orgid'] });
    });
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) void r.text().then((t) => bodies.push(t), () => undefined);
    });
    page.on('websocket', (ws) => {
      requests.push({ url: ws.url(), tenant: new URL(ws.url()).searchParams.get('tenant') ?? undefined });
      ws.on('framereceived', (f) => bodies.push(String(f.payload)));
    });
    // The switcher offers the token's tenants only.
    expect(await page.$$eval('#tenant option', (o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(['acme']);
    await page.goto(`${base()}/#/logs`);
    await page.waitForSelector('.view.logs[data-searched]');
    await page.fill('#query', 'papaya');
    await page.click('#search');
    await page.waitForFunction(() => document.querySelector('#result-count')?.getAttribute('data-count') === '1', undefined, { timeout: 10_000 });
    expect(await page.textContent('#results')).toContain('papaya of acme');
    await page.click('#live');
    await page.waitForSelector('.view.logs[data-live="open"]', { timeout: 10_000 });
    await send('globex', [{ body: 'papaya live globex', severity: 17 }]);
    await send('acme', [{ body: 'papaya live acme', severity: 9 }]);
    await page.waitForFunction(() => document.querySelector('#results')?.textContent?.includes('papaya live acme'), undefined, { timeout: 5000 });
    await page.goto(`${base()}/#/overview`);
    await page.waitForSelector('#chart-throughput[data-points]');
    const text = await page.textContent('body');
    expect(text).not.toContain('globex');
    expect(requests.length).toBeGreaterThan(3);
    for (const r of requests) {
      expect(r.tenant, r.url).toBe('acme');
      expect(r.url).not.toContain('globex');
    }
    await waitFor('response bodies read', () => (bodies.length >= 3 ? true : undefined), 5000);
    for (const b of bodies) expect(b).not.toContain('globex');
    // And the api refuses the other tenant outright for this token.
    const other = await fetch(`${base()}/api/v1/query?query=papaya`, { headers: { authorization: `Bearer ${acmeToken}`, 'x-scope-orgid': 'globex' } });
    expect(other.status).toBe(403);
    await page.context().close();
  }, 60_000);

  it.skipIf(!haveChromium)('an alert fires, appears with its sample line, is acknowledged in the page, and the history shows who acked', async () => {
    const page = await signedIn(acmeToken);
    await page.goto(`${base()}/#/alerts`);
    await page.waitForSelector('.view.alerts[data-loaded]');
    expect(await page.textContent('#alert-rules')).toContain('payment-failures');
    await send('acme', [{ body: 'payment for order 7 failed', severity: 17, service: 'checkout' }]);
    const card = page.locator('#alerts-active article[data-state="firing"]');
    await waitFor('the firing alert in the page', async () => {
      await page.click('#alerts-refresh');
      return (await card.count()) === 1 ? true : undefined;
    }, 15_000, 500);
    expect(await card.textContent()).toContain('payment-failures (service.name=checkout)');
    await waitFor('the sample line', async () => {
      await page.click('#alerts-refresh');
      return (await card.textContent())?.includes('payment for order 7 failed') ? true : undefined;
    }, 10_000, 500);
    expect(await page.textContent('#alert-rules tr[data-rule="payment-failures"]')).toContain('firing');
    await card.locator('input[name="comment"]').fill('rolling back the deploy');
    await card.locator('button.ack-button').click();
    const acked = page.locator('#alerts-active article[data-state="acknowledged"]');
    await acked.waitFor({ timeout: 10_000 });
    expect(await acked.textContent()).toContain('Acknowledged by ann@acme');
    expect(await acked.textContent()).toContain('rolling back the deploy');
    const row = page.locator('#alert-history tr[data-event="acknowledged"]');
    await row.first().waitFor({ timeout: 10_000 });
    expect(await row.first().locator('td.by').textContent()).toBe('ann@acme');
    expect(await row.first().textContent()).toContain('rolling back the deploy');
    await shot(page, 'alerts');
    // A notification's search link (`/?query=…&start=…&end=…&tenant=…`) opens Logs on that search.
    const from = new Date(Date.now() - 10 * 60_000).toISOString();
    await page.goto(`${base()}/?query=${encodeURIComponent('body:/payment .* failed/')}&start=${from}&end=${new Date(Date.now() + 60_000).toISOString()}&tenant=acme`);
    await page.waitForSelector('.view.logs[data-searched]');
    expect(await page.inputValue('#query')).toBe('body:/payment .* failed/');
    expect(await page.textContent('#range-text')).toContain('Reset range');
    expect(await page.textContent('#results')).toContain('payment for order 7 failed');
    // Another tenant's token does not see the alert.
    const other = await (await fetch(`${base()}/api/v1/alerts`, { headers: { authorization: `Bearer ${globexToken}` } })).json() as { alerts: unknown[] };
    expect(other.alerts).toEqual([]);
    await page.context().close();
  }, 60_000);

  it.skipIf(!haveChromium)('screenshots of the sign-in view (dark theme); a bad token is refused with the reason', async () => {
    const ctx = await browser!.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'dark' });
    const page = await ctx.newPage();
    await page.goto(`${base()}/`);
    await page.waitForSelector('#token');
    await shot(page, 'login');
    await page.fill('#token', 'not-a-jwt');
    await page.click('#sign-in');
    await page.waitForSelector('#login-error:not([hidden])');
    expect(await page.textContent('#login-error')).toMatch(/refused/);
    await page.fill('#token', acmeToken);
    await page.click('#sign-in');
    await page.waitForSelector('#tenant');
    await page.goto(`${base()}/#/logs`);
    await page.waitForSelector('.view.logs[data-searched]');
    await shot(page, 'logs-dark');
    await ctx.close();
  }, 60_000);
});
