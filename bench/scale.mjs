#!/usr/bin/env node
// `node bench/scale.mjs [--quick] [--only workers|tiers|nats-cost]`: scaling figures.
//   workers:   max ingest of `run --workers 1` vs `--workers 2` (OTLP/HTTP → batch → debug), alternating
//              A/B rounds, medians; ratio goal ≥ 1.7×.
//   tiers:     agent → NATS JetStream (127.0.0.1:4222) → gateway → OTLP/HTTP sink at 10k logs/s:
//              throughput and end-to-end latency (record timestamp → sink) p50/p99.
//   nats-cost: the nats exporter alone: CPU seconds and wall time per million records published.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { decodeExportRequest, encodeExportRequest, nowNanos } from '../packages/otlp/dist/index.js';
import { cliPath, freePort, machineInfo, sleep, runGenerator } from './lib.mjs';

const { values: opt } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, rounds: { type: 'string' } } });
const info = machineInfo();
console.log(`Tributary scaling benchmark — ${info.date}`);
console.log(`machine: ${info.cpu}, ${info.cores} cores, ${info.memGiB} GiB RAM, Node ${info.node} (shared with other work: figures are indicative)`);
console.log(`command: node bench/scale.mjs ${process.argv.slice(2).join(' ')}\n`);

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const NATS_URL = 'nats://127.0.0.1:4222';

async function startCli(configText, args = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-scale-'));
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, configText);
  const logFd = fs.openSync(path.join(dir, 'collector.log'), 'w');
  const child = spawn(process.execPath, [cliPath, 'run', '--config', configPath, ...args], { cwd: dir, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child, dir, exited,
    log: () => fs.readFileSync(path.join(dir, 'collector.log'), 'utf8'),
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function healthy(port, ms = 30_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fetch(`http://127.0.0.1:${port}/`).then((r) => r.status === 200, () => false)) return;
    await sleep(100);
  }
  throw new Error(`not healthy on ${port}`);
}

async function acceptedTotal(metricsPort) {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let sum = 0;
  for (const l of text.split('\n')) if (l.startsWith('tributary_receiver_accepted_log_records_total')) sum += Number(l.slice(l.lastIndexOf(' ') + 1));
  return sum;
}

// ---------------------------------------------------------------- workers
async function workersRound(workers, seconds) {
  const [otlp, health, metrics] = [await freePort(), await freePort(), await freePort()];
  const cfg = `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlp} } } } }
processors: { batch: { send_batch_size: 8192, timeout: 200ms } }
exporters: { debug: { verbosity: basic } }
extensions: { health_check: { endpoint: 127.0.0.1:${health} }, metrics: { endpoint: 127.0.0.1:${metrics} } }
service:
  telemetry: { logs: { level: warn } }
  extensions: [health_check, metrics]
  pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [debug] } }
`;
  const col = await startCli(cfg, ['--workers', String(workers)]);
  try {
    await healthy(health);
    await sleep(500);
    let t0 = 0, a0 = 0;
    const gen = await runGenerator(['--url', `http://127.0.0.1:${otlp}/v1/logs`, '--max', '--duration', `${seconds}s`, '--concurrency', '16'], {
      durationMs: seconds * 1000,
      onStart: () => { t0 = performance.now(); void acceptedTotal(metrics).then((v) => { a0 = v; }); },
    });
    const t1 = performance.now();
    await sleep(700); // the primary gathers worker metrics every 0.5 s
    const a1 = await acceptedTotal(metrics);
    return { workers, recordsPerS: Math.round((a1 - a0) / ((t1 - t0) / 1000)), genAcked: gen.acknowledgedRecords ?? gen.records ?? undefined };
  } finally {
    await col.stop();
  }
}

async function benchWorkers() {
  const rounds = Number(opt.rounds ?? (opt.quick ? 2 : 3));
  const seconds = opt.quick ? 5 : 10;
  console.log(`== --workers 1 vs 2: max ingest, OTLP/HTTP protobuf (100 records/request, 16 connections) → batch → debug; ${rounds} alternating rounds of ${seconds} s`);
  const r = { 1: [], 2: [] };
  for (let i = 0; i < rounds; i++) {
    for (const w of [1, 2]) {
      const x = await workersRound(w, seconds);
      r[w].push(x.recordsPerS);
      console.log(`  round ${i + 1} --workers ${w}: ${x.recordsPerS.toLocaleString('en')} records/s`);
    }
  }
  const m1 = median(r[1]);
  const m2 = median(r[2]);
  const ratio = m2 / m1;
  console.log(`  median --workers 1: ${m1.toLocaleString('en')} records/s; --workers 2: ${m2.toLocaleString('en')} records/s; ratio ${ratio.toFixed(2)}× (goal ≥ 1.7×: ${ratio >= 1.7 ? 'met' : 'not met'})\n`);
}

