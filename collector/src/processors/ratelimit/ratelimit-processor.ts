/**
 * The `ratelimit` processor: token buckets per (rule, key value). `drop` rules remove the excess records;
 * `throttle` rules refuse a whole batch with ThrottledError (the receiver answers 429 / RESOURCE_EXHAUSTED
 * with Retry-After) without taking any tokens for it. Throttle rules are checked first, in one
 * all-or-nothing store call, so a refused batch costs no tokens anywhere; then drop rules apply in order,
 * each seeing the records the previous ones let through.
 */
import {
  retainLogRecords, anyValueAsString, findAttribute, nowNanos, recordAttribute,
  type KeyValue, type LogRecord, type ResourceLogs,
} from '@tributary/otlp';
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import { ThrottledError, errorMessage } from '../../errors.js';
import { RateLimitedLog, type Logger } from '../../telemetry/logger.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import { MemoryBucketStore, type BucketRequest, type BucketStore } from './bucket-store.js';
import { PER_MS, type RateLimitConfig } from './config.js';
import { RedisBucketStore } from './redis-store.js';
import { Metrics } from '../../telemetry/metric-names.js';

export const STORE_ERRORS_METRIC = Metrics.ratelimitStoreErrors.name;
/** Retry-After when a throttle rule is denied because the store failed. */
const STORE_ERROR_RETRY_MS = 1000;

interface Limit {
  ratePerMs: number;
  burst: number;
}

interface CompiledRule {
  name: string;
  keys: readonly string[];
  /** `service.name` or `a,b`: how the key is named in summaries. */
  keyLabel: string;
  throttle: boolean;
  limit: Limit;
  overrides: ReadonlyMap<string, Limit>;
}

/** One (rule, key value) seen in the current batch. */
interface Entry {
  rule: CompiledRule;
  value: string;
  want: number;
  granted: number;
  passed: number;
}

interface Suppressed {
  rule: string;
  key: string;
  value: string;
  action: string;
  count: number;
}

function limitOf(rate: number, per: keyof typeof PER_MS, burst: number | undefined): Limit {
  return { ratePerMs: rate / PER_MS[per], burst: burst ?? Math.max(1, Math.ceil(rate)) };
}

