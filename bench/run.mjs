#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --scenario max|rate] [-- --json out.json] [-- --keep]`
// Starts the built collector per scenario, drives it with bench/load-generator.mjs, prints figures.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { machineInfo, runScenario, waitQuiet } from './lib.mjs';
import { PASS_THROUGH_CHAIN } from './processor-chain.mjs';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string', default: 'all' },
    concurrency: { type: 'string', default: '8' },
    // Open-loop pacing needs enough sockets that a slow answer never delays the next send.
    'rate-concurrency': { type: 'string', default: '64' },
    rate: { type: 'string', default: '10000' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    // Seconds to wait for other work on the machine to calm down before each scenario (0: don't).
    'wait-quiet': { type: 'string', default: '90' },
  },
});
if (!['all', 'max', 'rate', 'chain'].includes(opt.scenario)) throw new Error('--scenario must be max, rate or chain');

const TARGETS = { maxRecordsPerS: 100_000, rateCpuPct: 11, rateRssMiB: 100 };

const argv = process.argv.slice(2).join(' ');
const info = machineInfo();
console.log(`Tributary collector benchmark — ${info.date}`);
console.log(`machine: ${info.cpu}, ${info.cores} cores, ${info.memGiB} GiB RAM, Node ${info.node}, ${info.os}`);
console.log(`command: ${process.env.npm_lifecycle_event === 'bench' ? `npm run bench${argv ? ` -- ${argv}` : ''}` : `node bench/run.mjs ${argv}`}`);
console.log('pipeline: otlp (http/protobuf) → memory_limiter (512 MiB) → batch (8192, 200ms) → file (OTLP/JSON lines)\n');

const maxS = opt.quick ? 5 : 20;
const rateS = opt.quick ? 10 : 60;
const results = [];
async function quiet() {
  if (Number(opt['wait-quiet']) <= 0) return;
  const used = await waitQuiet(0.3, Number(opt['wait-quiet']) * 1000);
  console.log(`  (machine busy ${used} cores just before the start)`);
}

if (opt.scenario === 'all' || opt.scenario === 'max' || opt.scenario === 'chain') {
  console.log(`running max throughput: ${maxS} s, ${opt.concurrency} connections, 100 records/request …`);
  await quiet();
  results.push(await runScenario({
    name: 'max', durationMs: maxS * 1000, keepDir: opt.keep,
    genArgs: ['--max', '--duration', `${maxS}s`, '--concurrency', opt.concurrency],
  }));
}
if (opt.scenario === 'all' || opt.scenario === 'chain') {
  // The processor chain (tuned to pass every record) in front of batch, same load as max.
  console.log(`running max throughput with the processor chain (${Object.keys(PASS_THROUGH_CHAIN).join(' → ')}): ${maxS} s …`);
  await quiet();
  results.push(await runScenario({
    name: 'chain', durationMs: maxS * 1000, keepDir: opt.keep, extraProcessors: PASS_THROUGH_CHAIN,
    genArgs: ['--max', '--duration', `${maxS}s`, '--concurrency', opt.concurrency],
  }));
}
if (opt.scenario === 'all' || opt.scenario === 'rate') {
  console.log(`running fixed rate: ${opt.rate} records/s for ${rateS} s, 100 records/request, up to ${opt['rate-concurrency']} connections …`);
  await quiet();
  results.push(await runScenario({
    name: 'rate', durationMs: rateS * 1000, keepDir: opt.keep,
    genArgs: ['--rate', opt.rate, '--duration', `${rateS}s`, '--concurrency', opt['rate-concurrency']],
  }));
}

