#!/usr/bin/env node
// `npm run build && node bench/profile.mjs [--duration 20s] [--concurrency 8] [--top 15] [--rate 10000]`
// The max-throughput (or --rate) scenario with the collector under `node --cpu-prof`; prints where its CPU goes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, repoRoot, runScenario } from './lib.mjs';
import { PASS_THROUGH_CHAIN } from './processor-chain.mjs';

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '20s' },
    concurrency: { type: 'string', default: '8' },
    top: { type: 'string', default: '15' },
    keep: { type: 'boolean', default: false },
    // Profile the fixed-rate scenario instead (records/s), e.g. --rate 10000 --concurrency 64.
    rate: { type: 'string' },
    // Profile with the processor chain of the "chain" scenario in front of batch.
    chain: { type: 'boolean', default: false },
  },
});
const durationMs = Number(/^(\d+)s$/.exec(opt.duration)?.[1] ?? 20) * 1000;
const top = Number(opt.top);
const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-bench-prof-'));

const info = machineInfo();
console.log(`Tributary collector CPU profile — ${info.date}`);
console.log(`machine: ${info.cpu}, ${info.cores} cores, ${info.memGiB} GiB RAM, Node ${info.node}`);
console.log(`command: node bench/profile.mjs ${process.argv.slice(2).join(' ')}`);
const r = await runScenario({
  name: 'profile', durationMs, keepDir: opt.keep,
  nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir],
  extraProcessors: opt.chain ? PASS_THROUGH_CHAIN : {},
  genArgs: [...(opt.rate ? ['--rate', opt.rate] : ['--max']), '--duration', `${durationMs / 1000}s`, '--concurrency', opt.concurrency],
});
console.log(`collector: ${r.collectorCommand}`);
console.log(`scenario: ${opt.rate ? `fixed rate ${opt.rate} records/s` : 'max throughput'}, ${opt.concurrency} connections, ${durationMs / 1000} s`);
console.log(`(profiling slows the collector: ${r.gen.ackedRecordsPerS.toLocaleString('en-US')} records/s acknowledged under the profiler, ${r.collector.cpuSPerMillionRecords} CPU s per million)`);

const files = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
if (!files.length) throw new Error(`no .cpuprofile in ${profDir} (collector exit ${r.collector.exit}; it must exit cleanly to write one)`);
const prof = JSON.parse(fs.readFileSync(path.join(profDir, files[0]), 'utf8'));

// Self time per node from samples + timeDeltas (exact), falling back to hitCount × mean interval.
const selfUs = new Map();
if (prof.samples?.length && prof.timeDeltas?.length) {
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i + 1] ?? 0; // delta i+1 is how long sample i lasted
    selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + dt);
  }
} else {
  const hits = prof.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const per = (prof.endTime - prof.startTime) / Math.max(1, hits);
  for (const n of prof.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * per);
}
const sampledUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
// Percentages are of busy time: (idle) is the event loop waiting, not CPU spent.
const idleUs = prof.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((a, n) => a + (selfUs.get(n.id) ?? 0), 0);
const totalUs = sampledUs - idleUs;

const short = (url) => {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  return u.startsWith(repoRoot) ? path.relative(repoRoot, u) : u;
};
const byFn = new Map();
const byFile = new Map();
for (const n of prof.nodes) {
  const us = selfUs.get(n.id) ?? 0;
  if (!us) continue;
  const cf = n.callFrame;
  if (cf.functionName === '(idle)') continue;
  const file = short(cf.url);
  const native = !file && !cf.functionName.startsWith('(');
  const key = `${cf.functionName || '(anonymous)'}  ${file ? `${file}:${cf.lineNumber + 1}` : native ? '(native builtin)' : ''}`;
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  // Group by package / area so "where the time goes" reads at a glance.
  let area = native ? 'native builtins (writev, utf8 decode, …)' : file || cf.functionName;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (nm) area = `npm:${nm[1]}`;
  else if (file.startsWith('node:')) area = 'node internals';
  else if (file) area = path.dirname(file);
  byFile.set(area, (byFile.get(area) ?? 0) + us);
}
const fmt = (m, n) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
  .map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms  ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${k}`).join('\n');
console.log(`\nprofile: ${(sampledUs / 1e6).toFixed(2)} s sampled, ${(totalUs / 1e6).toFixed(2)} s busy, ${(idleUs / 1e6).toFixed(2)} s idle (${files[0]}); % below are of busy time`);
console.log(`\ntop ${top} functions by self time:`);
console.log(fmt(byFn, top));
console.log('\nself time by area:');
console.log(fmt(byFile, 12));
if (opt.keep) console.log(`\nprofile kept in ${profDir}`);
else fs.rmSync(profDir, { recursive: true, force: true });
process.exit(0);
