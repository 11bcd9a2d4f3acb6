/** The `awscloudwatchlogs` exporter (upstream awscloudwatchlogsexporter): PutLogEvents via the AWS SDK. */
import type { ExporterFactory } from '../../component.js';
import { awsCloudWatchLogsExporterConfigSchema, type AwsCloudWatchLogsExporterConfig } from './config.js';
import { AwsCloudWatchLogsExporter } from './awscloudwatchlogs-exporter.js';

export { awsCloudWatchLogsExporterConfigSchema, CLOUDWATCH_RETENTION_DAYS, type AwsCloudWatchLogsExporterConfig } from './config.js';
export { AwsCloudWatchLogsExporter, DROPPED_EVENTS_METRIC, TRUNCATED_EVENTS_METRIC } from './awscloudwatchlogs-exporter.js';
export { convertToCloudWatchLogs, compileNameTemplate, nearestCloudWatchRetention, type PutLogEventsCall, type CloudWatchConversion } from './convert.js';

export const awsCloudWatchLogsExporterFactory: ExporterFactory<AwsCloudWatchLogsExporterConfig> = {
  kind: 'exporter',
  type: 'awscloudwatchlogs',
  stability: 'alpha',
  configSchema: awsCloudWatchLogsExporterConfigSchema,
  create: (settings, config) => new AwsCloudWatchLogsExporter(settings, config),
};
