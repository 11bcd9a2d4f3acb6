/**
 * One live tail subscription on one WebSocket: a bounded buffer (drop-oldest, counted), frames sent per
 * flush interval or per batch size, heartbeats, and a close with 4001 when the token expires.
 */
import type { WebSocket } from 'ws';
import type { RecordMatcher } from '../query/matcher.js';
import { tailCursor, type TailRecord, type TailSubscriber } from './hub.js';

export interface SessionOptions {
  readonly bufferSize: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  /** Socket bytes not yet written above which the client counts as slow (records stay buffered). */
  readonly maxSocketBuffer: number;
  /** When the token stops being valid (ms since epoch); undefined = never. */
  readonly expiresAtMs: number | undefined;
  /** Frame shape: native `{type:"logs"}` or Loki's `{streams, dropped_entries}`. */
  readonly format: 'native' | 'loki';
  readonly onDropped: (n: number) => void;
  readonly onSent: (n: number) => void;
}

const MAX_TIMEOUT = 2_147_483_647;

/** Each record is serialized once, however many viewers get it (records are never changed after publish). */
const jsonOf = new WeakMap<TailRecord, string>();

function recordJson(r: TailRecord): string {
  let j = jsonOf.get(r);
  if (j === undefined) jsonOf.set(r, (j = JSON.stringify(r)));
  return j;
}

function logsFrame(records: readonly TailRecord[], cursor: string | undefined): string {
  let out = '{"type":"logs","records":[';
  for (let i = 0; i < records.length; i++) out += (i ? ',' : '') + recordJson(records[i]!);
  return `${out}]${cursor !== undefined ? `,"cursor":${JSON.stringify(cursor)}` : ''}}`;
}

/** Store row ids are decimal integers; records published without the store have `<instance>-<seq>` ids. */
function isStoreId(id: string): boolean {
  return id.length > 0 && !id.includes('-');
}

function inBacklog(upTo: ReadonlyMap<string, bigint>, r: TailRecord): boolean {
  const max = upTo.get(r.tenant);
  return max !== undefined && isStoreId(r.id) && BigInt(r.id) <= max;
}

