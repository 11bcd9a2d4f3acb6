/**
 * Exports must never keep the app alive: an app that is done (or was told to stop) should not wait for
 * retries against an unreachable collector. The OTLP exporter's own retry loop uses ref'd timers, so it is
 * swapped (guarded, private fields) for the same algorithm with unref'd timers, and the http agent's
 * sockets are unref'd. The shutdown paths keep the loop alive themselves, for a bounded time.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';

interface ExportResponse { status: 'success' | 'failure' | 'retryable'; retryInMillis?: number }
interface Transport { send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse>; shutdown(): void }

const MAX_ATTEMPTS = 5;
const INITIAL_BACKOFF = 1000;
const MAX_BACKOFF = 5000;

class UnrefRetryingTransport implements Transport {
  constructor(private readonly inner: Transport) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    let next = INITIAL_BACKOFF;
    let result = await this.inner.send(data, timeoutMillis);
    for (let attempt = 0; result.status === 'retryable' && attempt < MAX_ATTEMPTS; attempt++) {
      const wait = result.retryInMillis ?? Math.min(next * (0.8 + Math.random() * 0.4), MAX_BACKOFF);
      next *= 1.5;
      const remaining = deadline - Date.now();
      if (wait > remaining) break;
      await new Promise<void>((resolve) => { setTimeout(resolve, wait).unref(); });
      result = await this.inner.send(data, deadline - Date.now());
    }
    return result;
  }

  shutdown(): void {
    this.inner.shutdown();
  }
}

/** Returns false when the exporter's internals are not as expected (then it is left unchanged). */
export function makeExitFriendly(exporter: object): boolean {
  const delegate = (exporter as { _delegate?: { _transport?: unknown } })._delegate;
  const retrying = delegate?._transport as { _transport?: Partial<Transport> } | undefined;
  const inner = retrying?._transport;
  if (!delegate || typeof inner?.send !== 'function' || typeof inner.shutdown !== 'function') return false;
  delegate._transport = new UnrefRetryingTransport(inner as Transport);
  return true;
}

type CreateConnection = (this: http.Agent, options: object, cb?: (err: Error | null, s: Socket) => void) => Socket;

/** An agent factory for the OTLP http exporters whose sockets never hold the event loop open. */
export function unrefAgentFactory(protocol: string): http.Agent {
  const agent = protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const a = agent as unknown as { createConnection: CreateConnection; reuseSocket: (this: http.Agent, s: Socket, req: unknown) => void };
  const create = a.createConnection;
  a.createConnection = function (options, cb) {
    const socket = create.call(this, options, cb);
    socket.unref();
    return socket;
  };
  // The stock agent ref()s a pooled socket when it is reused (and does its own bookkeeping: keep it).
  const reuse = a.reuseSocket;
  a.reuseSocket = function (socket, req) {
    reuse.call(this, socket, req);
    socket.unref();
  };
  return agent;
}

const MAX_IN_FLIGHT = 4;

/**
 * Reports an export as done to the batch processor at once (so its ref'd export-timeout timer is
 * cleared) while the send goes on with unref'd handles. At most MAX_IN_FLIGHT sends run; beyond that
 * batches are dropped: memory stays bounded and the app is never held. `forceFlush` waits for the sends.
 */
export class DetachedExporter implements LogRecordExporter {
  private readonly inFlight = new Set<Promise<void>>();
  private warned = false;
  /** Records dropped because too many exports were pending. */
  dropped = 0;

  constructor(private readonly inner: LogRecordExporter) {}

  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      // The collector is slow or down: drop rather than queue without bound or hold the app open.
      this.dropped += records.length;
      if (!this.warned) {
        this.warned = true;
        diag.warn(`tributary: ${MAX_IN_FLIGHT} exports still pending, dropping log records until they finish`);
      }
      done({ code: ExportResultCode.SUCCESS });
      return;
    }
    const send = new Promise<void>((resolve) => {
      try {
        this.inner.export(records, () => resolve());
      } catch {
        resolve();
      }
    });
    this.inFlight.add(send);
    void send.then(() => this.inFlight.delete(send));
    done({ code: ExportResultCode.SUCCESS });
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.inFlight]);
    await this.inner.forceFlush?.();
  }

  shutdown(): Promise<void> {
    return this.forceFlush().then(() => this.inner.shutdown());
  }
}
