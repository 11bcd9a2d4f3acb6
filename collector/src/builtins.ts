/**
 * The built-in components. Adding one: create its folder and add one line here (kind, type, and the
 * import of its factory). Modules load when a config uses the type, so an unused exporter's SDK costs
 * no memory: the CLI loads what the config names (`loadUsedBy`); `components`, docs and tests load all.
 */
import type { AnyFactory, ComponentKind } from './component.js';
import { ComponentRegistry } from './registry.js';

type Builtin = readonly [ComponentKind, string, () => Promise<AnyFactory>];

const BUILTINS: readonly Builtin[] = [
  ['receiver', 'otlp', async () => (await import('./receivers/otlp/index.js')).otlpReceiverFactory],
  ['receiver', 'filelog', async () => (await import('./receivers/filelog/index.js')).filelogReceiverFactory],
  ['receiver', 'syslog', async () => (await import('./receivers/syslog/index.js')).syslogReceiverFactory],
  ['receiver', 'tcplog', async () => (await import('./receivers/tcplog/index.js')).tcplogReceiverFactory],
  ['receiver', 'udplog', async () => (await import('./receivers/udplog/index.js')).udplogReceiverFactory],
  ['receiver', 'fluentforward', async () => (await import('./receivers/fluentforward/index.js')).fluentforwardReceiverFactory],
  ['receiver', 'awscloudwatch', async () => (await import('./receivers/awscloudwatch/index.js')).awsCloudWatchReceiverFactory],
  ['receiver', 'googlecloudlogging', async () => (await import('./receivers/googlecloudlogging/index.js')).googleCloudLoggingReceiverFactory],
  ['receiver', 'azureloganalytics', async () => (await import('./receivers/azureloganalytics/index.js')).azureLogAnalyticsReceiverFactory],
  ['receiver', 'sources', async () => (await import('./receivers/sources/index.js')).sourcesReceiverFactory],
  ['receiver', 'nats', async () => (await import('./receivers/nats/index.js')).natsReceiverFactory],
  ['processor', 'batch', async () => (await import('./processors/batch/index.js')).batchProcessorFactory],
  ['processor', 'memory_limiter', async () => (await import('./processors/memory_limiter/index.js')).memoryLimiterProcessorFactory],
  ['processor', 'probabilistic_sampler', async () => (await import('./processors/probabilistic_sampler/index.js')).probabilisticSamplerProcessorFactory],
  ['processor', 'ratelimit', async () => (await import('./processors/ratelimit/index.js')).rateLimitProcessorFactory],
  ['processor', 'redaction', async () => (await import('./processors/redaction/index.js')).redactionProcessorFactory],
  ['processor', 'attributes', async () => (await import('./processors/attributes/index.js')).attributesProcessorFactory],
  ['processor', 'resource', async () => (await import('./processors/resource/index.js')).resourceProcessorFactory],
  ['processor', 'filter', async () => (await import('./processors/filter/index.js')).filterProcessorFactory],
  ['processor', 'retention', async () => (await import('./processors/retention/index.js')).retentionProcessorFactory],
  ['exporter', 'debug', async () => (await import('./exporters/debug/index.js')).debugExporterFactory],
  ['exporter', 'file', async () => (await import('./exporters/file/index.js')).fileExporterFactory],
  ['exporter', 'otlp', async () => (await import('./exporters/otlp/index.js')).otlpExporterFactory],
  ['exporter', 'otlphttp', async () => (await import('./exporters/otlphttp/index.js')).otlpHttpExporterFactory],
  ['exporter', 'datadog', async () => (await import('./exporters/datadog/index.js')).datadogExporterFactory],
  ['exporter', 'splunk_hec', async () => (await import('./exporters/splunk_hec/index.js')).splunkHecExporterFactory],
  ['exporter', 'clickhouse', async () => (await import('./exporters/clickhouse/index.js')).clickHouseExporterFactory],
  ['exporter', 'azuremonitor', async () => (await import('./exporters/azuremonitor/index.js')).azureMonitorExporterFactory],
  ['exporter', 'awscloudwatchlogs', async () => (await import('./exporters/awscloudwatchlogs/index.js')).awsCloudWatchLogsExporterFactory],
  ['exporter', 'googlecloud', async () => (await import('./exporters/googlecloud/index.js')).googleCloudExporterFactory],
  ['exporter', 'elasticsearch', async () => (await import('./exporters/elasticsearch/index.js')).elasticsearchExporterFactory],
  ['exporter', 'loki', async () => (await import('./exporters/loki/index.js')).lokiExporterFactory],
  ['exporter', 'store', async () => (await import('./exporters/store/index.js')).storeExporterFactory],
  ['exporter', 'nats', async () => (await import('./exporters/nats/index.js')).natsExporterFactory],
  ['exporter', 'loadbalancing', async () => (await import('./exporters/loadbalancing/index.js')).loadBalancingExporterFactory],
  ['exporter', 'live_tail', async () => (await import('./exporters/live_tail/index.js')).liveTailExporterFactory],
  ['exporter', 'alerts', async () => (await import('./exporters/alerts/index.js')).alertsExporterFactory],
  ['extension', 'health_check', async () => (await import('./extensions/health_check/index.js')).healthCheckExtensionFactory],
  ['extension', 'metrics', async () => (await import('./extensions/metrics/index.js')).metricsExtensionFactory],
  ['extension', 'file_storage', async () => (await import('./extensions/file_storage/index.js')).fileStorageExtensionFactory],
  ['extension', 'api', async () => (await import('./extensions/api/index.js')).apiExtensionFactory],
  ['extension', 'bearertokenauth', async () => (await import('./extensions/bearertokenauth/index.js')).bearerTokenAuthExtensionFactory],
  ['extension', 'basicauth', async () => (await import('./extensions/basicauth/index.js')).basicAuthExtensionFactory],
  ['extension', 'headers_setter', async () => (await import('./extensions/headers_setter/index.js')).headersSetterExtensionFactory],
];

