// Throughput of the loki exporter's convert (OTLP records → logproto.PushRequest bodies, before snappy), on the built code.
// Run: npx tsc -b && node bench/convert-loki.mjs [json|logfmt|raw] [protobuf|json]
import { performance } from 'node:perf_hooks';
import Long from 'long';
import snappy from 'snappyjs';
import { convertToLokiPush } from '../collector/dist/exporters/loki/index.js';
import { makeBatches } from './convert-elasticsearch.mjs';

const RECORDS = 100_000;
const ROUNDS = 5;
const lineFormat = process.argv[2] ?? 'json';
const encoding = process.argv[3] ?? 'protobuf';
const batches = makeBatches();
const options = {
  defaultLabels: { exporter: true, job: true, instance: true, level: true },
  lineFormat, encoding, maxLineSize: 256 * 1024, maxRequestBytes: 4 * 1024 * 1024, retentionLabel: 'retention',
};
const now = Long.fromString('1705314600000000000', true);
for (const rl of batches.slice(0, 10)) convertToLokiPush(rl, options, now); // warm up
const rates = [];
const withSnappy = [];
let bytes = 0;
let compressed = 0;
for (let r = 0; r < ROUNDS; r++) {
  let t0 = performance.now();
  bytes = 0;
  const bodies = [];
  for (const rl of batches) for (const req of convertToLokiPush(rl, options, now).requests) { bytes += req.body.length; bodies.push(req.body); }
  const convertMs = performance.now() - t0;
  rates.push(RECORDS / (convertMs / 1000));
  t0 = performance.now();
  compressed = 0;
  if (encoding === 'protobuf') for (const b of bodies) compressed += snappy.compress(b).length;
  withSnappy.push(RECORDS / ((convertMs + performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
withSnappy.sort((a, b) => a - b);
const mid = Math.floor(ROUNDS / 2);
console.log(`loki convert (line_format ${lineFormat}, ${encoding}): ${Math.round(rates[mid]).toLocaleString('en-US')} records/s` +
  (encoding === 'protobuf' ? `; with snappy ${Math.round(withSnappy[mid]).toLocaleString('en-US')} records/s (${(bytes / 1e6).toFixed(1)} MB → ${(compressed / 1e6).toFixed(1)} MB)` : ` (${(bytes / 1e6).toFixed(1)} MB)`) +
  ` (median of ${ROUNDS} rounds of ${RECORDS.toLocaleString('en-US')} records in batches of 1000; node ${process.version})`);
