// Throughput of the googlecloud exporter's convert (OTLP records → entries:write bodies), on the built code.
// Run: npx tsc -b && node bench/convert-googlecloud.mjs
import { performance } from 'node:perf_hooks';
import { nowNanos } from '@tributary/otlp';
import { convertToCloudLogging } from '../collector/dist/exporters/googlecloud/index.js';
import { makeBatches } from './corpus.mjs';

const RECORDS = 100_000;
const ROUNDS = 5;
const batches = makeBatches();
const options = { project: 'my-proj', defaultLogName: 'app', serviceResourceLabels: true, errorReportingType: false, retentionRouting: 'label' };
for (const rl of batches.slice(0, 10)) convertToCloudLogging(rl, options, nowNanos()); // warm up
const rates = [];
let bytes = 0;
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  bytes = 0;
  for (const rl of batches) for (const req of convertToCloudLogging(rl, options, nowNanos()).requests) bytes += req.bodyBytes.length;
  rates.push(RECORDS / ((performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
console.log(`googlecloud convert: ${Math.round(rates[Math.floor(ROUNDS / 2)]).toLocaleString('en-US')} records/s (median of ${ROUNDS} rounds of ${RECORDS.toLocaleString('en-US')} records in batches of 1000; ${(bytes / 1e6).toFixed(1)} MB of request bodies; node ${process.version})`);
