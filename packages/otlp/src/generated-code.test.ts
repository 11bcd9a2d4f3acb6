import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

it('the committed protobuf code is what `npm run proto` generates from proto/', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-proto-'));
  try {
    execFileSync(process.execPath, [path.join(pkg, 'scripts/generate-proto.mjs'), out], { stdio: 'pipe' });
    for (const f of ['otlp.cjs', 'otlp.d.cts']) {
      expect(fs.readFileSync(path.join(out, f), 'utf8'), f).toBe(fs.readFileSync(path.join(pkg, 'generated', f), 'utf8'));
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