// ---------------------------------------------------------------- tiers
function record(n, now) {
  return {
    timeUnixNano: now, observedTimeUnixNano: now, severityNumber: 9, severityText: 'INFO',
    body: { stringValue: `GET /api/orders/${n} 200 12ms user=u${n % 977}` },
    attributes: [{ key: 'n', value: { intValue: n } }, { key: 'http.route', value: { stringValue: '/api/orders/:id' } }],
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  };
}

async function benchTiers() {
  const rate = 10_000;
  const seconds = opt.quick ? 10 : 30;
  console.log(`== agent → NATS JetStream → gateway at ${rate.toLocaleString('en')} logs/s for ${seconds} s (requests of 500 records every 50 ms; latency = record timestamp → sink)`);
  const latencies = [];
  let received = 0;
  const sink = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const now = Number(BigInt(nowNanos().toString()) / 1000n) / 1000; // ms
      const body = decodeExportRequest(Buffer.concat(chunks));
      for (const rl of body.resourceLogs) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) {
        received++;
        latencies.push(now - Number(BigInt(lr.timeUnixNano.toString()) / 1000n) / 1000);
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise((r) => sink.listen(0, '127.0.0.1', r));
  const sinkPort = sink.address().port;
  const stream = `TRIB_BENCH_${process.pid}_${Date.now().toString(36)}`;
  const subject = `trib_bench_${process.pid}_${Date.now().toString(36)}`;
  const [otlp, ah, gh, gm] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const agent = await startCli(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlp} } } } }
processors: { batch: { send_batch_size: 1000, timeout: 50ms } }
exporters: { nats: { servers: [${NATS_URL}], subject: "${subject}.{service.name}", stream: { name: ${stream}, subjects: ["${subject}.>"], max_age: 1h } } }
extensions: { health_check: { endpoint: 127.0.0.1:${ah} } }
service: { telemetry: { logs: { level: warn } }, extensions: [health_check], pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [nats] } } }
`);
  const gateway = await startCli(`
receivers: { nats: { servers: [${NATS_URL}], stream: ${stream}, consumer: { durable: bench }, fetch_size: 64, fetch_timeout: 1s } }
processors: { batch: { send_batch_size: 2000, timeout: 50ms } }
exporters: { otlphttp: { endpoint: "http://127.0.0.1:${sinkPort}", compression: none } }
extensions: { health_check: { endpoint: 127.0.0.1:${gh} }, metrics: { endpoint: 127.0.0.1:${gm} } }
service: { telemetry: { logs: { level: warn } }, extensions: [health_check, metrics], pipelines: { logs: { receivers: [nats], processors: [batch], exporters: [otlphttp] } } }
`);
  try {
    await healthy(ah);
    await healthy(gh);
    const agentClient = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const per = 500;
    const total = rate * seconds;
    const started = performance.now();
    let sent = 0;
    const inflight = new Set();
    for (let n = 0; n < total; n += per) {
      const due = started + (n / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const now = nowNanos();
      const logRecords = [];
      for (let k = n; k < n + per; k++) logRecords.push(record(k, now));
      const body = encodeExportRequest({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }], droppedAttributesCount: 0 }, scopeLogs: [{ scope: null, logRecords, schemaUrl: '' }], schemaUrl: '' }] });
      const p = new Promise((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: otlp, path: '/v1/logs', method: 'POST', agent: agentClient, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.byteLength } }, (res) => { res.resume(); res.on('end', () => { if (res.statusCode === 200) sent += per; resolve(); }); });
        req.on('error', () => resolve());
        req.end(body);
      });
      inflight.add(p);
      void p.then(() => inflight.delete(p));
    }
    await Promise.all(inflight);
    const sendS = (performance.now() - started) / 1000;
    const end = Date.now() + 30_000;
    while (received < sent && Date.now() < end) await sleep(100);
    const totalS = (performance.now() - started) / 1000;
    const s = [...latencies].sort((a, b) => a - b);
    const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    console.log(`  sent ${sent.toLocaleString('en')} in ${sendS.toFixed(1)} s (${Math.round(sent / sendS).toLocaleString('en')}/s); received ${received.toLocaleString('en')} at the sink (${Math.round(received / totalS).toLocaleString('en')}/s over ${totalS.toFixed(1)} s)`);
    const gwText = await (await fetch(`http://127.0.0.1:${gm}/metrics`)).text();
    const redelivered = gwText.split('\n').filter((l) => l.startsWith('tributary_receiver_nats_redelivered_messages_total')).reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    console.log(`  gateway: ${redelivered} messages redelivered`);
    console.log(`  end-to-end latency: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms\n`);
    agentClient.destroy();
  } finally {
    await agent.stop();
    await gateway.stop();
    sink.close();
    const nc = await connect({ servers: NATS_URL });
    await (await nc.jetstreamManager()).streams.delete(stream).catch(() => false);
    await nc.close();
  }
}

