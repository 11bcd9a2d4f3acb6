/**
 * Token buckets: the contract shared by the in-memory and the Redis store, and the in-memory store.
 * Both stores implement the same arithmetic (the Redis one in Lua), so they behave alike.
 */

/** One bucket's share of a batch. */
export interface BucketRequest {
  /** Full bucket key (rule + key value). */
  key: string;
  /** Tokens added per millisecond. */
  ratePerMs: number;
  burst: number;
  /** Tokens (records) wanted by this batch. */
  want: number;
}

export interface TakeResult {
  /** Tokens granted per request, in request order. */
  granted: number[];
  /** All-or-nothing calls that were refused: ms until every bucket could grant. 0 otherwise. */
  retryAfterMs: number;
}

export interface BucketStore {
  start(): Promise<void>;
  /**
   * Refills, then takes. Partial mode grants `min(want, floor(tokens))` per bucket. All-or-nothing mode
   * takes `want` from every bucket if each holds `min(want, burst)` tokens (a batch larger than the burst
   * passes from a full bucket and leaves it in debt), otherwise takes nothing.
   */
  take(requests: readonly BucketRequest[], allOrNothing: boolean): TakeResult | Promise<TakeResult>;
  shutdown(): Promise<void>;
}

interface Bucket {
  tokens: number;
  /** Last refill, ms. */
  at: number;
  ratePerMs: number;
  burst: number;
}

const SWEEP_EVERY_MS = 10_000;

export class MemoryBucketStore implements BucketStore {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep: number;

  constructor(private readonly now: () => number = Date.now) {
    this.lastSweep = now();
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {
    this.buckets.clear();
  }

  get size(): number {
    return this.buckets.size;
  }

  take(requests: readonly BucketRequest[], allOrNothing: boolean): TakeResult {
    const now = this.now();
    if (now - this.lastSweep >= SWEEP_EVERY_MS) this.sweep(now);
    const granted = new Array<number>(requests.length);
    const buckets = new Array<Bucket>(requests.length);
    let wait = 0;
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      let b = this.buckets.get(r.key);
      if (b === undefined) {
        b = { tokens: r.burst, at: now, ratePerMs: r.ratePerMs, burst: r.burst };
        this.buckets.set(r.key, b);
      } else if (now > b.at) {
        b.tokens = Math.min(r.burst, b.tokens + (now - b.at) * r.ratePerMs);
        b.at = now;
      }
      b.ratePerMs = r.ratePerMs;
      b.burst = r.burst;
      buckets[i] = b;
      if (allOrNothing) {
        const need = Math.min(r.want, r.burst);
        if (b.tokens < need) wait = Math.max(wait, Math.ceil((need - b.tokens) / r.ratePerMs));
      }
    }
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      const g = allOrNothing ? (wait > 0 ? 0 : r.want) : Math.max(0, Math.min(r.want, Math.floor(buckets[i]!.tokens)));
      buckets[i]!.tokens -= g;
      granted[i] = g;
    }
    return { granted, retryAfterMs: wait };
  }

  /** A bucket that has refilled completely is the same as no bucket: forget it. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [k, b] of this.buckets) {
      if (b.tokens + (now - b.at) * b.ratePerMs >= b.burst) this.buckets.delete(k);
    }
  }
}
