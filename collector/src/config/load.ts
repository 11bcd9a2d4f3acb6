/**
 * Loads and validates a collector config: YAML → substitution → strict validation of the service
 * section and of each component's config through its factory's schema. Every problem is reported with
 * its exact path (`exporters.file.path: required`) — all of them, not just the first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseComponentId, type ComponentKind } from '../component.js';
import type { ComponentRegistry } from '../registry.js';
import { duration, formatPath, issuesFromZod, section, type ConfigIssue } from './schema-helpers.js';
import { substituteTree } from './substitute.js';
import { coordinationSchema, type CoordinationConfig } from '../coordination/config.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[], readonly source = '') {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'));
  }
}

export interface PipelineConfig {
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

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
    telemetry: { logs: { level: LogLevelName; encoding: 'text' | 'json' } };
    /** Worker processes (`run --workers` overrides); 'auto' = one per CPU. */
    workers: number | 'auto';
    /** Shared Redis / NATS for state several instances use together (coordination/config.ts). */
    coordination: CoordinationConfig;
  };
  /** Environment variables referenced but not set (substituted with ""). */
  missingEnv: string[];
}

const idList = z.array(z.string().min(1)).default([]);

const serviceSchema = z.strictObject({
  extensions: idList,
  pipelines: z.record(z.string(), z.strictObject({ receivers: idList, processors: idList, exporters: idList })).default({}),
  shutdown_timeout: duration().prefault('15s'),
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(1024)]).default(1),
  coordination: coordinationSchema,
  telemetry: section({
    logs: section({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      encoding: z.enum(['text', 'json']).default('text'),
    }),
    // Accepted for compatibility with upstream configs; Tributary's own metrics are served by the `metrics` extension.
    metrics: z.unknown().optional(),
  }),
});

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

const ID_PATTERN = /^[a-z][a-z0-9_]*(\/[^\s/]+)?$/;

/** Validates an already parsed (and substituted) config object. Throws ConfigError. */
export function validateConfig(raw: unknown, registry: ComponentRegistry): CollectorConfig {
  const issues: ConfigIssue[] = [];
  const top = topSchema.safeParse(raw ?? {});
  if (!top.success) throw new ConfigError(issuesFromZod(top.error, []));
  const t = top.data;
  if (t.connectors && Object.keys(t.connectors).length) issues.push({ path: 'connectors', message: 'connectors are not supported' });

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
        issues.push({ path: formatPath(where), message: `invalid component id (use "type" or "type/name")` });
        continue;
      }
      const { type } = parseComponentId(id);
      const factory = registry.get(kind, type);
      if (!factory) {
        issues.push({ path: formatPath(where), message: `unknown ${kind} type "${type}" (known: ${registry.typesOf(kind).join(', ') || 'none'})` });
        continue;
      }
      const parsed = factory.configSchema.safeParse(value ?? {});
      if (parsed.success) (out as unknown as Record<string, Record<string, unknown>>)[sectionName]![id] = parsed.data;
      else issues.push(...issuesFromZod(parsed.error, where));
    }
  }

  const svc = serviceSchema.safeParse(t.service ?? {});
  if (!svc.success) {
    issues.push(...issuesFromZod(svc.error, ['service']));
    throw new ConfigError(issues);
  }
  const s = svc.data;
  if (t.service === undefined) issues.push({ path: 'service', message: 'required' });
  else if (Object.keys(s.pipelines).length === 0) issues.push({ path: 'service.pipelines', message: 'at least one pipeline is required' });

  const defined = (sectionName: string, id: string): boolean =>
    Object.prototype.hasOwnProperty.call((t as Record<string, Record<string, unknown> | null | undefined>)[sectionName] ?? {}, id);

  const checkRefs = (list: string[], sectionName: string, kind: ComponentKind, where: PropertyKey[]): void => {
    const seen = new Set<string>();
    list.forEach((id, i) => {
      const p = formatPath([...where, i]);
      if (seen.has(id)) issues.push({ path: p, message: `${kind} "${id}" is listed twice` });
      seen.add(id);
      if (!defined(sectionName, id)) issues.push({ path: p, message: `references ${kind} "${id}", which is not defined in ${sectionName}` });
    });
  };

  checkRefs(s.extensions, 'extensions', 'extension', ['service', 'extensions']);
  for (const [pid, p] of Object.entries(s.pipelines)) {
    const where = ['service', 'pipelines', pid];
    const { type } = parseComponentId(pid);
    if (type !== 'logs') {
      issues.push({ path: formatPath(where), message: `only logs pipelines are supported (got "${type}")` });
      continue;
    }
    if (p.receivers.length === 0) issues.push({ path: formatPath([...where, 'receivers']), message: 'at least one receiver is required' });
    if (p.exporters.length === 0) issues.push({ path: formatPath([...where, 'exporters']), message: 'at least one exporter is required' });
    checkRefs(p.receivers, 'receivers', 'receiver', [...where, 'receivers']);
    checkRefs(p.processors, 'processors', 'processor', [...where, 'processors']);
    checkRefs(p.exporters, 'exporters', 'exporter', [...where, 'exporters']);
  }

  if (issues.length) throw new ConfigError(issues);
  out.service = { extensions: s.extensions, pipelines: s.pipelines, shutdown_timeout: s.shutdown_timeout, telemetry: { logs: s.telemetry.logs }, workers: s.workers, coordination: s.coordination };
  return out;
}

/** Parses YAML text, substitutes references, validates. Throws ConfigError listing every problem. */
export function loadConfigText(
  text: string,
  registry: ComponentRegistry,
  options: { env?: NodeJS.ProcessEnv; baseDir?: string; source?: string } = {},
): CollectorConfig {
  const source = options.source ?? '<config>';
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => ({ path: '', message: `${source}: YAML ${e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : ''}: ${e.message.split('\n')[0]}` })),
      source,
    );
  }
  const ctx = { env: options.env ?? process.env, baseDir: options.baseDir ?? process.cwd(), issues: [] as ConfigIssue[], missingEnv: new Set<string>() };
  const substituted = substituteTree(doc.toJS(), ctx);
  if (ctx.issues.length) throw new ConfigError(ctx.issues, source);
  const config = validateConfig(substituted, registry);
  config.missingEnv = [...ctx.missingEnv];
  return config;
}

export function loadConfigFile(file: string, registry: ComponentRegistry, env?: NodeJS.ProcessEnv): CollectorConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: '', message: `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }], file);
  }
  return loadConfigText(text, registry, { env: env ?? process.env, baseDir: path.dirname(path.resolve(file)), source: file });
}
