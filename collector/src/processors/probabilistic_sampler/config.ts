/** Config of the `probabilistic_sampler` processor: upstream probabilisticsamplerprocessor keys (logs) plus `severity_percentages`. */
import { z } from 'zod';

const percentage = z.number().min(0).max(100);

/** Severity ranges by OTLP severity number: TRACE 1–4, DEBUG 5–8, INFO 9–12, WARN 13–16, ERROR 17–20, FATAL 21–24. */
export const SEVERITY_RANGES = ['UNSPECIFIED', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type SeverityRange = (typeof SEVERITY_RANGES)[number];

export const probabilisticSamplerConfigSchema = z
  .strictObject({
    /** Share of records kept, in percent (0–100). */
    sampling_percentage: percentage.default(0),
    /** Seed of the FNV-1a hash; collectors that must agree on a trace use the same seed. */
    hash_seed: z.number().int().min(0).max(0xffffffff).default(0),
    /** Upstream's sampling modes; only `hash_seed` is implemented. */
    mode: z.enum(['hash_seed']).default('hash_seed'),
    /** What is hashed: the trace id (`traceID`) or the value of `from_attribute` (`record`). */
    attribute_source: z.enum(['traceID', 'record']).default('traceID'),
    /** Record attribute hashed when `attribute_source: record`. */
    from_attribute: z.string().default(''),
    /** Record attribute whose numeric value (0–100) replaces the percentage for that record. */
    sampling_priority: z.string().default(''),
    /** With `attribute_source: record`, drop records that lack `from_attribute` (upstream default true). */
    fail_closed: z.boolean().default(true),
    /** Tributary: percentage per severity range; ranges not listed use `sampling_percentage`. */
    severity_percentages: z.partialRecord(z.enum(SEVERITY_RANGES), percentage).default({}),
  })
  .superRefine((c, ctx) => {
    if (c.attribute_source === 'record' && c.from_attribute === '') {
      ctx.addIssue({ code: 'custom', path: ['from_attribute'], message: 'required when attribute_source is record' });
    }
  });

export type ProbabilisticSamplerConfig = z.output<typeof probabilisticSamplerConfigSchema>;
