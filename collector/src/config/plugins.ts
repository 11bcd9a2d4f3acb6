/**
 * Plugins: a top-level `plugins:` list of npm package names or file paths. Each module exports
 * component factories through the same contract as the built-ins (component.ts; types exported from
 * the collector package): `export default [factory, …]`, `export default factory`, or
 * `export const factories = [...]`. They are registered before the config is validated, so their
 * types validate like built-in ones. Relative paths resolve from the config file's directory.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { AnyFactory } from '../component.js';
import { errorMessage } from '../errors.js';
import type { ComponentRegistry } from '../registry.js';
import { ConfigError } from './load.js';
import type { ConfigIssue } from './schema-helpers.js';

const KINDS = new Set(['receiver', 'processor', 'exporter', 'extension']);

function isFactory(v: unknown): v is AnyFactory {
  if (v === null || typeof v !== 'object') return false;
  const f = v as Record<string, unknown>;
  const schema = f['configSchema'] as { safeParse?: unknown } | undefined;
  return typeof f['kind'] === 'string' && KINDS.has(f['kind']) && typeof f['type'] === 'string'
    && typeof f['create'] === 'function' && typeof schema?.safeParse === 'function';
}

function factoriesOf(mod: Record<string, unknown>): unknown[] | undefined {
  const candidates = [mod['default'], mod['factories']];
  for (const c of candidates) {
    if (Array.isArray(c)) return c as unknown[];
    if (isFactory(c)) return [c];
  }
  return undefined;
}

function resolveSpec(spec: string, baseDir: string): string {
  if (spec.startsWith('.') || path.isAbsolute(spec)) return pathToFileURL(path.resolve(baseDir, spec)).href;
  // A package name: resolved from the config's directory first, like a user's own require.
  try {
    return pathToFileURL(createRequire(path.join(baseDir, 'noop.js')).resolve(spec)).href;
  } catch {
    return spec;
  }
}

/** Reads the `plugins:` list of a config file (unsubstituted names only: a plugin list holds no secrets). */
export function pluginSpecsOf(file: string): string[] {
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch {
    return []; // the loader reports unreadable files and YAML errors with their position
  }
  const list = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)['plugins'] : undefined;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '')) {
    throw new ConfigError([{ path: 'plugins', message: 'must be a list of npm package names or file paths' }], file);
  }
  return list as string[];
}

/** Imports every plugin of the config file and registers its factories. Throws ConfigError naming the plugin. */
export async function loadPlugins(file: string, registry: ComponentRegistry): Promise<{ spec: string; types: string[] }[]> {
  const specs = pluginSpecsOf(file);
  const baseDir = path.dirname(path.resolve(file));
  const issues: ConfigIssue[] = [];
  const loaded: { spec: string; types: string[] }[] = [];
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const where = `plugins[${i}]`;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(resolveSpec(spec, baseDir))) as Record<string, unknown>;
    } catch (e) {
      issues.push({ path: where, message: `cannot load plugin "${spec}": ${errorMessage(e).split('\n')[0]}` });
      continue;
    }
    const factories = factoriesOf(mod);
    if (!factories || factories.length === 0) {
      issues.push({ path: where, message: `plugin "${spec}" exports no component factories (export default [factory, …] or export const factories)` });
      continue;
    }
    const types: string[] = [];
    factories.forEach((f, j) => {
      if (!isFactory(f)) {
        issues.push({ path: where, message: `plugin "${spec}": export #${j} is not a component factory (needs kind, type, configSchema.safeParse, create)` });
        return;
      }
      try {
        registry.register(f, spec);
        types.push(`${f.kind} ${f.type}`);
      } catch (e) {
        issues.push({ path: where, message: `plugin "${spec}": ${errorMessage(e)}` });
      }
    });
    loaded.push({ spec, types });
  }
  if (issues.length) throw new ConfigError(issues, file);
  return loaded;
}
