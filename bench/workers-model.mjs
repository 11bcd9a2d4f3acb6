#!/usr/bin/env node
// `node bench/workers-model.mjs [--seconds 8]`: node:cluster vs worker_threads for OTLP/HTTP ingest.
// Both decode OTLP protobuf bodies in 2 workers: with cluster each worker owns its HTTP server (the
// socket is shared), with worker_threads the main thread reads every request and posts the body to a
// thread (a thread cannot take a listening socket). The load generator runs as its own process.
import cluster from 'node:cluster';
import http from 'node:http';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { decodeExportRequest } from '../packages/otlp/dist/index.js';
import { freePort, runGenerator, sleep } from './lib.mjs';

const WORKERS = 2;
const role = process.env.TRIB_MODEL_ROLE;

function count(body) {
  let n = 0;
  for (const rl of decodeExportRequest(body).resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}

if (role === 'cluster-worker') {
  http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => { count(Buffer.concat(chunks)); res.writeHead(200); res.end(); });
  }).listen(Number(process.env.PORT), '127.0.0.1');
} else if (!isMainThread && workerData?.role === 'thread') {
  parentPort.on('message', ({ id, body }) => { count(body); parentPort.postMessage(id); });
} else if (role === 'cluster-primary') {
  cluster.setupPrimary({ exec: new URL(import.meta.url).pathname });
  for (let i = 0; i < WORKERS; i++) cluster.fork({ TRIB_MODEL_ROLE: 'cluster-worker', PORT: process.env.PORT });
} else if (role === 'threads-main') {
  const threads = Array.from({ length: WORKERS }, () => new Worker(new URL(import.meta.url), { workerData: { role: 'thread' } }));
  const pending = new Map();
  let id = 0;
  for (const t of threads) t.on('message', (done) => { pending.get(done)?.(); pending.delete(done); });
  http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const my = id++;
      const body = Buffer.concat(chunks);
      pending.set(my, () => { res.writeHead(200); res.end(); });
      threads[my % WORKERS].postMessage({ id: my, body }, [body.buffer]);
    });
  }).listen(Number(process.env.PORT), '127.0.0.1');
} else {
  const { values: opt } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, rounds: { type: 'string', default: '2' } } });
  const { spawn } = await import('node:child_process');
  const results = { cluster: [], threads: [] };
  for (let r = 0; r < Number(opt.rounds); r++) {
    for (const model of ['cluster', 'threads']) {
      const port = await freePort();
      const child = spawn(process.execPath, [new URL(import.meta.url).pathname], { env: { ...process.env, PORT: String(port), TRIB_MODEL_ROLE: model === 'cluster' ? 'cluster-primary' : 'threads-main' }, stdio: 'inherit' });
      await sleep(1500);
      const gen = await runGenerator(['--url', `http://127.0.0.1:${port}/v1/logs`, '--max', '--duration', `${opt.seconds}s`, '--concurrency', '16'], { durationMs: Number(opt.seconds) * 1000 });
      child.kill('SIGKILL');
      const rate = gen.ackedRecordsPerS;
      results[model].push(rate);
      console.log(`  round ${r + 1} ${model}: ${rate.toLocaleString('en')} records/s`);
    }
  }
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return Math.round(s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2); };
  console.log(`  median cluster ${med(results.cluster).toLocaleString('en')} records/s, worker_threads ${med(results.threads).toLocaleString('en')} records/s`);
  process.exit(0);
}
