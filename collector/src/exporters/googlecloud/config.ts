/** Config of the `googlecloud` exporter: upstream googlecloudexporter keys (logs part), REST endpoint. */
import { z } from 'zod';
import { section } from '../../config/schema-helpers.js';
import { compressionSchema, httpClientTransportShape, httpUrl } from '../../config/http-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

export const googleCloudLogConfigSchema = section({
  /** Base URL of the Cloud Logging REST API; entries go to `<endpoint>/v2/entries:write`. */
  endpoint: httpUrl().default('https://logging.googleapis.com'),
  /** Log name used when a record has no `gcp.log_name` attribute. */
  default_log_name: z.string().default(''),
  compression: compressionSchema('none'),
  /** Add service.name / service.namespace / service.instance.id as entry labels. */
  service_resource_labels: z.boolean().default(true),
  /** Turn ERROR-or-worse records into Error Reporting events (`@type` ReportedErrorEvent). */
  error_reporting_type: z.boolean().default(false),
  /**
   * Where `retention.class` goes: `label` (the entry keeps the `retention.class` label; route with a sink
   * filter) or `log_name` (the class is appended to the log name: `<name>-<class>`).
   */
  retention_routing: z.enum(['label', 'log_name']).default('label'),
});

export const googleCloudExporterConfigSchema = z.strictObject({
  /** Project the logs are written to (unless a resource has `gcp.project.id`); empty = the credentials' project. */
  project: z.string().default(''),
  /** A service-account key file; empty = Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, metadata server). */
  credentials_file: z.string().default(''),
  /** Bill quota to the destination project (`x-goog-user-project`). */
  destination_project_quota: z.boolean().default(false),
  /** User-Agent sent to Cloud Logging; `{{version}}` is replaced by Tributary's version. Unset: `Tributary/<version>`. */
  user_agent: z.string().min(1).optional(),
  log: googleCloudLogConfigSchema,
  ...httpClientTransportShape,
  ...exporterHelperShape,
});

export type GoogleCloudExporterConfig = z.output<typeof googleCloudExporterConfigSchema>;
