/**
 * Harness for the delivery fault tests and bench/soak.mjs's logic: a destination on a fixed
 * port that counts every numbered record it accepts (so it can go down and come back on the same port),
 * and a client that sends numbered records to the collector and remembers which were acknowledged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { credentials, makeGenericClientConstructor, type Client, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { decodeExportRequest, encodeExportRequest, type ExportLogsServiceRequest } from '@tributary/otlp';

export interface DestinationAnswer {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Numbers of the records in an OTLP request (attribute `n`). */
export function numbersOf(req: ExportLogsServiceRequest): number[] {
  const out: number[] = [];
  for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) {
    for (const a of lr.attributes) {
      if (a.key !== 'n') continue;
      const v = a.value?.intValue;
      if (v != null) out.push(typeof v === 'number' ? v : v.toNumber());
    }
  }
  return out;
}

export class Destination {
  /** Record number → times received with a 2xx answer. */
  readonly received = new Map<number, number>();
  /** Every request's arrival time and answer status (for checking waits). */
  readonly log: { at: number; status: number; records: number }[] = [];
  respond: (index: number) => DestinationAnswer = () => ({ status: 200 });
  private server: http.Server | undefined;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Records received at least once. */
  get distinct(): number {
    return this.received.size;
  }

  get duplicates(): number {
    let d = 0;
    for (const c of this.received.values()) d += c - 1;
    return d;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
        const answer = this.respond(this.log.length);
        let nums: number[] = [];
        try {
          nums = numbersOf(decodeExportRequest(body));
        } catch {
          nums = [];
        }
        this.log.push({ at: performance.now(), status: answer.status, records: nums.length });
        const finish = (): void => {
          if (answer.status >= 200 && answer.status < 300) for (const n of nums) this.received.set(n, (this.received.get(n) ?? 0) + 1);
          res.writeHead(answer.status, { 'content-type': 'application/x-protobuf', ...answer.headers });
          res.end();
        };
        if (answer.delayMs) setTimeout(finish, answer.delayMs);
        else finish();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Closes the port: the collector then gets connection refused. */
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** An OTLP protobuf request with records numbered [from, to) (attribute `n`, body padded to `bodyBytes`). */
export function numberedRequest(from: number, to: number, bodyBytes = 64): Uint8Array {
  const pad = 'x'.repeat(Math.max(0, bodyBytes - 20));
  const logRecords = [];
  for (let n = from; n < to; n++) {
    logRecords.push({
      timeUnixNano: 0, observedTimeUnixNano: 0, severityNumber: 9, severityText: 'INFO',
      body: { stringValue: `record ${n} ${pad}` }, attributes: [{ key: 'n', value: { intValue: n } }],
      droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
    });
  }
  const req = {
    resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'soak' } }], droppedAttributesCount: 0 }, scopeLogs: [{ scope: null, logRecords, schemaUrl: '' }], schemaUrl: '' }],
  } as unknown as ExportLogsServiceRequest;
  return encodeExportRequest(req);
}

export interface SendResult {
  status: number | 'error';
  retryAfter?: string | null;
}

export async function postLogs(port: number, body: Uint8Array, signal?: AbortSignal): Promise<SendResult> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/logs`, {
      method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body, ...(signal ? { signal } : {}),
    });
    await res.arrayBuffer();
    return { status: res.status, retryAfter: res.headers.get('retry-after') };
  } catch {
    return { status: 'error' };
  }
}

export interface LoadStats {
  sent: number;
  acknowledged: number;
  refused: number;
  errors: number;
  statuses: Record<string, number>;
  acked: Set<number>;
}

/**
 * Sends records [0, total) in requests of `perRequest`, `concurrency` at a time. A request refused (429/503
 * or no answer) is sent again after its Retry-After (or `retryMs`) until acknowledged, unless `stop()` is
 * called; `pace` can hold back between requests (steady load).
 */
export function runLoad(options: {
  port: () => number;
  total: number;
  perRequest: number;
  concurrency: number;
  retryMs?: number;
  pacePerSecond?: number;
  bodyBytes?: number;
  /** First record number (default 0): records are [from, from + total). */
  from?: number;
}): { stats: LoadStats; done: Promise<LoadStats>; stop: () => void } {
  const stats: LoadStats = { sent: 0, acknowledged: 0, refused: 0, errors: 0, statuses: {}, acked: new Set() };
  const first = options.from ?? 0;
  const end = first + options.total;
  let next = first;
  let stopped = false;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (!stopped && next < end) {
      const from = next;
      const to = Math.min(end, from + options.perRequest);
      next = to;
      if (options.pacePerSecond) {
        const due = started + ((from - first) / options.pacePerSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const body = numberedRequest(from, to, options.bodyBytes);
      stats.sent += to - from;
      for (;;) {
        const r = await postLogs(options.port(), body);
        stats.statuses[String(r.status)] = (stats.statuses[String(r.status)] ?? 0) + 1;
        if (r.status === 200) {
          stats.acknowledged += to - from;
          for (let n = from; n < to; n++) stats.acked.add(n);
          break;
        }
        if (r.status === 'error') stats.errors++;
        else stats.refused++;
        if (stopped) break;
        const ra = r.retryAfter ? Number(r.retryAfter) * 1000 : undefined;
        await new Promise((res) => setTimeout(res, ra ?? options.retryMs ?? 200));
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency }, worker)).then(() => stats);
  return { stats, done, stop: () => { stopped = true; } };
}

/** Acknowledged numbers the destination never got. */
export function lostOf(acked: Set<number>, dest: Destination): number[] {
  const lost: number[] = [];
  for (const n of acked) if (!dest.received.has(n)) lost.push(n);
  return lost;
}

/** Numbers the destination got that were never sent (must be empty). */
export function unexpectedOf(dest: Destination, sentBelow: number): number[] {
  const out: number[] = [];
  for (const n of dest.received.keys()) if (n < 0 || n >= sentBelow || !Number.isInteger(n)) out.push(n);
  return out;
}

/** The collector's RSS as its `/metrics` reports it (0 when the figure is missing). */
export async function rssOf(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)?.[1] ?? 0);
}

type RawExport = (req: Buffer, md: Metadata, cb: (err: ServiceError | null) => void) => void;
const RawLogsClient = makeGenericClientConstructor(
  {
    Export: {
      path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  },
  'LogsService',
);

/** An OTLP/gRPC logs client that sends already-encoded request bytes (insecure, to 127.0.0.1:port). */
export function rawLogsClient(port: number): Client & { Export: RawExport } {
  return new RawLogsClient(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as Client & { Export: RawExport };
}
