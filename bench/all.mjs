#!/usr/bin/env node
// `npm run bench [-- --quick]`: every benchmark in turn, each printing its own figures and command.
// Collector throughput (max, processor chain, fixed rate), the processor chain in process, each
// exporter's convert, ClickHouse end to end, the disk-queue soak, live tail, alerts, and the instrumentation overhead.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

const steps = [
  ['collector: max, processor chain, fixed rate', 'run.mjs', quick ? ['--quick'] : []],
  ['collector cost per record: idle RSS, 10k logs/s, max ingest per CPU-second, bare Node ceiling', 'peer.mjs', quick ? ['--quick'] : []],
  ['exporters through the collector', 'exporters.mjs', quick ? ['--duration', '4'] : []],
  ['receivers: filelog (1 and 100 files) and syslog TCP', 'receivers.mjs', ['--lines', quick ? '200000' : '1000000']],
  ['processor chain in process', 'processor-chain.mjs', ['--records', quick ? '200000' : '1000000']],
  ...fs.readdirSync(here).filter((f) => /^convert-.*\.mjs$/.test(f)).sort().map((f) => [`convert: ${f.slice(8, -4)}`, f, []]),
  ['collector → ClickHouse (real server)', 'clickhouse-rows.mjs', []],
  ['delivery soak (disk queue, SIGKILL/restart)', 'soak.mjs', quick ? ['--records', '200000'] : []],
  ['store: ingest, search latencies, disk, RSS, store vs file', 'store.mjs', quick ? ['--records', '200000', '--rounds', '10', '--pairs', '1'] : []],
  ['scaling: --workers 1 vs 2, agent → NATS → gateway, nats exporter cost', 'scale.mjs', quick ? ['--quick'] : []],
  ['live tail: latency, CPU and RSS for 1, 10, 100 viewers at 10k logs/s', 'tail.mjs', quick ? ['--phase', '3'] : []],
  ['alerts: trigger-to-webhook latency, CPU of 100 mixed rules at 10k logs/s', 'alerts.mjs', quick ? ['--triggers', '50', '--phase', '3'] : []],
  ['dashboard: first graph, scrolling 100k results, Live at 1k/s, collector CPU with 5 pages', 'dashboard.mjs', quick ? ['--records', '20000', '--phase', '5'] : []],
  ['instrumentation overhead', 'instrumentation/run.mjs', []],
];

let failed = 0;
for (const [title, script, args] of steps) {
  if (only && !script.includes(only)) continue;
  if (!fs.existsSync(path.join(here, script))) continue;
  console.log(`\n######## ${title}: node bench/${script} ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [path.join(here, script), ...args], { stdio: 'inherit', cwd: path.join(here, '..') });
  if (r.status !== 0) {
    failed++;
    console.log(`(bench/${script} exited with ${r.status ?? r.signal})`);
  }
}
process.exit(failed ? 1 : 0);
