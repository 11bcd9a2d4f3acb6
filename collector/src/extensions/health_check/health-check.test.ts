import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { testSettings } from '../../../../test/kit/index.js';
import { type ComponentStatus, type Extension, type Host } from '../../component.js';
import { silentLogger, type Logger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { formatUptime, healthCheckConfigSchema, healthCheckExtensionFactory, type HealthBody, type HealthCheckExtension } from './index.js';

class FakeHost implements Host {
  readonly telemetry = new Telemetry();
  readonly logger: Logger = silentLogger;
  ready = true;
  readonly statuses = new Map<string, { status: ComponentStatus; error?: string | undefined; since: number }>();
  reportStatus(id: string, status: ComponentStatus, error?: Error): void {
    this.statuses.set(id, { status, error: error?.message, since: Date.now() });
  }
  componentStatuses() {
    return this.statuses;
  }
  isReady(): boolean {
    return this.ready;
  }
  getExtension(): Extension | undefined {
    return undefined;
  }
}

const started: Extension[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.shutdown()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function startHealth(host: Host, raw: Record<string, unknown> = {}): Promise<{ ext: HealthCheckExtension; url: string }> {
  const config = healthCheckConfigSchema.parse({ endpoint: '127.0.0.1:0', ...raw });
  const ext = healthCheckExtensionFactory.create(testSettings('health_check', host.telemetry), config) as HealthCheckExtension;
  await ext.start(host);
  started.push(ext);
  const { port } = ext.address()!;
  return { ext, url: `http://127.0.0.1:${port}${config.path}` };
}

describe('health_check config', () => {
  it('fills upstream defaults', () => {
    expect(healthCheckConfigSchema.parse({})).toEqual({ endpoint: '127.0.0.1:13133', path: '/', read_header_timeout: 60_000, read_timeout: 60_000, idle_timeout: 60_000 });
  });
  it('rejects unknown keys and bad values', () => {
    const r = healthCheckConfigSchema.safeParse({ endpont: '127.0.0.1:1' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.code).toBe('unrecognized_keys');
    expect(healthCheckConfigSchema.safeParse({ endpoint: 'nope' }).success).toBe(false);
    expect(healthCheckConfigSchema.safeParse({ path: 'health' }).success).toBe(false);
  });
});

describe('health_check extension', () => {
  it('answers 200 with the upstream-like body when ready and every component is ok', async () => {
    const host = new FakeHost();
    host.reportStatus('receiver:otlp', 'ok');
    host.reportStatus('exporter:file', 'ok');
    const { url } = await startHealth(host, { path: '/health' });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as HealthBody;
    expect(body.status).toBe('Server available');
    expect(new Date(body.upSince).toISOString()).toBe(body.upSince);
    expect(body.uptime).toMatch(/^(\d+(\.\d+)?(ms|s)|0s)$/);
    expect(body.components).toEqual({ 'receiver:otlp': { status: 'ok' }, 'exporter:file': { status: 'ok' } });
  });

  it('answers 503 when a component has a permanent error, and says which', async () => {
    const host = new FakeHost();
    host.reportStatus('receiver:otlp', 'ok');
    host.reportStatus('exporter:file', 'permanent_error', new Error('disk full'));
    const { url } = await startHealth(host);
    const res = await fetch(url);
    expect(res.status).toBe(503);
    const body = (await res.json()) as HealthBody;
    expect(body.status).toBe('Server not available');
    expect(body.components['exporter:file']).toEqual({ status: 'permanent_error', error: 'disk full' });
  });

  it('answers 503 on a recoverable error and while the service is not ready, then 200 again', async () => {
    const host = new FakeHost();
    host.reportStatus('exporter:otlp', 'recoverable_error', new Error('connection refused'));
    const { url } = await startHealth(host);
    expect((await fetch(url)).status).toBe(503);
    host.reportStatus('exporter:otlp', 'ok');
    host.ready = false;
    expect((await fetch(url)).status).toBe(503);
    host.ready = true;
    expect((await fetch(url)).status).toBe(200);
  });

  it('answers 405 to other methods, 404 to other paths, and HEAD like GET without a body', async () => {
    const host = new FakeHost();
    const { url } = await startHealth(host);
    const post = await fetch(url, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(new URL('/other', url))).status).toBe(404);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('fails to start with an error naming the endpoint when the port is taken', async () => {
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as AddressInfo;
    const host = new FakeHost();
    const config = healthCheckConfigSchema.parse({ endpoint: `127.0.0.1:${port}` });
    const ext = healthCheckExtensionFactory.create(testSettings('health_check/lb', host.telemetry), config);
    await expect(ext.start(host)).rejects.toThrow(`extension health_check/lb: cannot listen on 127.0.0.1:${port}: address already in use`);
  });

  it('closes the port on shutdown (idempotently)', async () => {
    const host = new FakeHost();
    const { ext, url } = await startHealth(host);
    await ext.shutdown();
    await ext.shutdown();
    await expect(fetch(url)).rejects.toThrow();
  });
});

describe('formatUptime', () => {
  it('formats like Go durations', () => {
    expect(formatUptime(0)).toBe('0s');
    expect(formatUptime(350)).toBe('350ms');
    expect(formatUptime(12_300)).toBe('12.3s');
    expect(formatUptime(62_500)).toBe('1m2.5s');
    expect(formatUptime(3_600_000 + 5_000)).toBe('1h0m5s');
  });
});
