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
import { connectNats, natsConnectOptions } from '../../coordination/nats-connection.js';
import { errorMessage, PartialSendError, RetryableError } from '../../errors.js';
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

/** A JetStream publish nobody answered: no stream captures the subject (or JetStream is not enabled). */
function isNoResponders(e: unknown): boolean {
  return e instanceof Error && 'code' in e && (e as { code?: unknown }).code === '503';
}

/** `rls` minus the single-record resources `drop` holds (the same objects encodeMessages set apart). */
export function withoutRecords(rls: ResourceLogs[], drop: ResourceLogs[]): ResourceLogs[] {
  if (drop.length === 0) return rls;
  const gone = new Set(drop.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
  const out: ResourceLogs[] = [];
  for (const rl of rls) {
    const scopeLogs = rl.scopeLogs.map((sl) => ({ ...sl, logRecords: sl.logRecords.filter((lr) => !gone.has(lr)) })).filter((sl) => sl.logRecords.length > 0);
    if (scopeLogs.length > 0) out.push({ ...rl, scopeLogs });
  }
  return out;
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

  /**
   * Reads the key files now (a missing or malformed one fails the start), then connects in the background:
   * with NATS down at start the queue holds the data until it is back.
   */
  async start(): Promise<void> {
    const options = await natsConnectOptions(this.where, this.config, `tributary ${this.settings.id.id}`);
    this.connecting = connectNats(this.config, options, this.settings.logger, this.stop.signal)
      .then(async (nc) => {
        if (this.stop.signal.aborted) {
          await nc.close();
          return;
        }
        if (this.config.stream) await this.ensureStream(nc, this.config.stream);
        else await this.checkStreamExists(nc);
        this.nc = nc;
        this.js = nc.jetstream();
      })
      .catch((e: unknown) => {
        if (!this.stop.signal.aborted) this.settings.logger.error('NATS setup failed; batches stay queued', { error: e instanceof Error ? e.message : String(e) });
      });
  }

  /** With no `stream` configured, says at start (not only at the first refused batch) that none captures the subject. */
  private async checkStreamExists(nc: NatsConnection): Promise<void> {
    const subject = wildcardOf(this.config.subject);
    if (await this.noStreamCaptures(nc, subject)) {
      this.settings.logger.error('no JetStream stream captures the subject: batches will be refused (counted as dropped, or dead-lettered)', {
        subject,
        hint: 'set stream: { name: … } on the exporter to create one at start, or create the stream',
      });
    }
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
    const nc = this.nc;
    if (js === undefined || nc === undefined || nc.isClosed()) throw new RetryableError(`${this.where}: not connected to NATS yet`);
    // Group resources by subject (one template evaluation per resource, not per record).
    const bySubject = new Map<string, ResourceLogs[]>();
    for (const rl of batch.resourceLogs) {
      const s = subjectFor(this.template, rl);
      const list = bySubject.get(s);
      if (list) list.push(rl);
      else bySubject.set(s, [rl]);
    }
    const groups: { subject: string; rls: ResourceLogs[]; oversize: ResourceLogs[]; done: Promise<PromiseSettledResult<unknown>[]> }[] = [];
    const timeout = this.config.timeout > 0 ? this.config.timeout : 30_000;
    for (const [subject, rls] of bySubject) {
      const messages: Uint8Array[] = [];
      const oversize: ResourceLogs[] = [];
      encodeMessages(rls, this.config.max_message_size, messages, oversize);
      groups.push({ subject, rls, oversize, done: Promise.allSettled(messages.map((m) => js.publish(subject, m, { msgID: msgIdOf(subject, m), timeout }))) });
    }
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new RetryableError(`${this.where}: publish aborted`));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    void aborted.catch(() => undefined);
    let results: PromiseSettledResult<unknown>[][];
    try {
      results = await Promise.race([Promise.all(groups.map((g) => g.done)), aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
    // Per subject: all acked (sent), no stream captures it (refused for good when this exporter manages
    // no stream), or anything else (sent again; what JetStream already stored is dropped as a duplicate).
    const retry: ResourceLogs[] = [];
    const rejected: ResourceLogs[] = [];
    const noStream: string[] = [];
    let firstError: unknown;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      const failed = results[i]!.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length === 0) {
        rejected.push(...g.oversize);
        continue;
      }
      firstError ??= failed[0]!.reason;
      if (failed.every((r) => isNoResponders(r.reason)) && (await this.noStreamCaptures(nc, g.subject))) {
        noStream.push(g.subject);
        if (this.config.stream === undefined) {
          rejected.push(...g.rls);
          continue;
        }
      }
      // Records too large alone are refused now; the rest of the subject's records are sent again.
      rejected.push(...g.oversize);
      retry.push(...withoutRecords(g.rls, g.oversize));
    }
    if (retry.length === 0 && rejected.length === 0) return;
    const rejectedN = recordsOf(rejected);
    const retryN = recordsOf(retry);
    const why =
      noStream.length > 0
        ? `no JetStream stream captures subject ${noStream.join(', ')}${this.config.stream === undefined ? ' (set `stream:` on the exporter to create one, or create it)' : ''}`
        : firstError !== undefined
          ? `publish failed: ${errorMessage(firstError)}`
          : `${rejectedN} record(s) larger than max_message_size (${this.config.max_message_size} bytes) alone`;
    if (rejectedN === 0) throw new RetryableError(`${this.where}: ${why}`, { cause: firstError });
    throw new PartialSendError(`${this.where}: ${why}`, {
      rejected: { resourceLogs: rejected, recordCount: rejectedN, receivedAt: batch.receivedAt },
      retry: retryN > 0 ? { resourceLogs: retry, recordCount: retryN, receivedAt: batch.receivedAt } : undefined,
    });
  }

  /**
   * True when no stream captures `subject`. With `stream` configured the stream is created again (it was
   * deleted while running); the batch is then retried.
   */
  private async noStreamCaptures(nc: NatsConnection, subject: string): Promise<boolean> {
    try {
      const jsm = await nc.jetstreamManager({ checkAPI: false });
      try {
        await jsm.streams.find(subject);
        return false;
      } catch {
        // no stream matches the subject
      }
      if (this.config.stream) await this.ensureStream(nc, this.config.stream);
      return true;
    } catch {
      return false; // JetStream not answering: a transient fault, retried
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
