#!/usr/bin/env node
// Cost per record of the collector next to the ceiling of a Node receiver, on one OTLP/HTTP protobuf load:
// 100 records per request, ~150-byte varied bodies, 6 attributes, trace/span ids (16 requests, cycled).
// Every measurement starts a fresh server; kinds alternate (A B A B) and the summary gives medians.
//   rate   10,000 logs/s (4 keep-alive connections, paced by a child process): collector CPU % of one core,
//          peak RSS (VmHWM), idle RSS before the load.
//   max    wrk (1 thread, 8 connections; falls back to bench/load-generator-style Node senders without wrk):
//          logs accepted per collector CPU-second, logs/s, input MB/s, peak RSS. Kinds: tributary
//          (otlp → batch → file), tributary+chain (memory_limiter → filter → probabilistic_sampler →
//          ratelimit → retention → redaction → batch → file) and node-bare (reads the body, answers 200 {}).
//   idle   RSS 2 s after start with the default config (otel-config.yaml) and with the keep-all chain.
//   node bench/peer.mjs [--rounds 2] [--quick] [--only rate|max|idle] [--node-args=--max-semi-space-size=…] [--limit-mib 256]
//   node bench/peer.mjs --base ../main-checkout      (A/B: another built checkout, alternately, same run)
//   node bench/peer.mjs --limit-mib 256 --alt-node-args="--max-old-space-size=256 --max-semi-space-size=4"
//   node bench/peer.mjs --profile plain|chain|rate  (node --cpu-prof at max ingest, or at 10k logs/s for rate; self time by category)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeExportRequest } from '../packages/otlp/dist/index.js';
import { cliPath, freePort, machineInfo, procSample, repoRoot, sleep } from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
    profile: { type: 'string' },
    'node-args': { type: 'string', default: '' },
    // memory_limiter with this limit_mib in front of batch (the CLI then sizes V8's heap for it where Node can restart in place).
    'limit-mib': { type: 'string' },
    // A/B in one run: another built checkout (e.g. a worktree of main) measured alternately with this one.
    base: { type: 'string' },
    // A/B in one run: this checkout again with these node flags instead of --node-args.
    'alt-node-args': { type: 'string' },
    pace: { type: 'string' }, // internal: child mode, paces requests at --rate to --port
    port: { type: 'string' },
    rate: { type: 'string', default: '10000' },
    secs: { type: 'string' },
    // Writes the request bodies (body<k>.pb) to this directory and exits: for in-process benchmarks.
    'write-bodies': { type: 'string' },
  },
});

const PER = 100;
const NBODIES = 16;

// ---------------------------------------------------------------- payload (deterministic)
function bodies() {
  let seed = 1;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const hex = (n) => Buffer.from(Array.from({ length: n }, () => int(0, 255)));
  const words = 'user order payment request cache database timeout retry connection session token service upstream'.split(' ');
  const sevText = { 5: 'DEBUG', 9: 'INFO', 13: 'WARN', 17: 'ERROR' };
  const s = (key, v) => ({ key, value: { stringValue: v } });
  const stamp = (Date.now() / 1000).toFixed(6);
  const base = 1_700_000_000_000_000_000n;
  const out = [];
  for (let k = 0; k < NBODIES; k++) {
    const logRecords = [];
    for (let i = 0; i < PER; i++) {
      const sev = pick([5, 9, 9, 9, 13, 17]);
      const body = (`t=${stamp} ${pick(words)} ${pick(words)} handled in ${int(1, 900)}ms for customer ${int(1000, 99999)}; `
        + `status=${pick([200, 201, 404, 500])} path=/api/v1/${pick(words)}/${int(1, 9999)} ${'x'.repeat(40)}`).slice(0, 150);
      const t = base + BigInt((k * PER + i) * 1000);
      logRecords.push({
        timeUnixNano: t.toString(), observedTimeUnixNano: '0', severityNumber: sev, severityText: sevText[sev],
        body: { stringValue: body },
        attributes: [s('http.method', 'GET'), s('http.route', '/api/v1/orders'), { key: 'http.status_code', value: { intValue: 200 } },
          s('user.id', `u${int(1, 5000)}`), { key: 'duration_ms', value: { doubleValue: rnd() * 100 } }, { key: 'cache.hit', value: { boolValue: true } }],
        droppedAttributesCount: 0, flags: 1, traceId: hex(16), spanId: hex(8), eventName: '',
      });
    }
    out.push(Buffer.from(encodeExportRequest({
      resourceLogs: [{
        resource: { attributes: [s('service.name', 'checkout'), s('service.version', '1.4.2'), s('host.name', 'web-1'), s('deployment.environment', 'prod')], droppedAttributesCount: 0 },
        scopeLogs: [{ scope: { name: 'bench', version: '1.0', attributes: [], droppedAttributesCount: 0 }, logRecords, schemaUrl: '' }],
        schemaUrl: '',
      }],
    })));
  }
  return out;
}

