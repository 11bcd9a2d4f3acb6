// A Fastify service whose /order route calls its own /stock route with fetch (Node's default HTTP client).
// Run it with the instrumentation and both routes' log lines share one trace id and one correlation id:
//   node --require @tributary/instrumentation/register examples/fastify-fetch/server.cjs
'use strict';
const fastify = require('fastify')({ logger: true });

let base = '';

fastify.get('/stock', async (request) => {
  request.log.info({ route: '/stock', item: request.query.item }, 'stock checked');
  return { item: request.query.item, inStock: true, traceparent: request.headers.traceparent ?? null };
});

fastify.get('/order', async (request) => {
  request.log.info({ route: '/order', item: request.query.item }, 'order received');
  const res = await fetch(`${base}/stock?item=${encodeURIComponent(request.query.item ?? 'none')}`);
  const stock = await res.json();
  request.log.info({ route: '/order', inStock: stock.inStock }, 'order placed');
  return { ordered: stock.inStock, stock };
});

fastify.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' }).then((address) => {
  base = address;
  fastify.log.info({ port: Number(new URL(address).port) }, 'listening');
});

process.on('SIGTERM', () => { void fastify.close(); });
