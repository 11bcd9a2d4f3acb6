/**
 * Polls Cloud Logging: `POST /v2/entries:list` ordered by timestamp from the cursor minus `overlap`,
 * following page tokens (an expired token restarts the window from the cursor); entries already
 * delivered (by logName + insertId, remembered for the overlap window) are skipped. LogEntry → record
 * is the inverse of the googlecloud exporter's mapping.
 */
import type { GoogleAuth } from 'google-auth-library';
import { idFromHex, nowNanos } from '@tributary/otlp';
import type { CreateSettings, Host, LogsConsumer, Receiver } from '../../component.js';
import { errorMessage, parseRetryAfter } from '../../errors.js';
import { openCheckpointStore, type CheckpointStore } from '../common/checkpoint-store.js';
import { PullError, PullLoop, SeenWindow, failureOfStatus } from '../common/pull.js';
import { entriesToBatch, newEntry, type Entry } from '../common/records.js';
import { ReceiverSink } from '../common/sink.js';
import type { GoogleCloudLoggingConfig } from './index.js';

const SCOPE = 'https://www.googleapis.com/auth/logging.read';
const SEVERITY: Record<string, number> = { DEFAULT: 0, DEBUG: 5, INFO: 9, NOTICE: 10, WARNING: 13, ERROR: 17, CRITICAL: 18, ALERT: 19, EMERGENCY: 21 };

interface LogEntry {
  logName?: string; insertId?: string; timestamp?: string; receiveTimestamp?: string; severity?: string;
  textPayload?: string; jsonPayload?: Record<string, unknown>; protoPayload?: Record<string, unknown>;
  labels?: Record<string, string>; resource?: { type?: string; labels?: Record<string, string> };
  trace?: string; spanId?: string; traceSampled?: boolean; httpRequest?: Record<string, unknown>;
  sourceLocation?: { file?: string; line?: string; function?: string }; operation?: Record<string, unknown>;
}

