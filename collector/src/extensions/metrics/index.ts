/**
 * `metrics` extension (Tributary's own): serves the collector's telemetry in the Prometheus text format
 * for scraping, and adds process gauges (CPU, memory, start time, event-loop lag).
 */
import { z } from 'zod';
import type { ExtensionFactory } from '../../component.js';
import { httpServerFields } from '../../config/http-server.js';
import { MetricsExtension } from './metrics-extension.js';

export const metricsConfigSchema = z.strictObject({
  // endpoint, tls, read_header_timeout, read_timeout, idle_timeout (config/http-server.ts)
  ...httpServerFields('127.0.0.1:8888'),
  path: z
    .string()
    .default('/metrics')
    .refine((p) => p.startsWith('/'), { message: 'must start with "/"' }),
});

export type MetricsConfig = z.infer<typeof metricsConfigSchema>;

export const metricsExtensionFactory: ExtensionFactory<MetricsConfig> = {
  kind: 'extension',
  type: 'metrics',
  stability: 'beta',
  configSchema: metricsConfigSchema,
  create(settings, config) {
    return new MetricsExtension(settings, config);
  },
};

export { MetricsExtension, PROMETHEUS_CONTENT_TYPE } from './metrics-extension.js';
export { registerProcessMetrics, ProcessMetricNames } from './process-metrics.js';
