/**
 * The `memory_limiter` processor: every check_interval measures the runtime's live memory, as upstream
 * measures the Go heap: V8 heap used + the unused young generation + external memory (ArrayBuffers, Buffers) + the
 * bytes of request bodies the HTTP servers hold. While that is above the soft limit (limit − spike), it
 * refuses data with a RetryableError so receivers push back (503 / UNAVAILABLE) instead of accepting what
 * the process has no room for. Before refusing, it forces a garbage collection (at most every
 * min_gc_interval_when_soft/hard_limited) and measures again: V8 collects lazily.
 *
 * RSS is only a secondary guard (refusing above twice the hard limit): freed socket and malloc memory
 * often stays in RSS long after it is free, and limiting on it kept the collector refusing for minutes
 * after the pressure was gone.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import { RetryableError } from '../../errors.js';
import type { Logger } from '../../telemetry/logger.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import { requestBytesInFlight, setMemoryHeadroom } from '../../config/http-server.js';
import type { MemoryLimiterConfig } from './config.js';
import { computeLimits, MIB, totalMemoryBytes, type MemoryLimits } from './memory-limits.js';
import { Metrics } from '../../telemetry/metric-names.js';

export type MemoryState = 'ok' | 'soft_limited' | 'hard_limited';

/** Seams for tests; the defaults read the real process and machine. */
export interface MemoryLimiterOptions {
  /** Live memory in bytes (default: V8 heap used + unused young generation + external + request bytes in flight). */
  readMemory?: () => number;
  /** Resident set size in bytes, the secondary guard (default: process RSS; none when readMemory is given). */
  readRss?: (() => number) | undefined;
  /** Memory available to the process in bytes (default: machine or cgroup limit). */
  totalMemory?: () => number | Promise<number>;
  /** Forced collection (default: `global.gc`, exposed at run time when node was not started with --expose-gc). */
  gc?: (() => void) | undefined;
  /** Clock for the GC intervals (tests). */
  now?: () => number;
}

const mib = (bytes: number): number => Math.round(bytes / MIB);

let exposedGc: (() => void) | undefined;
/** `global.gc` when node runs with --expose-gc, else the same function exposed at run time. */
export function forcedGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  if (exposedGc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      exposedGc = vm.runInNewContext('gc') as () => void;
    } catch {
      return undefined;
    }
  }
  return exposedGc;
}

/**
 * Bytes V8 holds for its young generation beyond what is in use there. The semispaces are resident once
 * used and are not given back while allocation goes on; their size depends on the Node version (32 MiB
 * on Node 20, up to 128 MiB on Node 22+), so a limit on heap used alone lets RSS run past it.
 */
function youngGenerationSlack(): number {
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.space_name === 'new_space') return Math.max(0, s.space_size - s.space_used_size);
  }
  return 0;
}

/** What upstream limits on (the runtime's live memory), plus V8's young generation and bodies being received. */
export function liveMemory(): number {
  const m = process.memoryUsage();
  // `external` already includes `arrayBuffers` (all Buffers).
  return m.heapUsed + youngGenerationSlack() + m.external + requestBytesInFlight();
}

/** RSS above this many times the hard limit refuses data whatever live memory says. */
export const RSS_GUARD_FACTOR = 2;

export class MemoryLimiterProcessor implements Processor {
  readonly mutatesData = false;

  private readonly readMemory: () => number;
  private readonly readRss: (() => number) | undefined;
  private readonly totalMemory: () => number | Promise<number>;
  private readonly gc: (() => void) | undefined;
  private readonly logger: Logger;
  private readonly where: string;
  private limits: MemoryLimits | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stateNow: MemoryState = 'ok';
  private refusalMessage = '';
  private lastGcAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  private readonly incoming: BoundCounter;
  private readonly outgoing: BoundCounter;
  private readonly refused: BoundCounter;

