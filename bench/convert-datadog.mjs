// Throughput of the datadog exporter's convert (OTLP records → v2 logs intake request bodies), on the built code.
// Run: npx tsc -b && node bench/convert-datadog.mjs
import { performance } from 'node:perf_hooks';
import { convertToDatadog } from '../collector/dist/exporters/datadog/index.js';
import { makeBatches, RECORDS, PER_BATCH, ROUNDS } from './corpus.mjs';

const batches = makeBatches();
const options = { hostname: 'collector-1', retentionTags: { error: 'retention:90d', info: 'retention:7d' } };
for (const rl of batches.slice(0, 10)) convertToDatadog(rl, options); // warm up
const rates = [];
let bytes = 0;
let requests = 0;
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  bytes = 0;
  requests = 0;
  for (const rl of batches) {
    for (const req of convertToDatadog(rl, options).requests) {
      bytes += req.bytes;
      requests++;
    }
  }
  rates.push(RECORDS / ((performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
console.log('command: npx tsc -b && node bench/convert-datadog.mjs');
console.log(`datadog convert: ${RECORDS} records → ${requests} requests, ${(bytes / RECORDS).toFixed(0)} B/item (JSON, uncompressed)`);
console.log(`datadog convert: median ${Math.round(rates[Math.floor(ROUNDS / 2)]).toLocaleString('en-US')} records/s (min ${Math.round(rates[0]).toLocaleString('en-US')}, max ${Math.round(rates[ROUNDS - 1]).toLocaleString('en-US')}; ${ROUNDS} rounds, Node ${process.versions.node})`);
