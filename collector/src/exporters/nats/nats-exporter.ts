/**
 * The `nats` exporter: each batch becomes one or more OTLP protobuf messages (ExportLogsServiceRequest,
 * at most `max_message_size` each) published to JetStream. A batch counts as sent only once every
 * message has its publish ack. Each message carries `Nats-Msg-Id` = a hash of subject and payload, so a
 * retry after a lost ack (or a batch replayed from a disk queue after a crash) is dropped by JetStream's
 * duplicate window instead of stored twice.
 */
import { createHash } from 'node:crypto';
import { anyValueAsString, encodeExportRequest, findAttribute, type ResourceLogs } from '@tributary/otlp';
import { nanos, type JetStreamClient, type NatsConnection } from 'nats';
import type { CreateSettings, LogsBatch, LogsSender } from '../../component.js';
import { connectNats } from '../../coordination/nats-connection.js';
import { PartialSendError, RetryableError } from '../../errors.js';
import type { NatsExporterConfig, NatsStreamConfig } from './config.js';

/** A compiled subject template: literal tokens and resource-attribute placeholders. */
export interface SubjectTemplate {
  readonly parts: readonly ({ literal: string } | { attr: string })[];
  readonly constant: string | undefined;
}

/** Dots that separate tokens (not those inside a `{service.name}` placeholder). */
const TOKEN_DOT = /\.(?![^{]*\})/;

export function compileSubject(subject: string): SubjectTemplate {
  const parts = subject.split(TOKEN_DOT).map((t) => (t.startsWith('{') && t.endsWith('}') ? { attr: t.slice(1, -1) } : { literal: t }));
  return { parts, constant: parts.every((p) => 'literal' in p) ? subject : undefined };
}

/** Characters a subject token may not hold become `_`. */
const UNSAFE = /[.*>\s]/g;

export function subjectFor(t: SubjectTemplate, rl: ResourceLogs): string {
  if (t.constant !== undefined) return t.constant;
  let out = '';
  for (const p of t.parts) {
    if (out !== '') out += '.';
    if ('literal' in p) out += p.literal;
    else {
      const v = anyValueAsString(findAttribute(rl.resource?.attributes, p.attr));
      out += v === '' ? 'unknown' : v.replace(UNSAFE, '_');
    }
  }
  return out;
}

/** The stream's default subjects: placeholders become `*`. */
export function wildcardOf(subject: string): string {
  return subject.split(TOKEN_DOT).map((t) => (t.startsWith('{') ? '*' : t)).join('.');
}

export function msgIdOf(subject: string, payload: Uint8Array): string {
  return createHash('sha256').update(subject).update(payload).digest('base64url').slice(0, 32);
}

function recordsOf(rls: readonly ResourceLogs[]): number {
  let n = 0;
  for (const rl of rls) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}

/**
 * Encodes `rls` as messages of at most `max` bytes, halving what does not fit. Records that alone
 * exceed `max` are returned in `oversize`.
 */
export function encodeMessages(rls: ResourceLogs[], max: number, out: Uint8Array[], oversize: ResourceLogs[]): void {
  const body = encodeExportRequest({ resourceLogs: rls });
  if (body.byteLength <= max) {
    out.push(body);
    return;
  }
  if (rls.length > 1) {
    const mid = rls.length >> 1;
    encodeMessages(rls.slice(0, mid), max, out, oversize);
    encodeMessages(rls.slice(mid), max, out, oversize);
    return;
  }
  const rl = rls[0]!;
  const n = recordsOf(rls);
  if (n <= 1) {
    if (n === 1) oversize.push(rl);
    return;
  }
  // Split one resource's records in two halves, keeping resource and scopes attached.
  const half = n >> 1;
  const a: ResourceLogs = { resource: rl.resource ?? null, schemaUrl: rl.schemaUrl, scopeLogs: [] };
  const b: ResourceLogs = { resource: rl.resource ?? null, schemaUrl: rl.schemaUrl, scopeLogs: [] };
  let seen = 0;
  for (const sl of rl.scopeLogs) {
    const take = Math.max(0, Math.min(sl.logRecords.length, half - seen));
    if (take > 0) a.scopeLogs.push({ scope: sl.scope ?? null, schemaUrl: sl.schemaUrl, logRecords: sl.logRecords.slice(0, take) });
    if (take < sl.logRecords.length) b.scopeLogs.push({ scope: sl.scope ?? null, schemaUrl: sl.schemaUrl, logRecords: sl.logRecords.slice(take) });
    seen += sl.logRecords.length;
  }
  encodeMessages([a], max, out, oversize);
  encodeMessages([b], max, out, oversize);
}

