/** Config of the `retention` processor: ordered policies (first match wins) and a default. */
import { z } from 'zod';
import { errorMode, ottlCondition, severityBound } from '../../ottl/index.js';

/** Class names end up in index names, log group names and metric labels: keep them plain. */
const className = () => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'use letters, digits, "_", "." and "-"');
/** Days to keep; -1 means forever. */
const days = () => z.number().int().min(-1);

export const retentionPolicySchema = z
  .strictObject({
    /** The class written to `retention.class`. Several policies may share a class. */
    name: className(),
    days: days(),
    /** An OTTL condition (same language as the filter processor). */
    when: ottlCondition().optional(),
    min_severity: severityBound('min').optional(),
    max_severity: severityBound('max').optional(),
    /** Attribute `log.category` is one of these. */
    categories: z.array(z.string()).optional(),
    /** Every attribute equals its value (typed: 5 is not "5"). */
    attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.min_severity !== undefined && p.max_severity !== undefined && p.min_severity > p.max_severity) {
      ctx.addIssue({ code: 'custom', path: ['max_severity'], message: 'must not be below min_severity' });
    }
  });

export type RetentionPolicy = z.output<typeof retentionPolicySchema>;

export const retentionProcessorConfigSchema = z.strictObject({
  /** What an evaluation error in a `when` condition does: propagate (reject the batch), ignore, silent. */
  error_mode: errorMode(),
  /** Ordered, first match wins. Absent: the built-in policies (BUILTIN_POLICIES). */
  policies: z.array(retentionPolicySchema).optional(),
  /** Applied when no policy matches. */
  default: z.strictObject({ name: className(), days: days() }).default({ name: 'standard', days: 7 }),
});

export type RetentionProcessorConfig = z.output<typeof retentionProcessorConfigSchema>;

/** Used when `policies` is not given: audit/security forever, error+ 90 d, warn 30 d (the default, standard, 7 d, covers the rest). */
export const BUILTIN_POLICIES: readonly RetentionPolicy[] = [
  { name: 'audit', categories: ['audit', 'security'], days: -1 },
  { name: 'error', min_severity: 17, days: 90 },
  { name: 'warn', min_severity: 13, max_severity: 16, days: 30 },
];
