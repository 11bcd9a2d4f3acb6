/** The `azureloganalytics` receiver: polls a Log Analytics workspace with a KQL query (no upstream equivalent). */
import { z } from 'zod';
import type { ReceiverFactory } from '../../component.js';
import { duration } from '../../config/schema-helpers.js';
import { azureMonitorAuthSchema } from '../../exporters/azuremonitor/config.js';
import { AzureLogAnalyticsReceiver } from './receiver.js';

export const azureLogAnalyticsConfigSchema = z.strictObject({
  workspace_id: z.string().min(1),
  /** KQL; the receiver appends the TimeGenerated window, the order and the row cap. */
  query: z.string().min(1),
  poll_interval: duration().prefault('1m'),
  /** How far back each poll re-reads (Log Analytics ingests with minutes of latency); rows de-duplicate. */
  overlap: duration().prefault('5m'),
  start_from: z.string().datetime({ offset: true }).optional(),
  /** Most rows one query returns; a full answer continues from its last TimeGenerated at once. */
  max_rows: z.number().int().min(1).max(500_000).default(10_000),
  /** Column that becomes the body; default: the first of Message, message, RenderedDescription, SyslogMessage, RawData present. */
  body_column: z.string().optional(),
  endpoint: z.string().url().default('https://api.loganalytics.io'),
  auth: azureMonitorAuthSchema,
  storage: z.string().optional(),
});
export type AzureLogAnalyticsConfig = z.output<typeof azureLogAnalyticsConfigSchema>;

export const azureLogAnalyticsReceiverFactory: ReceiverFactory<AzureLogAnalyticsConfig> = {
  kind: 'receiver',
  type: 'azureloganalytics',
  configSchema: azureLogAnalyticsConfigSchema,
  create(settings, config, next) {
    return new AzureLogAnalyticsReceiver(settings, config, next);
  },
};
