/**
 * Keeps the generated docs current (README component table, docs/components/**, docs pages generated from
 * source documents) and checks what a newcomer relies on: the README's size and first commands, a doc for
 * every component, links that resolve, and recipe configs that validate.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDefaultRegistry, loadConfigText, z, type ComponentRegistry } from '../collector/src/index.js';
import { repoRoot } from './support/collector-process.js';

interface Rendered {
  files: Map<string, string>;
  stale: string[];
  components: { kind: string; type: string; readme: string | undefined; doc: string }[];
}
const { renderAll } = (await import(path.join(repoRoot, 'scripts/readme.mjs'))) as {
  renderAll: (options?: { registry?: ComponentRegistry; componentsDir?: string }) => Promise<Rendered>;
};
const rendered = await renderAll();
const read = (rel: string): string => fs.readFileSync(path.join(repoRoot, rel), 'utf8');
const readme = read('README.md');

describe('generated docs (npm run readme)', () => {
  it('every generated file is current and no doc is left for a component that is gone', () => {
    const outdated = [...rendered.files]
      .filter(([file, text]) => !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text)
      .map(([file]) => path.relative(repoRoot, file));
    expect(outdated, 'out of date: run `npm run readme`').toEqual([]);
    expect(rendered.stale.map((f) => path.relative(repoRoot, f)), 'stale docs: run `npm run readme`').toEqual([]);
  });

  it('every built-in component has a README.md in its folder, a doc with its stability and keys, and a README table row', () => {
    const registry = createDefaultRegistry();
    expect(rendered.components).toHaveLength(registry.list().length);
    for (const c of rendered.components) {
      expect(c.readme, `collector/src/${c.kind}s/${c.type}/README.md is missing`).toBeDefined();
      const doc = fs.readFileSync(c.doc, 'utf8');
      expect(doc).toMatch(/\*\*Stability: (alpha|beta|stable)\*\*/);
      expect(doc).toContain('## All keys');
      expect(readme).toContain(`](docs/components/${c.kind}/${c.type}.md)`);
    }
  });

  it('every exporter README says how it differs from upstream (a "Differences from upstream" section)', () => {
    const missing = rendered.components
      .filter((c) => c.kind === 'exporter' && !/^## Differences from upstream$/m.test(fs.readFileSync(c.readme ?? c.doc, 'utf8')))
      .map((c) => c.type);
    expect(missing).toEqual([]);
  });

  it('a new component folder with a README.md and a registered factory gets a doc and a table row, with no edit to the generator', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-docs-'));
    try {
      fs.mkdirSync(path.join(dir, 'exporters/docs_example'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'exporters/docs_example/README.md'), '# `docs_example` exporter\n\nPosts each batch as NDJSON to a URL.\n\n## Keys\n\nProse.\n');
      const registry = createDefaultRegistry().register({
        kind: 'exporter',
        type: 'docs_example',
        configSchema: z.strictObject({ endpoint: z.string(), batch_size: z.number().int().min(1).default(100) }),
        create: () => ({ send: () => Promise.resolve() }),
      });
      const { files } = await renderAll({ registry, componentsDir: dir });
      const doc = files.get(path.join(repoRoot, 'docs/components/exporter/docs_example.md')) ?? '';
      expect(doc).toContain('# `docs_example` exporter');
      expect(doc).toContain('**Stability: alpha**');
      expect(doc).toContain('Posts each batch as NDJSON to a URL.');
      expect(doc).toContain('| `endpoint` | string | required |');
      expect(doc).toContain('| `batch_size` | integer ≥ 1 | `100` |');
      expect(doc, 'the queue/retry keys are described once, in exporter-helper.md').not.toContain('| `sending_queue.enabled`');
      expect(files.get(path.join(repoRoot, 'README.md'))).toContain('| [`docs_example`](docs/components/exporter/docs_example.md) | exporter | alpha | Posts each batch as NDJSON to a URL. |');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the key table follows the schema: types, defaults and required keys', () => {
    const loki = fs.readFileSync(path.join(repoRoot, 'docs/components/exporter/loki.md'), 'utf8');
    expect(loki).toContain('| `endpoint` | string | required |');
    expect(loki).toContain('| `max_line_size` | size | `256KiB` |');
    expect(loki).toMatch(/\| `encoding` \| `protobuf` \\\| `json` \| `protobuf` \|/);
    const batch = fs.readFileSync(path.join(repoRoot, 'docs/components/processor/batch.md'), 'utf8');
    expect(batch).toContain('| `timeout` | duration | `200ms` |');
    expect(batch).toContain('| `send_batch_size` | integer ≥ 0 | `8192` |');
    const helper = fs.readFileSync(path.join(repoRoot, 'docs/exporter-helper.md'), 'utf8');
    expect(helper).toContain('| `retry_on_failure.max_elapsed_time` | duration | `300s` |');
  });
});