export class TailSession implements TailSubscriber {
  private buf: TailRecord[] = [];
  private head = 0;
  private dropped = 0;
  private droppedSince: string | undefined;
  private droppedLast: TailRecord | undefined;
  private cursor: string | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly expiry: NodeJS.Timeout | undefined;
  private closed = false;
  private holding = false;
  /** After a resume: per tenant, the newest store id the backlog held (live copies of those are skipped). */
  private backlogUpTo: Map<string, bigint> | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly tenants: ReadonlySet<string> | undefined,
    readonly matcher: RecordMatcher,
    private readonly o: SessionOptions,
  ) {
    this.heartbeat = setInterval(() => this.send({ type: 'heartbeat' }), o.heartbeatIntervalMs);
    if (o.expiresAtMs !== undefined) {
      const left = o.expiresAtMs - Date.now();
      this.expiry = setTimeout(() => this.close(4001, 'token expired'), Math.max(0, Math.min(left, MAX_TIMEOUT)));
    }
  }

  /** Records waiting to be sent. */
  get pending(): number {
    return this.buf.length - this.head;
  }

  notice(frame: unknown): void {
    if (!this.closed && this.o.format !== 'loki') this.send(frame);
  }

  push(records: readonly TailRecord[]): void {
    if (this.closed) return;
    const upTo = this.backlogUpTo;
    for (const r of records) if (upTo === undefined || !inBacklog(upTo, r)) this.buf.push(r);
    const over = this.pending - this.o.bufferSize;
    if (over > 0) this.drop(over);
    if (this.holding) return;
    if (this.pending >= this.o.batchSize) {
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      setImmediate(() => this.flush());
    } else {
      this.flushTimer ??= setTimeout(() => this.flush(), this.o.flushIntervalMs);
    }
  }

  /** Keeps live records buffered (not sent) until `release` puts a store backlog in front of them. */
  hold(): void {
    this.holding = true;
  }

  /**
   * Sends the backlog, then the live records that arrived meanwhile, minus those the backlog already
   * had (a record committed between subscribing and the store read is in both).
   */
  release(backlog: readonly TailRecord[]): void {
    this.holding = false;
    if (backlog.length > 0) {
      // A record the store committed before the backlog was read can reach the hub after this release
      // (the commit and the publish are apart by a worker round trip): such late copies are skipped too.
      const upTo = new Map<string, bigint>();
      for (const r of backlog) {
        if (!isStoreId(r.id)) continue;
        const id = BigInt(r.id);
        const prev = upTo.get(r.tenant);
        if (prev === undefined || id > prev) upTo.set(r.tenant, id);
      }
      if (upTo.size > 0) this.backlogUpTo = upTo;
      const ids = new Set<string>();
      for (const r of backlog) ids.add(`${r.tenant}~${r.id}`);
      const live = this.buf.slice(this.head).filter((r) => !ids.has(`${r.tenant}~${r.id}`));
      this.buf = [...backlog, ...live];
      this.head = 0;
      // The backlog itself may be larger than the buffer bound: the client learns of the gap.
      const over = this.pending - Math.max(this.o.bufferSize, backlog.length);
      if (over > 0) this.drop(over);
    }
    this.flush();
  }

  private drop(n: number): void {
    const first = this.buf[this.head];
    this.droppedSince ??= first?.time;
    this.droppedLast = this.buf[this.head + n - 1];
    this.head += n;
    this.dropped += n;
    this.o.onDropped(n);
    // Compact now and then so the array does not grow without bound.
    if (this.head > 4096 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
  }

  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.closed || this.holding) return;
    // A client that does not read: keep records buffered (the bound drops the oldest), try later.
    if (this.ws.bufferedAmount > this.o.maxSocketBuffer) {
      if (this.pending > 0) this.flushTimer = setTimeout(() => this.flush(), this.o.flushIntervalMs);
      return;
    }
    if (this.dropped > 0) {
      this.send(this.o.format === 'loki' ? lokiDropped(this.droppedLast, this.dropped) : { type: 'dropped', count: this.dropped, since: this.droppedSince });
      this.dropped = 0;
      this.droppedSince = undefined;
      this.droppedLast = undefined;
    }
    while (this.pending > 0) {
      const end = Math.min(this.buf.length, this.head + this.o.batchSize);
      const records = this.buf.slice(this.head, end);
      this.head = end;
      const last = records[records.length - 1];
      this.cursor = (last && tailCursor(last)) ?? this.cursor;
      if (this.o.format === 'loki') this.send(lokiFrame(records));
      else this.sendText(logsFrame(records, this.cursor));
      this.o.onSent(records.length);
      if (this.ws.bufferedAmount > this.o.maxSocketBuffer) break;
    }
    if (this.head === this.buf.length) {
      this.buf = [];
      this.head = 0;
    } else {
      this.flushTimer = setTimeout(() => this.flush(), this.o.flushIntervalMs);
    }
  }

  send(frame: unknown): void {
    this.sendText(JSON.stringify(frame));
  }

  private sendText(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(text);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.flush();
    this.stop();
    this.ws.close(code, reason);
  }

  /** Stops timers (the socket closed or is closing). */
  stop(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    if (this.expiry) clearTimeout(this.expiry);
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }
}

/** Loki's stream labels of a record: resource attributes (service.name → service_name) and level. */
export function lokiLabels(r: TailRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r.resource)) {
    const v = r.resource[k];
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
    out[k === 'service.name' ? 'service_name' : k.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^([0-9])/, '_$1')] = String(v);
  }
  if (r.severity_number > 0) out.level = r.level;
  return out;
}

function lineOf(r: TailRecord): string {
  return typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
}

/** Loki's tail frame: records grouped by stream. */
export function lokiFrame(records: readonly TailRecord[]): { streams: { stream: Record<string, string>; values: [string, string][] }[]; dropped_entries: null } {
  const streams = new Map<string, { stream: Record<string, string>; values: [string, string][] }>();
  for (const r of records) {
    const labels = lokiLabels(r);
    const key = JSON.stringify(labels);
    let s = streams.get(key);
    if (!s) streams.set(key, (s = { stream: labels, values: [] }));
    s.values.push([r.timestamp, lineOf(r)]);
  }
  return { streams: [...streams.values()], dropped_entries: null };
}

function lokiDropped(last: TailRecord | undefined, count: number): { streams: never[]; dropped_entries: { labels: Record<string, string>; timestamp: string }[] } {
  // Loki lists each dropped entry; one summary entry per drop run keeps frames small. Its labels carry the count.
  return { streams: [], dropped_entries: [{ labels: { ...(last ? lokiLabels(last) : {}), dropped_count: String(count) }, timestamp: last?.timestamp ?? `${Date.now()}000000` }] };
}
