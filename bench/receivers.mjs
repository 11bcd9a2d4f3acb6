#!/usr/bin/env node
// Receiver throughput: filelog from 1 file and from 100 files, and syslog over TCP, each into the
// file exporter. Prints lines/s, collector CPU seconds per million lines and peak RSS.
//   node bench/receivers.mjs [--lines 500000] [--only filelog-1|filelog-100|syslog-tcp]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cliPath, freePort, machineInfo, procSample, sleep, waitQuiet } from './lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const LINES = Number(arg('lines', '500000'));
const only = arg('only', '');

/** ~150-byte lines with varied text, like an access log. */
function line(i) {
  const s = `2024-05-01T10:00:${String(i % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z INFO  request handled method=GET path=/api/v1/items/${i % 9973} status=200 duration_ms=${i % 517} user=u${i % 811} seq=${i}`;
  return s.padEnd(149, ' x').slice(0, 149);
}

function writeFiles(dir, files, total) {
  const per = Math.ceil(total / files);
  let n = 0;
  for (let f = 0; f < files; f++) {
    const parts = [];
    for (let i = 0; i < per && n < total; i++, n++) parts.push(line(n));
    fs.writeFileSync(path.join(dir, `app-${f}.log`), parts.join('\n') + '\n');
  }
}

async function accepted(metricsPort, receiver) {
  const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
  let n = 0;
  const re = new RegExp(`^tributary_receiver_accepted_log_records_total\\{[^}]*receiver="${receiver}"[^}]*\\} (\\d+)`, 'gm');
  for (const m of text.matchAll(re)) n += Number(m[1]);
  return n;
}

async function runCollector(dir, receiversYaml, receiverId) {
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const cfg = `receivers:\n${receiversYaml}
exporters:
  file: { path: ${dir}/out.jsonl, sending_queue: { enabled: false } }
extensions:
  health_check: { endpoint: 127.0.0.1:${healthPort} }
  metrics: { endpoint: 127.0.0.1:${metricsPort} }
service:
  extensions: [health_check, metrics]
  pipelines: { logs: { receivers: [${receiverId}], exporters: [file] } }
`;
  fs.writeFileSync(path.join(dir, 'config.yaml'), cfg);
  const logFd = fs.openSync(path.join(dir, 'collector.log'), 'w');
  const child = spawn(process.execPath, [cliPath, 'run', '--config', path.join(dir, 'config.yaml')], { cwd: dir, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const end = Date.now() + 20_000;
  while (!(await fetch(`http://127.0.0.1:${healthPort}/`).then((r) => r.ok, () => false))) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(fs.readFileSync(path.join(dir, 'collector.log'), 'utf8'));
    await sleep(50);
  }
  return { child, metricsPort };
}

/** Waits until the receiver accepted `total` lines; CPU and wall time from its first accepted line. */
async function measure(name, c, receiver, total, command) {
  let first;
  let peakRss = 0;
  const deadline = Date.now() + 600_000;
  for (;;) {
    const s = procSample(c.child.pid);
    peakRss = Math.max(peakRss, s.rssMiB);
    const n = await accepted(c.metricsPort, receiver);
    if (first === undefined && n > 0) first = { ...s, n };
    if (n >= total) {
      const last = procSample(c.child.pid);
      const lines = n - first.n;
      const secs = (last.t - first.t) / 1000;
      const cpu = last.cpuS - first.cpuS;
      const status = fs.readFileSync(`/proc/${c.child.pid}/status`, 'utf8');
      const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      const r = { name, lines: n, 'lines/s': Math.round(lines / secs), 'CPU cores': +(cpu / secs).toFixed(2), 'lines/s per core': Math.round(lines / cpu), 'CPU s per million lines': +(cpu / (lines / 1e6)).toFixed(2), 'peak RSS MiB': Math.round(Math.max(peakRss, hwm)), command };
      c.child.kill('SIGTERM');
      return r;
    }
    if (Date.now() > deadline) throw new Error(`${name}: only ${n} of ${total} lines after 10 min`);
    await sleep(50);
  }
}

async function filelog(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-filelog-'));
  fs.mkdirSync(path.join(dir, 'logs'));
  writeFiles(path.join(dir, 'logs'), files, LINES);
  const c = await runCollector(dir, `  filelog:\n    include: [${dir}/logs/*.log]\n    start_at: beginning\n`, 'filelog');
  try {
    return await measure(`filelog, ${files} file${files > 1 ? 's' : ''}`, c, 'filelog', LINES, `node bench/receivers.mjs --only filelog-${files} --lines ${LINES}`);
  } finally {
    c.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function syslogTcp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-syslog-'));
  const port = await freePort();
  const c = await runCollector(dir, `  syslog:\n    protocol: rfc5424\n    tcp: { listen_address: 127.0.0.1:${port} }\n`, 'syslog');
  try {
    const conns = 4;
    const per = Math.ceil(LINES / conns);
    const senders = [];
    for (let k = 0; k < conns; k++) {
      senders.push(new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', reject);
        let i = 0;
        const pump = () => {
          while (i < per) {
            let chunk = '';
            for (let j = 0; j < 200 && i < per; j++, i++) chunk += `<14>1 2024-05-01T10:00:00.000Z host${k} app 42 - - ${line(k * per + i).slice(0, 100)}\n`;
            if (!s.write(chunk)) return void s.once('drain', pump);
          }
          s.end(resolve);
        };
        s.once('connect', pump);
      }));
    }
    const m = measure('syslog TCP (RFC 5424, 4 connections)', c, 'syslog', conns * per, `node bench/receivers.mjs --only syslog-tcp --lines ${LINES}`);
    await Promise.all(senders);
    return await m;
  } finally {
    c.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(JSON.stringify(machineInfo()));
const quiet = await waitQuiet(0.5, 30_000);
console.log(`other processes' CPU before start: ${quiet} cores (the machine is shared)`);
const results = [];
if (!only || only === 'filelog-1') results.push(await filelog(1));
if (!only || only === 'filelog-100') results.push(await filelog(100));
if (!only || only === 'syslog-tcp') results.push(await syslogTcp());
console.table(results.map(({ command: _command, ...r }) => r));
for (const r of results) console.log(`${r.name}: ${r.command}`);
