// An ordinary HTTP service using pino, winston, bunyan and console. It knows nothing about OpenTelemetry:
//   node --require @tributary/instrumentation/register examples/instrumented-app/server.cjs
'use strict';
const http = require('node:http');
const pino = require('pino');
const winston = require('winston');
const bunyan = require('bunyan');

const log = pino({ name: 'shop' });
const wlog = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Console()] });
const blog = bunyan.createLogger({ name: 'shop-bunyan' });

const downstream = process.env.DOWNSTREAM_URL;

function callDownstream() {
  return new Promise((resolve) => {
    if (!downstream) return resolve(undefined);
    http.get(downstream, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); })
      .on('error', () => resolve(undefined));
  });
}

function readBody(req) {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => { s += c; });
    req.on('end', () => { try { resolve(JSON.parse(s || '{}')); } catch { resolve({}); } });
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/hello') {
    const name = url.searchParams.get('name') ?? 'world';
    log.info({ route: '/hello', name }, 'hello from pino');
    wlog.warn('hello from winston', { route: '/hello', name });
    blog.error({ route: '/hello', name }, 'hello from bunyan');
    console.log(`hello from console ${name}`);
    console.error(new Error(`console error for ${name}`));
    const status = await callDownstream();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ hello: name, downstream: status ?? null }));
  } else if (url.pathname === '/login') {
    const { user, password } = await readBody(req);
    log.info({ user, password }, 'login attempt');
    wlog.info('login attempt', { user, password });
    blog.info({ user, password }, 'login attempt');
    console.log('login attempt', { user, password });
    res.end('ok');
  } else if (url.pathname === '/crash') {
    log.warn({ route: '/crash' }, 'about to crash');
    res.end('crashing');
    setImmediate(() => { throw new Error('boom: deliberate crash'); });
  } else {
    res.statusCode = 404;
    res.end();
  }
});

// Graceful stop: let the event loop drain (the instrumentation flushes on the way out).
process.on('SIGTERM', () => {
  log.info('SIGTERM received, closing');
  server.close();
  server.closeAllConnections();
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  log.info({ port: server.address().port }, 'listening');
});
