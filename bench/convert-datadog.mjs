// Throughput of the datadog exporter's convert (OTLP records → v2 logs intake request bodies), on the built code.
// Run: npx tsc -b && node bench/convert-datadog.mjs
import { convertToDatadog } from '../collector/dist/exporters/datadog/index.js';
import { makeBatches, measureRounds, RECORDS, ROUNDS } from './corpus.mjs';

const batches = makeBatches();
const options = { hostname: 'collector-1', retentionTags: { error: 'retention:90d', info: 'retention:7d' } };
for (const rl of batches.slice(0, 10)) convertToDatadog(rl, options); // warm up
let bytes = 0;
let requests = 0;
const rates = measureRounds(() => {
  bytes = 0;
  requests = 0;
  for (const rl of batches) {
    for (const req of convertToDatadog(rl, options).requests) {
      bytes += req.bytes;
      requests++;
    }
  }
});
console.log('command: npx tsc -b && node bench/convert-datadog.mjs');
console.log(`datadog convert: ${RECORDS} records → ${requests} requests, ${(bytes / RECORDS).toFixed(0)} B/item (JSON, uncompressed)`);
console.log(`datadog convert: median ${rates.median.toLocaleString('en-US')} records/s (min ${rates.min.toLocaleString('en-US')}, max ${rates.max.toLocaleString('en-US')}; ${ROUNDS} rounds, Node ${process.versions.node})`);
