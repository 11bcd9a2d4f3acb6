/**
 * The `awscloudwatchlogs` exporter: `convertToCloudWatchLogs` + PutLogEvents through the AWS SDK v3
 * (full credential chain, SigV4, region/endpoint resolution). The SDK's own retries are off
 * (`maxAttempts: 1`): the shared queue retries. Streams are sent concurrently; a throttled stream backs
 * off on its own (see README "Throttling") and only its records are handed back for retry.
 */
// The SDK is loaded in start(): only configs that use this exporter pay for it.
import type { Agent as HttpAgent } from 'node:http';
import { Agent } from 'node:https';
import type { CloudWatchLogsClient, CloudWatchLogsClientConfig } from '@aws-sdk/client-cloudwatch-logs';

type CloudWatchSdk = typeof import('@aws-sdk/client-cloudwatch-logs');
import type { CreateSettings, LogsBatch, LogsSender } from '../../component.js';
import { errorMessage, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { RateLimitedLog } from '../../telemetry/logger.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import type { AwsCloudWatchLogsExporterConfig } from './config.js';
import { compileNameTemplate, convertToCloudWatchLogs, type CloudWatchConvertOptions, type PutLogEventsCall } from './convert.js';
import { SplitSendOutcome } from '../common/partial-delivery.js';
import { Metrics } from '../../telemetry/metric-names.js';

export const DROPPED_EVENTS_METRIC = Metrics.cloudwatchDroppedEvents.name;
export const TRUNCATED_EVENTS_METRIC = Metrics.cloudwatchTruncatedEvents.name;
export const THROTTLE_BASE_MS = 1000;
export const THROTTLE_MAX_MS = 30_000;

/** Errors that no retry can fix (bad request, bad auth): the records go to `rejected` / dead letter. */
const PERMANENT_ERRORS = new Set([
  'InvalidParameterException', 'ValidationException', 'AccessDeniedException', 'UnrecognizedClientException',
  'InvalidSignatureException', 'MissingAuthenticationTokenException', 'IncompleteSignature', 'InvalidClientTokenId',
  'UnsupportedOperationException', 'InvalidOperationException', 'MalformedQueryString', 'SerializationException',
]);
const THROTTLING_ERRORS = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'LimitExceededException']);

interface StreamFailure {
  calls: PutLogEventsCall[];
  error: Error;
}

interface ThrottleState {
  until: number;
  backoffMs: number;
}

function awsErrorName(err: unknown): string {
  return typeof (err as { name?: unknown })?.name === 'string' ? (err as { name: string }).name : '';
}