if (opt['write-bodies']) {
  fs.mkdirSync(opt['write-bodies'], { recursive: true });
  bodies().forEach((b, k) => fs.writeFileSync(path.join(opt['write-bodies'], `body${k}.pb`), b));
  process.exit(0);
}

// ---------------------------------------------------------------- child mode: fixed-rate pacer
if (opt.pace) {
  const pool = bodies();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const rate = Number(opt.rate) / PER;
  const t0 = performance.now();
  const end = t0 + Number(opt.secs) * 1000;
  let ok = 0, bad = 0, k = 0;
  const lat = [];
  const pending = new Set();
  const send = (body) => new Promise((resolve) => {
    const a = performance.now();
    const req = http.request({ agent, host: '127.0.0.1', port: Number(opt.port), path: '/v1/logs', method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) ok++; else bad++; lat.push(performance.now() - a); resolve(); });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => { bad++; resolve(); });
    req.end(body);
  });
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    while (t0 + (k / rate) * 1000 <= now) {
      const p = send(pool[k++ % pool.length]);
      pending.add(p);
      void p.then(() => pending.delete(p));
    }
    await sleep(Math.max(0, t0 + (k / rate) * 1000 - performance.now()));
  }
  await Promise.race([Promise.all(pending), sleep(10_000)]);
  lat.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ ok, bad, p50: lat[lat.length >> 1], p99: lat[Math.floor(lat.length * 0.99)] }) + '\n');
  process.exit(0);
}

// ---------------------------------------------------------------- servers
const CHAIN = `  memory_limiter: { check_interval: 1s, limit_mib: 8000 }
  filter: { error_mode: ignore, logs: { log_record: ['attributes["http.route"] == "/health"'] } }
  probabilistic_sampler: { sampling_percentage: 100 }
  ratelimit: { summary_interval: 0, rules: [ { name: all, rate: 1000000000, per: second, action: drop } ] }
  retention: {}
  redaction: { allow_all_keys: true }
`;
const CHAIN_IDS = '[memory_limiter, filter, probabilistic_sampler, ratelimit, retention, redaction, batch]';

function tributaryConfig(port, out, chain) {
  const limit = opt['limit-mib'];
  const limiter = chain ? CHAIN.replace('limit_mib: 8000', `limit_mib: ${limit ?? 8000}`) : limit ? `  memory_limiter: { check_interval: 1s, limit_mib: ${limit} }\n` : '';
  return `receivers:\n  otlp:\n    protocols:\n      http: { endpoint: "127.0.0.1:${port}" }\n`
    + `processors:\n${limiter}  batch: {}\nexporters:\n  file: { path: "${out}" }\n`
    + 'service:\n  telemetry: { logs: { level: warn } }\n'
    + `  pipelines:\n    logs: { receivers: [otlp], processors: ${chain ? CHAIN_IDS : limit ? '[memory_limiter, batch]' : '[batch]'}, exporters: [file] }\n`;
}

