/** The `api` extension's config schema. */
import { z } from 'zod';
import { byteSize, duration, endpoint } from '../../config/schema-helpers.js';
import { jwtConfigSchema } from '../../auth/jwt.js';
import { broadcastSchema } from '../../tail/broadcast.js';

export const apiConfigSchema = z.strictObject({
  endpoint: endpoint('127.0.0.1:3100'),
  /** Id of the store exporter to read; default: the only one in the config. */
  store: z.string().min(1).optional(),
  auth: z.strictObject({ jwt: jwtConfigSchema }).optional(),
  /** Allow listening on a non-loopback address without `auth`. */
  allow_unauthenticated: z.boolean().default(false),
  default_limit: z.number().int().positive().default(100),
  max_limit: z.number().int().positive().default(5000),
  max_body_size: byteSize().prefault('1MiB'),
  request_timeout: duration().prefault('60s'),
  /** The dashboard at `/` and its metrics history (`/api/v1/metrics/history`). */
  dashboard: z.boolean().default(true),
  /** Live tail over WebSocket (`/api/v1/tail`, `/loki/api/v1/tail`). */
  tail: z
    .strictObject({
      /** Records kept per viewer while it is slow; the oldest are dropped (and counted) beyond this. */
      buffer_size: z.number().int().positive().default(5000),
      /** A frame goes out after this long, or at `batch_size` records, whichever first. */
      flush_interval: duration().prefault('100ms'),
      batch_size: z.number().int().positive().default(500),
      heartbeat_interval: duration().prefault('15s'),
      /** Concurrent tail subscriptions per token (per client address without auth); more get 429. */
      max_subscriptions_per_token: z.number().int().positive().default(20),
      /** Largest message a client may send (bytes). */
      max_message_size: byteSize().prefault('4KiB'),
      /** Most records a resume (`start=<cursor>`) reads from the store. */
      max_backlog: z.number().int().positive().default(50000),
      /** Share the tail with other collector instances over NATS core subjects or Redis pub/sub. */
      broadcast: broadcastSchema.optional(),
    })
    .prefault({}),
});

export type ApiConfig = z.output<typeof apiConfigSchema>;
