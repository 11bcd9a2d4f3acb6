/** `live_tail` exporter (Tributary's own): hands every batch to the in-process tail hub for WebSocket viewers. */
import { z } from 'zod';
import type { ExporterFactory, LogsBatch, LogsSender } from '../../component.js';
import { section } from '../../config/schema-helpers.js';
import { exporterHelperShape, retryOnFailureSchema, sendingQueueSchema } from '../../pipeline/exporter-helper-config.js';
import type { Counter } from '../../telemetry/metrics.js';
import { tailHub, type TailTenantRule } from '../../tail/hub.js';

const TENANT_FROM = /^(?:resource\.attributes\[\s*"([^"]+)"\s*\]|resource\.attributes\.(.+))$/;

export const liveTailConfigSchema = z.strictObject({
  /** The resource attribute naming the tenant (as the store's `tenant_from`). */
  tenant_from: z.string().default('resource.attributes["project.id"]').refine((v) => TENANT_FROM.test(v), { message: 'must be resource.attributes["<key>"]' }),
  default_tenant: z.string().min(1).default('default'),
  ...exporterHelperShape,
  // Never queued, never retried: publishing cannot fail or wait.
  sending_queue: section({ ...sendingQueueSchema.unwrap().shape, enabled: z.literal(false).default(false) }),
  retry_on_failure: section({ ...retryOnFailureSchema.unwrap().shape, enabled: z.literal(false).default(false) }),
});

export type LiveTailConfig = z.output<typeof liveTailConfigSchema>;

export function tailRule(c: { tenant_from: string; default_tenant: string }): TailTenantRule {
  const m = TENANT_FROM.exec(c.tenant_from);
  return { key: m?.[1] ?? m?.[2] ?? 'project.id', fallback: c.default_tenant };
}

export class LiveTailExporter implements LogsSender {
  private readonly rule: TailTenantRule;
  private readonly published: Counter;

  constructor(private readonly id: string, config: LiveTailConfig, published: Counter) {
    this.rule = tailRule(config);
    this.published = published;
  }

  send(batch: LogsBatch): Promise<void> {
    const n = tailHub.publish(batch.resourceLogs, this.rule);
    if (n > 0) this.published.bind({ exporter: this.id }).add(n);
    return Promise.resolve();
  }
}

export const liveTailExporterFactory: ExporterFactory<LiveTailConfig> = {
  kind: 'exporter',
  type: 'live_tail',
  stability: 'alpha',
  configSchema: liveTailConfigSchema,
  create(settings, config) {
    return new LiveTailExporter(settings.id.id, config, settings.telemetry.counter('tributary_tail_published_log_records_total', 'Records handed to at least one live tail viewer'));
  },
};
