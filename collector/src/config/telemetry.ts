/**
 * `service.telemetry` as upstream accepts it (logs, metrics, traces, resource). Tributary honours the
 * log level and encoding, `logs.initial_fields` and `resource` (fields on every line of its own log), and
 * a `metrics.readers[].pull.exporter.prometheus` (or the older `metrics.address`) as the address of the
 * `metrics` extension; every other key is accepted and listed once at startup as having no effect.
 */
import { z } from 'zod';
import type { LogFields } from '../telemetry/logger.js';
import { duration } from './schema-helpers.js';

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

/** zap levels; the panic/fatal levels log errors only. */
const ZAP_LEVELS: Record<string, LogLevelName> = { debug: 'debug', info: 'info', warn: 'warn', error: 'error', dpanic: 'error', panic: 'error', fatal: 'error' };

const logLevel = z.string().transform((v, ctx) => {
  const l = ZAP_LEVELS[v.toLowerCase()];
  if (l !== undefined) return l;
  ctx.addIssue({ code: 'invalid_value', values: Object.keys(ZAP_LEVELS), input: v, message: `invalid value ${JSON.stringify(v)} (expected one of: ${Object.keys(ZAP_LEVELS).join(', ')})` });
  return z.NEVER;
});

const encoding = z.string().transform((v, ctx) => {
  const e = v.toLowerCase();
  if (e === 'json') return 'json' as const;
  if (e === 'console' || e === 'text') return 'text' as const;
  ctx.addIssue({ code: 'invalid_value', values: ['console', 'json', 'text'], input: v, message: `invalid value ${JSON.stringify(v)} (expected one of: console, json, text)` });
  return z.NEVER;
});

const metricsLevel = z.string().transform((v, ctx) => {
  const l = v.toLowerCase();
  if (l === 'none' || l === 'basic' || l === 'normal' || l === 'detailed') return l;
  ctx.addIssue({ code: 'invalid_value', values: ['none', 'basic', 'normal', 'detailed'], input: v, message: `invalid value ${JSON.stringify(v)} (expected one of: none, basic, normal, detailed)` });
  return z.NEVER;
});

const prometheusPull = z.strictObject({
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  without_units: z.boolean().optional(),
  without_type_suffix: z.boolean().optional(),
  without_scope_info: z.boolean().optional(),
  with_resource_constant_labels: z.unknown().optional(),
});

const reader = z.strictObject({
  pull: z.strictObject({ exporter: z.strictObject({ prometheus: prometheusPull.optional() }).catchall(z.unknown()) }).optional(),
  periodic: z.record(z.string(), z.unknown()).optional(),
});

const nullable = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === null ? undefined : v), s);

export const telemetrySchema = nullable(z.strictObject({
  logs: nullable(z.strictObject({
    level: logLevel.optional(),
    development: z.boolean().optional(),
    encoding: encoding.optional(),
    disable_caller: z.boolean().optional(),
    disable_stacktrace: z.boolean().optional(),
    sampling: nullable(z.strictObject({
      enabled: z.boolean().optional(),
      tick: duration().optional(),
      initial: z.number().int().optional(),
      thereafter: z.number().int().optional(),
    })).optional(),
    output_paths: z.array(z.string()).optional(),
    error_output_paths: z.array(z.string()).optional(),
    initial_fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
    processors: z.array(z.unknown()).optional(),
    disable_zap_resource: z.boolean().optional(),
  })).optional(),
  metrics: nullable(z.strictObject({
    level: metricsLevel.optional(),
    /** Before readers (otelcol < 0.111): `host:port` of the Prometheus endpoint. */
    address: z.string().optional(),
    readers: z.array(reader).optional(),
    views: z.array(z.unknown()).optional(),
  })).optional(),
  traces: nullable(z.strictObject({
    level: metricsLevel.optional(),
    propagators: z.array(z.string()).optional(),
    processors: z.array(z.unknown()).optional(),
  })).optional(),
  // A legacy map of attribute → value (null removes a default one), or the declarative schema.
  resource: z.record(z.string(), z.unknown()).optional(),
})).optional();

export interface TelemetrySettings {
  logs: { level: LogLevelName; encoding: 'text' | 'json' };
  /** Fields on every line of the collector's own log (resource attributes and logs.initial_fields). */
  fields: LogFields;
  /** `host:port` for the metrics endpoint from `metrics.readers` / `metrics.address`, unless level is none. */
  metricsEndpoint: string | undefined;
  /** Accepted keys (paths under service.telemetry) that have no effect in Tributary. */
  noEffect: string[];
}

function scalar(v: unknown): string | number | boolean | undefined {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
}

/** Reads the parsed telemetry section into what Tributary uses, listing the keys it does not use. */
export function telemetrySettings(t: z.output<typeof telemetrySchema>): TelemetrySettings {
  const out: TelemetrySettings = { logs: { level: 'info', encoding: 'text' }, fields: {}, metricsEndpoint: undefined, noEffect: [] };
  const logs = t?.logs;
  if (logs?.level) out.logs.level = logs.level;
  if (logs?.encoding) out.logs.encoding = logs.encoding;
  for (const [k, v] of Object.entries(logs ?? {})) {
    if (k !== 'level' && k !== 'encoding' && k !== 'initial_fields' && v !== undefined) out.noEffect.push(`logs.${k}`);
  }
  for (const [k, v] of Object.entries(logs?.initial_fields ?? {})) if (v !== null) out.fields[k] = v;

  const res = t?.resource;
  if (res) {
    if (Array.isArray(res['attributes'])) {
      // Declarative schema: attributes: [{ name, value }].
      for (const a of res['attributes'] as unknown[]) {
        const o = a as { name?: unknown; value?: unknown } | null;
        const v = scalar(o?.value);
        if (o && typeof o.name === 'string' && v !== undefined) out.fields[o.name] = v;
      }
      for (const k of Object.keys(res)) if (k !== 'attributes') out.noEffect.push(`resource.${k}`);
    } else {
      for (const [k, v] of Object.entries(res)) {
        const s = scalar(v);
        if (s !== undefined) out.fields[k] = s;
      }
    }
  }

  const m = t?.metrics;
  if (m) {
    const none = m.level === 'none';
    let endpoint: string | undefined;
    m.readers?.forEach((r, i) => {
      const p = r.pull?.exporter.prometheus;
      if (p && endpoint === undefined) {
        const host = p.host ?? 'localhost';
        endpoint = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${p.port ?? 8888}`;
        for (const k of ['without_units', 'without_type_suffix', 'without_scope_info', 'with_resource_constant_labels'] as const) {
          if (p[k] !== undefined) out.noEffect.push(`metrics.readers[${i}].pull.exporter.prometheus.${k}`);
        }
      } else out.noEffect.push(`metrics.readers[${i}]`);
    });
    if (endpoint === undefined && m.address) endpoint = m.address;
    else if (m.address) out.noEffect.push('metrics.address');
    if (m.level !== undefined && !none) out.noEffect.push('metrics.level');
    if (m.views) out.noEffect.push('metrics.views');
    out.metricsEndpoint = none ? undefined : endpoint;
  }
  for (const k of Object.keys(t?.traces ?? {})) out.noEffect.push(`traces.${k}`);
  return out;
}
