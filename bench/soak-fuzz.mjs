#!/usr/bin/env node
// Long fuzz run of the OTLP receivers: `node bench/soak-fuzz.mjs [seconds per transport, default 600] [seed]`.
// Runs test/fuzz-otlp.test.ts with FUZZ_SECONDS / FUZZ_SEED (the test prints the number of cases).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seconds = process.argv[2] ?? '600';
const env = { ...process.env, FUZZ_SECONDS: seconds, ...(process.argv[3] ? { FUZZ_SEED: process.argv[3] } : {}) };
const r = spawnSync('npx', ['vitest', 'run', 'test/fuzz-otlp.test.ts'], { cwd: root, env, stdio: 'inherit' });
process.exitCode = r.status ?? 1;
