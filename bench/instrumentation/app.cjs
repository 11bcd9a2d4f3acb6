// The benchmark app: one pino line per request, nothing else. Run plain or with --require register.
'use strict';
const http = require('node:http');
const pino = require('pino');

const log = pino({ name: 'bench' }, pino.destination({ dest: process.env.BENCH_LOG_DEST ?? '/dev/null', sync: false }));
// BENCH_BUSY_US: extra CPU per request (to see how Node/kernel time per request changes with a slower app).
const BUSY_NS = BigInt(Math.round(Number(process.env.BENCH_BUSY_US ?? 0) * 1000));
let n = 0;
const server = http.createServer((req, res) => {
  if (BUSY_NS > 0n) { const end = process.hrtime.bigint() + BUSY_NS; while (process.hrtime.bigint() < end); }
  log.info({ route: req.url, n: n++ }, 'handled request');
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
// The runner asks for the process's CPU time (user + system) around the measured interval.
process.on('message', (m) => { if (m === 'cpu') { const u = process.cpuUsage(); process.send?.({ cpuUs: u.user + u.system }); } });
process.on('SIGTERM', () => { server.close(); server.closeAllConnections(); process.removeAllListeners('message'); process.disconnect?.(); });
