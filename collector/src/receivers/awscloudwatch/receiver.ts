/**
 * Polls CloudWatch Logs: per group (named, or discovered by prefix) and stream filter, FilterLogEvents
 * from the group's cursor minus `overlap` to now, page by page; events already delivered (by eventId,
 * remembered for the overlap window) are skipped; each page goes to the pipeline, then the cursor and
 * the window are saved in file_storage. Throttling and expired credentials back off (pull.ts).
 */
import { createHash } from 'node:crypto';
import type { CloudWatchLogsClient, CloudWatchLogsClientConfig, FilteredLogEvent, LiveTailSessionLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import type { CreateSettings, Host, LogsConsumer, Receiver } from '../../component.js';
import { errorMessage } from '../../errors.js';
import { openCheckpointStore, type CheckpointStore } from '../common/checkpoint-store.js';
import { PullError, PullLoop, SeenWindow, failureOfStatus } from '../common/pull.js';
import { entriesToBatch, newEntry, type Entry } from '../common/records.js';
import { ReceiverSink } from '../common/sink.js';
import { nowNanos } from '@tributary/otlp';
import type { AwsCloudWatchConfig } from './index.js';

type Sdk = typeof import('@aws-sdk/client-cloudwatch-logs');

interface Cursor { ts: number; seen: SeenWindow }
interface StreamFilter { names?: string[]; prefix?: string }

const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException', 'RequestLimitExceeded']);
const AUTH = new Set(['ExpiredTokenException', 'ExpiredToken', 'UnrecognizedClientException', 'InvalidSignatureException', 'AccessDeniedException', 'CredentialsProviderError', 'InvalidClientTokenId']);

export class AwsCloudWatchReceiver implements Receiver {
  private readonly sink: ReceiverSink;
  private readonly loop: PullLoop;
  private client: CloudWatchLogsClient | undefined;
  private sdk: Sdk | undefined;
  private store: CheckpointStore | undefined;
  private cursors = new Map<string, Cursor>();

  constructor(private readonly settings: CreateSettings, private readonly config: AwsCloudWatchConfig, next: LogsConsumer) {
    this.sink = new ReceiverSink(settings.id, settings.telemetry, next, settings.logger, 'pull');
    this.loop = new PullLoop(settings, this.sink, config.logs.poll_interval, () => this.pollOnce());
  }

  async start(host: Host): Promise<void> {
    this.store = openCheckpointStore(host, this.config.storage, this.settings.id.id);
    const doc = this.store.load() as { groups?: Record<string, { ts: number; seen: unknown }> } | undefined;
    for (const [k, v] of Object.entries(doc?.groups ?? {})) this.cursors.set(k, { ts: v.ts, seen: SeenWindow.from(v.seen) });
    this.sdk = await import('@aws-sdk/client-cloudwatch-logs');
    const c: CloudWatchLogsClientConfig = { region: this.config.region, maxAttempts: 1 };
    // StartLiveTail's `stream-` host prefix cannot apply to a configured endpoint.
    if (this.config.endpoint) Object.assign(c, { endpoint: this.config.endpoint, disableHostPrefix: true });
    if (this.config.profile) c.profile = this.config.profile;
    if (this.config.imds_endpoint) process.env['AWS_EC2_METADATA_SERVICE_ENDPOINT'] ??= this.config.imds_endpoint;
    this.client = new this.sdk.CloudWatchLogsClient(c);
    this.loop.start();
    this.settings.logger.info(this.config.live_tail ? 'awscloudwatch receiver live-tailing' : 'awscloudwatch receiver polling', { region: this.config.region, poll_interval_ms: this.config.logs.poll_interval });
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
      const name = err.name ?? '';
      const status = err.$metadata?.httpStatusCode;
      const what = `${name}: ${errorMessage(e)}`;
      if (THROTTLED.has(name) || status === 429) throw new PullError(what, 'throttled');
      if (AUTH.has(name) || status === 401 || status === 403) throw new PullError(what, 'auth');
      if (status !== undefined) throw new PullError(what, failureOfStatus(status));
      throw new PullError(what, 'network');
    }
  }

  private async groups(): Promise<[string, StreamFilter[]][]> {
    const g = this.config.logs.groups;
    const filters = (s: { names: string[]; prefixes: string[] }): StreamFilter[] => {
      const out: StreamFilter[] = [];
      for (let i = 0; i < s.names.length; i += 100) out.push({ names: s.names.slice(i, i + 100) });
      for (const p of s.prefixes) out.push({ prefix: p });
      return out.length ? out : [{}];
    };
    if (g.named) return Object.entries(g.named).map(([name, s]) => [name, filters(s)]);
    const a = g.autodiscover!;
    const names: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.call(() => this.client!.send(new this.sdk!.DescribeLogGroupsCommand({ ...(a.prefix ? { logGroupNamePrefix: a.prefix } : {}), limit: Math.min(50, a.limit), ...(token ? { nextToken: token } : {}) })));
      for (const lg of res.logGroups ?? []) if (lg.logGroupName && names.length < a.limit) names.push(lg.logGroupName);
      token = res.nextToken;
    } while (token && names.length < a.limit);
    return names.map((n) => [n, filters(a.streams)]);
  }

  private async pollOnce(): Promise<void> {
    if (this.config.live_tail) return this.liveTail();
    const now = Date.now();
    for (const [group, filters] of await this.groups()) {
      for (const f of filters) {
        if (this.sink.isStopped) return;
        await this.pollGroup(group, f, now);
      }
    }
  }

  private async pollGroup(group: string, f: StreamFilter, now: number): Promise<void> {
    const key = `${group}|${f.names?.join(',') ?? ''}|${f.prefix ?? ''}`;
    let cur = this.cursors.get(key);
    if (!cur) {
      cur = { ts: this.config.start_from ? Date.parse(this.config.start_from) : now, seen: new SeenWindow() };
      this.cursors.set(key, cur);
    }
    const startTime = Math.max(0, cur.ts - this.config.overlap);
    let token: string | undefined;
    do {
      const res = await this.call(() => this.client!.send(new this.sdk!.FilterLogEventsCommand({
        logGroupName: group, startTime, endTime: now, limit: this.config.logs.max_events_per_request,
        ...(f.names ? { logStreamNames: f.names } : {}), ...(f.prefix ? { logStreamNamePrefix: f.prefix } : {}), ...(token ? { nextToken: token } : {}),
      })));
      const fresh: FilteredLogEvent[] = [];
      for (const ev of res.events ?? []) if (!cur.seen.has(this.eventKey(ev))) fresh.push(ev);
      if (fresh.length > 0) {
        const entries = fresh.map((ev) => this.toEntry(group, ev));
        const r = await this.sink.deliver(entriesToBatch(entries, nowNanos()));
        if (r === 'stopped') return;
        for (const ev of fresh) {
          const ts = ev.timestamp ?? now;
          cur.seen.add(this.eventKey(ev), ts);
          if (ts > cur.ts) cur.ts = ts;
        }
      }
      token = res.nextToken;
      cur.seen.prune(cur.ts - this.config.overlap);
      this.save();
    } while (token && !this.sink.isStopped);
  }

  /**
   * De-duplication key: the eventId when polling; with live_tail (whose events carry no id) stream +
   * time + message hash for both the backfill and the stream, so the seam between them repeats nothing.
   */
  private eventKey(ev: { eventId?: string | undefined; logStreamName?: string | undefined; timestamp?: number | undefined; message?: string | undefined }): string {
    if (!this.config.live_tail && ev.eventId !== undefined) return ev.eventId;
    return `${ev.logStreamName ?? ''}|${ev.timestamp ?? 0}|${createHash('sha1').update(ev.message ?? '').digest('base64')}`;
  }

  /** One live-tail session per group filter: backfill from the cursor, then stream until the session ends. */
  private async liveTail(): Promise<void> {
    const groups = await this.groups();
    await Promise.all(groups.flatMap(([group, filters]) => filters.map((f) => this.tailSession(group, f))));
  }

  private async tailSession(group: string, f: StreamFilter): Promise<void> {
    await this.pollGroup(group, f, Date.now());
    if (this.sink.isStopped) return;
    const key = `${group}|${f.names?.join(',') ?? ''}|${f.prefix ?? ''}`;
    const cur = this.cursors.get(key)!;
    const res = await this.call(() => this.client!.send(new this.sdk!.StartLiveTailCommand({
      logGroupIdentifiers: [group],
      ...(f.names ? { logStreamNames: f.names } : {}), ...(f.prefix ? { logStreamNamePrefixes: [f.prefix] } : {}),
    }), { abortSignal: this.abort.signal }));
    try {
      for await (const ev of res.responseStream ?? []) {
        if (this.sink.isStopped) return;
        if (ev.SessionTimeoutException || ev.SessionStreamingException) {
          const e = ev.SessionTimeoutException ?? ev.SessionStreamingException;
          this.settings.logger.info('awscloudwatch: live tail session ended; backfilling and starting a new one', { group, reason: e?.message?.slice(0, 200) });
          return;
        }
        const results: LiveTailSessionLogEvent[] = ev.sessionUpdate?.sessionResults ?? [];
        const fresh = results.filter((r) => !cur.seen.has(this.eventKey(r)));
        if (fresh.length === 0) continue;
        const r = await this.sink.deliver(entriesToBatch(fresh.map((x) => this.toEntry(group, x)), nowNanos()));
        if (r === 'stopped') return;
        for (const x of fresh) {
          const ts = x.timestamp ?? Date.now();
          cur.seen.add(this.eventKey(x), ts);
          if (ts > cur.ts) cur.ts = ts;
        }
        cur.seen.prune(cur.ts - this.config.overlap);
        this.save();
      }
    } catch (e) {
      if (this.sink.isStopped) return;
      throw new PullError(`live tail stream failed: ${errorMessage(e)}`, 'network');
    }
  }

  private readonly abort = new AbortController();

  private toEntry(group: string, ev: FilteredLogEvent | LiveTailSessionLogEvent): Entry {
    const e = newEntry(ev.message ?? '');
    if (ev.timestamp !== undefined) e.timestamp = BigInt(ev.timestamp) * 1_000_000n;
    if ('eventId' in ev && ev.eventId !== undefined) e.attributes.id = ev.eventId;
    if (ev.ingestionTime !== undefined) e.attributes['aws.cloudwatch.ingestion_time'] = ev.ingestionTime;
    e.resource['aws.region'] = this.config.region;
    e.resource['cloudwatch.log.group.name'] = group;
    if (ev.logStreamName !== undefined) e.resource['cloudwatch.log.stream'] = ev.logStreamName;
    return e;
  }

  private save(): void {
    const groups: Record<string, { ts: number; seen: [string, number][] }> = {};
    for (const [k, c] of this.cursors) groups[k] = { ts: c.ts, seen: c.seen.toJSON() };
    try {
      this.store?.save({ version: 1, groups });
    } catch (e) {
      this.settings.logger.warn('awscloudwatch: cannot save the cursor', { error: errorMessage(e) });
    }
  }

  async shutdown(): Promise<void> {
    this.sink.stop();
    this.abort.abort();
    await this.loop.stop();
    this.client?.destroy();
  }
}
