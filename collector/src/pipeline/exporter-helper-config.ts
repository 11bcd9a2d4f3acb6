/**
 * The keys every exporter accepts for the shared queue / retry / timeout wrapper, with the
 * OpenTelemetry Collector exporterhelper defaults. Exporter schemas spread `exporterHelperShape`.
 */
import { z } from 'zod';
import { duration, section } from '../config/schema-helpers.js';

export const sendingQueueSchema = section({
  enabled: z.boolean().default(true),
  /** Concurrent senders draining the queue. */
  num_consumers: z.number().int().min(1).default(10),
  /** Capacity in batches (requests), as upstream's default `sizer: requests`. */
  queue_size: z.number().int().min(1).default(1000),
  /** Extension id of a storage extension for a persistent queue; unset = in memory. */
  storage: z.string().optional(),
  /** When full: refuse new batches with back-pressure (false) or drop the oldest, counted (true). */
  drop_oldest: z.boolean().default(false),
  /**
   * Upstream keys accepted for existing configs. `block_on_overflow` / `blocking`: a full queue already
   * pushes back on senders. `sizer`: `queue_size` counts batches (`requests`); `items` / `bytes` are
   * accepted but still count batches. `wait_for_result` and `batch` (exporter-side batching; the batch
   * processor does that job): no effect. The exporter says so once at start.
   */
  block_on_overflow: z.boolean().optional(),
  blocking: z.boolean().optional(),
  sizer: z.enum(['requests', 'items', 'bytes']).optional(),
  wait_for_result: z.boolean().optional(),
  batch: z.record(z.string(), z.unknown()).nullish(),
});

export const retryOnFailureSchema = section({
  enabled: z.boolean().default(true),
  initial_interval: duration().prefault('5s'),
  randomization_factor: z.number().min(0).max(1).default(0.5),
  multiplier: z.number().min(1).default(1.5),
  max_interval: duration().prefault('30s'),
  /** Give up after this long (0 = never). */
  max_elapsed_time: duration().prefault('300s'),
});

/**
 * Where records that can never be delivered go (permanent errors, per-item rejections), as OTLP/JSON
 * lines with the reason; `tributary replay` resends them. Unset path = not written (counted only).
 */
export const deadLetterSchema = section({
  path: z.string().min(1).optional(),
});

export const exporterHelperShape = {
  dead_letter: deadLetterSchema,
  /** Per-send timeout. */
  timeout: duration().prefault('5s'),
  sending_queue: sendingQueueSchema,
  retry_on_failure: retryOnFailureSchema,
};

export type SendingQueueConfig = z.output<typeof sendingQueueSchema>;
export type RetryOnFailureConfig = z.output<typeof retryOnFailureSchema>;
export type DeadLetterConfig = z.output<typeof deadLetterSchema>;
export interface ExporterHelperConfig {
  dead_letter?: DeadLetterConfig;
  timeout: number;
  sending_queue: SendingQueueConfig;
  retry_on_failure: RetryOnFailureConfig;
}

const HELPER_KEYS: readonly string[] = Object.keys(exporterHelperShape);
const helperKeysSchema = z.strictObject(exporterHelperShape);

/** True when `schema` is an object schema that already declares the helper keys. */
function declaresHelperKeys(schema: z.ZodType): boolean {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  return shape !== undefined && HELPER_KEYS.every((k) => k in shape);
}

/**
 * An exporter's config schema with the helper keys (`timeout`, `sending_queue`, `retry_on_failure`,
 * `dead_letter`) attached: they are split off and parsed here, the rest goes to the exporter's own
 * schema, and issues of both keep their paths. Schemas that already declare the keys are returned as is.
 */
export function withExporterHelperKeys<C>(schema: z.ZodType<C>): z.ZodType<C & ExporterHelperConfig> {
  if (declaresHelperKeys(schema)) return schema as z.ZodType<C & ExporterHelperConfig>;
  return z.unknown().transform((value, ctx) => {
    const own: Record<string, unknown> = {};
    const helper: Record<string, unknown> = {};
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    if (isObject) for (const [k, v] of Object.entries(value)) (HELPER_KEYS.includes(k) ? helper : own)[k] = v;
    const h = helperKeysSchema.safeParse(helper);
    const o = schema.safeParse(isObject ? own : value);
    for (const issue of [...(h.success ? [] : h.error.issues), ...(o.success ? [] : o.error.issues)]) ctx.addIssue({ ...issue });
    if (!h.success || !o.success) return z.NEVER;
    return { ...(o.data as object), ...h.data } as C & ExporterHelperConfig;
  });
}
