/**
 * Config of the `azuremonitor` exporter: the Azure Monitor Logs Ingestion API (DCR-based), authenticated
 * with @azure/identity (client secret, managed identity, workload identity; authority host override).
 */
import { z } from 'zod';
import { byteSize, section } from '../../config/schema-helpers.js';
import { compressionSchema, httpClientTransportShape } from '../../config/http-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';
import { DEFAULT_COLUMNS, parseColumnSource } from './columns.js';

/** The Logs Ingestion API's limit per call (1 MB; measured on the uncompressed JSON body, as the Azure SDKs do). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

const url = (protocols: string[], what: string) =>
  z.string().refine((v) => URL.canParse(v) && protocols.includes(new URL(v).protocol), { message: `must be ${what}` });

export const azureMonitorAuthSchema = section({
  /** Which credential; inferred when unset: client_secret if set, else workload identity if a token file is known, else managed identity. */
  type: z.enum(['client_secret', 'managed_identity', 'workload_identity']).optional(),
  tenant_id: z.string().default(''),
  client_id: z.string().default(''),
  /** Secret: never logged. */
  client_secret: z.string().default(''),
  /** Entra authority host, e.g. https://login.microsoftonline.us; "" = public cloud (or AZURE_AUTHORITY_HOST). */
  authority_host: z.union([z.literal(''), url(['https:'], 'an https:// URL (Entra requires https)')]).default(''),
  /** Workload identity: the projected service-account token (default: AZURE_FEDERATED_TOKEN_FILE). */
  federated_token_file: z.string().default(''),
  /** The token scope. */
  scope: z.string().min(1).default('https://monitor.azure.com//.default'),
});

export const azureMonitorExporterConfigSchema = z
  .strictObject({
    /** The data collection endpoint (DCE) or the DCR's logs ingestion endpoint. */
    endpoint: url(['https:', 'http:'], 'an https:// URL (http:// only for local emulators)'),
    /** The DCR immutable id (`dcr-…`). */
    rule_id: z.string().min(1),
    /** The DCR stream (`Custom-<table>` or `Microsoft-…`). */
    stream_name: z.string().min(1),
    api_version: z.string().min(1).default('2023-01-01'),
    auth: azureMonitorAuthSchema,
    compression: compressionSchema('gzip'),
    /** Largest uncompressed JSON body per call (≤ 1 MiB). */
    max_request_bytes: byteSize().prefault(MAX_REQUEST_BYTES).refine((n) => n >= 256 && n <= MAX_REQUEST_BYTES, { message: `must be between 256 and ${MAX_REQUEST_BYTES} bytes` }),
    /** Column → source. Replaces the default mapping when given (see README). */
    columns: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'column names are letters, digits and _'), z.string()).default(DEFAULT_COLUMNS),
    /** retention.class → stream (a stream whose DCR output table has that retention). Unlisted classes use stream_name. */
    retention_streams: z.record(z.string(), z.string().min(1)).default({}),
    ...httpClientTransportShape,
    ...exporterHelperShape,
  })
  .superRefine((c, ctx) => {
    for (const [col, src] of Object.entries(c.columns)) {
      const err = parseColumnSource(src).error;
      if (err) ctx.addIssue({ code: 'custom', path: ['columns', col], message: err });
    }
    const type = resolveAuthType(c.auth);
    const need = (key: 'tenant_id' | 'client_id' | 'client_secret', env: string) => {
      if (!c.auth[key] && !process.env[env]) ctx.addIssue({ code: 'custom', path: ['auth', key], message: `required for ${type} auth` });
    };
    if (type === 'client_secret') {
      need('tenant_id', 'AZURE_TENANT_ID');
      need('client_id', 'AZURE_CLIENT_ID');
      need('client_secret', 'AZURE_CLIENT_SECRET');
    } else if (type === 'workload_identity') {
      need('tenant_id', 'AZURE_TENANT_ID');
      need('client_id', 'AZURE_CLIENT_ID');
      if (!c.auth.federated_token_file && !process.env['AZURE_FEDERATED_TOKEN_FILE']) {
        ctx.addIssue({ code: 'custom', path: ['auth', 'federated_token_file'], message: 'required for workload_identity auth' });
      }
    }
  });

export type AzureMonitorExporterConfig = z.output<typeof azureMonitorExporterConfigSchema>;
export type AzureMonitorAuthConfig = AzureMonitorExporterConfig['auth'];

export function resolveAuthType(auth: AzureMonitorAuthConfig): 'client_secret' | 'managed_identity' | 'workload_identity' {
  if (auth.type) return auth.type;
  if (auth.client_secret) return 'client_secret';
  if (auth.federated_token_file || process.env['AZURE_FEDERATED_TOKEN_FILE']) return 'workload_identity';
  return 'managed_identity';
}
