#!/usr/bin/env node
// Delivery soak: `node bench/soak.mjs [--records 2000000] [--throughput-records 500000] [--kills 3]`
// (also run by `npm run bench` when it calls it). Three runs against the built CLI, each sending numbered
// records (OTLP/HTTP protobuf) to the collector, which forwards them (otlphttp) to a local destination that
// counts every number it receives:
//   1. in-memory queue, no faults: throughput (records/s acknowledged and delivered);
//   2. disk queue (file_storage), same load: throughput, i.e. the disk queue's cost;
//   3. disk queue, SIGKILLed --kills times during the run and restarted: sent, acknowledged, delivered,
//      duplicated, lost (must be 0).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { decodeExportRequest, encodeExportRequest } from '../packages/otlp/dist/index.js';

const { values: opt } = parseArgs({
  options: {
    records: { type: 'string', default: '2000000' },
    'throughput-records': { type: 'string', default: '500000' },
    kills: { type: 'string', default: '3' },
    'per-request': { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
    fsync: { type: 'boolean', default: false },
  },
});
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = path.join(repoRoot, 'collector/dist/cli/main.js');
const PER = Number(opt['per-request']);
const CONC = Number(opt.concurrency);

const children = new Set();
process.on('exit', () => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Destination: counts every record number (attribute n) it gets with a 200. */
async function startDestination() {
  const received = new Uint8Array(64_000_000);
  const d = { distinct: 0, duplicates: 0, received };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        const r = decodeExportRequest(Buffer.concat(chunks));
        for (const rl of r.resourceLogs) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) {
          const v = lr.attributes[0]?.value?.intValue;
          const n = typeof v === 'number' ? v : v.toNumber();
          if (received[n] === 0) d.distinct++; else d.duplicates++;
          if (received[n] < 255) received[n]++;
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      } catch {
        res.writeHead(400);
      }
      res.end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  d.url = `http://127.0.0.1:${server.address().port}`;
  d.close = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
  return d;
}

const PAD = 'x'.repeat(100);
function request(from, to) {
  const logRecords = [];
  for (let n = from; n < to; n++) {
    logRecords.push({ timeUnixNano: 0, observedTimeUnixNano: 0, severityNumber: 9, severityText: 'INFO', body: { stringValue: `record ${n} ${PAD}` },
      attributes: [{ key: 'n', value: { intValue: n } }], droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '' });
  }
  return encodeExportRequest({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'soak' } }], droppedAttributesCount: 0 }, scopeLogs: [{ scope: null, logRecords, schemaUrl: '' }], schemaUrl: '' }] });
}

