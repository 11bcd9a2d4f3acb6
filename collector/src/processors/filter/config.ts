/** Config of the `filter` processor: upstream filterprocessor keys for logs, plus Tributary's simple forms. */
import { z } from 'zod';
import { section } from '../../config/schema-helpers.js';
import { errorMode, ottlCondition, regexProblem, severityBound } from '../../ottl/index.js';

const attributeMatch = z.strictObject({
  key: z.string().min(1),
  /** Omitted: the attribute only has to be present. */
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
});

const MATCH_KEYS = ['severity_texts', 'severity_number', 'bodies', 'record_attributes', 'resource_attributes', 'categories', 'min_severity', 'max_severity'] as const;

/** Upstream `filterlog` match properties; every key given must match (AND). */
export const matchPropertiesSchema = z
  .strictObject({
    /** How `severity_texts`, `bodies` and attribute values are compared. */
    match_type: z.enum(['strict', 'regexp']).default('strict'),
    severity_texts: z.array(z.string()).optional(),
    severity_number: z
      .strictObject({ min: severityBound('min'), match_undefined: z.boolean().default(false) })
      .optional(),
    bodies: z.array(z.string()).optional(),
    record_attributes: z.array(attributeMatch).optional(),
    resource_attributes: z.array(attributeMatch).optional(),
    /** Tributary: attribute `log.category` is one of these (exact). */
    categories: z.array(z.string()).optional(),
    /** Tributary: severity range by name (`WARN`) or number; records without severity never match. */
    min_severity: severityBound('min').optional(),
    max_severity: severityBound('max').optional(),
  })
  .superRefine((p, ctx) => {
    if (!MATCH_KEYS.some((k) => p[k] !== undefined)) {
      ctx.addIssue({ code: 'custom', message: `set at least one of ${MATCH_KEYS.join(', ')}` });
    }
    if (p.min_severity !== undefined && p.max_severity !== undefined && p.min_severity > p.max_severity) {
      ctx.addIssue({ code: 'custom', path: ['max_severity'], message: 'must not be below min_severity' });
    }
    if (p.match_type !== 'regexp') return;
    const checkPattern = (pattern: unknown, path: PropertyKey[]): void => {
      if (typeof pattern !== 'string') {
        ctx.addIssue({ code: 'custom', path, message: 'must be a string (a regex) when match_type is regexp' });
        return;
      }
      const problem = regexProblem(pattern);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path, message: `invalid regex ${JSON.stringify(pattern)}: ${problem}` });
    };
    p.severity_texts?.forEach((s, i) => checkPattern(s, ['severity_texts', i]));
    p.bodies?.forEach((s, i) => checkPattern(s, ['bodies', i]));
    for (const list of ['record_attributes', 'resource_attributes'] as const) {
      p[list]?.forEach((a, i) => {
        if (a.value !== undefined) checkPattern(a.value, [list, i, 'value']);
      });
    }
  });

export type MatchProperties = z.output<typeof matchPropertiesSchema>;

export const filterProcessorConfigSchema = z.strictObject({
  /** What an evaluation error does: propagate (reject the batch), ignore (log, keep record), silent. */
  error_mode: errorMode(),
  logs: section({
    /** OTTL conditions; a record matching any of them is dropped. */
    log_record: z.array(ottlCondition()).default([]),
    /** Keep only records matching these properties. */
    include: matchPropertiesSchema.optional(),
    /** Drop records matching these properties. */
    exclude: matchPropertiesSchema.optional(),
  }),
});

export type FilterProcessorConfig = z.output<typeof filterProcessorConfigSchema>;
