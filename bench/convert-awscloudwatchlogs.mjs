// Throughput of the awscloudwatchlogs exporter's convert (OTLP records → PutLogEvents calls), on the built code.
// Run: npx tsc -b && node bench/convert-awscloudwatchlogs.mjs
import { convertToCloudWatchLogs, compileNameTemplate } from '../collector/dist/exporters/awscloudwatchlogs/index.js';
import { makeBatches, measureRounds, RECORDS, PER_BATCH, ROUNDS } from './corpus.mjs';

const batches = makeBatches();
const options = { rawLog: false, logGroup: compileNameTemplate('/app/{service.name}/{retention.class}', 'group'), logStream: compileNameTemplate('{host.name}', 'stream'), defaultRetentionDays: 0 };
let events = 0;
for (const rl of batches.slice(0, 10)) convertToCloudWatchLogs(rl, options, Date.now()); // warm up
const rates = measureRounds(() => {
  events = 0;
  for (const rl of batches) for (const c of convertToCloudWatchLogs(rl, options, Date.now()).calls) events += c.logEvents.length;
});
console.log(`awscloudwatchlogs convert: ${rates.median.toLocaleString('en-US')} records/s (median of ${ROUNDS} rounds of ${RECORDS.toLocaleString('en-US')} records in batches of ${PER_BATCH}; ${events} events; JSON envelope, templated group/stream; node ${process.version})`);