const BARE = `const http = require('http');
http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }); res.end('{}'); });
}).listen(Number(process.argv[2]), '127.0.0.1');
`;

const nodeArgs = opt['node-args'].split(' ').filter(Boolean);
const statusMiB = (pid, key) => {
  try { return Number(new RegExp(`${key}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024; } catch { return 0; }
};

async function post(port, body) {
  const r = await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' }, signal: AbortSignal.timeout(10_000) });
  await r.arrayBuffer();
  return r.status;
}

/** Starts one server (fresh process), waits until it answers a probe request, notes its idle RSS. */
async function startServer(kind, work, probe, { profDir, config, cli = cliPath, flags = nodeArgs } = {}) {
  const dir = fs.mkdtempSync(path.join(work, `${kind}.`));
  const port = await freePort();
  let args;
  const out = path.join(dir, 'out.jsonl');
  if (kind === 'node-bare') {
    fs.writeFileSync(path.join(dir, 'bare.cjs'), BARE);
    args = [path.join(dir, 'bare.cjs'), String(port)];
  } else {
    const cfg = path.join(dir, 'c.yaml');
    fs.writeFileSync(cfg, config ? await config(port, out) : tributaryConfig(port, out, kind === 'tributary+chain'));
    args = [...flags, ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), cli, 'run', '--config', cfg];
  }
  const logPath = path.join(dir, 'server.log');
  const fd = fs.openSync(logPath, 'w');
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const tail = () => fs.readFileSync(logPath, 'utf8').slice(-800);
  const deadline = Date.now() + 60_000;
  let st = 0;
  while (st !== 200) {
    if (child.exitCode !== null || Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`${kind} did not start: ${tail()}`); }
    st = await post(port, probe).catch(() => 0);
    if (st !== 200) await sleep(100);
  }
  await sleep(1500);
  const exited = new Promise((r) => child.once('exit', (c, s) => r(c ?? s)));
  return {
    kind, port, pid: child.pid, dir, out, idleRss: statusMiB(child.pid, 'VmRSS'), tail,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(t);
      fs.rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

// ---------------------------------------------------------------- measurements
async function fixedRate(srv, secs, warm) {
  const run = (s) => new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [new URL(import.meta.url).pathname, '--pace', '1', '--port', String(srv.port), '--rate', '10000', '--secs', String(s)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let txt = '';
    c.stdout.on('data', (d) => { txt += d; });
    c.on('exit', () => { try { resolve(JSON.parse(txt)); } catch { reject(new Error(`pacer: ${txt}`)); } });
  });
  await run(warm);
  const a = procSample(srv.pid);
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, statusMiB(srv.pid, 'VmRSS')); }, 250);
  const r = await run(secs);
  clearInterval(timer);
  const b = procSample(srv.pid);
  return { cpu: (100 * (b.cpuS - a.cpuS)) / ((b.t - a.t) / 1000), logs_s: (r.ok * PER) / secs, peak_rss: statusMiB(srv.pid, 'VmHWM'), rss_load: peak, p50: r.p50, p99: r.p99, bad: r.bad };
}

const LUA = `local dir, n = os.getenv("BODYDIR"), tonumber(os.getenv("NBODIES"))
local reqs, i = {}, 0
init = function(args)
  for k = 0, n - 1 do
    local f = assert(io.open(dir .. "/body" .. k .. ".pb", "rb"))
    local b = f:read("*all"); f:close()
    reqs[#reqs + 1] = wrk.format("POST", "/v1/logs", { ["Content-Type"] = "application/x-protobuf" }, b)
  end
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
`;

const hasWrk = spawnSync('wrk', ['--version']).error === undefined;

async function wrk(srv, bodydir, secs) {
  const child = spawn('wrk', ['-t1', '-c8', `-d${secs}s`, '--timeout', '10s', '-s', path.join(bodydir, 'post.lua'), `http://127.0.0.1:${srv.port}/v1/logs`],
    { env: { ...process.env, BODYDIR: bodydir, NBODIES: String(NBODIES) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let txt = '';
  child.stdout.on('data', (d) => { txt += d; });
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, statusMiB(srv.pid, 'VmRSS')); }, 250);
  await new Promise((r) => child.on('exit', r));
  clearInterval(timer);
  const m = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(txt);
  if (!m) throw new Error(`wrk output not understood:\n${txt}`);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(txt)?.[1] ?? 0);
  return { reqs: Number(m[1]), dur: Number(m[2]) * { ms: 0.001, s: 1, m: 60 }[m[3]], non2xx, peak };
}

/** Without wrk: 8 keep-alive senders in a child process (bench/load-generator.mjs does the same). */
async function nodeSenders(srv, bodydir, secs) {
  const code = `const http=require('http'),fs=require('fs');const pool=[];for(let k=0;k<${NBODIES};k++)pool.push(fs.readFileSync('${bodydir}/body'+k+'.pb'));
const agent=new http.Agent({keepAlive:true,maxSockets:8});let ok=0,bad=0,i=0;const end=Date.now()+${secs * 1000};const t0=Date.now();
const one=()=>new Promise(r=>{const b=pool[i++%pool.length];const q=http.request({agent,host:'127.0.0.1',port:${srv.port},path:'/v1/logs',method:'POST',headers:{'content-type':'application/x-protobuf','content-length':b.length}},s=>{s.resume();s.on('end',()=>{s.statusCode===200?ok++:bad++;r();});});q.on('error',()=>{bad++;r();});q.end(b);});
Promise.all(Array.from({length:8},async()=>{while(Date.now()<end)await one();})).then(()=>{console.log(JSON.stringify({ok,bad,dur:(Date.now()-t0)/1000}));process.exit(0);});`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let txt = '';
  child.stdout.on('data', (d) => { txt += d; });
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, statusMiB(srv.pid, 'VmRSS')); }, 250);
  await new Promise((r) => child.on('exit', r));
  clearInterval(timer);
  const r = JSON.parse(txt);
  return { reqs: r.ok + r.bad, dur: r.dur, non2xx: r.bad, peak };
}

