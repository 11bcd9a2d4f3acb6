/**
 * `health_check` extension: an HTTP endpoint for load balancers and orchestrators, shaped like the
 * upstream healthcheckextension (v1): 200 when the service is ready and no component reports an error,
 * 503 otherwise.
 */
import { z } from 'zod';
import type { ExtensionFactory } from '../../component.js';
import { httpServerFields } from '../../config/http-server.js';
import { HealthCheckExtension } from './health-check-extension.js';

export const healthCheckConfigSchema = z.strictObject({
  // endpoint, tls, read_header_timeout, read_timeout, idle_timeout (config/http-server.ts)
  ...httpServerFields('127.0.0.1:13133'),
  path: z
    .string()
    .default('/')
    .refine((p) => p.startsWith('/'), { message: 'must start with "/"' }),
  /** Upstream's (documented there as not working and not to be used): accepted without effect. */
  check_collector_pipeline: z.record(z.string(), z.unknown()).optional(),
});

export type HealthCheckConfig = z.infer<typeof healthCheckConfigSchema>;

export const healthCheckExtensionFactory: ExtensionFactory<HealthCheckConfig> = {
  kind: 'extension',
  type: 'health_check',
  stability: 'stable',
  configSchema: healthCheckConfigSchema,
  create(settings, config) {
    return new HealthCheckExtension(settings, config);
  },
};

export { HealthCheckExtension, formatUptime, healthBody } from './health-check-extension.js';
export type { HealthBody } from './health-check-extension.js';
