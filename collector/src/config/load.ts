/**
 * Loads and validates a collector config: sources (files, `env:`, `yaml:`, `--set`) merged as upstream's
 * confmap → substitution → strict validation of the service section and of each component's config
 * through its factory's schema. Every problem is reported with its exact path (`exporters.file.path:
 * required`), a "did you mean" hint where a known name is close, and its line and column in the YAML
 * — all of them, not just the first.
 */
import { z } from 'zod';
import { parseComponentId, type ComponentKind } from '../component.js';
import type { ComponentRegistry } from '../registry.js';
import type { LogFields } from '../telemetry/logger.js';
import { locate, parseSourceText, resolveSources, SourceError, type ConfigSources, type SourceDoc } from './confmap.js';
import { duration, formatConfigIssue, formatPath, issuesFromZod, type ConfigIssue } from './schema-helpers.js';
import { substituteTree } from './substitute.js';
import { didYouMean } from './suggest.js';
import { telemetrySchema, telemetrySettings, type LogLevelName } from './telemetry.js';
import { unsupportedComponent, unsupportedKey } from './unsupported.js';
import { keysAt } from './zod-walk.js';

export type { LogLevelName } from './telemetry.js';
export type { ConfigSources } from './confmap.js';
import { coordinationSchema, type CoordinationConfig } from '../coordination/config.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[], readonly source = '') {
    super(issues.map(formatConfigIssue).join('\n'));
  }
}

export interface PipelineConfig {
  receivers: string[];
  processors: string[];
  exporters: string[];
}

/** The signal a pipeline carries, from its id (`logs`, `traces/2`). */
export type Signal = 'logs' | 'traces' | 'metrics';

export interface CollectorConfig {
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, unknown>;
  extensions: Record<string, unknown>;
  service: {
    extensions: string[];
    pipelines: Record<string, PipelineConfig>;
    /** Milliseconds SIGTERM may take to drain the queues. */
    shutdown_timeout: number;
    telemetry: {
      logs: { level: LogLevelName; encoding: 'text' | 'json' };
      /** Fields on every line of the collector's own log (`resource`, `logs.initial_fields`). */
      fields?: LogFields | undefined;
      /** Accepted `service.telemetry` keys that have no effect (said once at startup). */
      noEffect?: string[] | undefined;
    };
    /** Worker processes (`run --workers` overrides); 'auto' = one per CPU. */
    workers: number | 'auto';
    /** Shared Redis / NATS for state several instances use together (coordination/config.ts). */
    coordination: CoordinationConfig;
  };
  /** Environment variables referenced but not set (substituted with ""). */
  missingEnv: string[];
}

const idList = z.array(z.string().min(1)).default([]);

const pipelineSchema = z.preprocess((v) => (v === null ? {} : v), z.strictObject({ receivers: idList, processors: idList, exporters: idList }));

const serviceSchema = z.strictObject({
  extensions: idList,
  pipelines: z.record(z.string(), pipelineSchema).default({}),
  shutdown_timeout: duration().prefault('15s'),
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(1024)]).default(1),
  coordination: coordinationSchema,
  telemetry: telemetrySchema,
});

const TOP_KEYS = ['receivers', 'processors', 'exporters', 'extensions', 'connectors', 'plugins', 'service'];

const topSchema = z.strictObject({
  receivers: z.record(z.string(), z.unknown()).nullish(),
  processors: z.record(z.string(), z.unknown()).nullish(),
  exporters: z.record(z.string(), z.unknown()).nullish(),
  extensions: z.record(z.string(), z.unknown()).nullish(),
  connectors: z.record(z.string(), z.unknown()).nullish(),
  /** Loaded and registered before validation (config/plugins.ts). */
  plugins: z.array(z.string().min(1)).nullish(),
  service: z.unknown(),
});

