/**
 * Live tail across collector instances: each instance forwards what it publishes to the tail over NATS
 * core subjects or Redis pub/sub, and delivers what the others forward to its own viewers. A broker
 * outage never touches local viewers: forwarding is fire-and-forget, the clients reconnect on their own,
 * and the outage is logged and counted.
 */
import { decodeExportRequest, encodeExportRequest, type ResourceLogs } from '@tributary/otlp';
import { z } from 'zod';
import type { CoordinationConfig } from '../coordination/config.js';
import { connectNats, natsConnectOptions, natsConnectionSchema, type NatsConnectionConfig } from '../coordination/nats-connection.js';
import { RateLimitedLog, type Logger } from '../telemetry/logger.js';
import type { Counter } from '../telemetry/metrics.js';
import { errorMessage } from '../errors.js';
import type { TailHub, TailTenantRule } from './hub.js';

const DEFAULT_CHANNEL = 'tributary.tail';

/** `url` unset: `service.coordination.nats` (servers, auth, TLS) or `.redis.url`, else the local default. */
export const broadcastSchema = z
  .strictObject({
    nats: z.strictObject({ url: z.string().min(1).optional(), subject: z.string().min(1).default(DEFAULT_CHANNEL) }).optional(),
    redis: z.strictObject({ url: z.string().min(1).optional(), channel: z.string().min(1).default(DEFAULT_CHANNEL) }).optional(),
  })
  .refine((c) => !(c.nats && c.redis), { message: 'set one of nats, redis' });

export type BroadcastConfig = z.output<typeof broadcastSchema> & {
  /** Set by the service from `service.coordination.nats` when `nats.url` is unset. */
  natsConnection?: NatsConnectionConfig | undefined;
};

const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The broadcast of an `api` config with what it leaves unset taken from `service.coordination`. */
export function broadcastWithCoordination(b: BroadcastConfig, coordination: CoordinationConfig | undefined): BroadcastConfig {
  if (b.nats && b.nats.url === undefined && coordination?.nats) {
    // The default subject moves under the coordination's subject prefix.
    const subject = b.nats.subject === DEFAULT_CHANNEL ? `${coordination.nats.subject_prefix}.tail` : b.nats.subject;
    return { ...b, nats: { ...b.nats, subject }, natsConnection: coordination.nats };
  }
  if (b.redis && b.redis.url === undefined && coordination?.redis) return { ...b, redis: { ...b.redis, url: coordination.redis.url } };
  return b;
}

/** Message: a one-line JSON header (sender instance, tenant rule), then the batch as OTLP protobuf. */
function encode(instance: string, resourceLogs: readonly ResourceLogs[], rule: TailTenantRule): Uint8Array {
  const head = Buffer.from(`${JSON.stringify({ i: instance, k: rule.key, f: rule.fallback })}\n`);
  const body = encodeExportRequest({ resourceLogs: resourceLogs as ResourceLogs[] });
  return Buffer.concat([head, body]);
}

function decode(buf: Uint8Array): { instance: string; rule: TailTenantRule; resourceLogs: ResourceLogs[] } {
  const nl = buf.indexOf(10);
  if (nl < 0) throw new Error('no header');
  const h = JSON.parse(Buffer.from(buf.subarray(0, nl)).toString()) as { i: string; k: string; f: string };
  return { instance: h.i, rule: { key: h.k, fallback: h.f }, resourceLogs: decodeExportRequest(buf.subarray(nl + 1)).resourceLogs };
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable url)';
  }
}

interface Transport {
  publish(msg: Uint8Array): void;
  close(): Promise<void>;
}

export interface BroadcastMetrics {
  readonly forwarded: Counter;
  readonly received: Counter;
  readonly errors: Counter;
}

export class TailBroadcast {
  private transport: Transport | undefined;
  private stopped = false;
  private readonly stopping = new AbortController();
  /** One warning per 10 s at most: a failing publish happens once per batch. */
  private readonly publishFailures: RateLimitedLog;

  constructor(private readonly config: BroadcastConfig, private readonly hub: TailHub, private readonly logger: Logger, private readonly metrics: BroadcastMetrics) {
    this.publishFailures = new RateLimitedLog(logger);
  }

