// The realistic benchmark app: per request about 1 ms of work (parse a JSON document, compute over it) and
// three pino lines. Run plain or with --require register.
'use strict';
const http = require('node:http');
const pino = require('pino');

const log = pino({ name: 'bench-real' }, pino.destination({ dest: process.env.BENCH_LOG_DEST ?? '/dev/null', sync: false }));
const ITEMS = Number(process.env.BENCH_ITEMS ?? 600);
const doc = JSON.stringify({ items: Array.from({ length: ITEMS }, (_, i) => ({ id: i, sku: `sku-${i}`, price: (i % 97) + 0.99, qty: i % 7, tags: ['a', 'b', String(i % 13)] })) });

function work() {
  const order = JSON.parse(doc);
  let total = 0;
  const byTag = new Map();
  for (const it of order.items) {
    total += it.price * it.qty;
    for (const t of it.tags) byTag.set(t, (byTag.get(t) ?? 0) + it.qty);
  }
  return { order, total, byTag };
}

// The work's own time, measured once at start (reported by the runner).
for (let i = 0; i < 200; i++) work();
const t0 = process.hrtime.bigint();
for (let i = 0; i < 200; i++) work();
const workMs = Number(process.hrtime.bigint() - t0) / 200 / 1e6;

let n = 0;
const server = http.createServer((req, res) => {
  log.info({ route: req.url, n: n++ }, 'request received');
  const { order, total, byTag } = work();
  log.info({ items: order.items.length, tags: byTag.size }, 'order priced');
  const body = JSON.stringify({ total: Math.round(total * 100) / 100, tags: byTag.size });
  res.setHeader('content-type', 'application/json');
  res.end(body);
  log.info({ status: 200, bytes: body.length }, 'response sent');
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: server.address().port, workMs });
});
// The runner asks for the process's CPU time (user + system) around the measured interval.
process.on('message', (m) => { if (m === 'cpu') { const u = process.cpuUsage(); process.send?.({ cpuUs: u.user + u.system }); } });
process.on('SIGTERM', () => { server.close(); server.closeAllConnections(); process.removeAllListeners('message'); process.disconnect?.(); });
