/**
 * Rule files (`rules_files: [rules/*.yaml]`, each `{ rules: [...] }`): read, validated with the rule
 * schema, and refused with the file, path and line/column of each problem (the config validator's style).
 */
import fs from 'node:fs';
import fg from 'fast-glob';
import { z } from 'zod';
import { locate, parseSourceText, SourceError } from '../../config/confmap.js';
import { formatConfigIssue, issuesFromZod, type ConfigIssue } from '../../config/schema-helpers.js';
import { ruleSchema, type RuleConfig } from './config.js';

const fileSchema = z.strictObject({ rules: z.array(ruleSchema).default([]) });

export class RulesFileError extends Error {
  override name = 'RulesFileError';
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join('\n'));
  }
}

/** Expands the globs (sorted, so the rule order is stable). */
export function rulesFilePaths(globs: readonly string[]): string[] {
  return fg.sync([...globs], { onlyFiles: true, absolute: true }).sort();
}

/** The text of every file the globs match; a file that cannot be read is kept with an empty text. */
export function readRulesFiles(globs: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of rulesFilePaths(globs)) {
    try {
      out.set(f, fs.readFileSync(f, 'utf8'));
    } catch {
      out.set(f, '');
    }
  }
  return out;
}

/** Why two readings differ (a file added, removed or edited), or undefined when they are the same. */
export function rulesFilesChange(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string | undefined {
  for (const f of after.keys()) if (!before.has(f)) return `new rules file ${f}`;
  for (const [f, text] of before) {
    const now = after.get(f);
    if (now === undefined) return `rules file removed ${f}`;
    if (now !== text) return `rules file changed ${f}`;
  }
  return undefined;
}

/** Loads every file's rules; throws RulesFileError listing every problem of every file. */
export function loadRulesFiles(globs: readonly string[], inline: readonly RuleConfig[]): RuleConfig[] {
  const out: RuleConfig[] = [...inline];
  const issues: ConfigIssue[] = [];
  const names = new Set(inline.map((r) => r.name));
  for (const file of rulesFilePaths(globs)) {
    let parsed: ReturnType<typeof parseSourceText>;
    try {
      parsed = parseSourceText(file, fs.readFileSync(file, 'utf8'));
    } catch (err) {
      if (err instanceof SourceError) issues.push(...err.issues);
      else issues.push({ path: '', message: `${file}: ${(err as Error).message}` });
      continue;
    }
    const r = fileSchema.safeParse(parsed.value);
    if (!r.success) {
      for (const i of issuesFromZod(r.error, [])) {
        const at = i.parts ? locate([parsed.doc], i.parts) : undefined;
        issues.push({ ...i, source: file, line: at?.line, column: at?.column });
      }
      continue;
    }
    r.data.rules.forEach((rule, idx) => {
      if (names.has(rule.name)) {
        const at = locate([parsed.doc], ['rules', idx, 'name']);
        issues.push({ path: `rules[${idx}].name`, message: `duplicate rule name "${rule.name}"`, source: file, line: at?.line, column: at?.column });
      }
      names.add(rule.name);
      out.push(rule);
    });
  }
  if (issues.length > 0) throw new RulesFileError(issues);
  return out;
}