const SECTIONS: readonly [string, ComponentKind][] = [
  ['receivers', 'receiver'], ['processors', 'processor'], ['exporters', 'exporter'], ['extensions', 'extension'],
];

/** `type` or `type/name`; the name may itself contain `/` (as upstream: `transform/otlp/x`). */
const ID_PATTERN = /^[a-z][a-z0-9_]*(\/\S+)?$/;

const SIGNALS: readonly Signal[] = ['logs', 'traces', 'metrics'];

/**
 * What traces and metrics pipelines may hold: they are forwarded as opaque OTLP, so only components that
 * do not look inside the data (canonical type names).
 */
const PASS_THROUGH: Record<'receiver' | 'processor' | 'exporter', ReadonlySet<string>> = {
  receiver: new Set(['otlp']),
  processor: new Set(['memory_limiter', 'batch']),
  exporter: new Set(['otlp', 'otlphttp', 'file', 'debug']),
};

export function signalOf(pipelineId: string): string {
  return parseComponentId(pipelineId).type;
}

function getAt(v: unknown, path: readonly PropertyKey[]): unknown {
  let cur = v;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function setAt(v: unknown, path: readonly PropertyKey[], value: unknown): void {
  let cur = v as Record<PropertyKey, unknown>;
  for (let i = 0; i < path.length - 1; i++) cur = cur[path[i]!] as Record<PropertyKey, unknown>;
  cur[path[path.length - 1]!] = value;
}

type Parsed = { success: true; data: unknown } | { success: false; error: z.ZodError };

/**
 * Parses with enum values accepted in any letter case (as upstream's text unmarshalers do): a value
 * refused as not one of the options but equal to one ignoring case is replaced by it and parsed again.
 */
export function parseLenient(schema: z.ZodType, value: unknown): Parsed {
  let input = value;
  let cloned = false;
  for (let round = 0; round < 8; round++) {
    const r = schema.safeParse(input) as Parsed;
    if (r.success) return r;
    let fixed = false;
    for (const issue of r.error.issues) {
      if (issue.code !== 'invalid_value') continue;
      const cur = getAt(input, issue.path);
      if (typeof cur !== 'string') continue;
      const match = issue.values.find((o) => typeof o === 'string' && o !== cur && o.toLowerCase() === cur.toLowerCase());
      if (match === undefined) continue;
      if (!cloned) {
        input = structuredClone(input);
        cloned = true;
      }
      setAt(input, issue.path, match);
      fixed = true;
    }
    if (!fixed) return r;
  }
  return schema.safeParse(input);
}

/** zod issues → config issues, with the bad value echoed for enums and hints for misspelt keys. */
function issuesOf(error: z.ZodError, prefix: readonly PropertyKey[], schema: z.ZodType, input: unknown): ConfigIssue[] {
  const out = issuesFromZod(error, prefix);
  for (const issue of out) {
    const rel = (issue.parts ?? []).slice(prefix.length);
    if (issue.message === 'unknown key') {
      const key = String(rel[rel.length - 1]);
      issue.hint = didYouMean(key, keysAt(schema, rel.slice(0, -1)));
    }
  }
  // Enum errors: say what was given.
  let i = 0;
  for (const zi of error.issues) {
    if (zi.code === 'unrecognized_keys') {
      i += zi.keys.length;
      continue;
    }
    const issue = out[i++];
    if (!issue) continue;
    if (zi.code === 'invalid_value' && zi.values.length > 1 && !/^invalid value /.test(zi.message)) {
      const given = getAt(input, zi.path);
      issue.message = `invalid value ${given === undefined ? '(none)' : JSON.stringify(given)} (expected one of: ${zi.values.map(String).join(', ')})`;
      if (typeof given === 'string') issue.hint = didYouMean(given, zi.values.map(String));
    }
  }
  return out;
}

function unknownComponentIssue(kind: ComponentKind, sectionName: string, id: string, type: string, registry: ComponentRegistry): ConfigIssue {
  const parts = [sectionName, id];
  const unsupported = unsupportedComponent(kind, type);
  if (unsupported) return { path: formatPath(parts), message: unsupported, parts };
  const known = registry.typesOf(kind).flatMap((t) => [t, ...registry.aliasesOf(kind, t)]);
  return {
    path: formatPath(parts),
    message: `unknown ${kind} type "${type}" (known: ${registry.typesOf(kind).join(', ') || 'none'})`,
    hint: didYouMean(type, known),
    parts,
  };
}

/** Every `auth.authenticator` string in a component config, with its path. */
function authenticatorRefs(v: unknown, parts: PropertyKey[]): { id: string; parts: PropertyKey[] }[] {
  if (v === null || typeof v !== 'object') return [];
  const out: { id: string; parts: PropertyKey[] }[] = [];
  for (const [k, val] of Object.entries(v)) {
    if (k === 'auth' && val !== null && typeof val === 'object' && typeof (val as { authenticator?: unknown }).authenticator === 'string') {
      out.push({ id: (val as { authenticator: string }).authenticator, parts: [...parts, 'auth', 'authenticator'] });
    } else out.push(...authenticatorRefs(val, [...parts, Array.isArray(v) ? Number(k) : k]));
  }
  return out;
}

/** Validates an already parsed (and substituted) config object. Throws ConfigError. */
export function validateConfig(raw: unknown, registry: ComponentRegistry): CollectorConfig {
  const issues: ConfigIssue[] = [];
  const top = topSchema.safeParse(raw ?? {});
  if (!top.success) {
    const list = issuesFromZod(top.error, []);
    for (const i of list) if (i.message === 'unknown key') i.hint = didYouMean(i.path, TOP_KEYS);
    throw new ConfigError(list);
  }
  const t = top.data;
  for (const id of Object.keys(t.connectors ?? {})) {
    const type = parseComponentId(id).type;
    issues.push({ path: formatPath(['connectors', id]), message: unsupportedComponent('connector', type) ?? 'connectors are not supported by Tributary', parts: ['connectors', id] });
  }

  const out: CollectorConfig = {
    receivers: {}, processors: {}, exporters: {}, extensions: {},
    service: { extensions: [], pipelines: {}, shutdown_timeout: 15_000, telemetry: { logs: { level: 'info', encoding: 'text' } }, workers: 1, coordination: {} },
    missingEnv: [],
  };

  for (const [sectionName, kind] of SECTIONS) {
    const entries = (t as Record<string, Record<string, unknown> | null | undefined>)[sectionName] ?? {};
    for (const [id, value] of Object.entries(entries)) {
      const where = [sectionName, id];
      if (!ID_PATTERN.test(id)) {
        issues.push({ path: formatPath(where), message: `invalid component id (use "type" or "type/name")`, parts: where });
        continue;
      }
      const { type } = parseComponentId(id);
      const factory = registry.get(kind, type);
      if (!factory) {
        issues.push(unknownComponentIssue(kind, sectionName, id, type, registry));
        continue;
      }
      const input = value ?? {};
      const parsed = parseLenient(factory.configSchema, input);
      if (parsed.success) {
        (out as unknown as Record<string, Record<string, unknown>>)[sectionName]![id] = parsed.data;
        continue;
      }
      for (const issue of issuesOf(parsed.error, where, factory.configSchema, input)) {
        const rel = (issue.parts ?? []).slice(where.length);
        const unsupported = issue.message === 'unknown key' && rel.length === 1 ? unsupportedKey(kind, factory.type, String(rel[0])) : undefined;
        if (unsupported) {
          issue.message = unsupported;
          issue.hint = undefined;
        }
        issues.push(issue);
      }
    }
  }

  const svcInput = t.service ?? {};
  const svc = parseLenient(serviceSchema, svcInput);
  if (!svc.success) {
    issues.push(...issuesOf(svc.error, ['service'], serviceSchema, svcInput));
    throw new ConfigError(issues);
  }
  const s = svc.data as z.output<typeof serviceSchema>;
  if (t.service === undefined) issues.push({ path: 'service', message: 'required' });
  else if (Object.keys(s.pipelines).length === 0) issues.push({ path: 'service.pipelines', message: 'at least one pipeline is required', parts: ['service', 'pipelines'] });

  const defined = (sectionName: string, id: string): boolean =>
    Object.prototype.hasOwnProperty.call((t as Record<string, Record<string, unknown> | null | undefined>)[sectionName] ?? {}, id);

  const checkRefs = (list: string[], sectionName: string, kind: ComponentKind, where: PropertyKey[], signal?: string): void => {
    const seen = new Set<string>();
    const ids = Object.keys((t as Record<string, Record<string, unknown> | null | undefined>)[sectionName] ?? {});
    list.forEach((id, i) => {
      const parts = [...where, i];
      const p = formatPath(parts);
      if (seen.has(id)) issues.push({ path: p, message: `${kind} "${id}" is listed twice`, parts });
      seen.add(id);
      if (!defined(sectionName, id)) {
        issues.push({ path: p, message: `references ${kind} "${id}", which is not defined in ${sectionName}`, hint: didYouMean(id, ids), parts });
        return;
      }
      if (signal !== undefined && signal !== 'logs' && kind !== 'extension') {
        const type = registry.canonicalType(kind, parseComponentId(id).type);
        const allowed = PASS_THROUGH[kind];
        if (!allowed.has(type)) {
          issues.push({
            path: p,
            message: `${kind} "${id}" cannot be in a ${signal} pipeline: Tributary forwards ${signal} as they are, through the ${[...allowed].join(', ')} ${kind}${allowed.size > 1 ? 's' : ''} only`,
            parts,
          });
        }
      }
    });
  };

  checkRefs(s.extensions, 'extensions', 'extension', ['service', 'extensions']);
  // `auth: { authenticator: <extension id> }` anywhere in a component's config must name a running extension.
  for (const [sectionName] of SECTIONS) {
    for (const [id, value] of Object.entries((t as Record<string, Record<string, unknown> | null | undefined>)[sectionName] ?? {})) {
      for (const ref of authenticatorRefs(value, [sectionName, id])) {
        if (s.extensions.includes(ref.id)) continue;
        const definedExt = defined('extensions', ref.id);
        issues.push({
          path: formatPath(ref.parts),
          message: definedExt
            ? `extension "${ref.id}" is not listed in service.extensions`
            : `references extension "${ref.id}", which is not defined in extensions`,
          hint: definedExt ? undefined : didYouMean(ref.id, Object.keys(t.extensions ?? {})),
          parts: ref.parts,
        });
      }
    }
  }
  for (const [pid, p] of Object.entries(s.pipelines)) {
    const where = ['service', 'pipelines', pid];
    const signal = signalOf(pid);
    if (!(SIGNALS as readonly string[]).includes(signal)) {
      const known = signal === 'profiles' ? 'not supported by Tributary' : `unknown pipeline type "${signal}"`;
      issues.push({ path: formatPath(where), message: `${known} (pipelines are logs, traces or metrics)`, hint: didYouMean(signal, SIGNALS), parts: where });
      continue;
    }
    if (p.receivers.length === 0) issues.push({ path: formatPath([...where, 'receivers']), message: 'at least one receiver is required', parts: [...where, 'receivers'] });
    if (p.exporters.length === 0) issues.push({ path: formatPath([...where, 'exporters']), message: 'at least one exporter is required', parts: [...where, 'exporters'] });
    checkRefs(p.receivers, 'receivers', 'receiver', [...where, 'receivers'], signal);
    checkRefs(p.processors, 'processors', 'processor', [...where, 'processors'], signal);
    checkRefs(p.exporters, 'exporters', 'exporter', [...where, 'exporters'], signal);
  }

  if (issues.length) throw new ConfigError(issues);
  const tel = telemetrySettings(s.telemetry);
  const extensions = [...s.extensions];
  // A Prometheus pull reader in service.telemetry is upstream's way to serve the collector's metrics: the metrics extension does that here.
  if (tel.metricsEndpoint !== undefined) {
    const hasMetrics = extensions.some((id) => parseComponentId(id).type === 'metrics');
    const factory = registry.get('extension', 'metrics');
    if (hasMetrics || !factory) tel.noEffect.push('metrics.readers (the metrics extension is configured)');
    else {
      const parsed = factory.configSchema.safeParse({ endpoint: tel.metricsEndpoint });
      if (!parsed.success) {
        throw new ConfigError(issuesFromZod(parsed.error, ['service', 'telemetry', 'metrics']).map((i) => ({ ...i, message: `${i.message} (from the Prometheus reader's host and port)` })));
      }
      out.extensions['metrics/service_telemetry'] = parsed.data;
      extensions.push('metrics/service_telemetry');
    }
  }
  out.service = {
    extensions,
    pipelines: s.pipelines,
    shutdown_timeout: s.shutdown_timeout,
    telemetry: { logs: tel.logs, fields: tel.fields, noEffect: tel.noEffect },
    workers: s.workers,
    coordination: s.coordination,
  };
  return out;
}

/** Adds the YAML line and column of each issue's path. */
function withPositions(err: ConfigError, docs: readonly SourceDoc[], source: string): ConfigError {
  for (const i of err.issues) {
    if (i.line !== undefined || !i.parts?.length) continue;
    const at = locate(docs, i.parts);
    if (at) {
      i.source = docs.length > 1 ? at.source : undefined;
      i.line = at.line;
      i.column = at.column;
    }
  }
  return new ConfigError(err.issues, source);
}

function finish(raw: unknown, docs: readonly SourceDoc[], registry: ComponentRegistry, env: NodeJS.ProcessEnv, baseDir: string, source: string): CollectorConfig {
  const ctx = { env, baseDir, issues: [] as ConfigIssue[], missingEnv: new Set<string>() };
  const substituted = substituteTree(raw, ctx);
  if (ctx.issues.length) throw new ConfigError(ctx.issues, source);
  let config: CollectorConfig;
  try {
    config = validateConfig(substituted, registry);
  } catch (e) {
    if (e instanceof ConfigError) throw withPositions(e, docs, source);
    throw e;
  }
  config.missingEnv = [...ctx.missingEnv];
  return config;
}

/** Parses YAML text, substitutes references, validates. Throws ConfigError listing every problem. */
export function loadConfigText(
  text: string,
  registry: ComponentRegistry,
  options: { env?: NodeJS.ProcessEnv; baseDir?: string; source?: string } = {},
): CollectorConfig {
  const source = options.source ?? '<config>';
  let parsed;
  try {
    parsed = parseSourceText(source, text);
  } catch (e) {
    if (e instanceof SourceError) throw new ConfigError(e.issues, source);
    throw e;
  }
  return finish(parsed.value, [parsed.doc], registry, options.env ?? process.env, options.baseDir ?? process.cwd(), source);
}

/**
 * Loads the config from `file` — or, when `sources` is given, from those `--config` URIs and `--set`
 * values merged in order (then `file` is only the label used in messages).
 */
export function loadConfigFile(file: string, registry: ComponentRegistry, env?: NodeJS.ProcessEnv, sources?: ConfigSources): CollectorConfig {
  const e = env ?? process.env;
  let resolved;
  try {
    resolved = resolveSources(sources ?? { uris: [file] }, e, file);
  } catch (err) {
    if (err instanceof SourceError) throw new ConfigError(err.issues, file);
    throw err;
  }
  return finish(resolved.raw, resolved.docs, registry, e, resolved.baseDir, resolved.label);
}
