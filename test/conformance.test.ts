/**
 * Every registered component (built-ins and the example plugins) through the component contract: its
 * minimal config validates with defaults filled; create, start, consume, shutdown; shutdown twice;
 * processors that declare `mutatesData: false` take a deep-frozen batch; the `recordCount` a component
 * hands on matches the records in the tree. A new component needs a minimal config below only when `{}`
 * is not valid for it.
 */
import { readdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultRegistry } from '../collector/src/builtins.js';
import type { AnyFactory, Component, ExporterFactory, ExtensionFactory, LogsBatch, LogsSender, ProcessorFactory, ReceiverFactory } from '../collector/src/component.js';
import type { ExporterHelperConfig } from '../collector/src/pipeline/exporter-helper-config.js';
import { QueuedRetryExporter } from '../collector/src/pipeline/exporter-helper.js';
import type { ComponentRegistry } from '../collector/src/registry.js';
import { countRecords, frozenBatch, RecordingConsumer, startRecordingServer, testBatch, testHost, testSettings, type RecordingServer } from './kit/index.js';

const PLUGINS_DIR = join(import.meta.dirname, '..', 'examples', 'plugins');

let server: RecordingServer;
let dir: string;

/** The smallest config each component accepts, where `{}` is not enough. Endpoints point at a local server. */
function minimalConfigs(): Record<string, unknown> {
  const url = server.url;
  const helper = { timeout: '1s', retry_on_failure: { enabled: false } };
  return {
    'processor:attributes': { actions: [{ key: 'user.email', action: 'delete' }] },
    'processor:memory_limiter': { limit_mib: 100_000 },
    'processor:ratelimit': { rules: [{ name: 'all', rate: 1000 }] },
    'processor:resource': { attributes: [{ key: 'env', value: 'test', action: 'upsert' }] },
    'receiver:otlp': { protocols: { http: { endpoint: '127.0.0.1:0' }, grpc: { endpoint: '127.0.0.1:0' } } },
    'exporter:file': { path: join(dir, 'out.jsonl') },
    'exporter:otlp': { endpoint: `http://${new URL(url).host}`, ...helper },
    'exporter:otlphttp': { endpoint: url, ...helper },
    'exporter:datadog': { api: { key: 'test-key' }, logs: { endpoint: url }, ...helper },
    'exporter:splunk_hec': { token: 'test-token', endpoint: url, ...helper },
    'exporter:clickhouse': { endpoint: url, create_schema: false, schema: 'modern', ...helper },
    'exporter:azuremonitor': { endpoint: url, rule_id: 'dcr-1', stream_name: 'Custom-Logs', auth: { tenant_id: 't', client_id: 'c', client_secret: 's' }, ...helper },
    'exporter:awscloudwatchlogs': { region: 'us-east-1', endpoint: url, log_group_name: 'g', log_stream_name: 's', ...helper },
    'exporter:googlecloud': { project: 'p', log: { endpoint: url }, ...helper },
    'exporter:elasticsearch': { endpoint: url, ...helper },
    'exporter:loki': { endpoint: url, ...helper },
    'exporter:debug': helper,
    // The local NATS (.ci/run starts it); the stream is created at start so a publish is acknowledged.
    'exporter:nats': { subject: 'conformance.logs', stream: { name: 'CONFORMANCE', subjects: ['conformance.>'], max_age: '1m' }, ...helper },
    // One static backend on a closed port: the send fails at once, which is enough here.
    'exporter:loadbalancing': { resolver: { static: { hostnames: ['127.0.0.1:1'] } }, ...helper },
    'extension:health_check': { endpoint: '127.0.0.1:0' },
    'extension:metrics': { endpoint: '127.0.0.1:0' },
    'extension:file_storage': { directory: join(dir, 'storage') },
    'extension:api': { endpoint: '127.0.0.1:0' },
    'extension:bearertokenauth': { token: 'test-token' },
    'extension:basicauth': { client_auth: { username: 'u', password: 'p' } },
    'extension:headers_setter': { headers: [{ key: 'X-Tenant', value: 'a' }] },
    'receiver:filelog': { include: [join(dir, 'logs', '*.log')] },
    'receiver:syslog': { protocol: 'rfc5424', tcp: { listen_address: '127.0.0.1:0' } },
    'receiver:tcplog': { listen_address: '127.0.0.1:0' },
    'receiver:udplog': { listen_address: '127.0.0.1:0' },
    'receiver:fluentforward': { endpoint: '127.0.0.1:0' },
    'receiver:awscloudwatch': { region: 'us-east-1', endpoint: url, logs: { poll_interval: '1h', groups: { named: { g: {} } } } },
    'receiver:googlecloudlogging': { project: 'p', endpoint: url, poll_interval: '1h' },
    'receiver:azureloganalytics': { workspace_id: 'w', query: 'AppTraces', endpoint: url, poll_interval: '1h', auth: { tenant_id: 't', client_id: 'c', client_secret: 's' } },
    'exporter:store': { directory: join(dir, 'store'), ...helper },
    'receiver:sources': { file: join(dir, 'sources.json') },
    'receiver:nats': { stream: 'CONFORMANCE', consumer: { durable: 'conformance' } },
  };
}

