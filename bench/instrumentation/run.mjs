// Instrumentation overhead, in one run with alternating rounds and medians (see bench/RESULTS.md):
// - worst case: app.cjs (one pino line per request, little work): plain node; Tributary with ids only
//   (OTEL_LOGS_EXPORTER=none); Tributary with logs exported; the official OpenTelemetry path (otel-official.cjs);
// - realistic: app-real.cjs (about 1 ms of work, three pino lines per request): plain; Tributary with logs exported;
// - per line / per request CPU of the instrumentation, from a CPU profile of the worst-case app under load.
// Each on every Node binary in BENCH_NODES (comma-separated paths; default: the node running this script).
//   node bench/instrumentation/run.mjs   (after `npm run build`)
// Env: BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32), BENCH_NODES, BENCH_PROFILE (1; 0 skips it),
//      BENCH_ONLY (worst,real,profile: a subset).
import { execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const NODES = (process.env.BENCH_NODES ?? process.execPath).split(',').map((s) => s.trim()).filter(Boolean);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'worst,real,profile').split(','));
if (process.env.BENCH_PROFILE === '0') ONLY.delete('profile');
const REGISTER = ['--require', '@tributary/instrumentation/register'];
const OFFICIAL = ['--require', path.join(here, 'otel-official.cjs')];
const autocannonBin = path.join(root, 'node_modules/autocannon/autocannon.js');

// A minimal OTLP/HTTP sink: accepts and discards, so the figures measure the app, not a collector.
let received = 0;
const sink = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { received++; res.writeHead(200, { 'content-type': 'application/x-protobuf' }); res.end(); });
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${sink.address().port}`;
const baseEnv = { ...process.env, NODE_OPTIONS: '', OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_SERVICE_NAME: 'bench' };

function startApp(node, script, flags, extraEnv) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, script), [], { cwd: root, execPath: node, env: { ...baseEnv, ...extraEnv }, execArgv: flags, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, ...m }));
    child.once('exit', (code) => reject(new Error(`app exited ${code}`)));
  });
}

function autocannon(port, seconds) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [autocannonBin, '--json', '-c', String(CONNECTIONS), '-d', String(seconds), `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, NODE_OPTIONS: '' } });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`autocannon exited ${code}`))));
  });
}

async function stop(child) {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
}

function cpu(child) {
  return new Promise((resolve) => { child.once('message', (m) => resolve(m.cpuUs)); child.send('cpu'); });
}

async function measure(node, script, variant) {
  const app = await startApp(node, script, variant.flags, variant.env ?? {});
  try {
    await autocannon(app.port, 2); // warm-up: JIT, connection pools, first exports
    const before = await cpu(app.child);
    const r = await autocannon(app.port, SECONDS);
    const after = await cpu(app.child);
    // CPU time per request of the app process: less sensitive than requests/s to other load on the machine.
    return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx, workMs: app.workMs, cpuUs: (after - before) / r.requests.total };
  } finally {
    await stop(app.child);
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const pct = (x) => `${(100 * x).toFixed(1)} %`;

/** Rounds alternate the order of the variants, so drift (other load on the machine) hits every variant alike. */
async function compare(node, script, variants) {
  const results = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) results[v.name].push(await measure(node, script, v));
    process.stderr.write(`  ${script} round ${i + 1}/${ROUNDS}: ${variants.map((v) => `${v.name} ${fmt(results[v.name].at(-1).rps)}`).join(', ')}\n`);
  }
  return results;
}

/** Ratio of each variant to `base`, per round, then the median (robust to a disturbed round). */
function ratios(results, base) {
  const out = {};
  for (const [name, rs] of Object.entries(results)) out[name] = median(rs.map((r, i) => r.rps / results[base][i].rps));
  return out;
}

/** The same from CPU time per request: base CPU ÷ variant CPU (the requests/s a CPU-bound app would keep). */
function cpuRatios(results, base) {
  const out = {};
  for (const [name, rs] of Object.entries(results)) out[name] = median(rs.map((r, i) => results[base][i].cpuUs / r.cpuUs));
  return out;
}

// ---- CPU profile: the instrumentation's own time per request and per line ---------------------------------
const CONTEXT_FILES = /\/instrumentation\/dist\/(context|light-http|correlation)\.js|node:async_hooks|node:internal\/async_hooks|node:internal\/async_local_storage|node:diagnostics_channel|@opentelemetry\/(api|core|context-async-hooks)\//;
const LOG_FILES = /\/instrumentation\/dist\/(pino-sender|direct-logs|otlp-writer|logger-patches|redact|log-processor|console-bridge|winston-bridge|logger)\.js|@opentelemetry\/(api-logs|sdk-logs|otlp-transformer|otlp-exporter-base|exporter-logs)/;

function attribute(profileFile) {
  const p = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const sums = { context: 0, logs: 0, total: p.endTime - p.startTime, gc: 0 };
  const topOurs = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const dt = p.timeDeltas[i] ?? 0;
    const url = n.callFrame.url;
    if (n.callFrame.functionName === '(garbage collector)') sums.gc += dt;
    let cat;
    if (CONTEXT_FILES.test(url)) cat = 'context';
    else if (LOG_FILES.test(url)) cat = 'logs';
    if (!cat) continue;
    sums[cat] += dt;
    const k = `${cat}: ${n.callFrame.functionName || '(anonymous)'} ${url.replace(/.*\/(node_modules|dist)\//, '')}`;
    topOurs.set(k, (topOurs.get(k) ?? 0) + dt);
  }
  return { sums, top: [...topOurs].sort((a, b) => b[1] - a[1]).slice(0, 8) };
}

