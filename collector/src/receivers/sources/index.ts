/**
 * The `sources` receiver: log sources defined at run time through the api extension
 * (`/api/v1/sources`), each one a receiver of an allowed type feeding this receiver's pipelines, with its
 * records tagged with the tenant that created it. Definitions persist in a JSON file; credentials in it
 * are encrypted (AES-256-GCM) and never returned.
 */
import { z } from 'zod';
import type { ReceiverFactory } from '../../component.js';
import { SourcesReceiver } from './receiver.js';

export const DEFAULT_SOURCE_TYPES = ['awscloudwatch', 'googlecloudlogging', 'azureloganalytics'];

export const sourcesConfigSchema = z.preprocess(
  (v) => v ?? {},
  z.strictObject({
    /** The api extension whose routes and JWT auth serve `/api/v1/sources`. */
    api: z.string().min(1).default('api'),
    /** Where definitions persist (next to the store by default). */
    file: z.string().min(1).default('./data/store/sources.json'),
    /** 32-byte key file for credentials at rest; default: the TRIBUTARY_SECRET_KEY environment variable (base64 or hex). */
    secret_key_file: z.string().min(1).optional(),
    /** Resource attribute set to the source's tenant on every record. */
    tenant_attribute: z.string().min(1).default('project.id'),
    /** Receiver types a source may have. */
    allowed_types: z.array(z.string().min(1)).min(1).default(DEFAULT_SOURCE_TYPES),
    /** Most sources per tenant. */
    max_sources_per_tenant: z.number().int().min(1).default(50),
  }),
);
export type SourcesConfig = z.output<typeof sourcesConfigSchema>;

export const sourcesReceiverFactory: ReceiverFactory<SourcesConfig> = {
  kind: 'receiver',
  type: 'sources',
  configSchema: sourcesConfigSchema,
  create(settings, config, next) {
    return new SourcesReceiver(settings, config, next);
  },
};
