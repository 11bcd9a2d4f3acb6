/** Config of the `awscloudwatchlogs` exporter: upstream awscloudwatchlogsexporter keys, plus templated names. */
import { z } from 'zod';
import { httpUrl } from '../../config/http-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

/** The retention values CloudWatch Logs accepts (PutRetentionPolicy `retentionInDays`). */
export const CLOUDWATCH_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** A name template: literal text with `{attribute.key}` placeholders (record attributes, then resource). */
const nameTemplate = (what: string) =>
  z.string({ error: 'required' }).min(1, { message: 'required' }).max(512).refine((v) => {
    let depth = 0;
    for (const c of v) {
      if (c === '{') { if (depth++ > 0) return false; } else if (c === '}') { if (--depth < 0) return false; }
    }
    return depth === 0 && !v.includes('{}');
  }, { message: `${what}: unbalanced or empty {placeholder}` });

export const awsCloudWatchLogsExporterConfigSchema = z.strictObject({
  /** AWS region; empty = the SDK's chain (AWS_REGION, AWS_DEFAULT_REGION, the shared config profile). */
  region: z.string().default(''),
  /** Endpoint override (an emulator, a VPC endpoint); empty = the regional AWS endpoint. */
  /** Without a scheme it is HTTPS, as upstream (`logs.eu-west-1.amazonaws.com`). */
  endpoint: z
    .string()
    .default('')
    .transform((v) => (v === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `https://${v}`))
    .pipe(httpUrl('must be empty, host[:port] or an http:// or https:// URL', { allowEmpty: true })),
  /** Shared config/credentials profile; empty = AWS_PROFILE or `default`. */
  profile: z.string().default(''),
  /** IAM role to assume (STS AssumeRole) with the credentials of the chain; empty = none. */
  role_arn: z.string().default(''),
  /** Retries inside the AWS SDK per request, on top of the exporter's retry_on_failure; unset = none. */
  max_retries: z.number().int().min(0).optional(),
  /** Skip TLS certificate verification (testing only). */
  no_verify_ssl: z.boolean().default(false),
  /** HTTPS proxy URL (http://host:port). */
  proxy_address: z.string().default('').refine((v) => v === '' || URL.canParse(v), { message: 'must be empty or a URL like http://proxy:3128' }),
  /** Log group; may hold `{attr}` placeholders, e.g. `/app/{service.name}`. */
  log_group_name: nameTemplate('log_group_name'),
  /** Log stream; may hold `{attr}` placeholders. */
  log_stream_name: nameTemplate('log_stream_name'),
  /** Retention (days) set on groups this exporter creates, when records carry no `retention.days`; 0 = never expire. */
  log_retention: z.number().int().default(0).refine((v) => v === 0 || CLOUDWATCH_RETENTION_DAYS.includes(v), {
    message: `must be 0 (never expire) or one of ${CLOUDWATCH_RETENTION_DAYS.join(', ')}`,
  }),
  /** Tags put on groups this exporter creates. */
  tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}).refine((t) => Object.keys(t).length <= 50, { message: 'at most 50 tags' }),
  /** Send `Body.AsString()` as the message instead of the JSON envelope (and honour EMF group/stream). */
  raw_log: z.boolean().default(false),
  ...exporterHelperShape,
});

export type AwsCloudWatchLogsExporterConfig = z.output<typeof awsCloudWatchLogsExporterConfigSchema>;