const yes = (ok) => (ok ? 'yes' : 'NO');
for (const r of results) {
  const g = r.gen, c = r.collector;
  const rows = [];
  if (r.name === 'max' || r.name === 'chain') {
    rows.push(['acknowledged records/s', g.ackedRecordsPerS.toLocaleString('en-US'), `≥ ${TARGETS.maxRecordsPerS.toLocaleString('en-US')}: ${yes(g.ackedRecordsPerS >= TARGETS.maxRecordsPerS)}`]);
    rows.push(['collector CPU s per million records', String(c.cpuSPerMillionRecords), '']);
    rows.push(['collector mean CPU (% of one core)', `${c.meanCpuPctOfOneCore} %`, '']);
    rows.push(['collector peak RSS', `${c.peakRssMiB} MiB`, '']);
  } else {
    rows.push(['acknowledged records/s', g.ackedRecordsPerS.toLocaleString('en-US'), `target rate ${Number(opt.rate).toLocaleString('en-US')}`]);
    rows.push(['collector mean CPU (% of one core)', `${c.meanCpuPctOfOneCore} %`, `≤ ${TARGETS.rateCpuPct} %: ${yes(c.meanCpuPctOfOneCore <= TARGETS.rateCpuPct)}`]);
    rows.push(['collector peak RSS', `${c.peakRssMiB} MiB`, `≤ ${TARGETS.rateRssMiB} MiB: ${yes(c.peakRssMiB <= TARGETS.rateRssMiB)}`]);
    rows.push(['collector CPU s per million records', String(c.cpuSPerMillionRecords), '']);
  }
  rows.push(['request latency p50 / p90 / p99 / max', `${g.latencyMs.p50} / ${g.latencyMs.p90} / ${g.latencyMs.p99} / ${g.latencyMs.max} ms`, '']);
  rows.push(['sent / acknowledged (200) records', `${g.sentRecords} / ${g.ackedRecords}`, '']);
  rows.push(['non-200 answers / errors / unanswered', `${JSON.stringify(g.non200ByStatus)} / ${g.connectionErrors}${g.connectionErrors ? ` ${JSON.stringify(g.errorMessages)}` : ''} / ${g.unanswered}`, '']);
  // Requests still unanswered when the generator gave up may be written later: more in the file is not loss.
  const extra = r.output.records - g.ackedRecords;
  const note = r.recordsMatch ? 'equal: yes' : extra > 0 && extra <= g.unanswered * g.recordsPerRequest
    ? `equal: NO (+${extra} from requests unanswered when the generator stopped)` : `equal: NO (${extra > 0 ? '+' : ''}${extra})`;
  rows.push(['records in file output / acknowledged', `${r.output.records} / ${g.ackedRecords}`, note]);
  rows.push(['file output', `${r.output.lines} lines, ${(r.output.bytes / 2 ** 20).toFixed(1)} MiB`, '']);
  rows.push(['collector idle RSS at start / mean RSS', `${c.idleRssMiB} / ${c.meanRssMiB} MiB`, '']);
  rows.push(['load generator CPU (own process)', `${g.generatorCpuS} s over ${g.durationS} s`, '']);
  rows.push(['other processes\' CPU during the run', `${r.otherCpuCores} cores`, `of ${info.cores}; load avg ${r.loadAvg1m.before} → ${r.loadAvg1m.after}`]);
  rows.push(['collector exit after SIGTERM', `code ${c.exit} in ${c.shutdownMs} ms`, '']);
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  console.log(`\n== ${r.name === 'chain' ? `max throughput with the processor chain (${g.durationS} s, ${g.concurrency} connections)` : r.name === 'max' ? `max throughput (${g.durationS} s, ${g.concurrency} connections)` : `fixed rate ${g.targetRate} records/s (${g.durationS} s, up to ${g.concurrency} connections)`} ==`);
  console.log(`  collector: ${r.collectorCommand}`);
  console.log(`  generator: ${r.generatorCommand}`);
  console.log(`  (${g.recordsPerRequest} records/request, ${g.avgBodyBytes} bytes/request protobuf; CPU window ${r.windowS} s, ${c.samples} samples of /proc every 250 ms)`);
  for (const [a, b, t] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${t}`);
  if (r.dir && opt.keep) console.log(`  kept: ${r.dir}`);
}

const maxR = results.find((r) => r.name === 'max');
const chainR = results.find((r) => r.name === 'chain');
if (maxR && chainR) {
  const ratio = chainR.gen.ackedRecordsPerS / maxR.gen.ackedRecordsPerS;
  const cpuRatio = chainR.collector.cpuSPerMillionRecords / maxR.collector.cpuSPerMillionRecords;
  console.log(`\nprocessor chain through the collector: ${(ratio * 100).toFixed(1)} % of the max throughput without it; CPU per record ×${cpuRatio.toFixed(2)} (target: costs ≤ 20 %: ${yes(ratio >= 0.8)})`);
}

if (opt.json) fs.writeFileSync(opt.json, JSON.stringify({ machine: info, argv, results }, null, 2));
const mismatch = results.some((r) => !r.recordsMatch);
if (mismatch) console.log('\nWARNING: file output and acknowledged record counts differ (see above).');
process.exit(0);
