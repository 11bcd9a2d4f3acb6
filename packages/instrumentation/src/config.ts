/**
 * Reads the standard OTEL_* variables and Tributary's TRIBUTARY_* ones into one settled config.
 * Pure: takes the environment as an argument so it is unit-testable.
 */
import { SeverityNumber } from '@opentelemetry/api-logs';

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';
export type ExporterKind = 'otlp' | 'console' | 'none';
export type BridgeName = 'console' | 'pino' | 'winston' | 'bunyan';

/** Field names written into the app's own log output. */
export interface LogKeys {
  traceId: string;
  spanId: string;
  traceFlags: string;
  correlationId: string;
  /** Datadog wants the low 64 bits of the ids in decimal. */
  decimalIds: boolean;
}

export const LOG_KEY_PRESETS: Readonly<Record<'default' | 'datadog' | 'ecs', LogKeys>> = {
  default: { traceId: 'trace_id', spanId: 'span_id', traceFlags: 'trace_flags', correlationId: 'correlation_id', decimalIds: false },
  datadog: { traceId: 'dd.trace_id', spanId: 'dd.span_id', traceFlags: 'trace_flags', correlationId: 'correlation_id', decimalIds: true },
  ecs: { traceId: 'trace.id', spanId: 'span.id', traceFlags: 'trace.flags', correlationId: 'correlation_id', decimalIds: false },
};

export const DEFAULT_REDACT_KEYS = [
  'password', 'passwd', 'pwd', 'secret', 'client_secret', 'token', 'access_token', 'refresh_token', 'id_token',
  'api_key', 'apikey', 'x_api_key', 'authorization', 'proxy_authorization', 'cookie', 'set_cookie', 'private_key',
];

export interface TributaryConfig {
  disabled: boolean;
  logsExporters: ExporterKind[];
  tracesExporters: ExporterKind[];
  logsProtocol: OtlpProtocol;
  tracesProtocol: OtlpProtocol;
  /** Full URL of the logs endpoint (http) or the gRPC target, resolved as the OTLP spec says. */
  logsEndpoint: string;
  headers: Record<string, string>;
  exportTimeoutMs: number;
  diagLevel: string;
  correlationHeaders: string[];
  logKeys: LogKeys;
  minSeverity: SeverityNumber;
  redactKeys: string[];
  redactCensor: string;
  bridges: Set<BridgeName>;
  /** Add the id fields to the app's own output (console, pino, winston, bunyan lines); TRIBUTARY_STDOUT_IDS. */
  stdoutIds: boolean;
  shutdownTimeoutMs: number;
  batch: { maxQueueSize: number; maxExportBatchSize: number; scheduledDelayMs: number };
}

type Env = Readonly<Record<string, string | undefined>>;

function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function int(env: Env, name: string, dflt: number): number {
  const v = str(env, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : dflt;
}

function list(value: string | undefined): string[] {
  return value ? value.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

function protocol(value: string | undefined): OtlpProtocol {
  return value === 'http/json' || value === 'grpc' ? value : 'http/protobuf';
}

function exporters(value: string | undefined, dflt: ExporterKind[]): ExporterKind[] {
  const items = list(value).map((s) => s.toLowerCase());
  if (items.length === 0) return dflt;
  const out = items.filter((s): s is ExporterKind => s === 'otlp' || s === 'console' || s === 'none');
  return out.includes('none') ? [] : out;
}

/** `k1=v1,k2=v2`, values URL-decoded (the OTLP exporter spec's format). */
export function parseHeaders(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of list(value)) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // a malformed escape: skip that header rather than fail start-up
    }
  }
  return out;
}

const SEVERITY_NAMES: Record<string, SeverityNumber> = {
  trace: SeverityNumber.TRACE, debug: SeverityNumber.DEBUG, info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN, warning: SeverityNumber.WARN, error: SeverityNumber.ERROR, fatal: SeverityNumber.FATAL,
};

export function parseSeverity(value: string | undefined, dflt: SeverityNumber): SeverityNumber {
  if (!value) return dflt;
  const named = SEVERITY_NAMES[value.toLowerCase()];
  if (named !== undefined) return named;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n <= 24 ? (n) : dflt;
}

