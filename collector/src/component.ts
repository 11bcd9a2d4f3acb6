/**
 * The component contract, shaped like the OpenTelemetry Collector's: a factory (type name + typed config
 * schema with defaults + a create function) per component type, components with start/shutdown, and
 * consumers that take a batch and return a promise. Built-ins and plugins use the same contract and are
 * registered by type name in the registry (registry.ts).
 */
import type { ResourceLogs } from '@tributary/otlp';
import type { z } from 'zod';
import type { Logger } from './telemetry/logger.js';
import type { Telemetry } from './telemetry/metrics.js';

export type ComponentKind = 'receiver' | 'processor' | 'exporter' | 'extension';

/**
 * How settled a component is, as upstream's stability levels: `alpha` (new; keys and behaviour may
 * change), `beta` (complete and tested; keys may still be added), `stable` (no breaking change without
 * a major version). Shown by `tributary components --long` and in the component's doc.
 */
export type StabilityLevel = 'alpha' | 'beta' | 'stable';

export const STABILITY_LEVELS: readonly StabilityLevel[] = ['alpha', 'beta', 'stable'];

/** A factory's stability level; `alpha` when it does not say (plugins written before the field existed) or says something else. */
export function stabilityOf(factory: { readonly stability?: StabilityLevel | undefined }): StabilityLevel {
  const level = factory.stability;
  return level !== undefined && STABILITY_LEVELS.includes(level) ? level : 'alpha';
}

/** A component id from config: `type` or `type/name`. `id` is the full string. */
export interface ComponentId {
  readonly type: string;
  readonly name: string;
  readonly id: string;
}

export function parseComponentId(id: string): ComponentId {
  const slash = id.indexOf('/');
  if (slash < 0) return { type: id, name: '', id };
  return { type: id.slice(0, slash), name: id.slice(slash + 1), id };
}

/**
 * The unit that flows through a pipeline: decoded OTLP as received (not copied), plus what the
 * pipeline needs to know about it. Processors may replace `resourceLogs`/`recordCount` on their way.
 */
export interface LogsBatch {
  resourceLogs: ResourceLogs[];
  /** Number of log records in `resourceLogs`; kept in step by whoever changes the tree. */
  recordCount: number;
  /** `performance.now()` when the receiver got the data, for the end-to-end latency histogram. */
  receivedAt: number;
  /** Request headers (lower-case names) when the receiver has `include_metadata: true`. */
  metadata?: Readonly<Record<string, string | string[] | undefined>> | undefined;
  /**
   * Traces or metrics, carried as the OTLP protobuf requests that arrived (never decoded): then
   * `resourceLogs` is empty and `recordCount` counts spans / data points. Only pass-through components
   * (otlp receiver, memory_limiter, batch, otlp/otlphttp/file/debug exporters) see these.
   */
  opaque?: { readonly signal: 'traces' | 'metrics'; readonly requests: readonly Uint8Array[] } | undefined;
}

/**
 * Takes a batch. Resolves when the batch is accepted (for an exporter: queued, or sent when the queue
 * is disabled). Rejects with RetryableError / ThrottledError / PermanentError (errors.ts).
 */
export interface LogsConsumer {
  consume(batch: LogsBatch): Promise<void>;
}

export interface Component {
  /** Called once, in dependency order (exporters first, receivers last). Reject to abort startup. */
  start(host: Host): Promise<void>;
  /**
   * Stop accepting work, flush what is held, release resources. Receivers first. Idempotent: a second
   * call (also one made before start, or after a failed start) resolves without doing anything again.
   */
  shutdown(): Promise<void>;
}

export type Receiver = Component;

export interface Processor extends Component, LogsConsumer {
  /** True when consume() changes the batch in place; fan-out then gives this pipeline its own copy. */
  readonly mutatesData: boolean;
}

/**
 * What an exporter implements: turning a batch into the destination's wire body and sending it.
 * `send` must not retry: the shared exporter helper (pipeline/exporter-helper.ts) queues, retries with
 * back-off, honours Retry-After and applies `timeout` through `signal`.
 */
export interface LogsSender {
  start?(host: Host): Promise<void>;
  /** Sends one batch. Throw RetryableError/ThrottledError (with retryAfterMs) or PermanentError. */
  send(batch: LogsBatch, signal: AbortSignal): Promise<void>;
  /** Called after the queue has drained (or given up) at shutdown. */
  shutdown?(): Promise<void>;
}

export type Extension = Component;

export type ComponentStatus = 'starting' | 'ok' | 'recoverable_error' | 'permanent_error' | 'stopping' | 'stopped';

/** What components see of the running service. */
export interface Host {
  reportStatus(id: string, status: ComponentStatus, error?: Error): void;
  /** Status of every component and pipeline, for health_check. */
  componentStatuses(): ReadonlyMap<string, { status: ComponentStatus; error?: string | undefined; since: number }>;
  /** True once every pipeline has started and until shutdown begins. */
  isReady(): boolean;
  getExtension(id: string): Extension | undefined;
  readonly telemetry: Telemetry;
  readonly logger: Logger;
}

export interface CreateSettings {
  readonly id: ComponentId;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
}

interface FactoryBase<K extends ComponentKind, C> {
  readonly kind: K;
  readonly type: string;
  /** Zod schema of the component's config: strict (unknown keys rejected), defaults filled in. */
  readonly configSchema: z.ZodType<C>;
  /** Stability level; absent means `alpha`. */
  readonly stability?: StabilityLevel | undefined;
}

export interface ReceiverFactory<C = unknown> extends FactoryBase<'receiver', C> {
  create(settings: CreateSettings, config: C, next: LogsConsumer): Receiver;
}

export interface ProcessorFactory<C = unknown> extends FactoryBase<'processor', C> {
  create(settings: CreateSettings, config: C, next: LogsConsumer): Processor;
}

/**
 * An exporter factory. The registry attaches the exporter helper keys (`timeout`, `sending_queue`,
 * `retry_on_failure`, `dead_letter`) to its config schema when the schema does not declare them
 * (built-ins spread `exporterHelperShape` to document them); the service wraps the sender with the queue
 * and retry from those keys.
 */
export interface ExporterFactory<C = unknown> extends FactoryBase<'exporter', C> {
  create(settings: CreateSettings, config: C): LogsSender;
}

export interface ExtensionFactory<C = unknown> extends FactoryBase<'extension', C> {
  create(settings: CreateSettings, config: C): Extension;
}

export type AnyFactory = ReceiverFactory<any> | ProcessorFactory<any> | ExporterFactory<any> | ExtensionFactory<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
