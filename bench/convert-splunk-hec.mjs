// Throughput of the splunk_hec exporter's convert (OTLP records → HEC event request bodies), on the built code.
// Run: npx tsc -b && node bench/convert-splunk-hec.mjs
import { performance } from 'node:perf_hooks';
import { convertToHec } from '../collector/dist/exporters/splunk_hec/index.js';
import { makeBatches, RECORDS, PER_BATCH, ROUNDS } from './corpus.mjs';

const batches = makeBatches();
const options = { index: 'main', sourcetype: 'otel', maxContentLength: 2 * 1024 * 1024, indexByRetentionClass: { error: 'errors_90d', info: 'app_7d' } };
for (const rl of batches.slice(0, 10)) convertToHec(rl, options); // warm up
const rates = [];
let bytes = 0;
let requests = 0;
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  bytes = 0;
  requests = 0;
  for (const rl of batches) {
    for (const req of convertToHec(rl, options).requests) {
      bytes += req.bytes;
      requests++;
    }
  }
  rates.push(RECORDS / ((performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
console.log('command: npx tsc -b && node bench/convert-splunk-hec.mjs');
console.log(`splunk_hec convert: ${RECORDS} records → ${requests} requests, ${(bytes / RECORDS).toFixed(0)} B/event (JSON, uncompressed)`);
console.log(`splunk_hec convert: median ${Math.round(rates[Math.floor(ROUNDS / 2)]).toLocaleString('en-US')} records/s (min ${Math.round(rates[0]).toLocaleString('en-US')}, max ${Math.round(rates[ROUNDS - 1]).toLocaleString('en-US')}; ${ROUNDS} rounds, Node ${process.versions.node})`);
