#!/usr/bin/env node
// OTLP/HTTP protobuf load generator, run as its own process so its CPU is not charged to the collector.
//   node bench/load-generator.mjs --url http://127.0.0.1:4318/v1/logs --max --duration 20s --concurrency 8
//   node bench/load-generator.mjs --url http://127.0.0.1:4318/v1/logs --rate 10000 --duration 60s
// Prints one `{"event":"start",...}` line when sending begins, then one JSON result line at the end.
import http from 'node:http';
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { encodeExportRequest, nowNanos } from '../packages/otlp/dist/index.js';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:4318/v1/logs' },
    max: { type: 'boolean', default: false },
    rate: { type: 'string' },
    duration: { type: 'string', default: '20s' },
    concurrency: { type: 'string', default: '8' },
    records: { type: 'string', default: '100' },
    pool: { type: 'string', default: '50' },
    'drain-timeout': { type: 'string', default: '15s' },
    seed: { type: 'string', default: '42' },
  },
});

function parseDuration(s) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s);
  if (!m) throw new Error(`bad duration "${s}"`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

const url = new URL(opt.url);
const durationMs = parseDuration(opt.duration);
const concurrency = Number(opt.concurrency);
const perRequest = Number(opt.records);
const poolSize = Number(opt.pool);
const rate = opt.rate ? Number(opt.rate) : 0;
if (!opt.max && !(rate > 0)) throw new Error('need --max or --rate <records/s>');

// Deterministic PRNG so every run sends the same mix of data.
let seed = Number(opt.seed) >>> 0;
function rnd() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
const ROUTES = ['/api/v1/orders/{id}', '/api/v1/cart', '/api/v1/users/{id}/profile', '/api/v1/search', '/checkout/pay', '/api/v2/inventory/{sku}', '/health', '/api/v1/payments/{id}/refund'];
const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-southeast-1', 'eu-central-1'];
const SERVICES = ['checkout', 'cart', 'payments', 'inventory', 'search'];
const CACHE = ['hit', 'miss', 'stale', 'bypass'];
const ERRORS = ['upstream timeout after 3000ms', 'connection reset by peer', 'card declined: insufficient funds', 'deadlock detected, retrying transaction', 'schema validation failed for field "quantity"'];
const SEVERITIES = [[9, 'INFO'], [9, 'INFO'], [9, 'INFO'], [9, 'INFO'], [5, 'DEBUG'], [13, 'WARN'], [17, 'ERROR']];

const str = (k, v) => ({ key: k, value: { stringValue: v } });

function makeRecord(now) {
  const method = pick(METHODS);
  const route = pick(ROUTES);
  const path = route.replace('{id}', String(int(1000, 999999))).replace('{sku}', `SKU-${int(10000, 99999)}`);
  const [sevNum, sevText] = pick(SEVERITIES);
  const status = sevNum >= 17 ? pick([500, 502, 503, 504]) : sevNum === 13 ? pick([400, 404, 409, 429]) : pick([200, 200, 200, 201, 204, 304]);
  const duration = Math.round(rnd() * 250_000) / 1000 + 0.5;
  const user = `u-${int(100000, 999999)}`;
  const reqId = crypto.randomBytes(8).toString('hex');
  let body = `${method} ${path} -> ${status} in ${duration.toFixed(3)}ms user=${user} request_id=${reqId} cache=${pick(CACHE)} bytes=${int(120, 90000)}`;
  if (sevNum >= 13) body += ` error="${pick(ERRORS)}"`;
  else body += ` items=${int(1, 12)} ua="Mozilla/5.0 (X11; Linux x86_64)"`;
  return {
    timeUnixNano: now,
    observedTimeUnixNano: now,
    severityNumber: sevNum,
    severityText: sevText,
    body: { stringValue: body },
    attributes: [
      str('http.method', method),
      str('http.route', route),
      { key: 'http.status_code', value: { intValue: status } },
      str('user.id', user),
      { key: 'duration_ms', value: { doubleValue: duration } },
      str('region', pick(REGIONS)),
    ],
    droppedAttributesCount: 0,
    flags: 1,
    traceId: crypto.randomBytes(16),
    spanId: crypto.randomBytes(8),
    eventName: '',
  };
}

function makeRequest(i) {
  const now = nowNanos();
  const service = SERVICES[i % SERVICES.length];
  const logRecords = [];
  for (let r = 0; r < perRequest; r++) logRecords.push(makeRecord(now));
  return encodeExportRequest({
    resourceLogs: [{
      resource: {
        attributes: [
          str('service.name', service),
          str('service.version', `1.${i % 7}.${i % 3}`),
          str('service.instance.id', crypto.randomUUID()),
          str('deployment.environment', 'production'),
          str('host.name', `ip-10-0-${i % 16}-${(i * 37) % 250}.ec2.internal`),
          str('k8s.pod.name', `${service}-7d9f8b6c4-${crypto.randomBytes(3).toString('hex')}`),
        ],
        droppedAttributesCount: 0,
      },
      scopeLogs: [{ scope: { name: `@acme/${service}`, version: '2.4.1', attributes: [], droppedAttributesCount: 0 }, logRecords, schemaUrl: '' }],
      schemaUrl: '',
    }],
  });
}

// Pre-encode once: the send loop only writes ready buffers.
const pool = [];
for (let i = 0; i < poolSize; i++) pool.push(Buffer.from(makeRequest(i)));
const avgBodyBytes = Math.round(pool.reduce((s, b) => s + b.length, 0) / pool.length);

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
const latencies = [];
const byStatus = {};
let sentRequests = 0, sentRecords = 0, ackedRecords = 0, errors = 0, inFlight = 0, lateStarts = 0;
const errorMessages = {};

function send(body, scheduledAt) {
  sentRequests++;
  sentRecords += perRequest;
  inFlight++;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request({
      agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
    }, (res) => {
      res.resume(); // drain so the socket goes back to the pool
      res.on('end', () => {
        const t1 = performance.now();
        latencies.push(t1 - t0);
        if (res.statusCode === 200) ackedRecords += perRequest;
        else byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
        if (scheduledAt !== undefined && t0 - scheduledAt > 5) lateStarts++;
        inFlight--;
        // Like OTLP exporters, a refused sender waits for Retry-After (seconds) before its next request.
        const ra = res.statusCode === 429 || res.statusCode === 503 ? Number(res.headers['retry-after']) : NaN;
        resolve(Number.isFinite(ra) ? ra * 1000 : 0);
      });
    });
    // A hung server must not hang the bench.
    req.setTimeout(30_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => {
      errors++;
      errorMessages[e.code ?? e.message] = (errorMessages[e.code ?? e.message] ?? 0) + 1;
      inFlight--;
      resolve(0);
    });
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpu0 = process.cpuUsage();
const startedAt = Date.now();
const start = performance.now();
const end = start + durationMs;
process.stdout.write(JSON.stringify({ event: 'start', at: startedAt }) + '\n');

let next = 0;
if (opt.max) {
  // N workers, each keeps exactly one request in flight.
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const waitMs = await send(pool[next++ % pool.length]);
      if (waitMs > 0) await sleep(Math.min(waitMs, end - performance.now()));
    }
  }));
} else {
  // Drift-free pacing: request k is due at start + k·interval; timers only decide when to look.
  const intervalMs = (perRequest / rate) * 1000;
  const pending = new Set();
  let k = 0;
  while (true) {
    const now = performance.now();
    if (now >= end) break;
    while (start + k * intervalMs <= now && start + k * intervalMs < end) {
      const p = send(pool[next++ % pool.length], start + k * intervalMs);
      pending.add(p);
      p.then(() => pending.delete(p));
      k++;
    }
    await sleep(Math.max(0, Math.min(end, start + k * intervalMs) - performance.now()));
  }
  // Bounded wait for the last answers.
  await Promise.race([Promise.all(pending), sleep(parseDuration(opt['drain-timeout']))]);
}
const elapsedMs = performance.now() - start;
agent.destroy();

latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length ? +latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)].toFixed(2) : null);
const cpu = process.cpuUsage(cpu0);
const result = {
  event: 'result',
  mode: opt.max ? 'max' : 'rate',
  targetRate: rate || null,
  concurrency,
  recordsPerRequest: perRequest,
  avgBodyBytes,
  durationS: +(elapsedMs / 1000).toFixed(3),
  startedAt,
  sentRequests,
  sentRecords,
  ackedRecords,
  ackedRecordsPerS: Math.round(ackedRecords / (elapsedMs / 1000)),
  non200ByStatus: byStatus,
  connectionErrors: errors,
  errorMessages,
  unanswered: inFlight,
  lateStarts,
  latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: latencies.length ? +latencies[latencies.length - 1].toFixed(2) : null },
  generatorCpuS: +((cpu.user + cpu.system) / 1e6).toFixed(3),
};
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
