/**
 * The `loadbalancing` exporter: splits each batch by routing key over a consistent-hash ring of
 * backends (from a static list or DNS) and sends each part with the `otlp` exporter's sender.
 *
 * Unlike upstream (one queue per backend, dropped when the backend leaves the ring), this exporter has
 * one queue in front of the ring: routing happens when a batch is sent, so what waits in the queue goes
 * to the ring as it is then. A part whose backend fails (or left the ring while it was in flight) is
 * handed back to the queue alone (PartialSendError.retry) and routed again on the retry, so a resolver
 * change loses nothing the exporter acknowledged.
 */
import { lookup } from 'node:dns/promises';
import { anyValueAsString, findAttribute, isEmptyId, type LogRecord, type ResourceLogs, type ScopeLogs } from '@tributary/otlp';
import type { CreateSettings, LogsBatch, LogsSender } from '../../component.js';
import { classifyError, errorMessage, PartialSendError, PermanentError, RetryableError, retryAfterOf } from '../../errors.js';
import { otlpExporterConfigSchema } from '../otlp/config.js';
import { OtlpExporter } from '../otlp/otlp-exporter.js';
import type { LoadBalancingConfig } from './config.js';

/** Points per backend on the ring: enough for an even spread over a handful of backends. */
const VNODES = 150;

/** FNV-1a over bytes. */
function fnvBytes(b: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

function fnvString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Spreads FNV's output over the ring (murmur3 finaliser). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A consistent-hash ring: adding or removing a backend moves only the keys that backend owns/gets. */
export class HashRing {
  private readonly points: Uint32Array;
  private readonly owners: Uint16Array;
  constructor(readonly endpoints: readonly string[]) {
    const pts: [number, number][] = [];
    endpoints.forEach((ep, i) => {
      for (let v = 0; v < VNODES; v++) pts.push([mix(fnvString(`${ep}#${v}`)), i]);
    });
    pts.sort((a, b) => a[0] - b[0]);
    this.points = Uint32Array.from(pts, (p) => p[0]);
    this.owners = Uint16Array.from(pts, (p) => p[1]);
  }
  /** Index in `endpoints` of the owner of `hash`. */
  locate(hash: number): number {
    const p = this.points;
    const h = mix(hash);
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === p.length ? 0 : lo]!;
  }
}

function resourceHash(rl: ResourceLogs): number {
  const attrs = rl.resource?.attributes ?? [];
  const keys = attrs.map((a) => `${a.key}=${anyValueAsString(a.value)}`).sort();
  return fnvString(keys.join('\u0000'));
}

/** Per endpoint, the part of a batch routed to it (trees built lazily, records not copied). */
class Parts {
  readonly rls: Map<ResourceLogs, { out: ResourceLogs; scopes: Map<ScopeLogs, ScopeLogs> }>[] = [];
  readonly counts: number[] = [];
  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      this.rls.push(new Map());
      this.counts.push(0);
    }
  }
  addRecords(e: number, rl: ResourceLogs, sl: ScopeLogs, records: LogRecord[]): void {
    const m = this.rls[e]!;
    let r = m.get(rl);
    if (!r) {
      r = { out: { resource: rl.resource ?? null, schemaUrl: rl.schemaUrl, scopeLogs: [] }, scopes: new Map() };
      m.set(rl, r);
    }
    let s = r.scopes.get(sl);
    if (!s) {
      s = { scope: sl.scope ?? null, schemaUrl: sl.schemaUrl, logRecords: [] };
      r.scopes.set(sl, s);
      r.out.scopeLogs.push(s);
    }
    for (const lr of records) s.logRecords.push(lr);
    this.counts[e]! += records.length;
  }
  batch(e: number, receivedAt: number): LogsBatch {
    return { resourceLogs: [...this.rls[e]!.values()].map((r) => r.out), recordCount: this.counts[e]!, receivedAt };
  }
}

function mergeBatches(parts: LogsBatch[], receivedAt: number): LogsBatch {
  const out: LogsBatch = { resourceLogs: [], recordCount: 0, receivedAt };
  for (const p of parts) {
    out.resourceLogs.push(...p.resourceLogs);
    out.recordCount += p.recordCount;
  }
  return out;
}

interface Backend {
  readonly endpoint: string;
  readonly sender: OtlpExporter;
  inFlight: number;
}

export class LoadBalancingExporter implements LogsSender {
  private ring: HashRing | undefined;
  private backends: Backend[] = [];
  private readonly byEndpoint = new Map<string, Backend>();
  private timer: NodeJS.Timeout | undefined;
  private readonly where: string;
  private updating: Promise<void> = Promise.resolve();

  constructor(private readonly settings: CreateSettings, private readonly config: LoadBalancingConfig) {
    this.where = `exporter ${settings.id.id}`;
  }

  async start(): Promise<void> {
    const r = this.config.resolver;
    if (r.static) await this.setEndpoints(r.static.hostnames.map((h) => (/:\d+$/.test(h) ? h : `${h}:4317`)));
    else if (r.dns) {
      const dns = r.dns;
      await this.resolveDns(dns.hostname, dns.port, dns.timeout);
      this.timer = setInterval(() => void this.resolveDns(dns.hostname, dns.port, dns.timeout), dns.interval);
      this.timer.unref();
    }
  }