async function profile(node) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-prof-'));
  try {
    const app = await startApp(node, 'app.cjs', ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...REGISTER], {});
    let requests;
    try {
      const r = await autocannon(app.port, SECONDS);
      requests = r.requests.total;
    } finally {
      await stop(app.child);
    }
    const file = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    const { sums, top } = attribute(file);
    return { requests, contextUs: sums.context / requests, logsUs: sums.logs / requests, gcUs: sums.gc / requests, top };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- run ---------------------------------------------------------------------------------------------------
const report = [];
const w = (s = '') => report.push(s);
const cpus = os.cpus();
w(`Machine: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, shared with other builds; load average at the start ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}. autocannon -c ${CONNECTIONS} -d ${SECONDS} after a 2 s warm-up, ${ROUNDS} alternating rounds, medians of the per-round ratios.`);
for (const node of NODES) {
  const version = execFileSync(node, ['--version']).toString().trim();
  process.stderr.write(`Node ${version}\n`);
  w('');
  w(`### Node ${version}`);
  if (ONLY.has('worst')) {
    const res = await compare(node, 'app.cjs', [
      { name: 'plain', flags: [] },
      { name: 'ids', flags: REGISTER, env: { OTEL_LOGS_EXPORTER: 'none' } },
      { name: 'logs', flags: REGISTER },
      { name: 'official', flags: OFFICIAL },
    ]);
    const r = ratios(res, 'plain');
    const c = cpuRatios(res, 'plain');
    const med = (name, f) => median(res[name].map(f));
    w('');
    w('| worst case (app.cjs, one pino line per request) | requests/s (median) | p99 ms | kept share of requests/s | app CPU µs/request | kept share by CPU |');
    w('|---|---:|---:|---:|---:|---:|');
    for (const [name, label] of [['plain', 'plain `node`'], ['ids', 'Tributary, ids only (`OTEL_LOGS_EXPORTER=none`)'], ['logs', 'Tributary, logs exported'], ['official', 'official OpenTelemetry path']]) {
      w(`| ${label} | ${fmt(med(name, (x) => x.rps))} | ${med(name, (x) => x.p99)} | ${pct(r[name])} | ${med(name, (x) => x.cpuUs).toFixed(1)} | ${pct(c[name])} |`);
    }
    w(`| Tributary (logs exported) ÷ official, kept share | | | **${(r.logs / r.official).toFixed(2)}×** | | **${(c.logs / c.official).toFixed(2)}×** |`);
    w('');
    w(`Per-round requests/s: ${Object.entries(res).map(([k, v]) => `${k} ${v.map((x) => fmt(x.rps)).join(' / ')}`).join('; ')}. Errors: ${Object.values(res).flat().reduce((s, x) => s + x.errors, 0)}.`);
  }
  if (ONLY.has('real')) {
    const res = await compare(node, 'app-real.cjs', [
      { name: 'plain', flags: [] },
      { name: 'logs', flags: REGISTER },
    ]);
    const r = ratios(res, 'plain');
    const c = cpuRatios(res, 'plain');
    const p99 = median(res.logs.map((x, i) => x.p99 / res.plain[i].p99));
    w('');
    w(`| realistic (app-real.cjs, ${median(res.plain.map((x) => x.workMs)).toFixed(2)} ms of work + 3 pino lines per request) | requests/s (median) | p99 ms (median) | |`);
    w('|---|---:|---:|---:|');
    w(`| plain \`node\` | ${fmt(median(res.plain.map((x) => x.rps)))} | ${median(res.plain.map((x) => x.p99))} | |`);
    w(`| Tributary, logs exported | ${fmt(median(res.logs.map((x) => x.rps)))} | ${median(res.logs.map((x) => x.p99))} | |`);
    w(`| **requests/s kept; p99 ratio** | | | **${pct(r.logs)}; p99 × ${p99.toFixed(2)}** |`);
    w(`| app CPU µs/request: plain ${median(res.plain.map((x) => x.cpuUs)).toFixed(0)}, Tributary ${median(res.logs.map((x) => x.cpuUs)).toFixed(0)} | | | **kept by CPU ${pct(c.logs)}** |`);
    w('');
    w(`Per-round requests/s: ${Object.entries(res).map(([k, v]) => `${k} ${v.map((x) => fmt(x.rps)).join(' / ')}`).join('; ')}; p99 ms: ${Object.entries(res).map(([k, v]) => `${k} ${v.map((x) => x.p99).join(' / ')}`).join('; ')}.`);
  }
  if (ONLY.has('profile')) {
    const pr = await profile(node);
    w('');
    w(`CPU profile (worst-case app, logs exported, ${fmt(pr.requests)} requests, one line each): instrumentation self time per request **context ${pr.contextUs.toFixed(2)} µs**, **log line ${pr.logsUs.toFixed(2)} µs** (GC for the whole process ${pr.gcUs.toFixed(2)} µs/request, not split).`);
    w(`Largest instrumentation entries: ${pr.top.map(([k, t]) => `${k} ${(t / pr.requests).toFixed(2)} µs`).join('; ')}.`);
  }
}
sink.close();
w('');
w(`OTLP export requests received by the sink: ${received}. Load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}.`);
console.log(report.join('\n'));
