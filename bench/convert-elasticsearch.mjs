// Throughput of the elasticsearch exporter's convert (OTLP records → _bulk NDJSON bodies), on the built code.
// Run: npx tsc -b && node bench/convert-elasticsearch.mjs [otel|ecs|none|raw]
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import Long from 'long';
import { pathToFileURL } from 'node:url';
import { BulkConverter } from '../collector/dist/exporters/elasticsearch/index.js';

const RECORDS = 100_000;
const BATCH = 1000;
const ROUNDS = 5;
const mode = process.argv[2] ?? 'otel';

const s = (v) => ({ stringValue: v });
const kv = (key, value) => ({ key, value });
const LEVELS = [[9, 'INFO'], [9, 'INFO'], [9, 'INFO'], [5, 'DEBUG'], [13, 'WARN'], [17, 'ERROR']];
const ROUTES = ['/api/checkout', '/api/cart', '/health', '/api/users/:id', '/api/orders'];

/** Realistic batches: 3 services, ~8 resource attrs, 6-8 record attrs, ~100-char bodies, trace context. */
export function makeBatches(records = RECORDS, batch = BATCH) {
  const out = [];
  let t = 1_705_314_600_000_000_000n;
  for (let b = 0; b < records / batch; b++) {
    const svc = ['checkout', 'cart', 'users'][b % 3];
    const logRecords = [];
    for (let i = 0; i < batch; i++) {
      const n = b * batch + i;
      const [sev, text] = LEVELS[n % LEVELS.length];
      t += 1_234_567n;
      logRecords.push({
        timeUnixNano: Long.fromString(t.toString(), true), observedTimeUnixNano: Long.fromString((t + 500_000n).toString(), true),
        severityNumber: sev, severityText: text,
        body: s(`request ${n} ${ROUTES[n % ROUTES.length]} completed with status ${sev >= 17 ? 500 : 200} after ${n % 300}ms for user u-${n % 977}`),
        attributes: [
          kv('http.method', s(n % 4 ? 'GET' : 'POST')), kv('http.route', s(ROUTES[n % ROUTES.length])), kv('http.status_code', { intValue: sev >= 17 ? 500 : 200 }),
          kv('duration_ms', { doubleValue: (n % 300) + 0.25 }), kv('user.id', s(`u-${n % 977}`)), kv('correlation_id', s(`c-${n.toString(16)}`)),
          ...(n % 10 === 0 ? [kv('retention.class', s('audit'))] : []),
        ],
        droppedAttributesCount: 0, flags: 1, traceId: randomBytes(16), spanId: randomBytes(8), eventName: '',
      });
    }
    out.push([{
      resource: { attributes: [kv('service.name', s(svc)), kv('service.namespace', s('shop')), kv('service.version', s('1.4.2')), kv('service.instance.id', s(`pod-${b % 5}`)),
        kv('deployment.environment', s('prod')), kv('host.name', s(`web-${b % 5}`)), kv('k8s.pod.name', s(`${svc}-7d9f`)), kv('telemetry.sdk.language', s('nodejs'))], droppedAttributesCount: 0 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeLogs: [{ scope: { name: 'pino', version: '9.0.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords }],
    }]);
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main();

function main() {
const batches = makeBatches();
const converter = new BulkConverter({ mode, maxRequestBytes: 5_000_000, retentionClasses: { audit: { namespace: 'audit' } } });
const now = Long.fromString('1705314600000000000', true);
for (const rl of batches.slice(0, 10)) converter.convert(rl, now); // warm up
const rates = [];
let bytes = 0;
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  bytes = 0;
  for (const rl of batches) for (const req of converter.convert(rl, now).requests) bytes += req.body.length;
  rates.push(RECORDS / ((performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
console.log(`elasticsearch convert (mapping.mode ${mode}): ${Math.round(rates[Math.floor(ROUNDS / 2)]).toLocaleString('en-US')} records/s (median of ${ROUNDS} rounds of ${RECORDS.toLocaleString('en-US')} records in batches of ${BATCH}; ${(bytes / 1e6).toFixed(1)} MB of NDJSON; node ${process.version})`);
}
