/** Config of the `memory_limiter` processor: upstream memorylimiterprocessor keys. */
import { z } from 'zod';
import { duration } from '../../config/schema-helpers.js';

export const memoryLimiterConfigSchema = z
  .strictObject({
    /** How often memory use is measured. */
    check_interval: duration().prefault('1s'),
    /** Hard limit in MiB of process RSS. Takes precedence over limit_percentage. */
    limit_mib: z.number().int().min(0).default(0),
    /** Headroom below limit_mib where refusing starts; 0 = 20% of limit_mib. */
    spike_limit_mib: z.number().int().min(0).default(0),
    /** Hard limit as a percentage of total memory (machine or cgroup limit). */
    limit_percentage: z.number().int().min(0).max(100).default(0),
    /** Headroom as a percentage of total memory; 0 = 20% of the limit. */
    spike_limit_percentage: z.number().int().min(0).max(100).default(0),
    /**
     * Upstream key: least time between forced collections while above the soft limit. V8 collects
     * lazily, so RSS holds garbage; collecting before refusing avoids needless 503s. Tributary's
     * default is 1s (upstream 10s: Go's collector is less lazy).
     */
    min_gc_interval_when_soft_limited: duration().prefault('1s'),
    /** Upstream key: least time between forced collections while above the hard limit. */
    min_gc_interval_when_hard_limited: duration().prefault('0s'),
  })
  .superRefine((c, ctx) => {
    if (c.check_interval <= 0) ctx.addIssue({ code: 'custom', path: ['check_interval'], message: 'must be greater than zero' });
    if (c.limit_mib === 0 && c.limit_percentage === 0) {
      ctx.addIssue({ code: 'custom', path: ['limit_mib'], message: 'one of limit_mib or limit_percentage is required (greater than zero)' });
    }
    if (c.limit_mib > 0 && c.spike_limit_mib >= c.limit_mib) {
      ctx.addIssue({ code: 'custom', path: ['spike_limit_mib'], message: `must be less than limit_mib (${c.limit_mib})` });
    }
    if (c.limit_mib === 0 && c.limit_percentage > 0 && c.spike_limit_percentage >= c.limit_percentage) {
      ctx.addIssue({ code: 'custom', path: ['spike_limit_percentage'], message: `must be less than limit_percentage (${c.limit_percentage})` });
    }
  });

export type MemoryLimiterConfig = z.output<typeof memoryLimiterConfigSchema>;
