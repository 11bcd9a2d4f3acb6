// Instrumentation overhead: HTTP requests/s of a pino app with and without
// `--require @tributary/instrumentation/register` (autocannon in its own process, same run, alternating
// rounds), and pino lines/s with and without the bridge. Prints a Markdown table.
//   node bench/instrumentation/run.mjs   (after `npm run build`)
// Env: BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32), BENCH_LINES (200000).
import { fork, spawn } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const REGISTER = ['--require', '@tributary/instrumentation/register'];
const autocannonBin = path.join(root, 'node_modules/autocannon/autocannon.js');

// A minimal OTLP/HTTP sink: accepts and discards, so the figures measure the app, not a collector.
let received = 0;
const sink = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { received++; res.writeHead(200, { 'content-type': 'application/x-protobuf' }); res.end(); });
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${sink.address().port}`;
const env = { ...process.env, NODE_OPTIONS: '', OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_SERVICE_NAME: 'bench' };

function startApp(flags, extraEnv) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'app.cjs'), [], { cwd: root, env: { ...env, ...extraEnv }, execArgv: flags, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, port: m.port }));
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

async function measure(flags, extraEnv = {}) {
  const { child, port } = await startApp(flags, extraEnv);
  try {
    await autocannon(port, 2); // warm-up: JIT, connection pools, first exports
    const r = await autocannon(port, SECONDS);
    return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plain = [];
const instr = [];
// Where the cost goes: tracing + correlation alone (no logger bridges, no log export).
const traceOnly = [];
const TRACE_ONLY_ENV = { TRIBUTARY_BRIDGES: 'none', OTEL_LOGS_EXPORTER: 'none' };
for (let i = 0; i < ROUNDS; i++) {
  // Alternate the order so drift (other load on the machine) hits every variant alike.
  const steps = [
    async () => plain.push(await measure([])),
    async () => instr.push(await measure(REGISTER)),
    async () => traceOnly.push(await measure(REGISTER, TRACE_ONLY_ENV)),
  ];
  for (const step of i % 2 === 0 ? steps : steps.reverse()) await step();
  process.stderr.write(`round ${i + 1}/${ROUNDS}: plain ${Math.round(plain.at(-1).rps)} req/s, instrumented ${Math.round(instr.at(-1).rps)} req/s, tracing only ${Math.round(traceOnly.at(-1).rps)} req/s\n`);
}

function lines(flags) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'pino-lines.cjs'), [], { cwd: root, env, execArgv: flags, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', resolve);
    child.once('exit', (code) => { if (code) reject(new Error(`pino-lines exited ${code}`)); });
  });
}
const linesPlain = await lines([]);
const linesInstr = await lines(REGISTER);
sink.close();

const pRps = median(plain.map((x) => x.rps));
const iRps = median(instr.map((x) => x.rps));
const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}; autocannon -c ${CONNECTIONS} -d ${SECONDS} (after a 2 s warm-up), ${ROUNDS} alternating rounds, medians.`);
console.log('');
console.log('| HTTP app, one pino line per request | requests/s | p99 latency (ms) |');
console.log('|---|---:|---:|');
console.log(`| plain \`node app.cjs\` | ${fmt(pRps)} | ${median(plain.map((x) => x.p99))} |`);
console.log(`| \`node --require @tributary/instrumentation/register app.cjs\` | ${fmt(iRps)} | ${median(instr.map((x) => x.p99))} |`);
console.log(`| **ratio (instrumented / plain)** | **${(100 * iRps / pRps).toFixed(1)} %** | |`);
const tRps = median(traceOnly.map((x) => x.rps));
console.log(`| breakdown: tracing + correlation only (\`TRIBUTARY_BRIDGES=none OTEL_LOGS_EXPORTER=none\`) | ${fmt(tRps)} (${(100 * tRps / pRps).toFixed(1)} %) | ${median(traceOnly.map((x) => x.p99))} |`);
console.log('');
console.log(`Per-round requests/s — plain: ${plain.map((x) => fmt(x.rps)).join(', ')}; instrumented: ${instr.map((x) => fmt(x.rps)).join(', ')}; tracing only: ${traceOnly.map((x) => fmt(x.rps)).join(', ')}.`);
console.log('');
console.log('| pino lines/s (sync to /dev/null) | plain | with the bridge | ratio |');
console.log('|---|---:|---:|---:|');
for (let i = 0; i < linesPlain.length; i++) {
  const a = linesPlain[i]; const b = linesInstr[i];
  console.log(`| ${a.label}${i === 1 ? ' (ids added, OTLP record emitted)' : ''} | ${fmt(a.perSecond)} | ${fmt(b.perSecond)} | ${(100 * b.perSecond / a.perSecond).toFixed(1)} % |`);
}
console.log('');
console.log(`OTLP export requests received by the sink: ${received}; errors/non-2xx: plain ${plain.reduce((s, x) => s + x.errors, 0)}, instrumented ${instr.reduce((s, x) => s + x.errors, 0)}.`);