  private async resolveDns(hostname: string, port: number, timeoutMs: number): Promise<void> {
    try {
      const found = await Promise.race([
        lookup(hostname, { all: true }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs).unref()),
      ]);
      const eps = found.map((a) => (a.family === 6 ? `[${a.address}]:${port}` : `${a.address}:${port}`));
      await this.setEndpoints(eps);
    } catch (e) {
      // Keep the previous ring: a DNS hiccup must not empty it.
      this.settings.logger.warn('DNS resolution failed; keeping the current backends', { hostname, error: errorMessage(e) });
    }
  }

  /** The backends now (sorted). */
  get endpoints(): readonly string[] {
    return this.ring?.endpoints ?? [];
  }

  /**
   * Replaces the backends (the resolver's answer). New ones are started, removed ones are closed once
   * their sends in flight have settled; those sends fail over to the retry and are routed again.
   */
  setEndpoints(endpoints: readonly string[]): Promise<void> {
    this.updating = this.updating.then(() => this.apply(endpoints));
    return this.updating;
  }

  private async apply(endpoints: readonly string[]): Promise<void> {
    const want = [...new Set(endpoints)].sort();
    if (want.join(',') === this.endpoints.join(',')) return;
    const next: Backend[] = [];
    for (const ep of want) {
      let b = this.byEndpoint.get(ep);
      if (!b) {
        const cfg = otlpExporterConfigSchema.parse({ ...this.config.protocol.otlp, endpoint: ep, timeout: this.config.timeout });
        const sender = new OtlpExporter({ ...this.settings, logger: this.settings.logger.child({ backend: ep }) }, cfg);
        await sender.start();
        b = { endpoint: ep, sender, inFlight: 0 };
        this.byEndpoint.set(ep, b);
      }
      next.push(b);
    }
    const removed = this.backends.filter((b) => !want.includes(b.endpoint));
    this.backends = next;
    this.ring = want.length > 0 ? new HashRing(want) : undefined;
    this.settings.logger.info('load-balancing backends changed', { backends: want.join(', ') || '(none)', removed: removed.map((b) => b.endpoint).join(', ') || undefined });
    for (const b of removed) {
      this.byEndpoint.delete(b.endpoint);
      void this.closeWhenIdle(b);
    }
  }

  private async closeWhenIdle(b: Backend): Promise<void> {
    const end = Date.now() + Math.max(1000, this.config.timeout) + 1000;
    while (b.inFlight > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await b.sender.shutdown();
  }

  /** Splits the batch by routing key over the current ring. */
  route(batch: LogsBatch): { backends: Backend[]; parts: Parts } {
    const ring = this.ring;
    const backends = this.backends;
    if (!ring) throw new RetryableError(`${this.where}: no backends (the resolver found none yet)`);
    const parts = new Parts(backends.length);
    const key = this.config.routing_key;
    const attrs = this.config.routing_attributes;
    for (const rl of batch.resourceLogs) {
      if (key === 'service' || key === 'resource') {
        const h = key === 'service' ? fnvString(anyValueAsString(findAttribute(rl.resource?.attributes, 'service.name'))) : resourceHash(rl);
        const e = ring.locate(h);
        for (const sl of rl.scopeLogs) parts.addRecords(e, rl, sl, sl.logRecords);
        continue;
      }
      const fallback = ring.locate(resourceHash(rl));
      for (const sl of rl.scopeLogs) {
        for (const lr of sl.logRecords) {
          let e = fallback;
          if (key === 'traceID') {
            if (!isEmptyId(lr.traceId)) e = ring.locate(fnvBytes(lr.traceId));
          } else {
            let h = 0x811c9dc5;
            for (const a of attrs) h = fnvString(anyValueAsString(findAttribute(lr.attributes, a) ?? findAttribute(rl.resource?.attributes, a)), fnvString('\u0000', h));
            e = ring.locate(h);
          }
          parts.addRecords(e, rl, sl, [lr]);
        }
      }
    }
    return { backends, parts };
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const { backends, parts } = this.route(batch);
    const failed: LogsBatch[] = [];
    const rejected: LogsBatch[] = [];
    let retryAfter: number | undefined;
    const errors: string[] = [];
    await Promise.all(backends.map(async (b, e) => {
      if (parts.counts[e] === 0) return;
      const part = parts.batch(e, batch.receivedAt);
      b.inFlight++;
      try {
        await b.sender.send(part, signal);
      } catch (err) {
        errors.push(errorMessage(err));
        if (err instanceof PartialSendError) {
          if (err.retry) failed.push(err.retry);
          if (err.rejected) rejected.push(err.rejected);
        } else if (classifyError(err) === 'permanent' && !(err instanceof RetryableError)) {
          rejected.push(part);
        } else {
          failed.push(part);
          const ra = retryAfterOf(err);
          if (ra !== undefined) retryAfter = Math.max(retryAfter ?? 0, ra);
        }
      } finally {
        b.inFlight--;
      }
    }));
    if (failed.length === 0 && rejected.length === 0) return;
    const retry = failed.length > 0 ? mergeBatches(failed, batch.receivedAt) : undefined;
    const gone = rejected.length > 0 ? mergeBatches(rejected, batch.receivedAt) : undefined;
    if (retry !== undefined && retry.recordCount === batch.recordCount) {
      // Nothing got through: a plain retryable error (the retry routes the whole batch again).
      throw new RetryableError(`${this.where}: ${errors[0] ?? 'send failed'}`, { retryAfterMs: retryAfter });
    }
    if (gone !== undefined && gone.recordCount === batch.recordCount) throw new PermanentError(`${this.where}: ${errors[0] ?? 'rejected'}`);
    throw new PartialSendError(`${this.where}: ${errors.length} backend(s) failed: ${errors[0] ?? ''}`, { retry, rejected: gone, retryAfterMs: retryAfter });
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.updating;
    await Promise.all([...this.byEndpoint.values()].map((b) => b.sender.shutdown()));
    this.byEndpoint.clear();
    this.backends = [];
    this.ring = undefined;
  }
}