export class NatsExporter implements LogsSender {
  private readonly template: SubjectTemplate;
  private readonly where: string;
  private readonly stop = new AbortController();
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: NatsExporterConfig) {
    this.template = compileSubject(config.subject);
    this.where = `exporter ${settings.id.id}`;
  }

  /** Connects in the background: with NATS down at start the queue holds the data until it is back. */
  start(): Promise<void> {
    this.connecting = connectNats(this.where, this.config, `tributary ${this.settings.id.id}`, this.settings.logger, this.stop.signal)
      .then(async (nc) => {
        if (this.stop.signal.aborted) {
          await nc.close();
          return;
        }
        if (this.config.stream) await this.ensureStream(nc, this.config.stream);
        this.nc = nc;
        this.js = nc.jetstream();
      })
      .catch((e: unknown) => {
        if (!this.stop.signal.aborted) this.settings.logger.error('NATS setup failed; batches stay queued', { error: e instanceof Error ? e.message : String(e) });
      });
    return Promise.resolve();
  }

  private async ensureStream(nc: NatsConnection, s: NatsStreamConfig): Promise<void> {
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.streams.info(s.name);
      return;
    } catch {
      // not found: create it below
    }
    await jsm.streams.add({
      name: s.name,
      subjects: s.subjects ?? [wildcardOf(this.config.subject)],
      max_age: nanos(s.max_age),
      max_bytes: s.max_bytes,
      num_replicas: s.replicas,
      duplicate_window: nanos(s.duplicate_window),
    });
    this.settings.logger.info('created JetStream stream', { stream: s.name });
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const js = this.js;
    if (js === undefined || this.nc?.isClosed() !== false) throw new RetryableError(`${this.where}: not connected to NATS yet`);
    // Group resources by subject (one template evaluation per resource, not per record).
    const bySubject = new Map<string, ResourceLogs[]>();
    for (const rl of batch.resourceLogs) {
      const s = subjectFor(this.template, rl);
      const list = bySubject.get(s);
      if (list) list.push(rl);
      else bySubject.set(s, [rl]);
    }
    const oversize: ResourceLogs[] = [];
    const publishes: Promise<unknown>[] = [];
    const timeout = this.config.timeout > 0 ? this.config.timeout : 30_000;
    for (const [subject, rls] of bySubject) {
      const messages: Uint8Array[] = [];
      encodeMessages(rls, this.config.max_message_size, messages, oversize);
      for (const m of messages) publishes.push(js.publish(subject, m, { msgID: msgIdOf(subject, m), timeout }));
    }
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new RetryableError(`${this.where}: publish aborted`));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    void aborted.catch(() => undefined);
    try {
      await Promise.race([Promise.all(publishes), aborted]);
    } catch (e) {
      // Everything is retried; what JetStream already stored is dropped there as a duplicate.
      for (const p of publishes) void p.catch(() => undefined);
      if (e instanceof RetryableError) throw e;
      throw new RetryableError(`${this.where}: publish failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
    if (oversize.length > 0) {
      const n = recordsOf(oversize);
      throw new PartialSendError(`${this.where}: ${n} record(s) larger than max_message_size (${this.config.max_message_size} bytes) alone`, {
        rejected: { resourceLogs: oversize, recordCount: n, receivedAt: batch.receivedAt },
      });
    }
  }

  async shutdown(): Promise<void> {
    this.stop.abort();
    await this.connecting;
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}