  async start(): Promise<void> {
    const onMessage = (buf: Uint8Array): void => {
      try {
        const m = decode(buf);
        if (m.instance === this.hub.instance) return;
        this.metrics.received.bind({}).add(1);
        this.hub.publish(m.resourceLogs, m.rule, true);
      } catch (err) {
        this.metrics.errors.bind({ reason: 'malformed' }).add(1);
        this.logger.warn('live tail: ignored a malformed broadcast message', { error: errorMessage(err) });
      }
    };
    // With the broker down at start these wait (the clients keep trying) while local viewers stream.
    const { nats, redis } = this.config;
    let t: Transport | undefined;
    try {
      t = nats
        ? await this.startNats(this.config.natsConnection ?? natsConnectionSchema.parse({ servers: nats.url ?? DEFAULT_NATS_URL }), nats.subject, onMessage)
        : redis
          ? await this.startRedis({ url: redis.url ?? DEFAULT_REDIS_URL, channel: redis.channel }, onMessage)
          : undefined;
    } catch (err) {
      if (this.stopped) return; // stopped before the broker was reached
      throw err;
    }
    if (!t) return;
    if (this.stopped) {
      await t.close();
      return;
    }
    this.transport = t;
    this.hub.onPublish = (resourceLogs, rule) => {
      try {
        t.publish(encode(this.hub.instance, resourceLogs, rule));
        this.metrics.forwarded.bind({}).add(1);
      } catch (err) {
        this.metrics.errors.bind({ reason: 'publish' }).add(1);
        this.publishFailures.warn('live tail: forwarding to other instances failed', { error: errorMessage(err) });
      }
    };
  }

  private async startNats(conn: NatsConnectionConfig, subject: string, onMessage: (b: Uint8Array) => void): Promise<Transport> {
    // Same servers, auth and TLS handling as the nats exporter and receiver; keeps trying while NATS is
    // down (saying why once, e.g. an authorization error) until stop().
    const nc = await connectNats(conn, await natsConnectOptions('live tail broadcast', conn, 'tributary-tail'), this.logger, this.stopping.signal);
    const c = { url: conn.servers.join(','), subject };
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'error') {
          this.metrics.errors.bind({ reason: 'disconnected' }).add(1);
          this.logger.warn('live tail: NATS connection lost; local viewers keep streaming, reconnecting', { url: redactUrl(c.url) });
        } else if (s.type === 'reconnect') this.logger.info('live tail: NATS connection back', { url: redactUrl(c.url) });
      }
    })();
    const sub = nc.subscribe(c.subject);
    void (async () => {
      for await (const m of sub) onMessage(m.data);
    })();
    await nc.flush();
    return {
      publish: (msg) => nc.publish(c.subject, msg),
      close: async () => {
        await nc.drain().catch(() => undefined);
      },
    };
  }

  private async startRedis(c: { url: string; channel: string }, onMessage: (b: Uint8Array) => void): Promise<Transport> {
    const { createClient } = await import('redis');
    // Every failed (re)connect attempt is counted; the log says once that the link is down, once it is back.
    let down = false;
    const warn = (err: unknown): void => {
      this.metrics.errors.bind({ reason: 'disconnected' }).add(1);
      if (down) return;
      down = true;
      this.logger.warn('live tail: Redis connection problem; local viewers keep streaming, reconnecting', { url: redactUrl(c.url), error: errorMessage(err) });
    };
    const pub = createClient({ url: c.url });
    const sub = pub.duplicate();
    pub.on('error', warn);
    sub.on('error', warn);
    const back = (): void => {
      if (!down || !pub.isReady || !sub.isReady) return;
      down = false;
      this.logger.info('live tail: Redis connection back', { url: redactUrl(c.url) });
    };
    pub.on('ready', back);
    sub.on('ready', back);
    await pub.connect();
    await sub.connect();
    await sub.subscribe(c.channel, (message: Buffer) => onMessage(message), true);
    return {
      publish: (msg) => {
        if (pub.isReady) void pub.publish(c.channel, Buffer.from(msg)).catch(warn);
      },
      close: async () => {
        await Promise.allSettled([sub.quit(), pub.quit()]);
      },
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.hub.onPublish = undefined;
    const t = this.transport;
    this.transport = undefined;
    if (t) await t.close();
  }
}