// Factories already imported in this process (preloadBuiltins): registered as they are, no loading step.
const preloaded = new Map<string, AnyFactory>();

/**
 * A registry of the built-ins. A type whose module this process has not imported yet is registered
 * lazily: `await registry.load(kind, type)` / `loadUsedBy(config)` / `loadAll()` before `get()`.
 */
export function createDefaultRegistry(): ComponentRegistry {
  const registry = new ComponentRegistry();
  for (const [kind, type, load] of BUILTINS) {
    const f = preloaded.get(`${kind}:${type}`);
    if (f) registry.register(f);
    else registry.registerLazy(kind, type, load);
  }
  // Upstream renamed the OTLP exporters; both spellings are accepted there and here.
  return registry.alias('exporter', 'otlp_grpc', 'otlp').alias('exporter', 'otlp_http', 'otlphttp');
}

/** createDefaultRegistry() with every module loaded. */
export async function loadDefaultRegistry(): Promise<ComponentRegistry> {
  return createDefaultRegistry().loadAll();
}

/** Imports every built-in once, so createDefaultRegistry() returns them loaded (tests, tools). */
export async function preloadBuiltins(): Promise<void> {
  for (const [kind, type, load] of BUILTINS) if (!preloaded.has(`${kind}:${type}`)) preloaded.set(`${kind}:${type}`, await load());
}

const SECTIONS: readonly [string, ComponentKind][] = [['receivers', 'receiver'], ['processors', 'processor'], ['exporters', 'exporter'], ['extensions', 'extension']];

/**
 * Loads the types a raw (parsed, not yet validated) config names in its component sections, and the
 * metrics extension (validation reads its schema for service.telemetry). Unknown types are left for
 * validation to report.
 */
export async function loadUsedBy(registry: ComponentRegistry, raw: unknown): Promise<void> {
  await registry.load('extension', 'metrics');
  if (raw === null || typeof raw !== 'object') return;
  for (const [section, kind] of SECTIONS) {
    const ids = (raw as Record<string, unknown>)[section];
    if (ids === null || typeof ids !== 'object') continue;
    for (const id of Object.keys(ids)) {
      const type = id.split('/', 1)[0] ?? id;
      if (registry.has(kind, type)) await registry.load(kind, type);
    }
  }
}

