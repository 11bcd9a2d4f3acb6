// The same service as an ES module:
//   node --import @tributary/instrumentation/register.mjs examples/instrumented-app-esm/server.mjs
import http from 'node:http';
import pino from 'pino';
import winston from 'winston';
import bunyan from 'bunyan';

const log = pino({ name: 'shop-esm' });
const wlog = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Console()] });
const blog = bunyan.createLogger({ name: 'shop-esm-bunyan' });

const downstream = process.env.DOWNSTREAM_URL;

function callDownstream() {
  return new Promise((resolve) => {
    if (!downstream) return resolve(undefined);
    http.get(downstream, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); })
      .on('error', () => resolve(undefined));
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
  } else {
    res.statusCode = 404;
    res.end();
  }
});

process.on('SIGTERM', () => {
  log.info('SIGTERM received, closing');
  server.close();
  server.closeAllConnections();
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  log.info({ port: server.address().port }, 'listening');
});
