/**
 * Config of the `attributes` processor: upstream attributesprocessor `actions`, and `include` / `exclude`
 * match properties (upstream filterconfig.MatchProperties, the keys that apply to logs).
 */
import { z } from 'zod';
import { regexProblem, severityBound } from '../../ottl/index.js';
import { actionSchema } from './actions.js';

const attributeMatch = z.strictObject({
  key: z.string().min(1),
  /** Omitted: the attribute only has to be present. */
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
});

const MATCH_KEYS = ['attributes', 'resources', 'libraries', 'log_bodies', 'log_severity_texts', 'log_severity_number'] as const;

export const attributesMatchSchema = z
  .strictObject({
    match_type: z.enum(['strict', 'regexp']),
    /** Record attributes that must all match. */
    attributes: z.array(attributeMatch).optional(),
    /** Resource attributes that must all match. */
    resources: z.array(attributeMatch).optional(),
    /** Instrumentation scopes (name, optional version); one must match. */
    libraries: z.array(z.strictObject({ name: z.string(), version: z.string().optional() })).optional(),
    log_bodies: z.array(z.string()).optional(),
    log_severity_texts: z.array(z.string()).optional(),
    log_severity_number: z.strictObject({ min: severityBound('min'), match_undefined: z.boolean().default(false) }).optional(),
    /** Upstream keys for spans and metrics: refused here with a clear message. */
    services: z.array(z.string()).optional(),
    span_names: z.array(z.string()).optional(),
    span_kinds: z.array(z.string()).optional(),
    metric_names: z.array(z.string()).optional(),
    regexp: z.unknown().optional(),
  })
  .superRefine((p, ctx) => {
    for (const k of ['services', 'span_names', 'span_kinds', 'metric_names'] as const) {
      if (p[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `applies to spans or metrics; Tributary's attributes processor handles logs (use ${MATCH_KEYS.join(', ')})` });
    }
    if (p.regexp !== undefined) ctx.addIssue({ code: 'custom', path: ['regexp'], message: 'not supported by Tributary (the regex cache options have no effect here; remove it)' });
    if (!MATCH_KEYS.some((k) => p[k] !== undefined)) ctx.addIssue({ code: 'custom', message: `set at least one of ${MATCH_KEYS.join(', ')}` });
    if (p.match_type !== 'regexp') return;
    const check = (pattern: unknown, path: PropertyKey[]): void => {
      if (typeof pattern !== 'string') {
        ctx.addIssue({ code: 'custom', path, message: 'must be a string (a regex) when match_type is regexp' });
        return;
      }
      const problem = regexProblem(pattern);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path, message: `invalid regex ${JSON.stringify(pattern)}: ${problem}` });
    };
    p.log_bodies?.forEach((s, i) => check(s, ['log_bodies', i]));
    p.log_severity_texts?.forEach((s, i) => check(s, ['log_severity_texts', i]));
    p.libraries?.forEach((l, i) => check(l.name, ['libraries', i, 'name']));
    for (const list of ['attributes', 'resources'] as const) {
      p[list]?.forEach((a, i) => {
        if (a.value !== undefined) check(a.value, [list, i, 'value']);
      });
    }
  });

export type AttributesMatch = z.output<typeof attributesMatchSchema>;

export const attributesConfigSchema = z.strictObject({
  actions: z.array(actionSchema).min(1),
  /** Apply the actions only to records matching these properties. */
  include: attributesMatchSchema.optional(),
  /** Do not apply the actions to records matching these properties. */
  exclude: attributesMatchSchema.optional(),
});

export type AttributesConfig = z.output<typeof attributesConfigSchema>;
