// AsyncLocalStorage costs on the running Node version (the figures in bench/RESULTS.md, one run per version):
//   /path/to/node20 bench/instrumentation/async-context.cjs
'use strict';
const { AsyncLocalStorage, AsyncResource } = require('node:async_hooks');

const als = new AsyncLocalStorage();
const N = 1e6;
let x = 0;
const ctx = { request: 1 };
function fn(a) { x += a; return x; }
let resource;
als.run(ctx, () => { resource = new AsyncResource('bench'); });

function bench(name, f) {
  for (let i = 0; i < 1e5; i++) f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f();
  console.log(`${process.version} ${name}: ${(Number(process.hrtime.bigint() - t) / N).toFixed(0)} ns`);
}

async function twoAwaits() { await null; await null; }

(async () => {
  bench('als.run(ctx, fn)', () => als.run(ctx, fn, 1));
  bench('enterWith(ctx) … enterWith(prev)', () => { const prev = als.getStore(); als.enterWith(ctx); try { return fn(1); } finally { als.enterWith(prev); } });
  bench('als.getStore()', () => als.getStore());
  bench('resource.runInAsyncScope(fn)', () => resource.runInAsyncScope(fn, null, 1));
  for (const [name, f] of [['async fn with two awaits, inside als.run', () => als.run(ctx, twoAwaits)], ['async fn with two awaits, outside it', twoAwaits]]) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < 2e5; i++) await f();
    console.log(`${process.version} ${name}: ${(Number(process.hrtime.bigint() - t) / 2e5).toFixed(0)} ns`);
  }
})();
