/** Config of the `nats` receiver: a durable JetStream pull consumer of OTLP protobuf messages. */
import { z } from 'zod';
import { duration, section } from '../../config/schema-helpers.js';
import { checkNatsAuth, natsConnectionShape } from '../../coordination/nats-connection.js';

export const natsReceiverConfigSchema = z
  .strictObject({
    ...natsConnectionShape,
    /** The JetStream stream to read (the `nats` exporter's `stream.name`). */
    stream: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
    consumer: section({
      /** Durable consumer name: every gateway with the same name shares the work (each message to one). */
      durable: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('tributary'),
      /** Only subjects matching this (e.g. `logs.acme`); unset = the whole stream. */
      filter_subject: z.string().min(1).optional(),
      deliver_policy: z.enum(['all', 'new', 'last', 'last_per_subject']).default('all'),
      /** Unacknowledged this long, a message is redelivered (to this or another gateway). */
      ack_wait: duration().prefault('30s'),
      /** Most messages delivered and not yet acknowledged, over all gateways. */
      max_ack_pending: z.number().int().min(1).default(1000),
    }),
    /** Messages asked for per pull, processed concurrently. */
    fetch_size: z.number().int().min(1).max(10_000).default(64),
    /** How long one pull waits for messages. */
    fetch_timeout: duration().prefault('5s'),
    /** Redelivery delay when the pipeline pushes back without saying when. */
    nak_delay: duration().prefault('1s'),
  })
  .superRefine(checkNatsAuth);

export type NatsReceiverConfig = z.output<typeof natsReceiverConfigSchema>;
