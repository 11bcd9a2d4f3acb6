/**
 * `service.coordination`: the shared-state services several collectors (or the workers of one) use
 * together. Redis holds shared counters (the ratelimit processor's `store: redis` takes its URL from
 * here when its own `redis.url` is unset); NATS is the bus for fan-out between instances. The api
 * extension's live tail fan-out uses it when its broadcast names no URL. Alert counts and notification
 * de-duplication are meant to use the same block.
 */
import { z } from 'zod';
import { duration, section } from '../config/schema-helpers.js';
import { checkNatsAuth, natsConnectionShape } from './nats-connection.js';

export const coordinationRedisSchema = z.strictObject({
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  /** Prefix of every key Tributary writes, so several deployments can share one Redis. */
  key_prefix: z.string().default('tributary:'),
  /** Longest wait for one Redis call. */
  timeout: duration().prefault('250ms'),
});

export const coordinationNatsSchema = z.strictObject({ ...natsConnectionShape, subject_prefix: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/).default('tributary') }).superRefine(checkNatsAuth);

export const coordinationSchema = section({
  redis: coordinationRedisSchema.optional(),
  nats: coordinationNatsSchema.optional(),
});

export type CoordinationConfig = z.output<typeof coordinationSchema>;