describe('README as a landing page', () => {
  it('starts with the two commands a new user runs', () => {
    expect(readme.indexOf('npm ci && npm start')).toBeGreaterThan(0);
    expect(readme.indexOf('npm test')).toBeGreaterThan(readme.indexOf('npm ci && npm start'));
  });

  it('stays under 25 KB', () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(25 * 1024);
  });

  it('has the sections a newcomer looks for, and the recipes are one click away', () => {
    for (const h of ['## Scaling out', '## Delivery guarantees', '## Troubleshooting', '## Sizing', '## Deployment', '## Recipes']) expect(readme).toContain(h);
    for (const topic of [/send.*loki/i, /disk queue/i, /all errors.*10 ?% of debug/i, /rate.?limit.*per service/i]) {
      const line = readme.split('\n').find((l) => topic.test(l) && /\]\(docs\/[^)]+#[^)]+\)/.test(l));
      expect(line, `README links a recipe for ${String(topic)}`).toBeDefined();
    }
  });
});

/** GitHub's heading anchors: lower case, punctuation removed, spaces to hyphens, repeats numbered. */
function anchorsOf(md: string): Set<string> {
  const out = new Set<string>();
  let inFence = false;
  for (const line of md.split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const m = /^#{1,6} (.+)$/.exec(line);
    if (!m?.[1]) continue;
    const base = m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    let slug = base;
    for (let i = 1; out.has(slug); i++) slug = `${base}-${i}`;
    out.add(slug);
  }
  return out;
}

function markdownFiles(): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  return out;
}

describe('docs links and recipes', () => {
  it('every relative link in README.md and docs/ points at a file that exists, and at a heading that exists', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const md = read(file).replace(/```[\s\S]*?```/g, '');
      for (const m of md.matchAll(/\]\((?!https?:|mailto:)([^)\s]*)\)/g)) {
        const [target = '', anchor] = (m[1] ?? '').split('#');
        const abs = target ? path.resolve(path.dirname(path.join(repoRoot, file)), target) : path.join(repoRoot, file);
        if (!fs.existsSync(abs)) broken.push(`${file}: ${m[1] ?? ''} (no such file)`);
        else if (anchor && abs.endsWith('.md') && !anchorsOf(fs.readFileSync(abs, 'utf8')).has(anchor)) broken.push(`${file}: ${m[1] ?? ''} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('no doc points at documents outside the repository', () => {
    for (const file of markdownFiles()) expect(read(file), file).not.toMatch(/EXPORTERS\.md|DESIGN\.md/);
  });

  it('every complete config in docs/recipes.md validates', () => {
    const md = read('docs/recipes.md');
    const configs = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').filter((y) => /^service:/m.test(y));
    expect(configs.length).toBeGreaterThanOrEqual(4);
    for (const yaml of configs) {
      expect(() => loadConfigText(yaml, createDefaultRegistry(), { env: { LOKI_TOKEN: 't', REDIS_URL: 'redis://127.0.0.1:6379' }, baseDir: repoRoot })).not.toThrow();
    }
  });
});
