// Throughput of the awscloudwatchlogs exporter's convert (OTLP records → PutLogEvents calls), on the built code.
// Run: npx tsc -b && node bench/convert-awscloudwatchlogs.mjs
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { nanosFromMillis, idFromHex } from '@tributary/otlp';
import { convertToCloudWatchLogs, compileNameTemplate } from '../collector/dist/exporters/awscloudwatchlogs/index.js';

const RECORDS = 100_000;
const PER_BATCH = 1000;
const ROUNDS = 5;

/** ~100k realistic records: HTTP access / app logs, 5–6 attributes, trace ids, 4 services. */
export function makeBatches(now = Date.now()) {
  const batches = [];
  const services = ['checkout', 'payments', 'catalog', 'auth'];
  for (let b = 0; b < RECORDS / PER_BATCH; b++) {
    const service = services[b % services.length];
    const logRecords = [];
    for (let i = 0; i < PER_BATCH; i++) {
      const n = b * PER_BATCH + i;
      const status = n % 50 === 0 ? 500 : 200;
      logRecords.push({
        timeUnixNano: nanosFromMillis(now - (PER_BATCH - i)), observedTimeUnixNano: nanosFromMillis(now),
        severityNumber: status === 500 ? 17 : 9, severityText: status === 500 ? 'ERROR' : 'INFO',
        body: { stringValue: `GET /api/v1/orders/${n} ${status} in ${n % 97}ms user=u-${n % 1000} region=eu-west-1` },
        attributes: [
          { key: 'http.method', value: { stringValue: 'GET' } },
          { key: 'http.route', value: { stringValue: '/api/v1/orders/:id' } },
          { key: 'http.status_code', value: { intValue: status } },
          { key: 'duration_ms', value: { doubleValue: (n % 97) + 0.5 } },
          { key: 'retention.class', value: { stringValue: status === 500 ? 'error' : 'info' } },
          { key: 'retention.days', value: { intValue: status === 500 ? 90 : 7 } },
        ],
        droppedAttributesCount: 0, flags: 1,
        traceId: idFromHex((n.toString(16).padStart(8, '0')).repeat(4), 16), spanId: idFromHex((n.toString(16).padStart(8, '0')).repeat(2), 8), eventName: '',
      });
    }
    batches.push([{
      resource: { attributes: [
        { key: 'service.name', value: { stringValue: service } }, { key: 'service.version', value: { stringValue: '1.4.2' } },
        { key: 'host.name', value: { stringValue: `web-${b % 8}` } }, { key: 'deployment.environment', value: { stringValue: 'prod' } },
      ], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{ scope: { name: 'pino', version: '9.0.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords }],
    }]);
  }
  return batches;
}

function main() {
const batches = makeBatches();
const options = { rawLog: false, logGroup: compileNameTemplate('/app/{service.name}/{retention.class}', 'group'), logStream: compileNameTemplate('{host.name}', 'stream'), defaultRetentionDays: 0 };
let events = 0;
for (const rl of batches.slice(0, 10)) convertToCloudWatchLogs(rl, options, Date.now()); // warm up
const rates = [];
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  events = 0;
  for (const rl of batches) for (const c of convertToCloudWatchLogs(rl, options, Date.now()).calls) events += c.logEvents.length;
  rates.push(RECORDS / ((performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
console.log(`awscloudwatchlogs convert: ${Math.round(rates[Math.floor(ROUNDS / 2)]).toLocaleString('en-US')} records/s (median of ${ROUNDS} rounds of ${RECORDS.toLocaleString('en-US')} records in batches of ${PER_BATCH}; ${events} events; JSON envelope, templated group/stream; node ${process.version})`);
}

// Also imported by convert-googlecloud.mjs for the same record set: run only when started directly.
if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
