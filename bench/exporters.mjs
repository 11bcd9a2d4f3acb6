#!/usr/bin/env node
// The whole collector, OTLP/HTTP in → one exporter → a local sink that answers success as the
// destination would: records/s acknowledged and collector CPU s per million records, per exporter.
// Usage: node bench/exporters.mjs [--duration 10] [--only datadog,loki]
import http from 'node:http';
import zlib from 'node:zlib';
import { parseArgs } from 'node:util';
import { machineInfo, runScenario } from './lib.mjs';

const { values: opt } = parseArgs({ options: { duration: { type: 'string', default: '10' }, only: { type: 'string' }, concurrency: { type: 'string', default: '8' } } });
const durationS = Number(opt.duration);

/** Each destination's success answer (Elasticsearch's bulk answer lists one item per document). */
const SINKS = {
  datadog: { status: 202, body: () => '{}' },
  splunk_hec: { status: 200, body: () => '{"text":"Success","code":0}' },
  elasticsearch: {
    status: 200,
    body: (text) => {
      const n = Math.floor(text.split('\n').filter(Boolean).length / 2);
      return JSON.stringify({ errors: false, took: 1, items: Array.from({ length: n }, () => ({ create: { status: 201 } })) });
    },
  },
  loki: { status: 204, body: () => '' },
};

async function startSink(kind) {
  const stats = { requests: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let buf = Buffer.concat(chunks);
      stats.requests++;
      stats.bytes += buf.length;
      // Only Elasticsearch's answer depends on the body.
      if (kind === 'elasticsearch' && req.headers['content-encoding'] === 'gzip') buf = zlib.gunzipSync(buf);
      const s = SINKS[kind];
      res.writeHead(s.status, { 'content-type': 'application/json' });
      res.end(kind === 'elasticsearch' ? s.body(buf.toString()) : s.body());
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, stats, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

const EXPORTERS = {
  datadog: (url) => ({ api: { key: 'bench-key' }, logs: { endpoint: url } }),
  splunk_hec: (url) => ({ token: 'bench-token', endpoint: `${url}/services/collector` }),
  elasticsearch: (url) => ({ endpoint: url }),
  loki: (url) => ({ endpoint: `${url}/loki/api/v1/push` }),
};

const info = machineInfo();
console.log(`Tributary exporters through the collector — ${info.date}`);
console.log(`machine: ${info.cpu}, ${info.cores} cores, ${info.memGiB} GiB RAM, Node ${info.node}`);
console.log(`command: node bench/exporters.mjs ${process.argv.slice(2).join(' ')}`);
console.log('pipeline: otlp (http/protobuf, 100 records/request) → memory_limiter → batch (8192, 200ms) → <exporter> → local sink answering success\n');
const rows = [];
for (const kind of Object.keys(EXPORTERS)) {
  if (opt.only && !opt.only.split(',').includes(kind)) continue;
  const sink = await startSink(kind);
  try {
    const r = await runScenario({
      name: `exporter-${kind}`, durationMs: durationS * 1000,
      exporter: { id: kind, config: EXPORTERS[kind](sink.url) },
      genArgs: ['--max', '--duration', `${durationS}s`, '--concurrency', opt.concurrency],
    });
    rows.push([kind, r.gen.ackedRecordsPerS, r.collector.cpuSPerMillionRecords, r.collector.peakRssMiB, sink.stats.requests, (sink.stats.bytes / 2 ** 20).toFixed(1), JSON.stringify(r.gen.non200ByStatus), r.otherCpuCores]);
  } finally {
    await sink.close();
  }
}
console.log('exporter        records/s  CPU s/M  peak RSS MiB  sink requests  sink MiB  non-200        other CPU (cores)');
for (const [k, rps, cpu, rss, req, mib, non200, other] of rows) {
  console.log(`${k.padEnd(14)} ${String(rps).padStart(10)} ${String(cpu).padStart(8)} ${String(rss).padStart(13)} ${String(req).padStart(14)} ${String(mib).padStart(9)}  ${non200.padEnd(14)} ${other}`);
}
process.exit(0);
