/**
 * Starts everything `register` promises: tracer provider with W3C trace context + baggage + correlation
 * propagation, http instrumentation, the logger provider with a bounded batching exporter, the logger
 * bridges and the exit handlers. Idempotent: a second call returns the first runtime.
 */
import { hostname } from 'node:os';
import { context, diag, DiagLogLevel, type Span } from '@opentelemetry/api';
import { logs, SeverityNumber, type LoggerProvider as ApiLoggerProvider } from '@opentelemetry/api-logs';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { WinstonInstrumentation } from '@opentelemetry/instrumentation-winston';
import { defaultResource, detectResources, envDetector, processDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor, ConsoleLogRecordExporter, LoggerProvider, type LogRecordExporter, type LogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { loadConfig, type LogKeys, type TributaryConfig } from './config';
import { installConsoleBridge, originalConsole } from './console-bridge';
import { FastContextManager } from './context';
import { getCorrelationId, makeResponseHook, TributaryPropagator, writeIdFields } from './correlation';
import { DetachedExporter, makeExitFriendly, unrefAgentFactory } from './exit-friendly-transport';
import { installExitHandlers } from './exit-handlers';
import { installHttp2Propagation, installLightHttp } from './light-http';
import { TributaryLogProcessor } from './log-processor';
import { BunyanAnyVersionInstrumentation, LoggerPatches } from './logger-patches';
import { Redactor } from './redact';
import { flushSync, sendSync, type SyncTarget } from './sync-flush';
import { DirectLogs } from './direct-logs';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version';
import { installWinstonSender } from './winston-bridge';

export interface TributaryRuntime {
  config: TributaryConfig;
  redactor: Redactor;
  /** The global logger provider: Tributary's direct OTLP encoder (http/protobuf) or the SDK's. */
  loggerProvider: ApiLoggerProvider;
  tracerProvider: NodeTracerProvider;
  /** Flushes logs (and spans, when exported), bounded by TRIBUTARY_SHUTDOWN_TIMEOUT_MS. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const RUNTIME = Symbol.for('tributary.instrumentation.runtime');
type Holder = Record<symbol, TributaryRuntime | undefined>;

export function getRuntime(): TributaryRuntime | undefined {
  return (globalThis as unknown as Holder)[RUNTIME];
}

const DIAG_LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE, error: DiagLogLevel.ERROR, warn: DiagLogLevel.WARN, info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG, verbose: DiagLogLevel.VERBOSE, all: DiagLogLevel.ALL,
};

function setupDiag(level: string): void {
  // The SDK's own messages go to stderr through the unpatched console, never back into the bridge.
  const err = (...a: unknown[]): void => originalConsole().error('[tributary]', ...a);
  diag.setLogger(
    { error: err, warn: err, info: err, debug: err, verbose: err },
    { logLevel: DIAG_LEVELS[level] ?? DiagLogLevel.INFO, suppressOverrideMessage: true },
  );
}

function logExporter(cfg: TributaryConfig): LogRecordExporter {
  const common = { timeoutMillis: cfg.exportTimeoutMs };
  if (cfg.logsProtocol === 'grpc') return new GrpcLogExporter({ ...common, url: cfg.logsEndpoint });
  const http = { ...common, url: cfg.logsEndpoint, headers: cfg.headers, httpAgentOptions: unrefAgentFactory };
  const exporter = cfg.logsProtocol === 'http/json' ? new JsonLogExporter(http) : new ProtoLogExporter(http);
  if (!makeExitFriendly(exporter)) diag.debug('tributary: exporter internals changed; retries may delay exit');
  return exporter;
}

function spanExporter(cfg: TributaryConfig): SpanExporter {
  // Endpoint and headers come from the standard variables, read by the exporter itself.
  if (cfg.tracesProtocol === 'grpc') return new GrpcTraceExporter();
  return cfg.tracesProtocol === 'http/json' ? new JsonTraceExporter() : new ProtoTraceExporter();
}

/** logHook shared by the three official bridges: configured key names and the correlation id. */
function makeLogHook(keys: LogKeys): (span: Span, record: Record<string, unknown>) => void {
  const renamed = keys.traceId !== 'trace_id' || keys.spanId !== 'span_id' || keys.traceFlags !== 'trace_flags' || keys.decimalIds;
  return (span, record) => {
    const correlationId = getCorrelationId();
    if (renamed) {
      delete record['trace_id'];
      delete record['span_id'];
      delete record['trace_flags'];
      writeIdFields(record, span.spanContext(), correlationId, keys);
    } else if (correlationId !== undefined) {
      record[keys.correlationId] = correlationId;
    }
  };
}

export function start(env: NodeJS.ProcessEnv = process.env): TributaryRuntime | undefined {
  const holder = globalThis as unknown as Holder;
  const existing = holder[RUNTIME];
  if (existing) return existing;
  const cfg = loadConfig(env);
  if (cfg.disabled) return undefined;
  setupDiag(cfg.diagLevel);

  // host.name is set here, synchronously: the host detector's async host.id would not be settled for an early exit.
  const detected = detectResources({ detectors: [envDetector, processDetector] });
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'host.name': hostname(), 'telemetry.distro.name': PACKAGE_NAME, 'telemetry.distro.version': PACKAGE_VERSION }))
    .merge(detected);

  const redactor = new Redactor(cfg.redactKeys, cfg.redactCensor);
  let emitted = 0;
  const batchOptions = {
    maxQueueSize: cfg.batch.maxQueueSize,
    maxExportBatchSize: Math.min(cfg.batch.maxExportBatchSize, cfg.batch.maxQueueSize),
    scheduledDelayMillis: cfg.batch.scheduledDelayMs,
    exportTimeoutMillis: cfg.exportTimeoutMs,
  };
  const syncTargets: SyncTarget[] = [];
  const processors: LogRecordProcessor[] = [];
  // OTLP/HTTP protobuf only (the default): records are encoded straight into the batch buffer. Other protocols
  // and the console exporter go through the SDK's processors and exporters.
  const direct = cfg.logsExporters.length > 0 && cfg.logsExporters.every((k) => k === 'otlp') && cfg.logsProtocol === 'http/protobuf'
    ? new DirectLogs({
      url: cfg.logsEndpoint, headers: cfg.headers, timeoutMs: cfg.exportTimeoutMs, minSeverity: cfg.minSeverity,
      logKeys: cfg.logKeys, redactor, maxQueueSize: batchOptions.maxQueueSize, maxExportBatchSize: batchOptions.maxExportBatchSize,
      scheduledDelayMs: batchOptions.scheduledDelayMillis, resourceAttributes: () => resource.attributes,
    })
    : undefined;
  for (const kind of direct ? [] : cfg.logsExporters) {
    const detached = kind === 'console' ? undefined : new DetachedExporter(logExporter(cfg));
    const exporter = detached ?? new ConsoleLogRecordExporter();
    const batch = new BatchLogRecordProcessor({ exporter, ...batchOptions });
    if (kind === 'otlp' && cfg.logsProtocol !== 'grpc') {
      syncTargets.push({ processor: batch, url: cfg.logsEndpoint, headers: cfg.headers, json: cfg.logsProtocol === 'http/json' });
    }
    const inner: LogRecordProcessor = {
      onEmit: (r) => { emitted++; batch.onEmit(r); },
      forceFlush: async () => { await batch.forceFlush(); await detached?.forceFlush(); },
      shutdown: () => batch.shutdown(),
    };
    processors.push(new TributaryLogProcessor(inner, { minSeverity: cfg.minSeverity, logKeys: cfg.logKeys, redactor }));
  }
  const sdkLoggerProvider = direct ? undefined : new LoggerProvider({ resource, processors });
  const loggerProvider: ApiLoggerProvider = direct ?? (sdkLoggerProvider as LoggerProvider);
  // OTEL_LOGS_EXPORTER=none: the ids still go into the app's output, but no bridge builds records nobody sends.
  const sending = cfg.logsExporters.length > 0;
  logs.setGlobalLoggerProvider(loggerProvider);

  const spanProcessors: SpanProcessor[] = cfg.tracesExporters.map((kind) => new BatchSpanProcessor(kind === 'console' ? new ConsoleSpanExporter() : spanExporter(cfg)));
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  const contextManager = new FastContextManager();
  tracerProvider.register({ contextManager, propagator: new TributaryPropagator(cfg.correlationHeaders) });

  const logHook = makeLogHook(cfg.logKeys);
  const instrumentations: Instrumentation[] = [];
  // Recording server/client spans only when they are exported; otherwise the light hooks give the same ids.
  if (spanProcessors.length > 0) {
    instrumentations.push(new HttpInstrumentation({ responseHook: makeResponseHook(cfg.correlationHeaders) }), new UndiciInstrumentation());
    installHttp2Propagation(contextManager);
  } else {
    installLightHttp(cfg.correlationHeaders, contextManager);
  }
  let pinoInstrumentation: PinoInstrumentation | undefined;
  if (cfg.bridges.has('pino')) {
    const k = cfg.logKeys;
    // Kept for its module hooks and its scope name: our LoggerPatches put the id fields in the line (own mixin)
    // and send the records (pino-sender).
    pinoInstrumentation = new PinoInstrumentation({ logKeys: { traceId: k.traceId, spanId: k.spanId, traceFlags: k.traceFlags }, logHook, disableLogSending: true, disableLogCorrelation: !cfg.stdoutIds });
    instrumentations.push(pinoInstrumentation);
  }
  if (cfg.bridges.has('winston')) {
    instrumentations.push(new WinstonInstrumentation({ logHook, disableLogCorrelation: !cfg.stdoutIds, disableLogSending: !sending }));
    if (!installWinstonSender()) diag.debug('tributary: winston transport not found; its own record building is used');
  }
  if (cfg.bridges.has('bunyan')) instrumentations.push(new BunyanAnyVersionInstrumentation({ logHook, disableLogCorrelation: !cfg.stdoutIds, disableLogSending: !sending }));
  // Registered last so its wrappers sit outside the official ones.
  const pinoScope = pinoInstrumentation;
  let pinoLogger: ReturnType<typeof logs.getLogger> | undefined;
  instrumentations.push(new LoggerPatches({
    redactor,
    bridges: cfg.bridges,
    logKeys: cfg.logKeys,
    stdoutIds: cfg.stdoutIds,
    ...(pinoScope && sending ? { pinoOtelLogger: () => (pinoLogger ??= logs.getLogger(pinoScope.instrumentationName, pinoScope.instrumentationVersion)) } : {}),
  }));
  registerInstrumentations({ instrumentations, tracerProvider, loggerProvider });

  if (cfg.bridges.has('console')) installConsoleBridge({ logKeys: cfg.logKeys, redactor, minSeverity: sending ? cfg.minSeverity : Infinity, stdoutIds: cfg.stdoutIds });

  // Our processors directly, not loggerProvider.forceFlush(): that one arms a ref'd 30 s timer which
  // would hold a finishing app open while an export retries against an unreachable collector.
  const flush = async (): Promise<void> => {
    await Promise.all([
      direct?.forceFlush(),
      ...processors.map((p) => p.forceFlush().catch(() => undefined)),
      ...spanProcessors.map((p) => p.forceFlush().catch(() => undefined)),
    ]);
  };
  const fatalLogger = logs.getLogger(PACKAGE_NAME, PACKAGE_VERSION);
  installExitHandlers({
    emitted: () => emitted + (direct?.emitted ?? 0),
    flush,
    flushSync: () => {
      if (direct) sendSync(cfg.logsEndpoint, cfg.headers, direct.takeForExit(), false, cfg.shutdownTimeoutMs);
      flushSync(syncTargets, cfg.shutdownTimeoutMs);
    },
    timeoutMs: cfg.shutdownTimeoutMs,
    emitFatal: (err, origin) => {
      const e = err instanceof Error ? err : undefined;
      fatalLogger.emit({
        severityNumber: SeverityNumber.FATAL, severityText: 'FATAL',
        body: e ? `${origin === 'unhandledRejection' ? 'Unhandled rejection' : 'Uncaught exception'}: ${e.name}: ${e.message}` : `${origin}: ${String(err)}`,
        exception: e ?? String(err),
        attributes: { 'log.source': 'process', 'exception.escaped': true, 'process.exit.origin': origin },
        context: context.active(),
      });
    },
  });

  const runtime: TributaryRuntime = {
    config: cfg, redactor, loggerProvider, tracerProvider, flush,
    async shutdown() {
      await Promise.all([direct?.shutdown(), sdkLoggerProvider?.shutdown(), tracerProvider.shutdown()]);
    },
  };
  holder[RUNTIME] = runtime;
  return runtime;
}

