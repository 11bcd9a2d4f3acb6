/**
 * Live tail in a real browser: Debian's headless Chromium driven by playwright-core opens the README's
 * browser snippet against a collector process, with the token as the `bearer` subprotocol, and sees only
 * its tenant's records sent over OTLP. Skipped with a message locally when /usr/bin/chromium is absent;
 * failing when CI=true (.ci/run installs it).
 */
import fs from 'node:fs';
import http from 'node:http';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { freePort, repoRoot, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { chromiumOrSkip, inCi, launchChromium, missingChromiumError } from './support/browser.js';

/** The README's browser snippet (between the tail-snippet markers), unindented. */
function readmeSnippet(): string {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const m = /<!-- tail-snippet:start -->\s*```html\n([\s\S]*?)```\s*<!-- tail-snippet:end -->/.exec(readme);
  if (!m?.[1]) throw new Error('README.md has no tail snippet');
  return m[1].replace(/^ {3}/gm, '');
}

const haveChromium = chromiumOrSkip();

const secret = 'a-browser-tail-test-secret-0123456789abcd';

describe('live tail in headless Chromium', () => {
  let c: RunningCollector | undefined;
  let page: http.Server | undefined;
  let otlp = 0;
  let apiPort = 0;
  let pagePort = 0;
  beforeAll(async () => {
    if (!haveChromium) return;
    otlp = await freePort();
    apiPort = await freePort();
    pagePort = await freePort();
    const health = await freePort();
    c = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlp} } } } }
exporters: { live_tail: {} }
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
  api: { endpoint: 127.0.0.1:${apiPort}, auth: { jwt: { secret: "${secret}", audience: tributary } } }
service:
  extensions: [health_check, api]
  pipelines: { logs: { receivers: [otlp], exporters: [live_tail] } }
`, { healthPort: health });
    // The README snippet, served from another origin as a real front end would be; URL and token filled in.
    const token = await new SignJWT({ project: 'web' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').setAudience('tributary').sign(new TextEncoder().encode(secret));
    const html = `<!doctype html><title>tail</title>${readmeSnippet().replace('ws://127.0.0.1:3100', `ws://127.0.0.1:${apiPort}`).replace("const token = '';", `const token = '${token}';`)}`;
    expect(html).toContain(token);
    page = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    });
    await new Promise<void>((resolve) => page!.listen(pagePort, '127.0.0.1', resolve));
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
    if (c) fs.rmSync(c.dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => (page ? page.close(() => resolve()) : resolve()));
  });

  it.runIf(!haveChromium && inCi)('Chromium must be installed when CI=true', () => {
    throw missingChromiumError();
  });

  it.skipIf(!haveChromium)('the README snippet shows its tenant\'s records and nothing else', async () => {
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${pagePort}/`);
      // The snippet's top-level `ws`, evaluated in the page.
      await tab.waitForFunction('typeof ws !== "undefined" && ws.readyState === 1', undefined, { timeout: 20_000 });
      expect(await tab.evaluate('ws.protocol')).toBe('bearer');
      const send = async (project: string, severity: number, body: string) => {
        const res = await fetch(`http://127.0.0.1:${otlp}/v1/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }, { key: 'project.id', value: { stringValue: project } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: `${Date.now()}000000`, severityNumber: severity, body: { stringValue: body } }] }] }] }),
        });
        await res.arrayBuffer();
        expect(res.status).toBe(200);
      };
      await send('web', 13, 'disk almost full');
      await send('web', 9, 'just info');
      await send('other', 17, 'another tenant');
      await send('web', 17, 'payment failed');
      const text = await waitFor('both lines in the page', async () => {
        const t = (await tab.textContent('#out')) ?? '';
        return t.includes('payment failed') ? t : undefined;
      }, 20_000, 100);
      expect(text.trim().split('\n')).toEqual(['warn shop disk almost full', 'error shop payment failed']);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
