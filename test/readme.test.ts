import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from './support/collector-process.js';

it('README component reference is rebuilt from the component READMEs (npm run readme)', async () => {
  const { renderReadme } = (await import(path.join(repoRoot, 'scripts/readme.mjs'))) as { renderReadme: (t: string) => string };
  const text = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  expect(renderReadme(text) === text, 'README.md is out of date: run `npm run readme`').toBe(true);
});

it('README starts with the two commands a new user runs', () => {
  const text = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  expect(text.indexOf('npm ci && npm start')).toBeGreaterThan(0);
  expect(text.indexOf('npm test')).toBeGreaterThan(text.indexOf('npm ci && npm start'));
});