function logsEndpoint(env: Env, proto: OtlpProtocol): string {
  const signal = str(env, 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT');
  if (signal) return signal;
  const base = str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (proto === 'grpc') return base ?? 'http://localhost:4317';
  return `${(base ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/logs`;
}

export function loadConfig(env: Env = process.env): TributaryConfig {
  const logsProtocol = protocol(str(env, 'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL') ?? str(env, 'OTEL_EXPORTER_OTLP_PROTOCOL'));
  const tracesProtocol = protocol(str(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? str(env, 'OTEL_EXPORTER_OTLP_PROTOCOL'));
  const preset = (str(env, 'TRIBUTARY_LOG_KEYS') ?? 'default').toLowerCase();
  const base = LOG_KEY_PRESETS[preset as keyof typeof LOG_KEY_PRESETS] ?? LOG_KEY_PRESETS.default;
  const logKeys: LogKeys = {
    traceId: str(env, 'TRIBUTARY_LOG_KEY_TRACE_ID') ?? base.traceId,
    spanId: str(env, 'TRIBUTARY_LOG_KEY_SPAN_ID') ?? base.spanId,
    traceFlags: str(env, 'TRIBUTARY_LOG_KEY_TRACE_FLAGS') ?? base.traceFlags,
    correlationId: str(env, 'TRIBUTARY_LOG_KEY_CORRELATION_ID') ?? base.correlationId,
    decimalIds: base.decimalIds,
  };
  const bridgeNames = list(str(env, 'TRIBUTARY_BRIDGES') ?? 'console,pino,winston,bunyan').map((s) => s.toLowerCase());
  // Set but empty means: no redaction.
  const redact = env['TRIBUTARY_REDACT_KEYS'];
  return {
    disabled: str(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true',
    logsExporters: exporters(str(env, 'OTEL_LOGS_EXPORTER'), ['otlp']),
    // Spans are only exported when asked for: the trace ids are what the logs need.
    tracesExporters: exporters(str(env, 'OTEL_TRACES_EXPORTER'), []),
    logsProtocol,
    tracesProtocol,
    logsEndpoint: logsEndpoint(env, logsProtocol),
    headers: { ...parseHeaders(str(env, 'OTEL_EXPORTER_OTLP_HEADERS')), ...parseHeaders(str(env, 'OTEL_EXPORTER_OTLP_LOGS_HEADERS')) },
    exportTimeoutMs: int(env, 'OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', int(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 10_000)),
    diagLevel: (str(env, 'OTEL_LOG_LEVEL') ?? 'info').toLowerCase(),
    correlationHeaders: list(str(env, 'TRIBUTARY_CORRELATION_HEADERS') ?? 'x-correlation-id,x-request-id').map((h) => h.toLowerCase()),
    logKeys,
    minSeverity: parseSeverity(str(env, 'TRIBUTARY_LOGS_MIN_SEVERITY'), SeverityNumber.UNSPECIFIED),
    redactKeys: redact === undefined ? DEFAULT_REDACT_KEYS : list(redact.trim()),
    redactCensor: env['TRIBUTARY_REDACT_CENSOR'] ?? '[REDACTED]',
    bridges: new Set(bridgeNames.filter((b): b is BridgeName => b === 'console' || b === 'pino' || b === 'winston' || b === 'bunyan')),
    stdoutIds: !['false', '0', 'no', 'off'].includes((str(env, 'TRIBUTARY_STDOUT_IDS') ?? 'true').toLowerCase()),
    shutdownTimeoutMs: int(env, 'TRIBUTARY_SHUTDOWN_TIMEOUT_MS', 2_000),
    batch: {
      maxQueueSize: int(env, 'OTEL_BLRP_MAX_QUEUE_SIZE', 2048),
      maxExportBatchSize: int(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 512),
      scheduledDelayMs: int(env, 'OTEL_BLRP_SCHEDULE_DELAY', 1000),
    },
  };
}
