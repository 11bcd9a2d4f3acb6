#!/usr/bin/env node
// End-to-end rows/s into a real ClickHouse: OTLP/HTTP protobuf → collector (batch → clickhouse exporter,
// JSONEachRow over the HTTP interface) → Debian's clickhouse-server started here on free ports with a temp
// dir (like test/support/clickhouse-server.ts). Measures from the first request to `count()` = all rows.
// Run: npx tsc -b && node bench/clickhouse-rows.mjs [--records 200000] [--per-request 1000] [--compression gzip|none]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeExportRequest, idFromHex, nanosFromMillis } from '../packages/otlp/dist/index.js';
import { cliPath, freePort, machineInfo, sleep } from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    'per-request': { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    compression: { type: 'string', default: 'gzip' },
  },
});
const RECORDS = Number(opt.records);
const PER = Number(opt['per-request']);

const bin = ['/usr/bin/clickhouse', '/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server'].find((p) => fs.existsSync(p));
if (!bin) {
  console.log('clickhouse-rows: skipped — no clickhouse-server installed (apt-get install clickhouse-server)');
  process.exit(0);
}
const children = [];
const cleanup = () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); };
process.on('exit', cleanup);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-bench-ch-'));
const [chHttp, chTcp, chInter, otlpPort, healthPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
for (const d of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) fs.mkdirSync(path.join(dir, d));
fs.writeFileSync(path.join(dir, 'users.xml'), `<?xml version="1.0"?><yandex><profiles><default></default></profiles>
<users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
<quotas><default></default></quotas></yandex>`);
fs.writeFileSync(path.join(dir, 'config.xml'), `<?xml version="1.0"?><yandex>
<logger><level>warning</level><log>${dir}/log/s.log</log><errorlog>${dir}/log/e.log</errorlog></logger>
<listen_host>127.0.0.1</listen_host><http_port>${chHttp}</http_port><tcp_port>${chTcp}</tcp_port><interserver_http_port>${chInter}</interserver_http_port>
<path>${dir}/data/</path><tmp_path>${dir}/tmp/</tmp_path><user_files_path>${dir}/user_files/</user_files_path><format_schema_path>${dir}/format_schemas/</format_schema_path>
<users_config>${dir}/users.xml</users_config><default_profile>default</default_profile><default_database>default</default_database><mark_cache_size>67108864</mark_cache_size></yandex>`);
const ch = spawn(bin, [...(bin.endsWith('/clickhouse') ? ['server'] : []), `--config-file=${dir}/config.xml`], { cwd: dir, stdio: 'ignore' });
children.push(ch);
const chUrl = `http://127.0.0.1:${chHttp}`;
const q = async (sql) => (await fetch(chUrl + '/', { method: 'POST', body: sql })).text();
for (let i = 0; ; i++) {
  if ((await fetch(`${chUrl}/ping`).catch(() => undefined))?.status === 200) break;
  if (i > 300) throw new Error('clickhouse-server did not start');
  await sleep(100);
}
const version = (await q('SELECT version()')).trim();

fs.writeFileSync(path.join(dir, 'collector.yaml'), `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlpPort} } } } }
processors: { batch: { send_batch_size: 8192, timeout: 200ms } }
exporters:
  clickhouse: { endpoint: ${chUrl}, database: otel, logs_table_name: otel_logs, compression: ${opt.compression}, sending_queue: { num_consumers: 4 } }
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} } }
service:
  extensions: [health_check]
  pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [clickhouse] } }
`);
const col = spawn(process.execPath, [cliPath, 'run', '--config', path.join(dir, 'collector.yaml')], { cwd: dir, stdio: 'ignore' });
children.push(col);
for (let i = 0; ; i++) {
  if ((await fetch(`http://127.0.0.1:${healthPort}/`).catch(() => undefined))?.status === 200) break;
  if (i > 300) throw new Error('collector did not start');
  await sleep(100);
}

// Realistic records (as bench/convert-*.mjs): HTTP access logs, 6 attributes, trace ids, k8s resource.
function request(from) {
  const now = Date.now();
  const logRecords = [];
  for (let n = from; n < from + PER; n++) {
    const status = n % 50 === 0 ? 500 : 200;
    logRecords.push({
      timeUnixNano: nanosFromMillis(now), observedTimeUnixNano: nanosFromMillis(now), severityNumber: status === 500 ? 17 : 9, severityText: status === 500 ? 'ERROR' : 'INFO',
      body: { stringValue: `GET /api/v1/orders/${n} ${status} in ${n % 97}ms user=u-${n % 1000} region=eu-west-1` },
      attributes: [
        { key: 'http.method', value: { stringValue: 'GET' } }, { key: 'http.route', value: { stringValue: '/api/v1/orders/:id' } },
        { key: 'http.status_code', value: { intValue: status } }, { key: 'duration_ms', value: { doubleValue: (n % 97) + 0.5 } },
        { key: 'retention.class', value: { stringValue: status === 500 ? 'error' : 'standard' } }, { key: 'retention.days', value: { intValue: status === 500 ? 90 : 7 } },
      ],
      droppedAttributesCount: 0, flags: 1, traceId: idFromHex(n.toString(16).padStart(8, '0').repeat(4), 16), spanId: idFromHex(n.toString(16).padStart(8, '0').repeat(2), 8), eventName: '',
    });
  }
  return encodeExportRequest({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'host.name', value: { stringValue: 'web-1' } }], droppedAttributesCount: 0 },
    schemaUrl: '', scopeLogs: [{ scope: { name: 'pino', version: '9.0.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords }] }] });
}
const bodies = [];
for (let from = 0; from < RECORDS; from += PER) bodies.push(request(from));
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(opt.concurrency) });
const post = (body) => new Promise((resolve, reject) => {
  const req = http.request({ host: '127.0.0.1', port: otlpPort, path: '/v1/logs', method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf' } }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
  });
  req.on('error', reject);
  req.end(body);
});

const t0 = performance.now();
let next = 0;
await Promise.all(Array.from({ length: Number(opt.concurrency) }, async () => {
  while (next < bodies.length) {
    const b = bodies[next++];
    for (;;) {
      try { await post(b); break; } catch { await sleep(20); }
    }
  }
}));
const sentS = (performance.now() - t0) / 1000;
let rows = 0;
for (let i = 0; rows < RECORDS; i++) {
  rows = Number((await q('SELECT count() FROM otel.otel_logs').catch(() => '0')).trim()) || 0;
  if (i > 1200) throw new Error(`only ${rows} of ${RECORDS} rows arrived`);
  if (rows < RECORDS) await sleep(50);
}
const totalS = (performance.now() - t0) / 1000;
const info = machineInfo();
console.log(`command: npx tsc -b && node bench/clickhouse-rows.mjs${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`);
console.log(`machine: ${info.cpu}, ${info.cores} cores, Node ${info.node}; ClickHouse ${version} (legacy layout), compression ${opt.compression}`);
console.log(`clickhouse rows: ${RECORDS} records in ${bodies.length} OTLP requests accepted in ${sentS.toFixed(2)} s; all rows in ClickHouse after ${totalS.toFixed(2)} s → ${Math.round(RECORDS / totalS).toLocaleString('en-US')} rows/s end to end`);
col.kill('SIGTERM');
ch.kill('SIGTERM');
await Promise.all([col, ch].map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r)))));
fs.rmSync(dir, { recursive: true, force: true });
