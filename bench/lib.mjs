// Shared bench plumbing: start the built collector, run the load generator, sample /proc, count output.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const cliPath = path.join(repoRoot, 'collector/dist/cli/main.js');
const generatorPath = path.join(repoRoot, 'bench/load-generator.mjs');

// Every child we start, so an error or Ctrl-C never leaves a collector running.
const children = new Set();
function killAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(130); });
process.on('uncaughtException', (e) => { console.error(e); killAll(); process.exit(1); });
process.on('unhandledRejection', (e) => { console.error(e); killAll(); process.exit(1); });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

/** Pipeline under test: otlp/http → memory_limiter → batch → file, as in otel-config.yaml. */
export function benchConfig({ otlpPort, healthPort, outFile, extraProcessors = {}, exporter }) {
  // Extra processors (the processor-chain scenario) go between memory_limiter and batch.
  const extra = Object.entries(extraProcessors).map(([id, cfg]) => `  ${id}: ${JSON.stringify(cfg)}`).join('\n');
  const extraIds = Object.keys(extraProcessors).map((id) => `${id}, `).join('');
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlpPort}
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
    spike_limit_mib: 128
  batch:
    send_batch_size: 8192
    timeout: 200ms
${extra}
exporters:
${exporter ? `  ${exporter.id}: ${JSON.stringify(exporter.config)}` : `  file:
    path: ${JSON.stringify(outFile)}`}
extensions:
  health_check:
    endpoint: 127.0.0.1:${healthPort}
service:
  extensions: [health_check]
  telemetry:
    logs:
      level: warn
  pipelines:
    logs:
      receivers: [otlp]
      processors: [memory_limiter, ${extraIds}batch]
      exporters: [${exporter ? exporter.id : 'file'}]
`;
}

function childExit(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode);
    else child.once('exit', (code, sig) => resolve(code ?? sig));
  });
}

/** Starts `node [nodeArgs] collector/dist/cli/main.js run --config …` and waits (bounded) for health 200. */
export async function startCollector({ dir, nodeArgs = [], extraProcessors = {}, exporter }) {
  const otlpPort = await freePort();
  const healthPort = await freePort();
  const outFile = path.join(dir, 'logs.jsonl');
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, benchConfig({ otlpPort, healthPort, outFile, extraProcessors, exporter }));
  const logPath = path.join(dir, 'collector.log');
  const logFd = fs.openSync(logPath, 'w'); // a file, not a pipe: an unread pipe could stall the collector
  const args = [...nodeArgs, cliPath, 'run', '--config', configPath];
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  children.add(child);
  const exited = childExit(child);
  const log = () => fs.readFileSync(logPath, 'utf8');
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`collector exited early (${child.exitCode ?? child.signalCode}):\n${log()}`);
    const ok = await fetch(`http://127.0.0.1:${healthPort}/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`collector not healthy after 20 s:\n${log()}`); }
    await sleep(100);
  }
  return {
    child, pid: child.pid, otlpPort, healthPort, outFile, configPath, log,
    commandLine: `node ${args.map((a) => (a.startsWith(`${repoRoot}/`) ? path.relative(repoRoot, a) : a)).join(' ')}`,
    /** SIGTERM, bounded wait for the drain, SIGKILL after `timeoutMs`. */
    async stop(timeoutMs = 30_000) {
      const t0 = Date.now();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      children.delete(child);
      return { code, ms: Date.now() - t0 };
    },
  };
}

const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

/** utime+stime of a process in seconds, and its RSS in MiB (from /proc). */
export function procSample(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the `(comm)`; utime and stime are fields 14 and 15 of the whole line.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { t: performance.now(), cpuS, rssMiB: rssKiB / 1024 };
}

/** Busy core-seconds of the whole machine so far (/proc/stat: everything but idle and iowait). */
export function machineBusyS() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + (steal ?? 0)) / CLK_TCK;
}

/** Samples a pid every `everyMs` until stop(); keeps every sample (a 60 s run is 240 of them). */
export function startSampler(pid, everyMs = 250) {
  const samples = [procSample(pid)];
  const timer = setInterval(() => { try { samples.push(procSample(pid)); } catch { /* process gone */ } }, everyMs);
  return {
    samples,
    mark: () => { const s = procSample(pid); samples.push(s); return s; },
    stop: () => clearInterval(timer),
  };
}

/**
 * Runs the load generator as a child; calls onStart() when it reports that sending began.
 * Resolves with its result JSON. Killed if it outlives its duration by `graceMs`.
 */
export async function runGenerator(args, { durationMs, onStart, graceMs = 40_000 }) {
  const child = spawn(process.execPath, [generatorPath, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const exited = childExit(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), durationMs + graceMs);
  let result;
  const rl = readline.createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    let msg;
    try { msg = JSON.parse(line); } catch { return; }
    if (msg.event === 'start') onStart?.();
    else if (msg.event === 'result') result = msg;
  });
  const code = await exited;
  clearTimeout(timer);
  children.delete(child);
  if (!result) throw new Error(`load generator gave no result (exit ${code})`);
  return result;
}

