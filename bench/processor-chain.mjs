#!/usr/bin/env node
// Processor-chain benchmark: records/s through
//   filter (5 conditions) → probabilistic_sampler → ratelimit (memory) → retention → redaction
// in process, on a corpus of realistic records (default 1M), built from the collector's own factories.
// Usage: node bench/processor-chain.mjs [--records 1000000] [--batch 1000]
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createDefaultRegistry, Telemetry, createLogger } from '../collector/dist/index.js';
import { anyValueFrom, nanosFromDecimal, idFromHex } from '../packages/otlp/dist/index.js';


// The chain's config, as a user would write it.
export const CHAIN = {
  'filter/noise': { logs: { log_record: [
    'attributes["http.route"] == "/health"',
    'attributes["http.route"] == "/metrics"',
    'severity_number < SEVERITY_NUMBER_DEBUG',
    'IsMatch(body, "^healthcheck ")',
    'resource.attributes["deployment.environment"] == "dev" and severity_number < SEVERITY_NUMBER_INFO',
  ] } },
  probabilistic_sampler: { sampling_percentage: 50, severity_percentages: { ERROR: 100, WARN: 100 } },
  ratelimit: { rules: [{ name: 'per-service', key: ['service.name'], rate: 1_000_000_000, per: 'second', burst: 1_000_000_000, action: 'drop' }] },
  retention: {},
  redaction: { allow_all_keys: true },
};

/**
 * The same chain tuned to pass (nearly) every record, for the through-the-collector comparison: every
 * processor still evaluates every record, but the exporter writes as much as without the chain.
 */
export const PASS_THROUGH_CHAIN = {
  'filter/noise': { logs: { log_record: [
    'attributes["http.route"] == "/never"',
    'attributes["http.route"] == "/metrics"',
    'severity_number < SEVERITY_NUMBER_TRACE',
    'IsMatch(body, "^healthcheck ")',
    'resource.attributes["deployment.environment"] == "dev" and severity_number < SEVERITY_NUMBER_INFO',
  ] } },
  probabilistic_sampler: { sampling_percentage: 100, severity_percentages: { ERROR: 100, WARN: 100 } },
  ratelimit: CHAIN.ratelimit,
  retention: {},
  redaction: { allow_all_keys: true },
};

const ROUTES = ['/checkout', '/cart', '/health', '/api/orders/:id', '/login', '/search'];
const SEV = [[9, 'INFO'], [9, 'INFO'], [9, 'INFO'], [13, 'WARN'], [17, 'ERROR'], [5, 'DEBUG'], [1, 'TRACE']];
const WORDS = 'order payment user cart item shipped retry latency cache miss hit upstream timeout queue worker'.split(' ');

function record(i) {
  const [sn, st] = SEV[i % SEV.length];
  let body = `request ${i} ${ROUTES[i % ROUTES.length]} handled:`;
  while (body.length < 150) body += ' ' + WORDS[(i * 7 + body.length) % WORDS.length];
  if (i % 50 === 0) body += ' contact jane.doe@example.com';
  const trace = (i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(4);
  return {
    timeUnixNano: nanosFromDecimal(String(1_700_000_000_000_000_000n + BigInt(i) * 1000n)),
    observedTimeUnixNano: nanosFromDecimal('0'),
    severityNumber: sn, severityText: st,
    body: { stringValue: body },
    attributes: [
      { key: 'http.method', value: anyValueFrom(i % 3 ? 'GET' : 'POST') },
      { key: 'http.route', value: anyValueFrom(ROUTES[i % ROUTES.length]) },
      { key: 'http.status_code', value: anyValueFrom(i % 20 ? 200 : 500) },
      { key: 'user.id', value: anyValueFrom(`u-${i % 1000}`) },
      { key: 'duration_ms', value: anyValueFrom(i % 97 + 0.5) },
      { key: 'region', value: anyValueFrom(i % 2 ? 'eu-west-1' : 'us-east-1') },
    ],
    droppedAttributesCount: 0, flags: 1,
    traceId: idFromHex(trace, 16), spanId: idFromHex(trace.slice(0, 16), 8), eventName: '',
  };
}

function makeBatch(start, n) {
  const recs = [];
  for (let i = start; i < start + n; i++) recs.push(record(i));
  const resource = { attributes: [{ key: 'service.name', value: anyValueFrom(`svc-${start % 5}`) }, { key: 'deployment.environment', value: anyValueFrom('prod') }], droppedAttributesCount: 0 };
  return { resourceLogs: [{ resource, schemaUrl: '', scopeLogs: [{ scope: { name: 'bench', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: recs }] }], recordCount: n, receivedAt: 0 };
}

async function main() {
const { values: opt } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, batch: { type: 'string', default: '1000' } } });
const total = Number(opt.records);
const batchSize = Number(opt.batch);
const registry = createDefaultRegistry();
const telemetry = new Telemetry();
const logger = createLogger({ level: 'error' });
let out = 0;
const sink = { consume: async (b) => void (out += b.recordCount) };
let next = sink;
const procs = [];
for (const id of Object.keys(CHAIN).reverse()) {
  const f = registry.get('processor', id.split('/')[0]);
  const cfg = f.configSchema.parse(CHAIN[id]);
  const p = f.create({ id: { type: id.split('/')[0], name: '', id }, logger, telemetry }, cfg, next);
  procs.unshift(p);
  next = p;
}
const host = { reportStatus() {}, componentStatuses: () => new Map(), isReady: () => true, getExtension: () => undefined, telemetry, logger };
for (const p of procs) await p.start(host);

// Build the corpus first (not timed); processors mutate batches, so each is used once.
const t0 = performance.now();
const batches = [];
for (let i = 0; i < total; i += batchSize) batches.push(makeBatch(i, Math.min(batchSize, total - i)));
const buildMs = performance.now() - t0;

const cpu0 = process.cpuUsage();
const start = performance.now();
for (const b of batches) await next.consume(b);
const ms = performance.now() - start;
const cpu = process.cpuUsage(cpu0);
for (const p of procs) await p.shutdown();

console.log(`processor chain: ${Object.keys(CHAIN).join(' → ')}`);
console.log(`command: node bench/processor-chain.mjs --records ${total} --batch ${batchSize}`);
console.log(`corpus: ${total} records in batches of ${batchSize} (built in ${(buildMs / 1000).toFixed(1)} s, not timed)`);
console.log(`in process: ${Math.round(total / (ms / 1000)).toLocaleString('en-US')} records/s; ${((cpu.user + cpu.system) / 1e6 / (total / 1e6)).toFixed(2)} CPU s per million; ${out} of ${total} passed the chain (${(100 * out / total).toFixed(1)} %)`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) await main();
