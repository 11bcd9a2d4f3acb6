// Throughput of the azuremonitor exporter's convert (OTLP records → Logs Ingestion API JSON-array bodies ≤ 1 MB), on the built code.
// Run: npx tsc -b && node bench/convert-azuremonitor.mjs
import { performance } from 'node:perf_hooks';
import { nanosFromMillis, idFromHex, nowNanos } from '@tributary/otlp';
import { compileColumns, convertToIngestionRequests, DEFAULT_COLUMNS, MAX_REQUEST_BYTES } from '../collector/dist/exporters/azuremonitor/index.js';

const RECORDS = 100_000;
const PER_BATCH = 1000;
const ROUNDS = 5;

/** ~100k realistic records: HTTP access / app logs, 6 attributes, trace ids, 4 services, k8s resource. */
function makeBatches(now = Date.now()) {
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
        { key: 'k8s.pod.name', value: { stringValue: `${service}-7d9f-${b % 8}` } }, { key: 'k8s.namespace.name', value: { stringValue: 'shop' } },
      ], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{ scope: { name: 'pino', version: '9.0.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords }],
    }]);
  }
  return batches;
}

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