function awsStatus(err: unknown): number | undefined {
  const s = (err as { $metadata?: { httpStatusCode?: unknown } })?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

export class AwsCloudWatchLogsExporter implements LogsSender {
  private readonly options: CloudWatchConvertOptions;
  private readonly where: string;
  private client: CloudWatchLogsClient | undefined;
  private sdk: CloudWatchSdk | undefined;
  private readonly throttled = new Map<string, ThrottleState>();
  private readonly dropped: Record<'too_old' | 'too_new' | 'empty' | 'rejected_by_service', BoundCounter>;
  private readonly truncated: BoundCounter;
  private readonly log: RateLimitedLog;

  constructor(private readonly settings: CreateSettings, private readonly config: AwsCloudWatchLogsExporterConfig) {
    this.options = {
      rawLog: config.raw_log,
      logGroup: compileNameTemplate(config.log_group_name, 'group'),
      logStream: compileNameTemplate(config.log_stream_name, 'stream'),
      defaultRetentionDays: config.log_retention,
    };
    this.where = `exporter ${settings.id.id}`;
    const dropped = settings.telemetry.counter(Metrics.cloudwatchDroppedEvents);
    const id = settings.id.id;
    this.dropped = {
      too_old: dropped.bind({ exporter: id, reason: 'too_old' }),
      too_new: dropped.bind({ exporter: id, reason: 'too_new' }),
      empty: dropped.bind({ exporter: id, reason: 'empty' }),
      rejected_by_service: dropped.bind({ exporter: id, reason: 'rejected_by_service' }),
    };
    this.truncated = settings.telemetry.counter(Metrics.cloudwatchTruncatedEvents).bind({ exporter: id });
    this.log = new RateLimitedLog(settings.logger);
  }

  async start(): Promise<void> {
    const c: CloudWatchLogsClientConfig = { maxAttempts: (this.config.max_retries ?? 0) + 1 };
    if (this.config.region) c.region = this.config.region;
    if (this.config.endpoint) c.endpoint = this.config.endpoint;
    if (this.config.profile) c.profile = this.config.profile;
    if (this.config.no_verify_ssl || this.config.proxy_address) {
      let agent: HttpAgent;
      if (this.config.proxy_address) {
        const { HttpsProxyAgent } = await import('https-proxy-agent');
        agent = new HttpsProxyAgent(this.config.proxy_address, { rejectUnauthorized: !this.config.no_verify_ssl, keepAlive: true });
      } else agent = new Agent({ rejectUnauthorized: false, keepAlive: true });
      c.requestHandler = { httpsAgent: agent };
    }
    if (this.config.role_arn) {
      const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
      c.credentials = fromTemporaryCredentials({
        params: { RoleArn: this.config.role_arn, RoleSessionName: `tributary-${this.settings.id.id.replace(/[^\w+=,.@-]/g, '-')}`.slice(0, 64) },
        clientConfig: this.config.region ? { region: this.config.region } : {},
      });
    }
    this.sdk = await import('@aws-sdk/client-cloudwatch-logs');
    this.client = new this.sdk.CloudWatchLogsClient(c);
  }

  async shutdown(): Promise<void> {
    this.client?.destroy();
    this.client = undefined;
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const client = this.client;
    if (client === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    const conv = convertToCloudWatchLogs(batch.resourceLogs, this.options, Date.now());
    const droppedTotal = conv.dropped.too_old + conv.dropped.too_new + conv.dropped.empty;
    if (droppedTotal > 0) {
      this.dropped.too_old.add(conv.dropped.too_old);
      this.dropped.too_new.add(conv.dropped.too_new);
      this.dropped.empty.add(conv.dropped.empty);
      this.log.warn('dropped log events CloudWatch Logs would refuse', { ...conv.dropped });
    }
    if (conv.truncated > 0) this.truncated.add(conv.truncated);

    // Calls of one stream go in order; streams go concurrently, so one slow or throttled stream never stalls another.
    const streams = new Map<string, PutLogEventsCall[]>();
    for (const call of conv.calls) {
      const key = `${call.logGroupName}\u0000${call.logStreamName}`;
      const list = streams.get(key);
      if (list) list.push(call);
      else streams.set(key, [call]);
    }
    const results = await Promise.all([...streams].map(([key, calls]) => this.sendStream(client, key, calls, signal)));
    const failures = results.filter((r): r is StreamFailure => r !== undefined);
    if (failures.length === 0) return;

    const failedCalls = failures.reduce((n, f) => n + f.calls.length, 0);
    const kinds = new Set(failures.map((f) => f.error.constructor));
    if (failedCalls === conv.calls.length && droppedTotal === 0 && kinds.size === 1) {
      // Nothing got through and every failure is of one kind: the whole batch is retried (or refused) as is.
      if (failures.length === 1) throw failures[0]!.error;
      const first = failures[0]!.error;
      const msg = `${this.where}: ${failures.length} streams failed: ${failures.map((f) => f.error.message).join('; ')}`;
      const retryAfterMs = Math.max(0, ...failures.map((f) => (f.error as { retryAfterMs?: number }).retryAfterMs ?? 0)) || undefined;
      if (first instanceof PermanentError) throw new PermanentError(msg, { cause: first });
      if (first instanceof ThrottledError) throw new ThrottledError(msg, { retryAfterMs, cause: first });
      throw new RetryableError(msg, { retryAfterMs, cause: first });
    }
    const outcome = new SplitSendOutcome(this.where, batch.recordCount);
    for (const f of failures) {
      for (const call of f.calls) {
        if (f.error instanceof PermanentError) outcome.addRejected(call.records, f.error.message);
        else outcome.addRetry(call.records, f.error);
      }
    }
    throw outcome.error(
      `${this.where}: ${failedCalls} of ${conv.calls.length} PutLogEvents calls failed (${outcome.retryCount} events to retry, ${outcome.rejectedCount} refused): ${failures.map((f) => f.error.message).join('; ')}`,
      batch,
    );
  }

  /** Sends one stream's calls in order; on the first failure returns it with the calls not yet sent. */
  private async sendStream(client: CloudWatchLogsClient, key: string, calls: PutLogEventsCall[], signal: AbortSignal): Promise<StreamFailure | undefined> {
    const hold = this.throttled.get(key);
    const now = Date.now();
    if (hold !== undefined && hold.until > now) {
      // Still backing off from a ThrottlingException: don't call; hand the records back with the remaining wait.
      const name = calls[0]!;
      return { calls, error: new ThrottledError(`${this.where}: stream ${name.logGroupName}/${name.logStreamName} is backing off after ThrottlingException`, { retryAfterMs: hold.until - now }) };
    }
    for (let i = 0; i < calls.length; i++) {
      try {
        await this.put(client, calls[i]!, signal);
      } catch (err) {
        return { calls: calls.slice(i), error: this.classify(err, calls[i]!, key, signal) };
      }
    }
    this.throttled.delete(key);
    return undefined;
  }

  private async put(client: CloudWatchLogsClient, call: PutLogEventsCall, signal: AbortSignal): Promise<void> {
    const input = { logGroupName: call.logGroupName, logStreamName: call.logStreamName, logEvents: call.logEvents };
    let out;
    try {
      out = await client.send(new this.sdk!.PutLogEventsCommand(input), { abortSignal: signal });
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceNotFoundException') throw err;
      await this.createStream(client, call, signal);
      out = await client.send(new this.sdk!.PutLogEventsCommand(input), { abortSignal: signal });
    }
    const info = out.rejectedLogEventsInfo;
    if (info) {
      let n = 0;
      if (info.tooNewLogEventStartIndex != null) n += call.logEvents.length - info.tooNewLogEventStartIndex;
      const oldEnd = Math.max(info.tooOldLogEventEndIndex ?? -1, info.expiredLogEventEndIndex ?? -1);
      if (oldEnd >= 0) n += oldEnd + 1;
      if (n > 0) {
        this.dropped.rejected_by_service.add(n);
        this.log.warn('CloudWatch Logs rejected some log events (too old, too new or expired)', {
          log_group: call.logGroupName, log_stream: call.logStreamName, rejected: n,
        });
      }
    }
  }

  /** CreateLogStream; when the group is missing too, CreateLogGroup (with tags) + PutRetentionPolicy first. */
  private async createStream(client: CloudWatchLogsClient, call: PutLogEventsCall, signal: AbortSignal): Promise<void> {
    const streamInput = { logGroupName: call.logGroupName, logStreamName: call.logStreamName };
    try {
      await client.send(new this.sdk!.CreateLogStreamCommand(streamInput), { abortSignal: signal });
      return;
    } catch (err) {
      const name = awsErrorName(err);
      if (name === 'ResourceAlreadyExistsException') return;
      if (name !== 'ResourceNotFoundException') throw err;
    }
    try {
      const tags = Object.keys(this.config.tags).length > 0 ? this.config.tags : undefined;
      await client.send(new this.sdk!.CreateLogGroupCommand({ logGroupName: call.logGroupName, tags }), { abortSignal: signal });
      this.settings.logger.info('created CloudWatch log group', { log_group: call.logGroupName, retention_days: call.retentionInDays ?? 'never expire' });
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceAlreadyExistsException') throw err;
    }
    if (call.retentionInDays !== undefined) {
      await client.send(new this.sdk!.PutRetentionPolicyCommand({ logGroupName: call.logGroupName, retentionInDays: call.retentionInDays }), { abortSignal: signal });
    }
    try {
      await client.send(new this.sdk!.CreateLogStreamCommand(streamInput), { abortSignal: signal });
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceAlreadyExistsException') throw err;
    }
  }

  private classify(err: unknown, call: PutLogEventsCall, key: string, signal: AbortSignal): Error {
    const name = awsErrorName(err);
    const status = awsStatus(err);
    const where = `${this.where}: PutLogEvents ${call.logGroupName}/${call.logStreamName}`;
    const what = `${name || 'Error'}${status !== undefined ? ` (HTTP ${status})` : ''}: ${errorMessage(err).slice(0, 256)}`;
    if (signal.aborted) return new RetryableError(`${where}: request aborted (${what})`, { cause: err });
    if (THROTTLING_ERRORS.has(name) || status === 429) {
      const prev = this.throttled.get(key);
      const backoffMs = prev ? Math.min(prev.backoffMs * 2, THROTTLE_MAX_MS) : THROTTLE_BASE_MS;
      this.throttled.set(key, { until: Date.now() + backoffMs, backoffMs });
      return new ThrottledError(`${where}: ${what}`, { retryAfterMs: backoffMs, cause: err });
    }
    if (PERMANENT_ERRORS.has(name)) return new PermanentError(`${where}: ${what}`, { cause: err });
    if (status !== undefined && status >= 400 && status < 500 && name !== 'ExpiredTokenException' && name !== 'RequestTimeoutException' && name !== 'ResourceNotFoundException') {
      return new PermanentError(`${where}: ${what}`, { cause: err });
    }
    // 5xx, OperationAborted, ServiceUnavailable, network errors, credential-chain failures: retry.
    return new RetryableError(`${where}: ${what}`, { cause: err });
  }
}
