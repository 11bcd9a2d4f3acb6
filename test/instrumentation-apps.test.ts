/**
 * Real apps under `--require @tributary/instrumentation/register`, checked at the collector and on their own
 * stdout/stderr: a Fastify route calling another with fetch, winston records with error-looking fields,
 * console objects and multi-line messages, stack traces and crash output compared with plain Node.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, waitFor } from './support/collector-process.js';
import { readReceived, spawnInstrumented, startFileSink, type FileSink, type Received } from './support/instrumented.js';

const REQUIRE = ['--require', '@tributary/instrumentation/register'];
const FASTIFY_APP = path.join(repoRoot, 'examples/fastify-fetch/server.cjs');

let sink: FileSink;
let otlpPort: number;
let outFile: string;
let scratch: string;

beforeAll(async () => {
  sink = await startFileSink();
  ({ otlpPort, outFile } = sink);
  // Inside the repository, so the scripts resolve the repository's packages (winston, fastify).
  scratch = fs.mkdtempSync(path.join(repoRoot, 'node_modules', '.tmp-instr-apps-'));
});

afterAll(async () => {
  await sink?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

const received = (service: string): Received[] => readReceived(outFile, service);

interface Run { out(): string; err(): string; exited: Promise<number | string>; kill(): void }

function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnInstrumented(args, otlpPort, env);
  return { out: r.out, err: r.err, exited: r.exited, kill: () => { if (r.child.exitCode === null) r.child.kill('SIGTERM'); } };
}

function script(name: string, text: string): string {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('real apps under the instrumentation', () => {
  for (const mode of ['light', 'spans exported'] as const) {
    it(`Fastify route calling another route with fetch: one trace id and one correlation id (${mode})`, async () => {
      const service = `fastify-${mode === 'light' ? 'light' : 'spans'}`;
      const app = run([...REQUIRE, FASTIFY_APP], {
        PORT: '0', OTEL_SERVICE_NAME: service,
        ...(mode === 'light' ? {} : { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${otlpPort}/v1/traces` }),
      });
      try {
        const port = await waitFor('fastify to listen', () => /"port":(\d+),"msg":"listening"/.exec(app.out())?.[1], 20_000);
        const res = await fetch(`http://127.0.0.1:${port}/order?item=tea`, { headers: { 'x-correlation-id': `order-${service}` } });
        expect(res.headers.get('x-correlation-id')).toBe(`order-${service}`);
        const body = await res.json() as { stock: { traceparent: string | null } };
        expect(body.stock.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
        const traceId = body.stock.traceparent!.split('-')[1];
        const recs = await waitFor('the records of both routes', () => {
          const mine = received(service).filter((r) => ['order received', 'stock checked', 'order placed'].includes(String(r.body)));
          return mine.length >= 3 ? mine : undefined;
        });
        for (const r of recs) {
          expect(r.traceId, String(r.body)).toBe(traceId);
          expect(r.attrs['correlation_id'], String(r.body)).toBe(`order-${service}`);
        }
        // The app's own lines carry the same ids.
        const lines = app.out().split('\n').filter((l) => l.includes('"stock checked"') || l.includes('"order received"'));
        expect(lines).toHaveLength(2);
        for (const l of lines) expect(JSON.parse(l)).toMatchObject({ trace_id: traceId, correlation_id: `order-${service}` });
      } finally {
        app.kill();
        await app.exited;
      }
    });
  }

  it('winston: name/stack/message/code fields stay attributes; only real errors are exceptions; severity text normalised', async () => {
    const file = script('winston-app.cjs', `
      const winston = require('winston');
      const log = winston.createLogger({ level: 'silly', format: winston.format.json(), transports: [new winston.transports.Console()] });
      const sys = winston.createLogger({ levels: winston.config.syslog.levels, level: 'debug', format: winston.format.json(), transports: [new winston.transports.Console()] });
      const withErrors = winston.createLogger({ format: winston.format.combine(winston.format.errors({ stack: true }), winston.format.json()), transports: [new winston.transports.Console()] });
      log.info('user created', { name: 'bob', stack: 'blue', message: 'hello', code: 42 });
      log.error(new Error('real failure'));
      log.error('payment failed', new TypeError('card declined'));
      log.warn('with a field', { err: new RangeError('out of range'), order: 7 });
      log.http('http level');
      sys.warning('syslog warning');
      withErrors.error(new Error('formatted failure'));
    `);
    const app = run([...REQUIRE, file], { OTEL_SERVICE_NAME: 'winston-fields' });
    expect(await app.exited).toBe(0);
    const recs = await waitFor('the winston records', () => { const r = received('winston-fields'); return r.length >= 7 ? r : undefined; });
    const by = (body: string): Received | undefined => recs.find((r) => String(r.body).startsWith(body));
    const created = by('user created');
    expect(created?.attrs).toMatchObject({ name: 'bob', stack: 'blue', code: 42 });
    expect(Object.keys(created?.attrs ?? {}).filter((k) => k.startsWith('exception.'))).toEqual([]);
    expect(created?.severityText).toBe('INFO');
    expect(created?.attrs['log.level']).toBeUndefined();
    expect(by('real failure')?.attrs).toMatchObject({ 'exception.type': 'Error', 'exception.message': 'real failure' });
    expect(by('real failure')?.severityText).toBe('ERROR');
    expect(by('payment failed')?.attrs).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'card declined' });
    expect(by('payment failed')?.attrs['stack']).toBeUndefined();
    expect(by('with a field')?.attrs).toMatchObject({ 'exception.type': 'RangeError', order: 7 });
    expect(by('with a field')?.severityText).toBe('WARN');
    expect(by('http level')).toMatchObject({ severityText: 'DEBUG', attrs: { 'log.level': 'http' } });
    expect(by('syslog warning')).toMatchObject({ severityText: 'WARN', attrs: { 'log.level': 'warning' } });
    expect(by('formatted failure')?.attrs).toMatchObject({ 'exception.type': 'Error', 'exception.message': 'formatted failure' });
  });

  it('console: objects and JSON strings become attributes or structured bodies; ids before a multi-line message', async () => {
    const src = `
      const http = require('node:http');
      const server = http.createServer((req, res) => {
        console.info({ msg: 'object with a message', user: 'u1', attempt: 2 });
        console.info({ user: 'u2', action: 'login' });
        console.log(JSON.stringify({ message: 'json line', n: 1 }));
        console.log('text then fields', { order: 9 });
        console.log('line one\\nline two');
        console.log('plain %s', 'formatted');
        res.end('ok');
      });
      server.listen(0, '127.0.0.1', async () => {
        const r = await fetch('http://127.0.0.1:' + server.address().port + '/', { headers: { 'x-correlation-id': process.env.CID } });
        await r.text();
        server.close();
      });
    `;
    const file = script('console-app.cjs', src);
    const app = run([...REQUIRE, file], { OTEL_SERVICE_NAME: 'console-shapes', CID: 'cons-1' });
    expect(await app.exited).toBe(0);
    const recs = await waitFor('the console records', () => { const r = received('console-shapes'); return r.length >= 6 ? r : undefined; });
    const by = (body: unknown): Received | undefined => recs.find((r) => JSON.stringify(r.body) === JSON.stringify(body));
    expect(by('object with a message')?.attrs).toMatchObject({ user: 'u1', attempt: 2, correlation_id: 'cons-1' });
    expect(by({ user: 'u2', action: 'login' })).toBeDefined();
    expect(by('json line')?.attrs).toMatchObject({ n: 1 });
    expect(by('text then fields')?.attrs).toMatchObject({ order: 9 });
    expect(by('line one\nline two')).toBeDefined();
    expect(by('plain formatted')).toBeDefined();
    const out = app.out();
    expect(out).toMatch(/^trace_id=[0-9a-f]{32} span_id=[0-9a-f]{16} trace_flags=01 correlation_id=cons-1 line one\nline two$/m);
    expect(out).toMatch(/^\{"trace_id":"[0-9a-f]{32}","span_id":"[0-9a-f]{16}","trace_flags":"01","correlation_id":"cons-1","message":"json line","n":1\}$/m);
    expect(out).toMatch(/user: 'u2',\s+action: 'login',\s+trace_id: '[0-9a-f]{32}'/);

    // TRIBUTARY_STDOUT_IDS=false: stdout exactly as without the instrumentation; the records still carry the ids.
    const quiet = run([...REQUIRE, file], { OTEL_SERVICE_NAME: 'console-quiet', CID: 'cons-2', TRIBUTARY_STDOUT_IDS: 'false' });
    const bare = run([file], { CID: 'cons-2' });
    expect(await quiet.exited).toBe(0);
    expect(await bare.exited).toBe(0);
    expect(quiet.out()).toBe(bare.out());
    const quietRecs = await waitFor('the quiet records', () => { const r = received('console-quiet'); return r.length >= 6 ? r : undefined; });
    for (const r of quietRecs) {
      expect(r.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(r.attrs['correlation_id']).toBe('cons-2');
    }
  });

  it('stack traces: no instrumentation frames in a request handler or (before Node 24) a request listener', async () => {
    const file = script('stacks-app.cjs', `
      const http = require('node:http');
      const stacks = [];
      const server = http.createServer((req, res) => {
        stacks.push(new Error('in handler').stack);
        req.on('data', () => {});
        req.on('end', () => { stacks.push(new Error('in end listener').stack); res.end('ok'); });
      });
      server.listen(0, '127.0.0.1', () => {
        const r = http.request({ port: server.address().port, method: 'POST' }, (res) => {
          res.resume();
          res.on('end', () => { process.stdout.write(stacks.join('\\n---\\n') + '\\n'); server.close(); });
        });
        r.end('body');
      });
    `);
    const inst = run([...REQUIRE, file], { OTEL_SERVICE_NAME: 'stacks', OTEL_LOGS_EXPORTER: 'none' });
    const bare = run([file]);
    expect(await inst.exited).toBe(0);
    expect(await bare.exited).toBe(0);
    expect(bare.out()).toContain('in end listener');
    const [handlerInst, listenerInst] = inst.out().split('\n---\n') as [string, string];
    const [handlerBare, listenerBare] = bare.out().split('\n---\n') as [string, string];
    expect(handlerInst).toBe(handlerBare);
    if (Number(process.versions.node.split('.')[0]) < 24) {
      expect(listenerInst).toBe(listenerBare);
    } else {
      // AsyncContextFrame (Node 24): the request's events go through one `emit` wrapper and Node's
      // `runInAsyncScope`, two frames under the listener.
      const lines = listenerInst.split('\n');
      const added = (l: string): boolean => l.includes('instrumentation/dist/') || l.includes('AsyncResource.runInAsyncScope');
      expect(lines.filter(added)).toHaveLength(2);
      const rest = lines.filter((l) => !added(l));
      expect(listenerBare.split('\n').slice(0, rest.length)).toEqual(rest);
    }
  });

  it('crash: stderr identical to plain Node (source line and caret), the FATAL record still sent', async () => {
    const file = script('crash-app.cjs', `
      console.warn('about to fail');
      setTimeout(() => {
        const order = { id: 7 };
        order.items.push('tea');
      }, 20);
    `);
    const inst = run([...REQUIRE, file], { OTEL_SERVICE_NAME: 'crash-compare', OTEL_BLRP_SCHEDULE_DELAY: '60000' });
    const bare = run([file]);
    expect(await inst.exited).toBe(1);
    expect(await bare.exited).toBe(1);
    expect(bare.err()).toContain("order.items.push('tea');\n                    ^");
    expect(inst.err()).toBe(bare.err());
    const recs = await waitFor('the fatal record', () => {
      const r = received('crash-compare');
      return r.some((x) => x.severityNumber === 21) && r.some((x) => x.body === 'about to fail') ? r : undefined;
    });
    expect(recs.find((r) => r.severityNumber === 21)?.attrs).toMatchObject({ 'exception.type': 'TypeError', 'process.exit.origin': 'uncaughtException' });
  });
});