async function maxIngest(srv, bodydir, secs, warm, bodyBytes) {
  const gen = hasWrk ? wrk : nodeSenders;
  await gen(srv, bodydir, warm);
  const a = procSample(srv.pid);
  const w = await gen(srv, bodydir, secs);
  const b = procSample(srv.pid);
  const ok = (w.reqs - w.non2xx) * PER;
  const cpuS = b.cpuS - a.cpuS;
  return {
    logs_s: ok / w.dur, per_cpu: cpuS > 0 ? ok / cpuS : 0, cpu: (100 * cpuS) / ((b.t - a.t) / 1000),
    peak_rss: statusMiB(srv.pid, 'VmHWM'), rss_load: w.peak, non2xx: w.non2xx, mb_s: ((w.reqs - w.non2xx) * bodyBytes) / w.dur / 1e6,
  };
}

// ---------------------------------------------------------------- main
const info = machineInfo();
if (!fs.existsSync(cliPath)) throw new Error(`collector not built: ${cliPath} (npm run build)`);
const head = spawnSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
console.log(`collector cost per record — ${info.date}; commit ${head}; ${info.cpu}, ${info.cores} cores, Node ${info.node}; loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`command: node bench/peer.mjs ${process.argv.slice(2).join(' ')}`);
console.log(`max-ingest generator: ${hasWrk ? 'wrk -t1 -c8' : 'Node senders (8 keep-alive connections; install wrk for a cheaper generator)'}`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-peer-'));
const pool = bodies();
const bodydir = path.join(work, 'bodies');
fs.mkdirSync(bodydir);
pool.forEach((b, k) => fs.writeFileSync(path.join(bodydir, `body${k}.pb`), b));
fs.writeFileSync(path.join(bodydir, 'post.lua'), LUA);
const bodyBytes = pool.reduce((s, b) => s + b.length, 0) / pool.length;
console.log(`payload: ${NBODIES} requests × ${PER} records, mean ${Math.round(bodyBytes)} bytes/request`);
const rounds = opt.quick ? 1 : Number(opt.rounds);
const [rateS, maxS, warm] = opt.quick ? [5, 4, 1] : [20, 10, 3];
const res = {};
const fmt = (v, nd = 0) => (v == null ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: nd, minimumFractionDigits: nd }));
const med = (xs) => { const s = xs.filter((x) => x != null).sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null; };

const variants = [{ label: 'this', cli: cliPath, flags: nodeArgs }];
if (opt.base) variants.push({ label: 'base', cli: path.resolve(opt.base, 'collector/dist/cli/main.js'), flags: nodeArgs });
if (opt['alt-node-args'] !== undefined) variants.push({ label: 'alt', cli: cliPath, flags: opt['alt-node-args'].split(' ').filter(Boolean) });
if (variants.length > 1) for (const v of variants) console.log(`variant ${v.label}: node ${v.flags.join(' ')} ${path.relative(process.cwd(), v.cli)}`);

/** One measurement per variant, alternating (A B A B over the rounds); node-bare once. */
async function measure(phase, kind, fn, config) {
  for (const v of kind === 'node-bare' ? variants.slice(0, 1) : variants) await measureOne(phase, kind, fn, config, v);
}

async function measureOne(phase, kind, fn, config, v) {
  const srv = await startServer(kind, work, pool[0], { config, cli: v.cli, flags: v.flags });
  try {
    const r = await fn(srv);
    r.idle_rss = srv.idleRss;
    r.exit = await srv.stop();
    const label = kind === 'node-bare' ? 'this' : v.label;
    (res[`${phase} ${kind} ${label}`] ??= []).push(r);
    console.log(`  ${phase} ${kind.padEnd(16)} ${variants.length > 1 ? `${label.padEnd(5)}` : ''}${JSON.stringify(r, (_k, v2) => (typeof v2 === 'number' ? +v2.toFixed(1) : v2))}`);
  } catch (e) {
    console.log(`  ${kind} failed: ${e.message}\n${srv.tail()}`);
    await srv.stop();
    throw e;
  }
}

if (opt.profile) {
  const profDir = path.join(work, 'prof');
  fs.mkdirSync(profDir);
  const kind = opt.profile === 'chain' ? 'tributary+chain' : 'tributary';
  const srv = await startServer(kind, work, pool[0], { profDir });
  if (opt.profile === 'rate') {
    // The fixed 10k logs/s load instead of max ingest: what a record costs at a steady rate.
    const r = await fixedRate(srv, rateS, warm);
    await srv.stop();
    console.log(`${kind} under --cpu-prof at ${fmt(r.logs_s)} logs/s: ${r.cpu} % of a core, peak RSS ${fmt(r.peak_rss)} MiB`);
  } else {
    const r = await maxIngest(srv, bodydir, maxS, warm, bodyBytes);
    await srv.stop();
    console.log(`${kind} under --cpu-prof: ${fmt(r.logs_s)} logs/s, ${fmt(r.per_cpu)} logs/CPU-s, peak RSS ${fmt(r.peak_rss)} MiB`);
  }
  const file = fs.readdirSync(profDir).sort().pop();
  const { summarize } = await import('./profile-summary.mjs');
  summarize(JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8')));
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

try {
  const idleRss = async (srv) => ({ rss: statusMiB(srv.pid, 'VmRSS') });
  // The default config as shipped, every loopback port moved to a free one (4318 to the probe's).
  const defaultConfig = async (port) => {
    const text = fs.readFileSync(path.join(repoRoot, 'otel-config.yaml'), 'utf8');
    const ports = new Map();
    for (const m of new Set(text.match(/127\.0\.0\.1:\d+\b/g))) ports.set(m, m.endsWith(':4318') ? port : await freePort());
    // One pass, so a new port never matches another's old text.
    return text.replace(/127\.0\.0\.1:\d+\b/g, (m) => `127.0.0.1:${ports.get(m)}`);
  };
  if (!opt.only || opt.only === 'idle') {
    console.log('idle RSS 1.5 s after the first request');
    for (let i = 0; i < rounds; i++) {
      await measure('idle', 'default-config', idleRss, defaultConfig);
      await measure('idle', 'tributary+chain', idleRss);
    }
  }
  if (!opt.only || opt.only === 'rate') {
    console.log(`fixed 10,000 logs/s for ${rateS} s (+${warm} s warm-up)`);
    for (let i = 0; i < rounds; i++) await measure('rate', 'tributary', (s) => fixedRate(s, rateS, warm));
  }
  if (!opt.only || opt.only === 'max') {
    console.log(`max ingest ${maxS} s (+${warm} s warm-up)`);
    for (let i = 0; i < rounds; i++) {
      for (const kind of ['tributary', 'tributary+chain', 'node-bare']) await measure('max', kind, (s) => maxIngest(s, bodydir, maxS, warm, bodyBytes));
    }
  }
  const rows = [
    ['idle RSS MiB, default config (otel-config.yaml)', 'idle default-config', 'rss', 0],
    ['idle RSS MiB, keep-all chain', 'idle tributary+chain', 'rss', 0],
    ['CPU % of one core @10k logs/s', 'rate tributary', 'cpu', 1],
    ['peak RSS MiB @10k logs/s (VmHWM)', 'rate tributary', 'peak_rss', 0],
    ['request p99 ms @10k logs/s', 'rate tributary', 'p99', 1],
    ['max: logs per CPU-second', 'max tributary', 'per_cpu', 0],
    ['max: logs/s', 'max tributary', 'logs_s', 0],
    ['max: input MB/s', 'max tributary', 'mb_s', 1],
    ['max: peak RSS MiB', 'max tributary', 'peak_rss', 0],
    ['max+chain: logs per CPU-second', 'max tributary+chain', 'per_cpu', 0],
    ['max+chain: logs/s', 'max tributary+chain', 'logs_s', 0],
    ['max+chain: peak RSS MiB', 'max tributary+chain', 'peak_rss', 0],
    ['bare Node: MB/s', 'max node-bare', 'mb_s', 1],
    ['bare Node: logs/s', 'max node-bare', 'logs_s', 0],
    ['bare Node: CPU % (wrk-bound when < 100)', 'max node-bare', 'cpu', 0],
  ];
  console.log(`\n== medians [each round], ${rounds} round(s); loadavg ${os.loadavg()[0].toFixed(2)} at end ==`);
  if (variants.length > 1) console.log(`${''.padEnd(50)} ${variants.map((v) => v.label.padEnd(36)).join('')}`);
  for (const [label, key, field, nd] of rows) {
    const cells = variants.map((v) => {
      const vals = (res[`${key} ${v.label}`] ?? []).map((r) => r[field]);
      return vals.length ? `${fmt(med(vals), nd)}${vals.length > 1 ? ` [${vals.map((x) => fmt(x, nd)).join(' ')}]` : ''}` : '-';
    });
    if (cells.every((c) => c === '-')) continue;
    console.log(`${label.padEnd(50)} ${cells.map((c) => c.padEnd(36)).join('')}`);
  }
  const bare = med((res['max node-bare this'] ?? []).map((r) => r.mb_s));
  for (const v of variants) {
    const trib = med((res[`max tributary ${v.label}`] ?? []).map((r) => r.mb_s));
    if (bare && trib) console.log(`Tributary (${v.label}) at max: ${fmt((100 * trib) / bare, 1)} % of the bare Node server's MB/s`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
process.exit(0);
