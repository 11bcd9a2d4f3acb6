import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { testSettings } from '../../../../test/kit/index.js';
import { type ComponentStatus, type Extension, type Host } from '../../component.js';
import { silentLogger, type Logger } from '../../telemetry/logger.js';
import { MetricNames, Telemetry } from '../../telemetry/metrics.js';
import { metricsConfigSchema, metricsExtensionFactory, PROMETHEUS_CONTENT_TYPE, ProcessMetricNames, type MetricsExtension } from './index.js';

class FakeHost implements Host {
  readonly logger: Logger = silentLogger;
  constructor(readonly telemetry = new Telemetry()) {}
  reportStatus(): void {}
  componentStatuses() {
    return new Map<string, { status: ComponentStatus; error?: string | undefined; since: number }>();
  }
  isReady(): boolean {
    return true;
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

async function startMetrics(host: Host, id = 'metrics'): Promise<{ ext: MetricsExtension; url: string }> {
  const config = metricsConfigSchema.parse({ endpoint: '127.0.0.1:0' });
  const ext = metricsExtensionFactory.create(testSettings(id, host.telemetry), config) as MetricsExtension;
  await ext.start(host);
  started.push(ext);
  return { ext, url: `http://127.0.0.1:${ext.address()!.port}${config.path}` };
}

/** Value of an unlabelled sample line `name value`. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  expect(line, `${name} in /metrics`).toBeDefined();
  return Number(line!.slice(name.length + 1));
}

describe('metrics config', () => {
  it('fills defaults', () => {
    expect(metricsConfigSchema.parse({})).toEqual({ endpoint: '127.0.0.1:8888', path: '/metrics', read_header_timeout: 60_000, read_timeout: 60_000, idle_timeout: 60_000 });
  });
  it('rejects unknown keys', () => {
    const r = metricsConfigSchema.safeParse({ endpoint: '127.0.0.1:9', level: 'detailed' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.code).toBe('unrecognized_keys');
  });
});

describe('metrics extension', () => {
  it('serves the telemetry in Prometheus text format with process gauges and component counters', async () => {
    const host = new FakeHost();
    host.telemetry.counter(MetricNames.receiverAccepted, 'Accepted records.').bind({ receiver: 'otlp' }).add(42);
    const { url } = await startMetrics(host);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const text = await res.text();
    expect(text).toContain(`# TYPE ${MetricNames.receiverAccepted} counter`);
    expect(text).toContain(`${MetricNames.receiverAccepted}{receiver="otlp"} 42`);
    expect(text).toContain(`# TYPE ${ProcessMetricNames.cpuSeconds} gauge`);
    expect(sample(text, ProcessMetricNames.cpuSeconds)).toBeGreaterThan(0);
    expect(sample(text, ProcessMetricNames.residentMemory)).toBeGreaterThan(1024 * 1024);
    expect(sample(text, ProcessMetricNames.heapUsed)).toBeGreaterThan(0);
    const startTime = sample(text, ProcessMetricNames.startTime);
    expect(startTime).toBeLessThanOrEqual(Date.now() / 1000);
    expect(startTime).toBeGreaterThan(Date.now() / 1000 - 3600);
    expect(sample(text, ProcessMetricNames.eventLoopLag)).toBeGreaterThanOrEqual(0);
  });

  it('reflects counters added after start on the next scrape', async () => {
    const host = new FakeHost();
    const { url } = await startMetrics(host);
    host.telemetry.counter(MetricNames.exporterSent, 'Sent records.').bind({ exporter: 'file' }).add(7);
    expect(await (await fetch(url)).text()).toContain(`${MetricNames.exporterSent}{exporter="file"} 7`);
  });

  it('registers process gauges once per telemetry (two extensions, or a restart)', async () => {
    const host = new FakeHost();
    const a = await startMetrics(host, 'metrics');
    await startMetrics(host, 'metrics/2');
    await a.ext.shutdown();
    await a.ext.start(host);
    const text = await (await fetch(`http://127.0.0.1:${a.ext.address()!.port}/metrics`)).text();
    for (const name of Object.values(ProcessMetricNames)) {
      expect(text.split('\n').filter((l) => l.startsWith(`${name} `))).toHaveLength(1);
    }
  });

  it('answers 405 to other methods and 404 to other paths', async () => {
    const { url } = await startMetrics(new FakeHost());
    const res = await fetch(url, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(new URL('/', url))).status).toBe(404);
  });

  it('fails to start with an error naming the endpoint when the port is taken', async () => {
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as AddressInfo;
    const host = new FakeHost();
    const ext = metricsExtensionFactory.create(
      testSettings('metrics', host.telemetry),
      metricsConfigSchema.parse({ endpoint: `127.0.0.1:${port}` }),
    );
    await expect(ext.start(host)).rejects.toThrow(`extension metrics: cannot listen on 127.0.0.1:${port}: address already in use`);
  });

  it('closes the port on shutdown', async () => {
    const { ext, url } = await startMetrics(new FakeHost());
    await ext.shutdown();
    await expect(fetch(url)).rejects.toThrow();
  });
});