async function startCollector(yaml, dir, healthPort) {
  fs.writeFileSync(path.join(dir, 'config.yaml'), yaml);
  const child = spawn(process.execPath, [cliPath, 'run', '--config', path.join(dir, 'config.yaml')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let err = '';
  child.stderr.on('data', (d) => { err += d; if (err.length > 1e6) err = err.slice(-5e5); });
  const exited = new Promise((r) => child.on('exit', (c, s) => r(c ?? s)));
  for (let i = 0; i < 400; i++) {
    const ok = await fetch(`http://127.0.0.1:${healthPort}/`).then((r) => r.status === 200, () => false);
    if (ok) return { child, exited, stderr: () => err };
    if (child.exitCode !== null) throw new Error(`collector exited:\n${err}`);
    await sleep(50);
  }
  throw new Error(`collector did not become healthy:\n${err}`);
}

async function run({ name, total, disk, kills }) {
  const dest = await startDestination();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-soak-'));
  const [httpPort, health] = [await freePort(), await freePort()];
  const yaml = `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
exporters:
  otlphttp:
    endpoint: ${dest.url}
    compression: none
    sending_queue: { ${disk ? 'storage: file_storage, ' : ''}queue_size: 5000, num_consumers: 4 }
    retry_on_failure: { initial_interval: 50ms, max_interval: 500ms, max_elapsed_time: 0 }
extensions: { health_check: { endpoint: 127.0.0.1:${health} }${disk ? `, file_storage: { directory: ./queue, fsync: ${opt.fsync} }` : ''} }
service:
  extensions: [health_check${disk ? ', file_storage' : ''}]
  shutdown_timeout: 10s
  pipelines: { logs: { receivers: [otlp], exporters: [otlphttp] } }
`;
  let col = await startCollector(yaml, dir, health);
  const acked = new Uint8Array(total);
  const stats = { sent: 0, acknowledged: 0, refused: 0, errors: 0, restarts: 0, recovered: 0 };
  let next = 0;
  const t0 = performance.now();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
  const post = (body) => new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: httpPort, path: '/v1/logs', method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve('error'));
    req.end(body);
  });
  const worker = async () => {
    while (next < total) {
      const from = next;
      const to = Math.min(total, from + PER);
      next = to;
      const body = Buffer.from(request(from, to));
      stats.sent += to - from;
      for (;;) {
        const s = await post(body);
        if (s === 200) { stats.acknowledged += to - from; acked.fill(1, from, to); break; }
        if (s === 'error') stats.errors++; else stats.refused++;
        await sleep(50);
      }
    }
  };
  const load = Promise.all(Array.from({ length: CONC }, worker));
  for (let k = 1; k <= kills; k++) {
    const at = Math.floor((total * k) / (kills + 1));
    while (stats.acknowledged < at) await sleep(5);
    col.child.kill('SIGKILL');
    await col.exited;
    col = await startCollector(yaml, dir, health);
    stats.restarts++;
    const m = /disk queue recovered.*?records[=":\s]+(\d+)/.exec(col.stderr());
    if (m) stats.recovered += Number(m[1]);
  }
  await load;
  const ackedAt = performance.now();
  // Wait until every acknowledged number arrived (bounded).
  const deadline = performance.now() + 300_000;
  let lost = -1;
  for (;;) {
    lost = 0;
    for (let n = 0; n < total; n++) if (acked[n] && dest.received[n] === 0) lost++;
    if (lost === 0 || performance.now() > deadline) break;
    await sleep(200);
  }
  const deliveredAt = performance.now();
  col.child.kill('SIGTERM');
  await col.exited;
  agent.destroy();
  await dest.close();
  let unexpected = 0;
  for (let n = total; n < dest.received.length && n < total + 1_000_000; n++) if (dest.received[n]) unexpected++;
  const secs = (deliveredAt - t0) / 1000;
  fs.rmSync(dir, { recursive: true, force: true });
  const r = { name, total, sent: stats.sent, acknowledged: stats.acknowledged, delivered: dest.distinct, duplicated: dest.duplicates, lost, unexpected,
    restarts: stats.restarts, recoveredFromDisk: stats.recovered, clientErrors: stats.errors, refused: stats.refused,
    seconds: +secs.toFixed(1), ackPerS: Math.round(stats.acknowledged / ((ackedAt - t0) / 1000)), deliveredPerS: Math.round(dest.distinct / secs) };
  console.log(JSON.stringify(r));
  return r;
}

console.log(`delivery soak — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}; ${PER} records/request, ${CONC} connections, fsync ${opt.fsync}`);
const tp = Number(opt['throughput-records']);
const mem = await run({ name: 'memory queue', total: tp, disk: false, kills: 0 });
const disk = await run({ name: 'disk queue', total: tp, disk: true, kills: 0 });
const kill = await run({ name: `disk queue, SIGKILL ×${opt.kills}`, total: Number(opt.records), disk: true, kills: Number(opt.kills) });
console.log('\n| run | records | acknowledged | delivered | duplicated | lost | acknowledged/s | delivered/s | time |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of [mem, disk, kill]) console.log(`| ${r.name} | ${r.sent} | ${r.acknowledged} | ${r.delivered} | ${r.duplicated} | ${r.lost} | ${r.ackPerS} | ${r.deliveredPerS} | ${r.seconds} s |`);
console.log(`\ndisk queue cost: ${(100 * (1 - disk.deliveredPerS / mem.deliveredPerS)).toFixed(0)}% fewer records/s delivered than the in-memory queue (${disk.deliveredPerS} vs ${mem.deliveredPerS})`);
if (kill.lost !== 0 || kill.unexpected !== 0) { console.log('FAILED: records lost or unexpected'); process.exitCode = 1; }
