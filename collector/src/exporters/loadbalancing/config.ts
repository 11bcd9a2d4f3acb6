/** Config of the `loadbalancing` exporter: upstream loadbalancingexporter keys (logs). */
import { z } from 'zod';
import { duration } from '../../config/schema-helpers.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';
import { otlpExporterConfigSchema } from '../otlp/config.js';

const HOSTNAME = /^(\[[0-9a-fA-F:.]+\]|[^:\s/[\]]+)(:\d{1,5})?$/;

export const loadBalancingConfigSchema = z
  .strictObject({
    /** What keeps records together on one backend. */
    routing_key: z.enum(['traceID', 'service', 'resource', 'attributes']).default('traceID'),
    /** With `routing_key: attributes`: record (then resource) attributes whose values form the key. */
    routing_attributes: z.array(z.string().min(1)).default([]),
    protocol: z.strictObject({
      /** The `otlp` exporter's keys (without `endpoint`), used for every backend. */
      otlp: z.record(z.string(), z.unknown()).default({}),
    }).prefault({}),
    resolver: z
      .strictObject({
        static: z.strictObject({ hostnames: z.array(z.string().regex(HOSTNAME, 'must be host or host:port')).min(1) }).optional(),
        dns: z.strictObject({
          hostname: z.string().min(1),
          port: z.number().int().min(1).max(65535).default(4317),
          interval: duration().prefault('5s'),
          timeout: duration().prefault('1s'),
        }).optional(),
      })
      .refine((r) => (r.static === undefined) !== (r.dns === undefined), { message: 'set exactly one of static or dns' }),
    ...exporterHelperShape,
  })
  .superRefine((c, ctx) => {
    if (c.routing_key === 'attributes' && c.routing_attributes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['routing_attributes'], message: 'required (at least one attribute) with routing_key: attributes' });
    }
    if ('endpoint' in c.protocol.otlp) ctx.addIssue({ code: 'custom', path: ['protocol', 'otlp', 'endpoint'], message: 'not allowed: the resolver gives the endpoints' });
    const probe = otlpExporterConfigSchema.safeParse({ ...c.protocol.otlp, endpoint: 'placeholder:4317' });
    if (!probe.success) {
      for (const i of probe.error.issues) {
        if (i.code === 'unrecognized_keys') for (const k of i.keys) ctx.addIssue({ code: 'custom', path: ['protocol', 'otlp', ...i.path, k], message: 'unknown key' });
        else ctx.addIssue({ code: 'custom', path: ['protocol', 'otlp', ...i.path], message: i.message });
      }
    }
  });

export type LoadBalancingConfig = z.output<typeof loadBalancingConfigSchema>;
