/**
 * `tributary run --workers N`: the primary process of a node:cluster. It forks N workers that each run
 * the whole configuration; their receivers' listening sockets are shared through the cluster (the
 * primary accepts and hands connections out round-robin). Each worker's disk queues live in their own
 * `worker-<i>` sub-directory of the file_storage directory, so no two processes write one queue. The
 * primary itself serves the `health_check` and `metrics` extensions with figures gathered from every
 * worker over IPC (metrics summed, health = every worker ready), restarts a worker that dies (the new one
 * takes over its queue directory and recovers what it held), and on SIGTERM/SIGINT lets every worker
 * drain before it exits.
 */
import cluster, { type Worker } from 'node:cluster';
import type { ComponentStatus, Extension, ExtensionFactory, Host } from '../component.js';
import { parseComponentId } from '../component.js';
import { errorMessage } from '../errors.js';
import type { ComponentRegistry } from '../registry.js';
import type { Logger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/metrics.js';
import { Metrics } from '../telemetry/metric-names.js';
import { mergePrometheusTexts } from './merge-metrics.js';

export const WORKER_ID_ENV = 'TRIBUTARY_WORKER_ID';
/** Extension types the primary runs for all workers (workers skip them). */
export const PRIMARY_EXTENSION_TYPES: ReadonlySet<string> = new Set(['health_check', 'metrics']);

export interface WorkerState {
  t: 'tributary:state';
  ready: boolean;
  statuses: [string, { status: ComponentStatus; error?: string | undefined; since: number }][];
  metrics: string;
}

export const STATE_REQUEST = { t: 'tributary:state?' } as const;

export interface SuperviseOptions {
  workers: number;
  config: { extensions: Record<string, unknown>; service: { extensions: string[]; shutdown_timeout: number } };
  registry: ComponentRegistry;
  logger: Logger;
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
  onReloadSignal?: ((handler: () => void) => () => void) | undefined;
  /** How often worker state is gathered for /metrics and health. */
  pollMs?: number;
}

/** Telemetry whose exposition is the primary's own plus the sum of every worker's last report. */
class AggregatedTelemetry extends Telemetry {
  constructor(private readonly workerTexts: () => string[]) {
    super();
  }
  override render(): string {
    return mergePrometheusTexts([super.render(), ...this.workerTexts()]);
  }
}

export async function superviseWorkers(o: SuperviseOptions): Promise<number> {
  const n = o.workers;
  const log = o.logger.child({ role: 'primary' });
  const states = new Map<number, WorkerState>();
  const live = new Map<number, Worker>();
  const restarts: number[] = [];
  let stopping = false;
  let failed = false;

  const telemetry = new AggregatedTelemetry(() => [...states.values()].map((s) => s.metrics));
  const restartsCounter = telemetry.counter(Metrics.workerRestarts).bind();
  const host: Host = {
    telemetry,
    logger: log,
    reportStatus: () => undefined,
    componentStatuses() {
      const m = new Map<string, { status: ComponentStatus; error?: string | undefined; since: number }>();
      for (let i = 0; i < n; i++) {
        const s = states.get(i);
        if (!s) m.set(`worker ${i}`, { status: stopping ? 'stopping' : 'starting', since: Date.now() });
        else for (const [k, v] of s.statuses) m.set(`worker ${i}: ${k}`, v);
      }
      return m;
    },
    isReady: () => !stopping && states.size === n && [...states.values()].every((s) => s.ready),
    getExtension: () => undefined,
  };

  // The primary's own health_check / metrics, on the configured endpoints.
  const extensions: Extension[] = [];
  for (const id of o.config.service.extensions) {
    const type = parseComponentId(id).type;
    if (!PRIMARY_EXTENSION_TYPES.has(type)) continue;
    const f = o.registry.get('extension', type) as ExtensionFactory | undefined;
    if (!f) continue;
    const ext = f.create({ id: parseComponentId(id), logger: log.child({ kind: 'extension', component: id }), telemetry }, o.config.extensions[id]);
    await ext.start(host);
    extensions.push(ext);
  }

  const fork = (i: number): void => {
    const w = cluster.fork({ [WORKER_ID_ENV]: String(i) });
    live.set(i, w);
    w.on('message', (msg: unknown) => {
      if (msg !== null && typeof msg === 'object' && (msg as { t?: unknown }).t === 'tributary:state') states.set(i, msg as WorkerState);
    });
    w.on('exit', (code, signal) => {
      live.delete(i);
      states.delete(i);
      if (stopping) {
        if (code !== 0) failed = true;
        return;
      }
      // Back off when workers crash in a loop (more than 5 restarts in the last minute).
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift();
      const delay = restarts.length > 5 ? Math.min(30_000, 500 * 2 ** (restarts.length - 5)) : 100;
      log.warn('worker died; restarting it (its disk queues are recovered by the new worker)', { worker: i, code: code ?? undefined, signal: signal ?? undefined, restart_in_ms: delay });
      restartsCounter.add(1);
      setTimeout(() => { if (!stopping) fork(i); }, delay);
    });
  };

  let onStop!: (s: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((resolve) => (onStop = resolve));
  const unsubscribe = o.onSignal((s) => {
    if (stopping) {
      log.error('second signal during shutdown: killing the workers', { signal: s });
      for (const w of live.values()) w.process.kill('SIGKILL');
      return;
    }
    onStop(s);
  });
  const unsubscribeReload = o.onReloadSignal?.(() => {
    for (const w of live.values()) w.process.kill('SIGHUP');
  }) ?? ((): void => undefined);

  const poll = setInterval(() => {
    for (const w of live.values()) if (w.isConnected()) w.send(STATE_REQUEST, undefined, () => undefined);
  }, o.pollMs ?? 500);

  try {
    log.info(`starting ${n} workers`, { workers: n });
    for (let i = 0; i < n; i++) fork(i);
    const signal = await stopped;
    stopping = true;
    log.info('shutting down: every worker drains its pipelines', { signal });
    const exits = [...live.values()].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of live.values()) w.process.kill('SIGTERM');
    const grace = setTimeout(() => {
      log.error('workers still running after the shutdown timeout; killing them');
      failed = true;
      for (const w of live.values()) w.process.kill('SIGKILL');
    }, o.config.service.shutdown_timeout + 15_000);
    await Promise.all(exits);
    clearTimeout(grace);
    log.info('all workers stopped');
    return failed ? 1 : 0;
  } finally {
    clearInterval(poll);
    unsubscribe();
    unsubscribeReload();
    for (const ext of extensions.reverse()) {
      try {
        await ext.shutdown();
      } catch (e) {
        log.warn('shutdown failed', { error: errorMessage(e) });
      }
    }
  }
}

/** Worker side: answers the primary's state requests with this worker's current service. */
export function serveWorkerState(current: () => { telemetry: Telemetry; isReady(): boolean; componentStatuses(): ReadonlyMap<string, { status: ComponentStatus; error?: string | undefined; since: number }> } | undefined): void {
  process.on('message', (msg: unknown) => {
    if (msg === null || typeof msg !== 'object' || (msg as { t?: unknown }).t !== STATE_REQUEST.t) return;
    const s = current();
    const state: WorkerState = {
      t: 'tributary:state',
      ready: s?.isReady() ?? false,
      statuses: s ? [...s.componentStatuses()] : [],
      metrics: s ? s.telemetry.render() : '',
    };
    process.send?.(state, undefined, undefined, () => undefined);
  });
}
