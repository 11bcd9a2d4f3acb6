#!/usr/bin/env node
// The collector's max ingest and the instrumentation overhead on Node 20 (this node), 22 and 24 in one run:
// each round runs every version in a rotated order, short runs, medians per version. Prints Markdown.
//   node bench/node-versions.mjs [--rounds 3]     (after `npm run build`; versions from .ci/node-versions.sh)
// Per version and round: `node bench/run.mjs --quick --scenario max` (5 s, 8 connections) and
// `node bench/instrumentation/run.mjs` with BENCH_SECONDS=5 BENCH_ROUNDS=1 (plain vs --require).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { values: opt } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const ROUNDS = Number(opt.rounds);

const script = path.join(root, '.ci/node-versions.sh');
const versions = /NODE_VERSIONS="([^"]+)"/.exec(fs.readFileSync(script, 'utf8'))?.[1].split(/\s+/) ?? [];
const nodes = [{ version: process.versions.node, bin: process.execPath }];
for (const v of versions) {
  const dir = execFileSync('bash', [script, 'dir', v], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } }).trim();
  nodes.push({ version: v, bin: path.join(dir, 'bin/node') });
}

const num = (s) => Number(String(s).replace(/,/g, ''));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-bench-nodes-'));
const results = new Map(nodes.map((n) => [n.version, { ingest: [], cpu: [], plain: [], instr: [] }]));

for (let round = 0; round < ROUNDS; round++) {
  const order = nodes.map((_, i) => nodes[(i + round) % nodes.length]);
  for (const n of order) {
    const r = results.get(n.version);
    const json = path.join(tmp, `max-${n.version}-${round}.json`);
    execFileSync(n.bin, [path.join(here, 'run.mjs'), '--quick', '--scenario', 'max', '--wait-quiet', '0', '--json', json], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
    const max = JSON.parse(fs.readFileSync(json, 'utf8')).results[0];
    r.ingest.push(max.gen.ackedRecordsPerS);
    r.cpu.push(max.collector.meanCpuPctOfOneCore);
    const out = execFileSync(n.bin, [path.join(here, 'instrumentation/run.mjs')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, NODE_OPTIONS: '', BENCH_SECONDS: '5', BENCH_ROUNDS: '1', BENCH_LINES: '50000' } });
    r.plain.push(num(/^\| plain `node app\.cjs` \| ([\d,]+)/m.exec(out)?.[1]));
    r.instr.push(num(/^\| `node --require @tributary\/instrumentation\/register app\.cjs` \| ([\d,]+)/m.exec(out)?.[1]));
    process.stderr.write(`round ${round + 1}/${ROUNDS} Node ${n.version}: ingest ${Math.round(r.ingest.at(-1))} records/s, app plain ${r.plain.at(-1)} / instrumented ${r.instr.at(-1)} req/s\n`);
  }
}
fs.rmSync(tmp, { recursive: true, force: true });

const fmt = (x) => Math.round(x).toLocaleString('en-US');
console.log(`${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}, ${ROUNDS} rounds (versions rotated each round), medians; load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}.`);
console.log('');
console.log('| Node | collector max ingest (records/s) | collector CPU | app plain (req/s) | app instrumented (req/s) | instrumented / plain (median of rounds) |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const n of nodes) {
  const r = results.get(n.version);
  const p = median(r.plain);
  const i = median(r.instr);
  // The ratio is taken within each round (plain and instrumented back to back), then the median.
  const ratio = median(r.instr.map((x, k) => x / r.plain[k]));
  console.log(`| ${n.version} | ${fmt(median(r.ingest))} | ${Math.round(median(r.cpu))} % | ${fmt(p)} | ${fmt(i)} | ${(100 * ratio).toFixed(1)} % |`);
}
console.log('');
console.log(`Per round: ${nodes.map((n) => { const r = results.get(n.version); return `${n.version}: ingest ${r.ingest.map(fmt).join(', ')}; ratio ${r.instr.map((x, k) => `${(100 * x / r.plain[k]).toFixed(1)} %`).join(', ')}`; }).join(' — ')}.`);
