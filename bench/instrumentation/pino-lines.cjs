// pino lines/s in one process, outside and inside an active span (the latter gains ids + an OTLP record).
'use strict';
const pino = require('pino');
const { trace } = require('@opentelemetry/api');

const N = Number(process.env.BENCH_LINES ?? 200000);
const log = pino({ name: 'bench' }, pino.destination({ dest: '/dev/null', sync: true }));

function run(label) {
  for (let i = 0; i < 10000; i++) log.info({ i, user: 'u' }, 'warm-up line');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) log.info({ i, user: 'u' }, 'benchmark line');
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { label, lines: N, seconds: s, perSecond: Math.round(N / s) };
}

const out = [run('no span')];
trace.getTracer('bench').startActiveSpan('bench', (span) => { out.push(run('in span')); span.end(); });
process.send?.(out);
