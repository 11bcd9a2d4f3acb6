/** Config of the `nats` exporter: JetStream publishing of OTLP protobuf batches. */
import { z } from 'zod';
import { byteSize, duration } from '../../config/schema-helpers.js';
import { checkNatsAuth, natsConnectionShape } from '../../coordination/nats-connection.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

/** A subject with `{resource attribute}` placeholders: `logs.{tenant}`, `logs.{service.name}`. */
const SUBJECT = /^([A-Za-z0-9_-]+|\{[^{}\s]+\})(\.([A-Za-z0-9_-]+|\{[^{}\s]+\}))*$/;

export const natsStreamSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
  /** Subjects the stream captures (wildcards allowed); default: the exporter's subject with placeholders as `*`. */
  subjects: z.array(z.string().min(1)).optional(),
  /** Oldest message kept (0 = unlimited). */
  max_age: duration().prefault('0s'),
  /** Most bytes kept (-1 = unlimited). */
  max_bytes: z.union([z.literal(-1), byteSize()]).default(-1),
  replicas: z.number().int().min(1).max(5).default(1),
  /** Window in which JetStream drops a message whose Nats-Msg-Id it has seen (retries after a lost ack). */
  duplicate_window: duration().prefault('2m'),
});

export const natsExporterConfigSchema = z
  .strictObject({
    ...natsConnectionShape,
    /** Subject each batch is published to; `{key}` is the resource attribute `key` (missing: `unknown`). */
    subject: z.string().regex(SUBJECT, 'must be dot-separated tokens or {resource attribute} placeholders, e.g. logs.{tenant}').default('tributary.logs'),
    /** Largest message; a bigger batch is split (the NATS server default max_payload is 1MiB). */
    max_message_size: byteSize().prefault('1MiB'),
    /** Created (or left as is when it exists) at start. Unset: the stream must exist. */
    stream: natsStreamSchema.optional(),
    ...exporterHelperShape,
  })
  .superRefine(checkNatsAuth);

export type NatsExporterConfig = z.output<typeof natsExporterConfigSchema>;
export type NatsStreamConfig = z.output<typeof natsStreamSchema>;
