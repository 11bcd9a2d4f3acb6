// Throughput of the splunk_hec exporter's convert (OTLP records → HEC event request bodies), on the built code.
// Run: npx tsc -b && node bench/convert-splunk-hec.mjs
import { convertToHec } from '../collector/dist/exporters/splunk_hec/index.js';
import { makeBatches, measureRounds, RECORDS, ROUNDS } from './corpus.mjs';

const batches = makeBatches();
const options = { index: 'main', sourcetype: 'otel', maxContentLength: 2 * 1024 * 1024, indexByRetentionClass: { error: 'errors_90d', info: 'app_7d' } };
for (const rl of batches.slice(0, 10)) convertToHec(rl, options); // warm up
let bytes = 0;
let requests = 0;
const rates = measureRounds(() => {
  bytes = 0;
  requests = 0;
  for (const rl of batches) {
    for (const req of convertToHec(rl, options).requests) {
      bytes += req.bytes;
      requests++;
    }
  }
});
console.log('command: npx tsc -b && node bench/convert-splunk-hec.mjs');
console.log(`splunk_hec convert: ${RECORDS} records → ${requests} requests, ${(bytes / RECORDS).toFixed(0)} B/event (JSON, uncompressed)`);
console.log(`splunk_hec convert: median ${rates.median.toLocaleString('en-US')} records/s (min ${rates.min.toLocaleString('en-US')}, max ${rates.max.toLocaleString('en-US')}; ${ROUNDS} rounds, Node ${process.versions.node})`);
