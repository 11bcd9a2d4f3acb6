/**
 * The running collector: builds the component graph from a validated config, starts it in dependency
 * order, and shuts it down in data-flow order so nothing in flight is lost.
 *
 *   receiver ─┬─ pipeline logs:   processors… → fan-out → exporter A (own queue)
 *             └─ pipeline logs/2: processors… → fan-out → exporter B (own queue)
 *
 * Receivers and exporters are one instance per id, shared by the pipelines that name them (as upstream);
 * processors are one instance per pipeline.
 */
import type {
  Component, ComponentKind, ComponentStatus, CreateSettings, Extension, ExporterFactory, ExtensionFactory, Host,
  LogsConsumer, Processor, ProcessorFactory, ReceiverFactory,
} from '../component.js';
import { parseComponentId } from '../component.js';
import type { CollectorConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import type { ComponentRegistry } from '../registry.js';
import type { Logger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/metrics.js';
import type { ExporterHelperConfig } from './exporter-helper-config.js';
import { QueuedRetryExporter } from './exporter-helper.js';
import { FanOutConsumer } from './fan-out.js';
import { SignalRouter, type Signal } from './signal-router.js';
import { join } from 'node:path';
import type { CoordinationConfig } from '../coordination/config.js';
import { broadcastWithCoordination, type BroadcastConfig } from '../tail/broadcast.js';

/** The ratelimit processor's default Redis URL: left at it, `service.coordination.redis.url` is used. */
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** A processor's Redis mode left on the default URL takes `service.coordination.redis`. */
export function withCoordination(type: string, procCfg: unknown, coordination: CoordinationConfig | undefined): unknown {
  const redis = coordination?.redis;
  if (redis === undefined) return procCfg;
  if (type === 'alerts') {
    const a = procCfg as { redis?: unknown };
    return a.redis === undefined ? { ...a, redis } : procCfg;
  }
  if (type !== 'ratelimit') return procCfg;
  const c = procCfg as { store?: string; redis?: { url?: string } };
  if (c.store !== 'redis' || (c.redis?.url !== undefined && c.redis.url !== DEFAULT_REDIS_URL)) return procCfg;
  return { ...c, redis: { ...c.redis, url: redis.url } };
}

/** The `api` extension's live tail broadcast takes the broker it leaves unset from `service.coordination`. */
export function apiWithCoordination(apiCfg: unknown, coordination: CoordinationConfig | undefined): unknown {
  const c = apiCfg as { tail?: { broadcast?: BroadcastConfig } };
  const b = c.tail?.broadcast;
  if (b === undefined) return apiCfg;
  return { ...c, tail: { ...c.tail, broadcast: broadcastWithCoordination(b, coordination) } };
}

export interface ServiceOptions {
  registry: ComponentRegistry;
  logger: Logger;
  telemetry?: Telemetry;
  /**
   * Set in a worker of `run --workers`: disk queues go to `<file_storage directory>/worker-<id>/`, and
   * the extensions the primary serves for all workers (health_check, metrics) are not started here.
   */
  workerId?: number | undefined;
  /** Extension types the primary runs instead of the workers. */
  primaryExtensionTypes?: ReadonlySet<string> | undefined;
}

interface Built {
  key: string;
  component: Component;
}

interface StatusEntry {
  status: ComponentStatus;
  error?: string | undefined;
  since: number;
}

/** Exporters of a configuration that was reloaded, still sending what they had queued in memory. */
export interface Draining {
  /** Resolves once they have sent (or given up on) everything. */
  readonly done: Promise<void>;
  /** Records they still hold. */
  pendingRecords(): number;
  /** At process shutdown: waits up to `timeoutMs`, then gives up on what is left (counted, as at shutdown). */
  finish(timeoutMs: number): Promise<void>;
}

export class Service implements Host {
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  private readonly extensions: Built[] = [];
  private readonly exporters = new Map<string, QueuedRetryExporter>();
  /** The exporters' entries, built once so lifecycle bookkeeping can compare them by identity. */
  private exporterEntries: Built[] = [];
  /** Per pipeline, processors in data-flow order. */
  private readonly pipelineProcessors = new Map<string, Built[]>();
  private readonly receivers: Built[] = [];
  private readonly statuses = new Map<string, StatusEntry>();
  private readonly started: Built[] = [];
  private ready = false;
  private shutdownPromise: Promise<void> | undefined;

  /** `service.coordination`: shared Redis / NATS for components that keep state across instances. */
  readonly coordination: CoordinationConfig;

  constructor(private readonly config: CollectorConfig, private readonly options: ServiceOptions) {
    this.telemetry = options.telemetry ?? new Telemetry();
    this.logger = options.workerId === undefined ? options.logger : options.logger.child({ worker: options.workerId });
    this.coordination = config.service.coordination ?? {};
    this.build();
  }

  private settings(kind: ComponentKind, id: string, extra: Record<string, string> = {}): CreateSettings {
    return { id: parseComponentId(id), logger: this.logger.child({ kind, component: id, ...extra }), telemetry: this.telemetry };
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the factory kind it looked up
  private factory<F>(kind: ComponentKind, id: string): F {
    const f = this.options.registry.get(kind, parseComponentId(id).type);
    if (!f) throw new Error(`${kind} type of "${id}" is not registered`);
    return f as F;
  }

  private build(): void {
    const cfg = this.config;
    const workerId = this.options.workerId;
    for (const id of cfg.service.extensions) {
      const f = this.factory<ExtensionFactory>('extension', id);
      let extCfg = cfg.extensions[id];
      if (workerId !== undefined) {
        if (this.options.primaryExtensionTypes?.has(f.type)) continue;
        // One queue directory per worker: the directory lock refuses two writers on one.
        if (f.type === 'file_storage') extCfg = { ...(extCfg as { directory: string }), directory: join((extCfg as { directory: string }).directory, `worker-${workerId}`) };
      }
      if (f.type === 'api') extCfg = apiWithCoordination(extCfg, cfg.service.coordination);
      this.extensions.push({ key: `extension:${id}`, component: f.create(this.settings('extension', id), extCfg) });
    }

    // Exporters: one per id across pipelines, each wrapped in its own queue + retry.
    const pipelineHeads = new Map<string, { consumer: LogsConsumer; mutates: boolean }>();
    for (const [pid, p] of Object.entries(cfg.service.pipelines)) {
      const exporters: LogsConsumer[] = [];
      for (const id of p.exporters) {
        let exp = this.exporters.get(id);
        if (!exp) {
          const f = this.factory<ExporterFactory>('exporter', id);
          const settings = this.settings('exporter', id);
          const expCfg = withCoordination(f.type, cfg.exporters[id], cfg.service.coordination);
          exp = new QueuedRetryExporter(settings, expCfg as ExporterHelperConfig, f.create(settings, expCfg));
          this.exporters.set(id, exp);
        }
        exporters.push(exp);
      }
      let next: LogsConsumer = new FanOutConsumer(exporters);
      let mutates = false;
      const procs: Built[] = [];
      // With a persistent exporter queue nothing may be acknowledged before it is on disk, so the
      // batch processor must wait for the queue to take its records (see its wait_for_result).
      const persistent = p.exporters.some((id) => (cfg.exporters[id] as Partial<ExporterHelperConfig> | undefined)?.sending_queue?.storage);
      for (let i = p.processors.length - 1; i >= 0; i--) {
        const id = p.processors[i]!;
        const f = this.factory<ProcessorFactory>('processor', id);
        let procCfg = cfg.processors[id];
        if (persistent && f.type === 'batch') procCfg = { ...(procCfg as object), wait_for_result: true };
        procCfg = withCoordination(f.type, procCfg, cfg.service.coordination);
        const proc: Processor = f.create(this.settings('processor', id, { pipeline: pid }), procCfg, next);
        procs.unshift({ key: `processor:${id}@${pid}`, component: proc });
        next = proc;
        mutates = proc.mutatesData;
      }
      this.pipelineProcessors.set(pid, procs);
      pipelineHeads.set(pid, { consumer: next, mutates });
    }

    // Receivers: one per id; fan out to every pipeline that names it.
    const receiverPipelines = new Map<string, string[]>();
    for (const [pid, p] of Object.entries(cfg.service.pipelines)) {
      for (const id of p.receivers) receiverPipelines.set(id, [...(receiverPipelines.get(id) ?? []), pid]);
    }
    for (const [id, pids] of receiverPipelines) {
      const bySignal = new Map<Signal, string[]>();
      for (const pid of pids) {
        const signal = parseComponentId(pid).type as Signal;
        bySignal.set(signal, [...(bySignal.get(signal) ?? []), pid]);
      }
      const headOf = (ps: string[]): LogsConsumer => {
        const heads = ps.map((pid) => pipelineHeads.get(pid)!);
        return heads.length === 1 ? heads[0]!.consumer : new FanOutConsumer(heads.map((h) => h.consumer), heads.map((h) => h.mutates));
      };
      // Logs only: the consumer the receiver always had. Traces or metrics too: a router by signal.
      const next = bySignal.size === 1 && bySignal.has('logs')
        ? headOf(bySignal.get('logs')!)
        : new SignalRouter(Object.fromEntries([...bySignal].map(([sig, ps]) => [sig, headOf(ps)])));
      const f = this.factory<ReceiverFactory>('receiver', id);
      this.receivers.push({ key: `receiver:${id}`, component: f.create(this.settings('receiver', id), cfg.receivers[id], next) });
    }
    this.exporterEntries = [...this.exporters].map(([id, c]) => ({ key: `exporter:${id}`, component: c }));
    for (const b of this.all()) this.setStatus(b.key, 'starting');
    for (const pid of Object.keys(cfg.service.pipelines)) this.setStatus(`pipeline:${pid}`, 'starting');
  }

  private all(): Built[] {
    return [
      ...this.extensions,
      ...this.exporterEntries,
      ...[...this.pipelineProcessors.values()].flatMap((ps) => [...ps].reverse()),
      ...this.receivers,
    ];
  }

  /** Starts extensions, then exporters, processors (last first), receivers. Stops what started on failure. */
  async start(): Promise<void> {
    for (const b of this.all()) {
      try {
        await b.component.start(this);
      } catch (e) {
        this.setStatus(b.key, 'permanent_error', e as Error);
        this.logger.error('component failed to start', { component: b.key, error: errorMessage(e) });
        await this.stopStarted();
        throw new Error(`${b.key.replace(':', ' ')} failed to start: ${errorMessage(e)}`, { cause: e });
      }
      this.started.push(b);
      this.setStatus(b.key, 'ok');
    }
    for (const pid of Object.keys(this.config.service.pipelines)) this.setStatus(`pipeline:${pid}`, 'ok');
    this.ready = true;
  }

  private async stopStarted(): Promise<void> {
    for (const b of [...this.started].reverse()) {
      try {
        await b.component.shutdown();
      } catch (e) {
        this.logger.warn('shutdown failed', { component: b.key, error: errorMessage(e) });
      }
    }
    this.started.length = 0;
  }

  /**
   * Receivers stop accepting first; processors flush in data-flow order; exporters drain their queues
   * until `service.shutdown_timeout`, after which what is left is counted as dropped; extensions last.
   */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  /** Shuts one started component down, recording its status; a failure is logged, not thrown. */
  private async stopComponent(b: Built): Promise<void> {
    if (!this.started.includes(b)) return;
    this.setStatus(b.key, 'stopping');
    try {
      await b.component.shutdown();
      this.setStatus(b.key, 'stopped');
    } catch (e) {
      this.setStatus(b.key, 'permanent_error', e as Error);
      this.logger.warn('shutdown failed', { component: b.key, error: errorMessage(e) });
    }
  }

  /** Stops taking data: receivers first (they finish their requests), then each pipeline's processors in order. */
  private async stopIntake(): Promise<void> {
    await Promise.all(this.receivers.map((b) => this.stopComponent(b)));
    for (const procs of this.pipelineProcessors.values()) for (const b of procs) await this.stopComponent(b);
  }

  private async doShutdown(): Promise<void> {
    this.ready = false;
    const deadline = Date.now() + this.config.service.shutdown_timeout;
    const stop = (b: Built): Promise<void> => this.stopComponent(b);
    await this.stopIntake();

    const drains = this.exporterEntries.map((b) => {
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- exporterEntries hold the exporters map's values
      const exp = b.component as QueuedRetryExporter;
      return { id: b.key, exp, done: stop(b) };
    });
    const remaining = Math.max(0, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(drains.map((d) => d.done)).then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), remaining); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      for (const d of drains) {
        if (d.exp.queuedRecords > 0) this.logger.warn('shutdown timeout: stopping with records still queued (a disk queue keeps them for the next start; an in-memory queue drops them)', { exporter: d.id, records: d.exp.queuedRecords });
        d.exp.abort('shutdown timeout');
      }
      await Promise.all(drains.map((d) => d.done));
    }
    for (const b of [...this.extensions].reverse()) await stop(b);
    for (const pid of Object.keys(this.config.service.pipelines)) this.setStatus(`pipeline:${pid}`, 'stopped');
    this.started.length = 0;
  }

  /**
   * For a configuration reload: stops taking data (receivers finish their requests, processors flush),
   * stops exporters with a disk queue at once (what is left stays on disk for the next configuration,
   * which opens the same directory) and the extensions, so the new service can bind the same ports and
   * directories. Exporters with an in-memory queue keep sending it in the background: the returned
   * handle says when they are done. Nothing acknowledged is dropped by a reload.
   */
  async stopForReload(): Promise<Draining> {
    this.ready = false;
    const stop = (b: Built): Promise<void> => this.stopComponent(b);
    await this.stopIntake();
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- exporterEntries hold the exporters map's values
    const exporterOf = (b: Built): QueuedRetryExporter => b.component as QueuedRetryExporter;
    const inMemory = this.exporterEntries.filter((b) => !exporterOf(b).persistent);
    const onDisk = this.exporterEntries.filter((b) => exporterOf(b).persistent);
    for (const b of onDisk) exporterOf(b).abort('configuration reload (what is queued stays on disk for the new configuration)');
    await Promise.all(onDisk.map(stop));
    const done = Promise.all(inMemory.map(stop)).then(() => undefined);
    for (const b of [...this.extensions].reverse()) await stop(b);
    const exporters = inMemory.map(exporterOf);
    return {
      done,
      pendingRecords: () => exporters.reduce((n, e) => n + e.queuedRecords + e.inFlightRecords, 0),
      finish: async (timeoutMs: number) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          done.then(() => false),
          new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeoutMs); }),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          for (const e of exporters) e.abort('shutdown timeout');
          await done;
        }
      },
    };
  }

  /** `service.shutdown_timeout` of this configuration, in milliseconds. */
  get shutdownTimeout(): number {
    return this.config.service.shutdown_timeout;
  }

  // ---- Host
  reportStatus(id: string, status: ComponentStatus, error?: Error): void {
    this.setStatus(id, status, error);
  }
  componentStatuses(): ReadonlyMap<string, StatusEntry> {
    return this.statuses;
  }
  isReady(): boolean {
    return this.ready;
  }
  getExtension(id: string): Extension | undefined {
    return this.extensions.find((b) => b.key === `extension:${id}`)?.component;
  }

  private setStatus(key: string, status: ComponentStatus, error?: Error): void {
    this.statuses.set(key, { status, error: error?.message, since: Date.now() });
  }

  /** Pipelines as `logs: otlp → memory_limiter, batch → file` lines, for the startup log. */
  describe(): string[] {
    return Object.entries(this.config.service.pipelines).map(
      ([pid, p]) => `${pid}: ${p.receivers.join(', ')} → ${p.processors.length ? p.processors.join(', ') + ' → ' : ''}${p.exporters.join(', ')}`,
    );
  }
}
