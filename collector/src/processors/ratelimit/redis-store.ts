/**
 * Token buckets in Redis, so several collectors enforce one limit. One Lua script call per batch refills
 * and takes for all of the batch's buckets atomically (never read-then-write from here), on the Redis
 * server's clock (TIME), so collectors with skewed clocks still agree.
 */
import { createHash } from 'node:crypto';
// Loaded in start(): only configs with `store: redis` pay for the client (~10 MiB).
import type { createClient } from 'redis';
import type { Logger } from '../../telemetry/logger.js';
import type { BucketRequest, BucketStore, TakeResult } from './bucket-store.js';

/** KEYS: bucket keys. ARGV[1]: 1 = all-or-nothing; then per key: rate per ms, burst, want. Returns granted…, wait ms. */
export const TAKE_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local all = ARGV[1] == '1'
local n = #KEYS
local tok, rate, burst, want = {}, {}, {}, {}
local wait = 0
for i = 1, n do
  local b = 1 + (i - 1) * 3
  rate[i] = tonumber(ARGV[b + 1]); burst[i] = tonumber(ARGV[b + 2]); want[i] = tonumber(ARGV[b + 3])
  local v = redis.call('HMGET', KEYS[i], 't', 'ts')
  local t, ts = tonumber(v[1]), tonumber(v[2])
  if t == nil or ts == nil then t = burst[i]; ts = now end
  if now > ts then t = math.min(burst[i], t + (now - ts) * rate[i]) end
  tok[i] = t
  if all then
    local need = math.min(want[i], burst[i])
    if t < need then
      local w = math.ceil((need - t) / rate[i])
      if w > wait then wait = w end
    end
  end
end
local out = {}
for i = 1, n do
  local g
  if all then
    if wait > 0 then g = 0 else g = want[i] end
  else
    g = math.max(0, math.min(want[i], math.floor(tok[i])))
  end
  local t = tok[i] - g
  out[i] = g
  redis.call('HSET', KEYS[i], 't', string.format('%.17g', t), 'ts', tostring(now))
  -- A bucket that has refilled completely equals a missing one: let Redis forget it then.
  redis.call('PEXPIRE', KEYS[i], math.ceil((burst[i] - t) / rate[i]) + 1000)
end
out[n + 1] = wait
return out
`;

const TAKE_SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  logger: Logger;
}

/** The URL without credentials, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

type Client = ReturnType<typeof createClient>;

export class RedisBucketStore implements BucketStore {
  private client: Client | undefined;
  private lastErrorLog = 0;

  constructor(private readonly options: RedisStoreOptions) {}

  async start(): Promise<void> {
    const { url, connectTimeoutMs, logger } = this.options;
    const { createClient } = await import('redis');
    const client = createClient({
      url,
      // Fail fast while disconnected instead of queueing commands forever; reconnect in the background.
      disableOfflineQueue: true,
      commandsQueueMaxLength: 10_000,
      socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2000) },
    });
    client.on('error', (err: unknown) => {
      // The client keeps reconnecting; log at most every 10 s.
      const now = Date.now();
      if (now - this.lastErrorLog >= 10_000) {
        this.lastErrorLog = now;
        logger.warn('ratelimit: redis connection error', { url: redactRedisUrl(url), error: err instanceof Error ? err.message : String(err) });
      }
    });
    this.client = client;
    const connecting = client.connect().then(() => true, () => false);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), connectTimeoutMs + 100); });
    const ok = await Promise.race([connecting, timedOut]);
    clearTimeout(timer);
    if (ok) logger.info('ratelimit: connected to redis', { url: redactRedisUrl(url) });
    else logger.warn('ratelimit: redis not reachable at start; retrying in the background (on_store_error applies meanwhile)', { url: redactRedisUrl(url) });
  }

  async take(requests: readonly BucketRequest[], allOrNothing: boolean): Promise<TakeResult> {
    const client = this.client;
    if (client === undefined || !client.isReady) throw new Error('redis not connected');
    const keys = new Array<string>(requests.length);
    const args: string[] = [allOrNothing ? '1' : '0'];
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      keys[i] = this.options.keyPrefix + r.key;
      args.push(String(r.ratePerMs), String(r.burst), String(r.want));
    }
    const tail = [String(keys.length), ...keys, ...args];
    const opts = { timeout: this.options.timeoutMs };
    let reply: unknown;
    try {
      reply = await client.sendCommand(['EVALSHA', TAKE_SHA, ...tail], opts);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      reply = await client.sendCommand(['EVAL', TAKE_SCRIPT, ...tail], opts);
    }
    if (!Array.isArray(reply) || reply.length !== requests.length + 1) throw new Error('unexpected reply from the ratelimit script');
    const nums = reply.map((v) => Number(v));
    return { granted: nums.slice(0, requests.length), retryAfterMs: nums[requests.length]! };
  }

  async shutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    try {
      // close() lets in-flight commands finish; without a live connection there is nothing to wait for.
      if (client.isReady) await client.close();
      else if (client.isOpen) client.destroy();
    } catch {
      if (client.isOpen) client.destroy();
    }
  }
}
