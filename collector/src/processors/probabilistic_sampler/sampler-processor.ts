/**
 * The `probabilistic_sampler` processor (upstream probabilisticsamplerprocessor, logs, `hash_seed` mode):
 * keeps a record when `FNV-1a(seed, trace id) mod 2^14` falls under the percentage's threshold, so every
 * collector with the same seed keeps or drops a trace's records together. Records without a trace id
 * hash their body and timestamps instead (Tributary: upstream would drop them).
 */
import { anyValueAsString, int64ToNumber, recordAttribute, recordBody, retainLogRecords, type AnyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import type { ProbabilisticSamplerConfig, SeverityRange } from './config.js';
import { fnvBytes, fnvSeed, fnvString, fnvUint32 } from './fnv.js';
import { Metrics } from '../../telemetry/metric-names.js';

const NUM_HASH_BUCKETS = 0x4000;
const BUCKET_MASK = NUM_HASH_BUCKETS - 1;

/** Upstream: `uint32(percentage * numHashBuckets / 100)`; a bucket below it is kept. */
export function thresholdFor(percentage: number): number {
  return Math.floor(percentage * (NUM_HASH_BUCKETS / 100));
}

function rangeOf(severityNumber: number): SeverityRange {
  if (severityNumber <= 0 || severityNumber > 24) return 'UNSPECIFIED';
  return (['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const)[(severityNumber - 1) >> 2]!;
}

function numericValue(v: AnyValue | undefined): number | undefined {
  if (v == null) return undefined;
  if (v.doubleValue != null) return v.doubleValue;
  if (v.intValue != null) return Number(int64ToNumber(v.intValue));
  if (v.stringValue != null && v.stringValue.trim() !== '') {
    const n = Number(v.stringValue);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function hasId(id: Uint8Array | null | undefined): id is Uint8Array {
  if (id == null || id.length === 0) return false;
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return true;
  return false;
}

export class ProbabilisticSamplerProcessor implements Processor {
  readonly mutatesData = true;

  /** Threshold by severity number 0–24 (index 25: out-of-range numbers). */
  private readonly thresholds = new Uint32Array(26);
  private readonly seedHash: number;
  private readonly fromRecord: boolean;
  private readonly fromAttribute: string;
  private readonly priorityKey: string;
  private readonly failClosed: boolean;

  private readonly incoming: BoundCounter;
  private readonly outgoing: BoundCounter;
  private readonly droppedSampled: BoundCounter;
  private readonly droppedMissing: BoundCounter;

  constructor(settings: CreateSettings, config: ProbabilisticSamplerConfig, private readonly next: LogsConsumer) {
    for (let n = 0; n < 26; n++) {
      const pct = config.severity_percentages[rangeOf(n === 25 ? 0 : n)] ?? config.sampling_percentage;
      this.thresholds[n] = thresholdFor(pct);
    }
    this.seedHash = fnvSeed(config.hash_seed);
    this.fromRecord = config.attribute_source === 'record';
    this.fromAttribute = config.from_attribute;
    this.priorityKey = config.sampling_priority;
    this.failClosed = config.fail_closed;
    const labels = { processor: settings.id.id };
    const t = settings.telemetry;
    this.incoming = t.counter(Metrics.processorIncoming).bind(labels);
    this.outgoing = t.counter(Metrics.processorOutgoing).bind(labels);
    const dropped = t.counter(Metrics.processorDropped);
    this.droppedSampled = dropped.bind({ ...labels, reason: 'sampled_out' });
    this.droppedMissing = dropped.bind({ ...labels, reason: 'missing_randomness' });
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  consume(batch: LogsBatch): Promise<void> {
    this.incoming.add(batch.recordCount);
    const kept = this.sampleInPlace(batch.resourceLogs);
    batch.recordCount = kept;
    if (kept === 0) return Promise.resolve();
    this.outgoing.add(kept);
    return this.next.consume(batch);
  }

  /** True when the record is kept. */
  keep(r: LogRecord): boolean {
    const sev = r.severityNumber;
    let threshold = this.thresholds[sev >= 0 && sev <= 24 ? sev : 25]!;
    if (this.priorityKey !== '') {
      const prio = numericValue(recordAttribute(r, this.priorityKey));
      if (prio !== undefined) threshold = prio <= 0 ? 0 : prio >= 100 ? NUM_HASH_BUCKETS : thresholdFor(prio);
    }
    if (threshold === 0) return false;
    if (threshold >= NUM_HASH_BUCKETS) return true;
    let h: number;
    if (this.fromRecord) {
      const v = recordAttribute(r, this.fromAttribute);
      if (v == null) {
        // Upstream: no randomness → fail_closed drops, otherwise keeps.
        return !this.failClosed;
      }
      h = v.bytesValue != null ? fnvBytes(this.seedHash, v.bytesValue) : fnvString(this.seedHash, anyValueAsString(v));
    } else if (hasId(r.traceId)) {
      h = fnvBytes(this.seedHash, r.traceId);
    } else {
      h = this.recordHash(r);
    }
    return (h & BUCKET_MASK) < threshold;
  }

  private recordHash(r: LogRecord): number {
    let h = this.seedHash;
    const body = recordBody(r);
    if (body != null) h = body.stringValue != null ? fnvString(h, body.stringValue) : fnvString(h, anyValueAsString(body));
    const t = r.timeUnixNano;
    if (t != null) h = fnvUint32(fnvUint32(h, t.low), t.high);
    const o = r.observedTimeUnixNano;
    if (o != null) h = fnvUint32(fnvUint32(h, o.low), o.high);
    // FNV's low bits mix poorly for inputs differing only in their last bytes: finish with a murmur3 avalanche.
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
    return h >>> 0;
  }

  /** Drops in place; empty ScopeLogs / ResourceLogs are removed. Returns records kept. */
  private sampleInPlace(rls: ResourceLogs[]): number {
    return retainLogRecords(rls, this.keepOrCount);
  }

  /** Built once: keeps a record or counts why it was dropped. */
  private readonly keepOrCount = (r: LogRecord): boolean => {
    if (this.keep(r)) return true;
    if (this.fromRecord && recordAttribute(r, this.fromAttribute) == null) this.droppedMissing.add(1);
    else this.droppedSampled.add(1);
    return false;
  };
}
