// Throughput of the azuremonitor exporter's convert (OTLP records → Logs Ingestion API JSON-array bodies ≤ 1 MB), on the built code.
// Run: npx tsc -b && node bench/convert-azuremonitor.mjs
import { performance } from 'node:perf_hooks';
import { nowNanos } from '@tributary/otlp';
import { compileColumns, convertToIngestionRequests, DEFAULT_COLUMNS, MAX_REQUEST_BYTES } from '../collector/dist/exporters/azuremonitor/index.js';
import { makeBatches, RECORDS, ROUNDS } from './corpus.mjs';

const batches = makeBatches();
const options = () => ({ columns: compileColumns(DEFAULT_COLUMNS), streamName: 'Custom-Logs', retentionStreams: { error: 'Custom-ErrorLogs' }, maxRequestBytes: MAX_REQUEST_BYTES, now: nowNanos() });
const o = options();
for (const rl of batches.slice(0, 10)) convertToIngestionRequests(rl, o); // warm up
const rates = [];
let bytes = 0;
let requests = 0;
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  bytes = 0;
  requests = 0;
  for (const rl of batches) {
    for (const req of convertToIngestionRequests(rl, o).requests) {
      bytes += req.bytes;
      requests++;
    }
  }
  rates.push(RECORDS / ((performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
console.log('command: npx tsc -b && node bench/convert-azuremonitor.mjs');
console.log(`azuremonitor convert: ${RECORDS} records → ${requests} requests, ${(bytes / RECORDS).toFixed(0)} B/row (JSON, uncompressed; default columns; error class routed to its own stream)`);
console.log(`azuremonitor convert: median ${Math.round(rates[Math.floor(ROUNDS / 2)]).toLocaleString('en-US')} records/s (min ${Math.round(rates[0]).toLocaleString('en-US')}, max ${Math.round(rates[ROUNDS - 1]).toLocaleString('en-US')}; ${ROUNDS} rounds, Node ${process.versions.node})`);
