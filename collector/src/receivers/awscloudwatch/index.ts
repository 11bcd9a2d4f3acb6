/** The `awscloudwatch` receiver: polls CloudWatch Logs with FilterLogEvents, upstream's awscloudwatchreceiver keys. */
import { z } from 'zod';
import type { ReceiverFactory } from '../../component.js';
import { duration } from '../../config/schema-helpers.js';
import { AwsCloudWatchReceiver } from './receiver.js';

const streamsSchema = z.strictObject({
  prefixes: z.array(z.string().min(1)).default([]),
  names: z.array(z.string().min(1)).default([]),
});

export const awsCloudWatchConfigSchema = z
  .strictObject({
    region: z.string().min(1),
    profile: z.string().optional(),
    imds_endpoint: z.string().optional(),
    /** Tributary: a CloudWatch Logs endpoint (VPC endpoint, local emulator). */
    endpoint: z.string().url().optional(),
    /** Tributary: the file_storage extension keeping each group's cursor (default: `file_storage` if configured). */
    storage: z.string().optional(),
    /** Tributary: how far back each poll re-reads, for events that arrive late; ids de-duplicate. */
    overlap: duration().prefault('2m'),
    /** Tributary: where a group without a cursor starts (RFC 3339); default: the time of the first poll. */
    start_from: z.string().datetime({ offset: true }).optional(),
    logs: z
      .strictObject({
        poll_interval: duration().prefault('1m'),
        max_events_per_request: z.number().int().min(1).max(10_000).default(1000),
        groups: z
          .strictObject({
            autodiscover: z
              .strictObject({
                prefix: z.string().default(''),
                limit: z.number().int().min(1).default(50),
                streams: streamsSchema.prefault({}),
              })
              .optional(),
            named: z.record(z.string().min(1), z.preprocess((v) => v ?? {}, streamsSchema)).optional(),
          })
          .prefault({}),
      })
      .prefault({}),
    /** Stream with StartLiveTail (plus a FilterLogEvents backfill for each session's seam) instead of polling. */
    live_tail: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    const g = c.logs.groups;
    if (g.autodiscover && g.named) ctx.addIssue({ code: 'custom', path: ['logs', 'groups'], message: 'set autodiscover or named, not both' });
    if (!g.autodiscover && !g.named) ctx.addIssue({ code: 'custom', path: ['logs', 'groups'], message: 'set autodiscover or named' });
  });

export type AwsCloudWatchConfig = z.output<typeof awsCloudWatchConfigSchema>;

export const awsCloudWatchReceiverFactory: ReceiverFactory<AwsCloudWatchConfig> = {
  kind: 'receiver',
  type: 'awscloudwatch',
  configSchema: awsCloudWatchConfigSchema,
  create(settings, config, next) {
    return new AwsCloudWatchReceiver(settings, config, next);
  },
};