/** Counts log records in an OTLP/JSON lines file (each line one ExportLogsServiceRequest). */
export async function countJsonlRecords(file) {
  const files = fs.existsSync(file) ? [file] : [];
  // Rotated backups, if the exporter rotated anyway (`logs-<time>.jsonl` style names next to it).
  const dir = path.dirname(file);
  const base = path.basename(file, '.jsonl');
  for (const f of fs.readdirSync(dir)) if (f !== path.basename(file) && f.startsWith(base) && f.includes('.jsonl')) files.push(path.join(dir, f));
  let records = 0, lines = 0, bytes = 0, badLines = 0;
  for (const f of files) {
    bytes += fs.statSync(f).size;
    const rl = readline.createInterface({ input: fs.createReadStream(f), crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line) continue;
      lines++;
      try {
        const req = JSON.parse(line);
        for (const rl2 of req.resourceLogs ?? []) for (const sl of rl2.scopeLogs ?? []) records += sl.logRecords?.length ?? 0;
      } catch { badLines++; }
    }
  }
  return { files: files.map((f) => path.basename(f)), lines, records, bytes, badLines };
}

/** Waits (at most `maxMs`) until the machine's busy CPU over 2 s is below `cores`; returns the last reading. */
export async function waitQuiet(cores = 0.3, maxMs = 90_000) {
  const end = Date.now() + maxMs;
  for (;;) {
    const b0 = machineBusyS();
    await sleep(2000);
    const used = (machineBusyS() - b0) / 2;
    if (used < cores || Date.now() > end) return +used.toFixed(2);
  }
}

/** Runs one scenario end to end and returns its figures. */
export async function runScenario({ name, genArgs, durationMs, nodeArgs = [], keepDir = false, extraProcessors = {}, exporter }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `trib-bench-${name}-`));
  const loadBefore = os.loadavg()[0];
  const col = await startCollector({ dir, nodeArgs, extraProcessors, exporter });
  const idle = procSample(col.pid);
  await sleep(1000); // let start-up work settle before the clock starts
  const idle2 = procSample(col.pid);
  let sampler, startMark, busy0;
  const gen = await runGenerator(['--url', `http://127.0.0.1:${col.otlpPort}/v1/logs`, ...genArgs], {
    durationMs,
    onStart: () => { sampler = startSampler(col.pid); startMark = sampler.samples[0]; busy0 = machineBusyS(); },
  });
  const busy1 = machineBusyS();
  if (!sampler) { await col.stop(); throw new Error(`load generator never started sending: ${JSON.stringify(gen)}`); }
  const endMark = sampler.mark();
  await sleep(500); // the last batch (timeout 200ms) reaches the file
  const tailMark = sampler.mark();
  sampler.stop();
  const stop = await col.stop();
  const out = exporter ? { files: [], lines: 0, records: 0, bytes: 0, badLines: 0 } : await countJsonlRecords(col.outFile);
  const windowS = (endMark.t - startMark.t) / 1000;
  const cpuS = endMark.cpuS - startMark.cpuS;
  const cpuWithTailS = tailMark.cpuS - startMark.cpuS;
  const peakRssMiB = Math.max(...sampler.samples.map((s) => s.rssMiB));
  const meanRssMiB = sampler.samples.reduce((a, s) => a + s.rssMiB, 0) / sampler.samples.length;
  const result = {
    name,
    collectorCommand: col.commandLine,
    generatorCommand: `node bench/load-generator.mjs --url http://127.0.0.1:<port>/v1/logs ${genArgs.join(' ')}`,
    windowS: +windowS.toFixed(2),
    gen,
    collector: {
      idleRssMiB: +idle.rssMiB.toFixed(1),
      idleCpuPctAfterStart: +(((idle2.cpuS - idle.cpuS) / ((idle2.t - idle.t) / 1000)) * 100).toFixed(1),
      cpuS: +cpuS.toFixed(2),
      meanCpuPctOfOneCore: +((cpuS / windowS) * 100).toFixed(1),
      cpuSPerMillionRecords: gen.ackedRecords ? +((cpuWithTailS / gen.ackedRecords) * 1e6).toFixed(2) : null,
      peakRssMiB: +peakRssMiB.toFixed(1),
      meanRssMiB: +meanRssMiB.toFixed(1),
      samples: sampler.samples.length,
      exit: stop.code,
      shutdownMs: stop.ms,
    },
    output: out,
    recordsMatch: out.records === gen.ackedRecords,
    // Other work on the machine skews every figure: keep the 1-minute load average with the result.
    // CPU used by everything except the collector and the generator during the window, in cores.
    otherCpuCores: +((busy1 - busy0 - cpuS - gen.generatorCpuS) / windowS).toFixed(2),
    loadAvg1m: { before: +loadBefore.toFixed(2), after: +os.loadavg()[0].toFixed(2) },
    dir,
  };
  if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
  return result;
}