function nanosOf(ts: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(ts);
  if (!m) return BigInt(Date.parse(ts) || 0) * 1_000_000n;
  return BigInt(Date.parse(`${m[1]!}${m[3]!}`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

export function logEntryToEntry(le: LogEntry): Entry {
  const e = newEntry(le.textPayload ?? le.jsonPayload ?? le.protoPayload ?? '');
  if (le.timestamp) e.timestamp = nanosOf(le.timestamp);
  if (le.severity !== undefined) {
    e.severity = SEVERITY[le.severity] ?? 0;
    e.severityText = le.severity;
  }
  if (le.logName) e.attributes['gcp.log_name'] = le.logName;
  if (le.insertId) e.attributes['gcp.insert_id'] = le.insertId;
  for (const [k, v] of Object.entries(le.labels ?? {})) e.attributes[k] = v;
  if (le.httpRequest) e.attributes['gcp.http_request'] = le.httpRequest;
  if (le.operation) e.attributes['gcp.operation'] = le.operation;
  if (le.sourceLocation) {
    if (le.sourceLocation.file) e.attributes['code.filepath'] = le.sourceLocation.file;
    if (le.sourceLocation.line) e.attributes['code.lineno'] = Number(le.sourceLocation.line);
    if (le.sourceLocation.function) e.attributes['code.function'] = le.sourceLocation.function;
  }
  const trace = le.trace ? /([0-9a-f]{32})$/i.exec(le.trace)?.[1] : undefined;
  if (trace) e.traceId = idFromHex(trace, 16);
  if (le.spanId && /^[0-9a-f]{16}$/i.test(le.spanId)) e.spanId = idFromHex(le.spanId, 8);
  if (le.resource?.type) e.resource['gcp.resource_type'] = le.resource.type;
  for (const [k, v] of Object.entries(le.resource?.labels ?? {})) e.resource[k] = v;
  return e;
}

export class GoogleCloudLoggingReceiver implements Receiver {
  private readonly sink: ReceiverSink;
  private readonly loop: PullLoop;
  private auth: GoogleAuth | undefined;
  private store: CheckpointStore | undefined;
  private project = '';
  private cursor = 0;
  private seen = new SeenWindow();
  private readonly url: string;

  constructor(private readonly settings: CreateSettings, private readonly config: GoogleCloudLoggingConfig, next: LogsConsumer) {
    this.sink = new ReceiverSink(settings.id, settings.telemetry, next, settings.logger, 'pull');
    this.loop = new PullLoop(settings, this.sink, config.poll_interval, () => this.pollOnce());
    this.url = `${config.endpoint.replace(/\/$/, '')}/v2/entries:list`;
  }

  async start(host: Host): Promise<void> {
    this.store = openCheckpointStore(host, this.config.storage, this.settings.id.id);
    const doc = this.store.load() as { ts?: number; seen?: unknown } | undefined;
    this.cursor = doc?.ts ?? (this.config.start_from ? Date.parse(this.config.start_from) : Date.now());
    this.seen = SeenWindow.from(doc?.seen);
    const { GoogleAuth } = await import('google-auth-library');
    this.auth = new GoogleAuth({ scopes: [SCOPE], ...(this.config.credentials_file ? { keyFilename: this.config.credentials_file } : {}), ...(this.config.project ? { projectId: this.config.project } : {}) });
    this.auth.useJWTAccessWithScope = true;
    try {
      this.project = this.config.project || (await this.auth.getProjectId());
    } catch (e) {
      throw new Error(`receivers.${this.settings.id.id}.project: not set and the credentials name none (${errorMessage(e)})`);
    }
    this.loop.start();
    this.settings.logger.info('googlecloudlogging receiver polling', { project: this.project });
  }

  private async headers(): Promise<Record<string, string>> {
    const out: Record<string, string> = { 'content-type': 'application/json' };
    let h: unknown;
    try {
      h = await this.auth!.getRequestHeaders(this.url);
    } catch (e) {
      throw new PullError(`getting credentials failed: ${errorMessage(e)}`, 'auth');
    }
    if (h instanceof Headers) h.forEach((v, k) => { out[k.toLowerCase()] = v; });
    else for (const [k, v] of Object.entries(h as Record<string, string>)) out[k.toLowerCase()] = v;
    return out;
  }

  private async pollOnce(): Promise<void> {
    const from = new Date(Math.max(0, this.cursor - this.config.overlap)).toISOString();
    const filter = `${this.config.filter ? `(${this.config.filter}) AND ` : ''}timestamp >= "${from}"`;
    let pageToken: string | undefined;
    do {
      const body = JSON.stringify({ resourceNames: [`projects/${this.project}`], filter, orderBy: 'timestamp asc', pageSize: this.config.page_size, ...(pageToken ? { pageToken } : {}) });
      let res: Response;
      try {
        res = await fetch(this.url, { method: 'POST', headers: await this.headers(), body, signal: AbortSignal.timeout(60_000) });
      } catch (e) {
        if (e instanceof PullError) throw e;
        throw new PullError(`entries:list failed: ${errorMessage(e)}`, 'network');
      }
      const text = await res.text();
      if (!res.ok) {
        if (res.status === 400 && pageToken && /page.?token/i.test(text)) {
          // The token expired between polls or pages: start the window again from the cursor.
          this.settings.logger.warn('googlecloudlogging: page token expired; re-reading from the cursor', {});
          pageToken = undefined;
          return;
        }
        throw new PullError(`entries:list answered ${res.status}: ${text.slice(0, 300)}`, failureOfStatus(res.status), parseRetryAfter(res.headers.get('retry-after')));
      }
      const out = JSON.parse(text) as { entries?: LogEntry[]; nextPageToken?: string };
      const fresh = (out.entries ?? []).filter((le) => !this.seen.has(`${le.logName ?? ''}|${le.insertId ?? ''}`));
      if (fresh.length > 0) {
        const r = await this.sink.deliver(entriesToBatch(fresh.map(logEntryToEntry), nowNanos()));
        if (r === 'stopped') return;
        for (const le of fresh) {
          const ms = le.timestamp ? Number(nanosOf(le.timestamp) / 1_000_000n) : Date.now();
          this.seen.add(`${le.logName ?? ''}|${le.insertId ?? ''}`, ms);
          if (ms > this.cursor) this.cursor = ms;
        }
      }
      this.seen.prune(this.cursor - this.config.overlap);
      this.save();
      pageToken = out.nextPageToken || undefined;
    } while (pageToken && !this.sink.isStopped);
  }

  private save(): void {
    try {
      this.store?.save({ version: 1, ts: this.cursor, seen: this.seen.toJSON() });
    } catch (e) {
      this.settings.logger.warn('googlecloudlogging: cannot save the cursor', { error: errorMessage(e) });
    }
  }

  async shutdown(): Promise<void> {
    await this.loop.stop();
  }
}