/** `10s`, `1m`, `250ms`: the summary interval as people write it. */
export function formatInterval(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export class RateLimitProcessor implements Processor {
  readonly mutatesData = true;

  private readonly throttleRules: CompiledRule[] = [];
  private readonly dropRules: CompiledRule[] = [];
  private readonly store: BucketStore;
  private readonly failOpen: boolean;
  private readonly summaryMs: number;
  private readonly intervalText: string;
  private readonly suppressed = new Map<string, Suppressed>();
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private readonly storeErrorLog: RateLimitedLog;
  private readonly summaryErrorLog: RateLimitedLog;

  private readonly incoming: BoundCounter;
  private readonly outgoing: BoundCounter;
  private readonly droppedLimited: BoundCounter;
  private readonly droppedStoreError: BoundCounter;
  private readonly refused: BoundCounter;
  private readonly storeErrors: BoundCounter;

  constructor(settings: CreateSettings, config: RateLimitConfig, private readonly next: LogsConsumer, store?: BucketStore) {
    for (const r of config.rules) {
      const overrides = new Map<string, Limit>();
      for (const [value, o] of Object.entries(r.overrides)) {
        overrides.set(value, limitOf(o.rate ?? r.rate, o.per ?? r.per, o.burst ?? (o.rate !== undefined ? undefined : r.burst)));
      }
      const rule: CompiledRule = {
        name: r.name, keys: r.key, keyLabel: r.key.join(','), throttle: r.action === 'throttle',
        limit: limitOf(r.rate, r.per, r.burst), overrides,
      };
      (rule.throttle ? this.throttleRules : this.dropRules).push(rule);
    }
    this.logger = settings.logger;
    this.store = store ?? (config.store === 'redis'
      ? new RedisBucketStore({
        url: config.redis.url, keyPrefix: config.redis.key_prefix, timeoutMs: config.redis.timeout,
        connectTimeoutMs: config.redis.connect_timeout, logger: settings.logger,
      })
      : new MemoryBucketStore());
    this.failOpen = config.on_store_error === 'allow';
    this.summaryMs = config.summary_interval;
    this.intervalText = formatInterval(config.summary_interval);
    this.storeErrorLog = new RateLimitedLog(settings.logger);
    this.summaryErrorLog = new RateLimitedLog(settings.logger);
    const labels = { processor: settings.id.id };
    const t = settings.telemetry;
    this.incoming = t.counter(Metrics.processorIncoming).bind(labels);
    this.outgoing = t.counter(Metrics.processorOutgoing).bind(labels);
    const dropped = t.counter(Metrics.processorDropped);
    this.droppedLimited = dropped.bind({ ...labels, reason: 'rate_limited' });
    this.droppedStoreError = dropped.bind({ ...labels, reason: 'store_error' });
    this.refused = t.counter(Metrics.processorRefused).bind(labels);
    this.storeErrors = t.counter(Metrics.ratelimitStoreErrors).bind(labels);
  }

  async start(): Promise<void> {
    await this.store.start();
    if (this.summaryMs > 0) {
      this.timer = setInterval(() => void this.flushSummary(), this.summaryMs);
      this.timer.unref();
    }
  }

  async shutdown(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushSummary();
    await this.store.shutdown();
  }

  async consume(batch: LogsBatch): Promise<void> {
    const n = batch.recordCount;
    this.incoming.add(n);
    if (n === 0) return this.next.consume(batch);
    if (this.throttleRules.length > 0) await this.applyThrottleRules(batch);
    for (let i = 0; i < this.dropRules.length && batch.recordCount > 0; i++) await this.applyDropRule(this.dropRules[i]!, batch);
    if (batch.recordCount === 0) return;
    this.outgoing.add(batch.recordCount);
    return this.next.consume(batch);
  }

  private async applyThrottleRules(batch: LogsBatch): Promise<void> {
    const entries: Entry[] = [];
    for (const rule of this.throttleRules) for (const e of this.classify(rule, batch.resourceLogs, undefined).values()) entries.push(e);
    let retryAfterMs: number;
    try {
      retryAfterMs = (await this.store.take(entries.map(toRequest), true)).retryAfterMs;
    } catch (err) {
      this.onStoreError(err);
      if (this.failOpen) return;
      retryAfterMs = STORE_ERROR_RETRY_MS;
    }
    if (retryAfterMs <= 0) return;
    // Refuse the whole batch; nothing was taken for it. Count what would have been over the limit.
    for (const e of entries) this.addSuppressed(e.rule, e.value, e.want);
    this.refused.add(batch.recordCount);
    throw new ThrottledError(`ratelimit: over the limit of rule(s) ${this.throttleRules.map((r) => r.name).join(', ')}`, { retryAfterMs });
  }

  private async applyDropRule(rule: CompiledRule, batch: LogsBatch): Promise<void> {
    const perRecord: Entry[] = [];
    const byValue = this.classify(rule, batch.resourceLogs, perRecord);
    const entries = [...byValue.values()];
    let storeFailed = false;
    try {
      const { granted } = await this.store.take(entries.map(toRequest), false);
      for (let i = 0; i < entries.length; i++) entries[i]!.granted = granted[i]!;
    } catch (err) {
      this.onStoreError(err);
      storeFailed = true;
      for (const e of entries) e.granted = this.failOpen ? e.want : 0;
    }
    let limited = false;
    for (const e of entries) {
      if (e.granted < e.want) {
        limited = true;
        this.addSuppressed(rule, e.value, e.want - e.granted);
      }
    }
    if (!limited) return;
    const kept = dropInPlace(batch.resourceLogs, perRecord);
    const dropped = batch.recordCount - kept;
    (storeFailed ? this.droppedStoreError : this.droppedLimited).add(dropped);
    batch.recordCount = kept;
  }

  /**
   * Groups the batch's records by this rule's key value (record attributes first, then resource
   * attributes, resolved once per ResourceLogs). Fills `perRecord` in tree order when given.
   */
  private classify(rule: CompiledRule, rls: readonly ResourceLogs[], perRecord: Entry[] | undefined): Map<string, Entry> {
    const out = new Map<string, Entry>();
    const keys = rule.keys;
    const resVals = new Array<string | undefined>(keys.length);
    for (let i = 0; i < rls.length; i++) {
      const rl = rls[i]!;
      const resAttrs: KeyValue[] | undefined = rl.resource?.attributes;
      for (let k = 0; k < keys.length; k++) {
        const v = findAttribute(resAttrs, keys[k]!);
        resVals[k] = v === undefined ? undefined : anyValueAsString(v);
      }
      const sls = rl.scopeLogs;
      for (let j = 0; j < sls.length; j++) {
        const recs = sls[j]!.logRecords;
        for (let r = 0; r < recs.length; r++) {
          const value = keyValueOf(recs[r]!, keys, resVals);
          let e = out.get(value);
          if (e === undefined) {
            e = { rule, value, want: 0, granted: 0, passed: 0 };
            out.set(value, e);
          }
          e.want++;
          perRecord?.push(e);
        }
      }
    }
    return out;
  }

  private onStoreError(err: unknown): void {
    this.storeErrors.add(1);
    this.storeErrorLog.warn(`ratelimit: store unavailable, ${this.failOpen ? 'letting records pass (on_store_error: allow)' : 'limiting all records (on_store_error: deny)'}`, {
      error: errorMessage(err),
    });
  }

  private addSuppressed(rule: CompiledRule, value: string, count: number): void {
    const k = `${rule.name}\u0000${value}`;
    const s = this.suppressed.get(k);
    if (s !== undefined) s.count += count;
    else this.suppressed.set(k, { rule: rule.name, key: rule.keyLabel, value, action: rule.throttle ? 'throttle' : 'drop', count });
  }

  /** Sends one WARN record per limited key downstream, best effort. */
  async flushSummary(): Promise<void> {
    if (this.suppressed.size === 0) return;
    const now = nowNanos();
    const records: LogRecord[] = [];
    for (const s of this.suppressed.values()) {
      const keyText = s.key === '' ? '(all records)' : `${s.key}=${s.value}`;
      records.push({
        timeUnixNano: now, observedTimeUnixNano: now, severityNumber: 13, severityText: 'WARN',
        body: { stringValue: `ratelimit: suppressed ${s.count} records for ${s.rule} ${keyText} in the last ${this.intervalText}` },
        attributes: [
          { key: 'ratelimit.rule', value: { stringValue: s.rule } },
          { key: 'ratelimit.key', value: { stringValue: keyText } },
          { key: 'ratelimit.suppressed', value: { intValue: s.count } },
          { key: 'ratelimit.action', value: { stringValue: s.action } },
        ],
        droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
      });
    }
    this.suppressed.clear();
    const batch: LogsBatch = {
      resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: 'tributary/ratelimit', version: '', attributes: [], droppedAttributesCount: 0 }, logRecords: records, schemaUrl: '' }] }],
      recordCount: records.length,
      receivedAt: performance.now(),
    };
    try {
      await this.next.consume(batch);
    } catch (err) {
      this.summaryErrorLog.warn('ratelimit: could not send the summary records', { error: errorMessage(err), records: records.length });
    }
  }
}

function keyValueOf(r: LogRecord, keys: readonly string[], resVals: readonly (string | undefined)[]): string {
  if (keys.length === 0) return '';
  if (keys.length === 1) {
    const v = recordAttribute(r, keys[0]!);
    return v !== undefined ? anyValueAsString(v) : resVals[0] ?? '';
  }
  let s = '';
  for (let k = 0; k < keys.length; k++) {
    const v = recordAttribute(r, keys[k]!);
    if (k > 0) s += ',';
    s += v !== undefined ? anyValueAsString(v) : resVals[k] ?? '';
  }
  return s;
}

function toRequest(e: Entry): BucketRequest {
  const limit = e.rule.overrides.get(e.value) ?? e.rule.limit;
  return { key: `${e.rule.name}:${e.value}`, ratePerMs: limit.ratePerMs, burst: limit.burst, want: e.want };
}

/** Keeps the first `granted` records of each entry (in tree order); removes the rest and empty containers. */
function dropInPlace(rls: ResourceLogs[], perRecord: readonly Entry[]): number {
  let idx = 0;
  return retainLogRecords(rls, () => {
    const e = perRecord[idx++]!;
    if (e.passed >= e.granted) return false;
    e.passed++;
    return true;
  });
}