async function registryWithPlugins(): Promise<ComponentRegistry> {
  const registry = createDefaultRegistry();
  for (const file of readdirSync(PLUGINS_DIR).filter((f) => f.endsWith('.mjs'))) {
    const mod = (await import(pathToFileURL(join(PLUGINS_DIR, file)).href)) as { default?: AnyFactory | AnyFactory[] };
    const list = Array.isArray(mod.default) ? mod.default : mod.default ? [mod.default] : [];
    for (const f of list) registry.register(f, `./examples/plugins/${file}`);
  }
  return registry;
}

/** A sender that records what the exporter's send was given, around the real one. */
function recordingSender(inner: LogsSender, seen: { counted: number; recordCount: number }[]): LogsSender {
  return {
    start: inner.start?.bind(inner),
    shutdown: inner.shutdown?.bind(inner),
    send: (batch, signal) => {
      seen.push({ counted: countRecords(batch), recordCount: batch.recordCount });
      return inner.send(batch, signal);
    },
  };
}

let registry: ComponentRegistry;
const savedEnv = { ...process.env };

beforeAll(async () => {
  // No outside service: every destination is the local server, credentials are static test values.
  server = await startRecordingServer(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' }));
  dir = mkdtempSync(join(tmpdir(), 'conformance-'));
  process.env['AWS_ACCESS_KEY_ID'] = 'AKIDTEST';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'secret';
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  registry = await registryWithPlugins();
});

afterAll(async () => {
  process.env = savedEnv;
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('component conformance', () => {
  it('covers the built-ins and the example plugins', () => {
    const kinds = registry.list().map((f) => `${f.kind}:${f.type}`);
    expect(kinds).toContain('processor:stamp');
    expect(kinds).toContain('exporter:otlphttp');
    expect(kinds.length).toBeGreaterThan(20);
  });

  it('every factory: the minimal config validates, with defaults filled', () => {
    const minimal = minimalConfigs();
    for (const f of registry.list()) {
      const key = `${f.kind}:${f.type}`;
      const parsed = f.configSchema.safeParse(minimal[key] ?? {});
      expect(parsed.success, `${key}: ${parsed.success ? '' : JSON.stringify(parsed.error.issues)}`).toBe(true);
      if (f.kind === 'exporter') {
        const c = parsed.data as ExporterHelperConfig;
        expect(c.sending_queue, key).toBeDefined();
        expect(c.retry_on_failure, key).toBeDefined();
        expect(typeof c.timeout, key).toBe('number');
      }
    }
  });

  it('receivers and extensions: create, start, shutdown, shutdown again', async () => {
    const minimal = minimalConfigs();
    for (const f of registry.list().filter((x) => x.kind === 'receiver' || x.kind === 'extension')) {
      const key = `${f.kind}:${f.type}`;
      const config = f.configSchema.parse(minimal[key] ?? {});
      const settings = testSettings(f.type);
      const component: Component =
        f.kind === 'receiver' ? (f as ReceiverFactory).create(settings, config, new RecordingConsumer()) : (f as ExtensionFactory).create(settings, config);
      // Components that mount routes (the sources receiver) get an api extension that takes them.
      const api = { start: () => Promise.resolve(), shutdown: () => Promise.resolve(), addRoutes: () => undefined };
      await component.start(testHost({ api }, settings.telemetry));
      await component.shutdown();
      await expect(component.shutdown(), `${key}: second shutdown`).resolves.toBeUndefined();
    }
  });

  it('processors: consume hands on a batch whose recordCount matches its tree; frozen input when mutatesData is false', async () => {
    const minimal = minimalConfigs();
    for (const f of registry.list().filter((x) => x.kind === 'processor')) {
      const key = `${f.kind}:${f.type}`;
      const config = f.configSchema.parse(minimal[key] ?? {});
      const next = new RecordingConsumer();
      const settings = testSettings(f.type);
      const p = (f as ProcessorFactory).create(settings, config, next);
      await p.start(testHost({}, settings.telemetry));
      const input: LogsBatch = p.mutatesData ? testBatch() : frozenBatch();
      await p.consume(input);
      await p.shutdown(); // flushes what a batching processor holds
      await expect(p.shutdown(), `${key}: second shutdown`).resolves.toBeUndefined();
      for (const c of next.calls) expect(c.batch.recordCount, `${key}: recordCount`).toBe(c.counted);
      expect(next.recordCount, `${key}: records handed on`).toBeLessThanOrEqual(input.recordCount);
    }
  });

  it('exporters: start, consume (queued and sent), shutdown flushes, shutdown again; send sees matching recordCount', async () => {
    const minimal = minimalConfigs();
    for (const f of registry.list().filter((x) => x.kind === 'exporter')) {
      const key = `${f.kind}:${f.type}`;
      const config = f.configSchema.parse(minimal[key] ?? {}) as ExporterHelperConfig;
      const settings = testSettings(f.type);
      const seen: { counted: number; recordCount: number }[] = [];
      const sender = recordingSender((f as ExporterFactory).create(settings, config), seen);
      const exporter = new QueuedRetryExporter(settings, config, sender);
      await exporter.start(testHost({}, settings.telemetry));
      await exporter.consume(testBatch());
      await exporter.shutdown();
      await expect(exporter.shutdown(), `${key}: second shutdown`).resolves.toBeUndefined();
      expect(seen.length, `${key}: send called`).toBeGreaterThan(0);
      for (const s of seen) expect(s.recordCount, `${key}: recordCount`).toBe(s.counted);
    }
  }, 60_000);
});