// ---------------------------------------------------------------- nats exporter cost
async function benchNatsCost() {
  const { NatsExporter } = await import('../collector/dist/exporters/nats/index.js');
  const { natsExporterConfigSchema } = await import('../collector/dist/exporters/nats/config.js');
  const { Telemetry } = await import('../collector/dist/telemetry/metrics.js');
  const { createLogger } = await import('../collector/dist/telemetry/logger.js');
  const records = opt.quick ? 200_000 : 1_000_000;
  const per = 1000;
  const stream = `TRIB_COST_${process.pid}_${Date.now().toString(36)}`;
  const subject = `trib_cost_${process.pid}_${Date.now().toString(36)}`;
  console.log(`== nats exporter cost: ${records.toLocaleString('en')} records in batches of ${per}, OTLP protobuf to JetStream (file storage), 8 batches in flight`);
  const logger = createLogger({ level: 'warn', encoding: 'text', write: () => undefined });
  const config = natsExporterConfigSchema.parse({ servers: [NATS_URL], subject: `${subject}.{service.name}`, stream: { name: stream, subjects: [`${subject}.>`], max_age: '1h' } });
  const ex = new NatsExporter({ id: { type: 'nats', name: '', id: 'nats' }, logger, telemetry: new Telemetry() }, config);
  await ex.start();
  const now = nowNanos();
  const batches = [];
  for (let b = 0; b < 16; b++) {
    const logRecords = [];
    for (let k = 0; k < per; k++) logRecords.push(record(b * per + k, now));
    batches.push({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cost' } }], droppedAttributesCount: 0 }, scopeLogs: [{ scope: null, logRecords, schemaUrl: '' }], schemaUrl: '' }], recordCount: per, receivedAt: 0 });
  }
  const signal = new AbortController().signal;
  for (let i = 0; i < 100; i++) {
    try { await ex.send(batches[0], signal); break; } catch { await sleep(100); }
  }
  // Distinct payloads (different msg ids): vary one attribute per round so JetStream stores every batch.
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const total = records / per;
  const workers = Array.from({ length: 8 }, async () => {
    while (next < total) {
      const i = next++;
      const b = batches[i % batches.length];
      b.resourceLogs[0].scopeLogs[0].logRecords[0].attributes[0].value.intValue = -1 - i;
      await ex.send(b, signal);
    }
  });
  await Promise.all(workers);
  const wall = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const cpu = (c1.user + c1.system) / 1e6;
  const perM = 1_000_000 / records;
  console.log(`  ${(cpu * perM).toFixed(2)} CPU s and ${(wall * perM).toFixed(2)} s wall per million records (${Math.round(records / wall).toLocaleString('en')} records/s from one process; includes encoding, hashing, publish and ack)\n`);
  await ex.shutdown();
  const nc = await connect({ servers: NATS_URL });
  await (await nc.jetstreamManager()).streams.delete(stream).catch(() => false);
  await nc.close();
}

const only = opt.only;
if (!only || only === 'workers') await benchWorkers();
if (!only || only === 'tiers') await benchTiers();
if (!only || only === 'nats-cost') await benchNatsCost();
process.exit(0);
