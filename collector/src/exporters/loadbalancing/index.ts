/** The `loadbalancing` exporter (upstream loadbalancingexporter, logs): consistent hashing over OTLP/gRPC backends. */
import type { ExporterFactory } from '../../component.js';
import { loadBalancingConfigSchema, type LoadBalancingConfig } from './config.js';
import { LoadBalancingExporter } from './loadbalancing-exporter.js';

export { loadBalancingConfigSchema, type LoadBalancingConfig } from './config.js';
export { LoadBalancingExporter, HashRing } from './loadbalancing-exporter.js';

export const loadBalancingExporterFactory: ExporterFactory<LoadBalancingConfig> = {
  kind: 'exporter',
  type: 'loadbalancing',
  configSchema: loadBalancingConfigSchema,
  create: (settings, config) => new LoadBalancingExporter(settings, config),
};
