/** Config of the `ratelimit` processor (Tributary's own; no upstream equivalent). */
import { z } from 'zod';
import { duration, section } from '../../config/schema-helpers.js';

export const PER_MS = { second: 1000, minute: 60_000, hour: 3_600_000 } as const;

const rate = z.number().positive();
const burst = z.number().int().min(1);
const per = z.enum(['second', 'minute', 'hour']);

const overrideSchema = z.strictObject({
  rate: rate.optional(),
  per: per.optional(),
  burst: burst.optional(),
});

const ruleSchema = z.strictObject({
  /** Names the rule in metrics-free places: summary records, logs, Redis keys. */
  name: z.string().min(1),
  /** Attribute names looked up in record attributes, then resource attributes; [] = one bucket for all. */
  key: z.array(z.string().min(1)).default([]),
  rate,
  per: per.default('second'),
  /** Bucket size: records that may pass at once after a quiet period. Default: `rate` rounded up. */
  burst: burst.optional(),
  /** `drop` removes the excess; `throttle` refuses the whole batch with back-pressure (429 / RESOURCE_EXHAUSTED). */
  action: z.enum(['drop', 'throttle']).default('drop'),
  /** Per key value (values of a multi-attribute key joined with `,`): a different rate/per/burst. */
  overrides: z.record(z.string(), overrideSchema).default({}),
});

export const rateLimitConfigSchema = z
  .strictObject({
    store: z.enum(['memory', 'redis']).default('memory'),
    redis: section({
      url: z.string().default('redis://127.0.0.1:6379'),
      key_prefix: z.string().default('tributary:rl:'),
      /** Longest wait for one Redis call; past it the store counts as failed (`on_store_error`). */
      timeout: duration().prefault('250ms'),
      connect_timeout: duration().prefault('1s'),
    }),
    /** When the store cannot answer: `allow` passes records (fail open), `deny` applies the rule's action to all of them. */
    on_store_error: z.enum(['allow', 'deny']).default('allow'),
    /** How often a summary record per limited key is sent downstream. 0 disables summaries. */
    summary_interval: duration().prefault('10s'),
    rules: z.array(ruleSchema).min(1),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.rules.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${r.name}"` });
      seen.add(r.name);
    });
    if (c.store === 'redis' && !/^rediss?:\/\//.test(c.redis.url)) {
      ctx.addIssue({ code: 'custom', path: ['redis', 'url'], message: 'must start with redis:// or rediss://' });
    }
  });

export type RateLimitConfig = z.output<typeof rateLimitConfigSchema>;
export type RateLimitRuleConfig = RateLimitConfig['rules'][number];
