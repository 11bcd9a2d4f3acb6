/** include / exclude of the attributes processor, compiled once into a record predicate (the filter processor's matcher). */
import { compileRegex, type Condition } from '../../ottl/index.js';
import { compileMatchProperties } from '../filter/match-properties.js';
import type { AttributesMatch } from './config.js';

function compile(p: AttributesMatch): Condition {
  const parts: Condition[] = [];
  const hasFilterKeys = p.attributes || p.resources || p.log_bodies || p.log_severity_texts || p.log_severity_number;
  if (hasFilterKeys) {
    parts.push(compileMatchProperties({
      match_type: p.match_type,
      record_attributes: p.attributes,
      resource_attributes: p.resources,
      bodies: p.log_bodies,
      severity_texts: p.log_severity_texts,
      severity_number: p.log_severity_number,
    }));
  }
  if (p.libraries) {
    const libs = p.libraries.map((l) => {
      const name = p.match_type === 'regexp' ? compileRegex(l.name) : undefined;
      return { name: l.name, re: name, version: l.version };
    });
    parts.push((ctx) => {
      const scopeName = ctx.scope?.name ?? '';
      const scopeVersion = ctx.scope?.version ?? '';
      return libs.some((l) => (l.re ? l.re.test(scopeName) : l.name === scopeName) && (l.version === undefined || l.version === scopeVersion));
    });
  }
  return (ctx) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i]!(ctx)) return false;
    return true;
  };
}

/** True when the actions apply to the record: it matches `include` (if set) and not `exclude` (if set). */
export function compileSelection(include: AttributesMatch | undefined, exclude: AttributesMatch | undefined): Condition | undefined {
  if (!include && !exclude) return undefined;
  const inc = include ? compile(include) : undefined;
  const exc = exclude ? compile(exclude) : undefined;
  return (ctx) => (inc === undefined || inc(ctx)) && (exc === undefined || !exc(ctx));
}
