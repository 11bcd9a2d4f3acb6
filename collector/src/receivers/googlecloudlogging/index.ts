/** The `googlecloudlogging` receiver: polls Cloud Logging `entries:list` (no upstream equivalent). */
import { z } from 'zod';
import type { ReceiverFactory } from '../../component.js';
import { duration } from '../../config/schema-helpers.js';
import { GoogleCloudLoggingReceiver } from './receiver.js';

export const googleCloudLoggingConfigSchema = z.strictObject({
  /** Project whose logs are read; default: the credentials' project. */
  project: z.string().default(''),
  /** Logging query language, passed through (ANDed with the timestamp window). */
  filter: z.string().default(''),
  poll_interval: duration().prefault('1m'),
  page_size: z.number().int().min(1).max(1000).default(1000),
  /** How far back each poll re-reads, for late entries; insertIds de-duplicate. */
  overlap: duration().prefault('2m'),
  /** Where reading starts without a cursor (RFC 3339); default: the time of the first poll. */
  start_from: z.string().datetime({ offset: true }).optional(),
  /** Service-account key file; default: Application Default Credentials. */
  credentials_file: z.string().optional(),
  endpoint: z.string().url().default('https://logging.googleapis.com'),
  storage: z.string().optional(),
});
export type GoogleCloudLoggingConfig = z.output<typeof googleCloudLoggingConfigSchema>;

export const googleCloudLoggingReceiverFactory: ReceiverFactory<GoogleCloudLoggingConfig> = {
  kind: 'receiver',
  type: 'googlecloudlogging',
  configSchema: googleCloudLoggingConfigSchema,
  create(settings, config, next) {
    return new GoogleCloudLoggingReceiver(settings, config, next);
  },
};