  constructor(settings: CreateSettings, private readonly config: MemoryLimiterConfig, private readonly next: LogsConsumer, options: MemoryLimiterOptions = {}) {
    this.readMemory = options.readMemory ?? liveMemory;
    this.readRss = 'readRss' in options ? options.readRss : options.readMemory === undefined ? () => process.memoryUsage.rss() : undefined;
    this.now = options.now ?? Date.now;
    this.totalMemory = options.totalMemory ?? totalMemoryBytes;
    this.gc = 'gc' in options ? options.gc : forcedGc();
    this.logger = settings.logger;
    this.where = `processor ${settings.id.id}`;
    const t = settings.telemetry;
    const labels = { processor: settings.id.id };
    this.incoming = t.counter(Metrics.processorIncoming).bind(labels);
    this.outgoing = t.counter(Metrics.processorOutgoing).bind(labels);
    this.refused = t.counter(Metrics.processorRefused).bind({ ...labels, reason: 'memory_limit' });
  }

  /** The limits in force (after start). */
  get memoryLimits(): MemoryLimits | undefined {
    return this.limits;
  }

  get state(): MemoryState {
    return this.stateNow;
  }

  async start(): Promise<void> {
    const total = this.config.limit_mib > 0 ? 0 : await this.totalMemory();
    const limits = computeLimits(this.config, total);
    this.limits = limits;
    this.logger.info('memory limiter started', {
      hard_limit_mib: mib(limits.hardBytes),
      soft_limit_mib: mib(limits.softBytes),
      total_memory_mib: total > 0 ? mib(total) : undefined,
      check_interval_ms: this.config.check_interval,
    });
    this.check();
    this.timer = setInterval(() => this.check(), this.config.check_interval);
    this.timer.unref();
  }

  async shutdown(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    setMemoryHeadroom(this, undefined);
  }

  consume(batch: LogsBatch): Promise<void> {
    const n = batch.recordCount;
    this.incoming.add(n);
    if (this.stateNow !== 'ok') {
      this.refused.add(n);
      return Promise.reject(new RetryableError(this.refusalMessage, { retryAfterMs: this.config.check_interval }));
    }
    this.outgoing.add(n);
    return this.next.consume(batch);
  }

  /** Measures, updates the state and logs transitions. Public so tests can drive it without waiting. */
  check(): void {
    const limits = this.limits;
    if (limits === undefined) return;
    let used = this.readMemory();
    if (used >= limits.softBytes && this.gc !== undefined) {
      const minInterval = used >= limits.hardBytes ? this.config.min_gc_interval_when_hard_limited : this.config.min_gc_interval_when_soft_limited;
      const now = this.now();
      if (now - this.lastGcAt >= minInterval) {
        this.lastGcAt = now;
        this.gc();
        used = this.readMemory();
      }
    }
    const rss = this.readRss?.();
    const rssGuard = rss !== undefined && rss >= RSS_GUARD_FACTOR * limits.hardBytes;
    const next: MemoryState = used >= limits.hardBytes || rssGuard ? 'hard_limited' : used >= limits.softBytes ? 'soft_limited' : 'ok';
    if (next !== 'ok') {
      const which = next === 'hard_limited' ? `hard limit ${mib(limits.hardBytes)} MiB` : `soft limit ${mib(limits.softBytes)} MiB`;
      this.refusalMessage = rssGuard && used < limits.hardBytes
        ? `${this.where}: memory limit exceeded (rss ${mib(rss)} MiB ≥ ${RSS_GUARD_FACTOR} × hard limit ${mib(limits.hardBytes)} MiB); data refused, retry later`
        : `${this.where}: memory limit exceeded (live memory ${mib(used)} MiB ≥ ${which}); data refused, retry later`;
    }
    // Receivers admit new bodies against this (config/http-server.ts). The bytes in flight are part of
    // `used`; they are added back since receivers count them again when admitting.
    setMemoryHeadroom(this, next === 'ok' ? limits.softBytes - used + requestBytesInFlight() : 0);
    const prev = this.stateNow;
    if (next === prev) return;
    this.stateNow = next;
    const fields = { live_mib: mib(used), rss_mib: rss === undefined ? undefined : mib(rss), soft_limit_mib: mib(limits.softBytes), hard_limit_mib: mib(limits.hardBytes) };
    if (next === 'ok') this.logger.info('memory usage back below the soft limit; accepting data again', fields);
    else if (next === 'hard_limited') this.logger.warn('memory usage above the hard limit; refusing data', { ...fields, forced_gc: this.gc !== undefined });
    else this.logger.warn('memory usage above the soft limit; refusing data', fields);
  }
}
