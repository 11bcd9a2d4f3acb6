// The benchmark app: one pino line per request, nothing else. Run plain or with --require register.
'use strict';
const http = require('node:http');
const pino = require('pino');

const log = pino({ name: 'bench' }, pino.destination({ dest: process.env.BENCH_LOG_DEST ?? '/dev/null', sync: false }));
let n = 0;
const server = http.createServer((req, res) => {
  log.info({ route: req.url, n: n++ }, 'handled request');
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
process.on('SIGTERM', () => { server.close(); server.closeAllConnections(); });
