/**
 * The example apps, started as a user would with `--require …/register` (CJS) or `--import …/register.mjs`
 * (ESM), send their pino, winston, bunyan and console records to the built collector; the file exporter's
 * output must carry each request's trace id (taken from the traceparent the app forwards downstream), its
 * correlation id (from the response header) and the right severities.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoRoot, waitFor } from './support/collector-process.js';
import { readReceived, spawnInstrumented, startFileSink, type FileSink, type NodeRun, type Received } from './support/instrumented.js';
import { startRecordingServer, type RecordingServer } from './support/recording-server.js';

const CJS_APP = path.join(repoRoot, 'examples/instrumented-app/server.cjs');
const ESM_APP = path.join(repoRoot, 'examples/instrumented-app-esm/server.mjs');
const REQUIRE = ['--require', '@tributary/instrumentation/register'];
const IMPORT = ['--import', '@tributary/instrumentation/register.mjs'];

let sink: FileSink;
let otlpPort: number;
let outFile: string;
let downstream: RecordingServer;

beforeAll(async () => {
  sink = await startFileSink();
  ({ otlpPort, outFile } = sink);
  downstream = await startRecordingServer(() => ({ status: 200, body: 'downstream ok' }));
});

afterAll(async () => {
  await downstream?.close();
  await sink?.stop();
});

// ---- the collector's output -------------------------------------------------------------------------

const received = (): Received[] => readReceived(outFile);

function rawOutput(): string {
  return fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : '';
}

// ---- the app ------------------------------------------------------------------------------------------

interface App {
  child: ChildProcess;
  port: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | string>;
}

const apps: App[] = [];

afterEach(() => {
  for (const a of apps.splice(0)) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
});

const spawnNode = (args: string[], env: NodeJS.ProcessEnv): NodeRun => spawnInstrumented(args, otlpPort, env);

async function startApp(flag: string[], script: string, env: NodeJS.ProcessEnv = {}): Promise<App> {
  const { child, out, err, exited } = spawnNode([...flag, script], { PORT: '0', DOWNSTREAM_URL: `${downstream.url}/downstream`, ...env });
  let done = false;
  void exited.then(() => { done = true; });
  const app: App = { child, port: 0, stdout: out, stderr: err, exited };
  apps.push(app);
  app.port = await waitFor('the app to listen', () => {
    if (done) throw new Error(`app exited early:\n${out()}\n${err()}`);
    const m = /"port":(\d+),"msg":"listening"/.exec(out());
    return m ? Number(m[1]) : undefined;
  }, 15_000);
  return app;
}

async function get(app: App, pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status: number; correlationId: string | null }> {
  const res = await fetch(`http://127.0.0.1:${app.port}${pathAndQuery}`, { headers });
  await res.text();
  return { status: res.status, correlationId: res.headers.get('x-correlation-id') };
}

/** The trace id the app forwarded downstream while handling the request named `name`. */
async function forwardedTrace(name: string): Promise<{ traceId: string; correlationId: string | undefined }> {
  // Requests are sequential per test, so the latest downstream call belongs to the latest request.
  const req = await waitFor(`downstream call for ${name}`, () => downstream.requests.at(-1));
  const traceparent = String(req.headers['traceparent']);
  expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  const cid = req.headers['x-correlation-id'];
  return { traceId: traceparent.split('-')[1]!, correlationId: Array.isArray(cid) ? cid[0] : cid };
}

/** Waits until every bridge's records for `traceId` are in the collector output, then checks them. */
async function expectBridgeRecords(traceId: string, correlationId: string, name: string, service: string): Promise<void> {
  const recs = await waitFor(`records of trace ${traceId} from all bridges`, () => {
    const mine = received().filter((r) => r.traceId === traceId);
    const scopes = new Set(mine.map((r) => r.scope));
    return mine.length >= 5 && ['@opentelemetry/instrumentation-pino', '@opentelemetry/winston-transport', '@opentelemetry/instrumentation-bunyan', '@tributary/instrumentation/console'].every((s) => scopes.has(s)) ? mine : undefined;
  });
  for (const r of recs) {
    expect(r.attrs['correlation_id'], `${r.scope} ${String(r.body)}`).toBe(correlationId);
    expect(r.service).toBe(service);
    expect(r.spanId).toMatch(/^[0-9a-f]{16}$/);
    // The ids live in the record's own fields, not duplicated as attributes.
    expect(r.attrs['trace_id']).toBeUndefined();
  }
  const by = (scope: string, body: string): Received | undefined => recs.find((r) => r.scope === scope && r.body === body);
  expect(by('@opentelemetry/instrumentation-pino', 'hello from pino')).toMatchObject({ severityNumber: 9, severityText: 'INFO', attrs: { route: '/hello', name } });
  expect(by('@opentelemetry/winston-transport', 'hello from winston')).toMatchObject({ severityNumber: 13, severityText: 'WARN', attrs: { route: '/hello', name } });
  expect(by('@opentelemetry/instrumentation-bunyan', 'hello from bunyan')).toMatchObject({ severityNumber: 17, attrs: { route: '/hello', name } });
  expect(by('@tributary/instrumentation/console', `hello from console ${name}`)).toMatchObject({ severityNumber: 9, severityText: 'INFO' });
  const consoleError = recs.find((r) => r.scope === '@tributary/instrumentation/console' && r.severityNumber === 17);
  expect(consoleError?.attrs).toMatchObject({ 'exception.type': 'Error', 'exception.message': `console error for ${name}` });
  expect(String(consoleError?.attrs['exception.stacktrace'])).toContain('server.');
  // One record per log call: nothing sent twice.
  expect(recs.filter((r) => r.body === 'hello from pino')).toHaveLength(1);
  expect(recs.filter((r) => r.body === 'hello from winston')).toHaveLength(1);
}

/** The app's own stdout lines keep their format and gain the id fields. */
function expectStdoutIds(stdout: string, traceId: string, correlationId: string, name: string): void {
  const lines = stdout.split('\n');
  const json = (needle: string): Record<string, unknown> => JSON.parse(lines.find((l) => l.includes(needle) && l.includes(`"name":"${name}"`))!) as Record<string, unknown>;
  const pinoLine = json('"msg":"hello from pino"');
  expect(pinoLine).toMatchObject({ level: 30, msg: 'hello from pino', name, route: '/hello', trace_id: traceId, trace_flags: '01', correlation_id: correlationId });
  expect(pinoLine['span_id']).toMatch(/^[0-9a-f]{16}$/);
  expect(json('"message":"hello from winston"')).toMatchObject({ level: 'warn', message: 'hello from winston', trace_id: traceId, correlation_id: correlationId });
  expect(json('"msg":"hello from bunyan"')).toMatchObject({ level: 50, msg: 'hello from bunyan', v: 0, trace_id: traceId, correlation_id: correlationId });
  const consoleLine = lines.find((l) => l.startsWith(`hello from console ${name} `));
  expect(consoleLine).toMatch(new RegExp(`^hello from console ${name} trace_id=${traceId} span_id=[0-9a-f]{16} trace_flags=01 correlation_id=${correlationId}$`));
}

describe('instrumented example apps → collector', () => {
  it('CJS app with --require: every bridge correlated, with and without an incoming X-Correlation-ID', async () => {
    const app = await startApp(REQUIRE, CJS_APP, { OTEL_SERVICE_NAME: 'shop-cjs' });

    const given = await get(app, '/hello?name=alice', { 'X-Correlation-ID': 'cid-from-client-1' });
    expect(given).toEqual({ status: 200, correlationId: 'cid-from-client-1' });
    const t1 = await forwardedTrace('alice');
    expect(t1.correlationId).toBe('cid-from-client-1');

    const generated = await get(app, '/hello?name=bob');
    expect(generated.status).toBe(200);
    expect(generated.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const t2 = await forwardedTrace('bob');
    expect(t2.correlationId).toBe(generated.correlationId);
    expect(t2.traceId).not.toBe(t1.traceId);

    const viaRequestId = await get(app, '/hello?name=carol', { 'X-Request-ID': 'req-id-7' });
    expect(viaRequestId.correlationId).toBe('req-id-7');
    const t3 = await forwardedTrace('carol');

    await expectBridgeRecords(t1.traceId, 'cid-from-client-1', 'alice', 'shop-cjs');
    await expectBridgeRecords(t2.traceId, generated.correlationId!, 'bob', 'shop-cjs');
    await expectBridgeRecords(t3.traceId, 'req-id-7', 'carol', 'shop-cjs');
    expectStdoutIds(app.stdout(), t1.traceId, 'cid-from-client-1', 'alice');
    expectStdoutIds(app.stdout(), t2.traceId, generated.correlationId!, 'bob');
  });

  for (const [label, flag, script, service] of [
    ['ESM app with --import', IMPORT, ESM_APP, 'shop-esm'],
    ['ESM app with --require', REQUIRE, ESM_APP, 'shop-esm-req'],
    ['CJS app with --import', IMPORT, CJS_APP, 'shop-cjs-imp'],
  ] as const) {
    it(`${label}: every bridge correlated too`, async () => {
      const app = await startApp([...flag], script, { OTEL_SERVICE_NAME: service });
      const res = await get(app, '/hello?name=erin', { 'x-correlation-id': `cid-${service}` });
      expect(res).toEqual({ status: 200, correlationId: `cid-${service}` });
      const t = await forwardedTrace('erin');
      expect(t.correlationId).toBe(`cid-${service}`);
      await expectBridgeRecords(t.traceId, `cid-${service}`, 'erin', service);
      expectStdoutIds(app.stdout(), t.traceId, `cid-${service}`, 'erin');
    });
  }

  it('redaction: a password passed in fields reaches neither the collector nor stdout', async () => {
    const app = await startApp(REQUIRE, CJS_APP, { OTEL_SERVICE_NAME: 'shop-redact' });
    const secret = `pw-${Date.now()}-hunter2`;
    const res = await fetch(`http://127.0.0.1:${app.port}/login`, { method: 'POST', body: JSON.stringify({ user: 'dora', password: secret }) });
    expect(res.status).toBe(200);
    const recs = await waitFor('four login records', () => {
      const mine = received().filter((r) => r.service === 'shop-redact' && String(r.body).startsWith('login attempt'));
      return mine.length >= 4 ? mine : undefined;
    });
    for (const r of recs.filter((x) => x.scope !== '@tributary/instrumentation/console')) {
      expect(r.attrs).toMatchObject({ user: 'dora', password: '[REDACTED]' });
    }
    expect(rawOutput()).not.toContain(secret);
    expect(app.stdout()).not.toContain(secret);
    expect(app.stdout().split('\n').filter((l) => l.includes('login attempt') && l.includes('[REDACTED]'))).toHaveLength(4);
  });

  it('SIGTERM: records logged just before the signal arrive, and the app exits as it would have', async () => {
    // A long batch delay: only the flush on the way out can deliver these records.
    const app = await startApp(REQUIRE, CJS_APP, { OTEL_SERVICE_NAME: 'shop-sigterm', OTEL_BLRP_SCHEDULE_DELAY: '60000' });
    await get(app, '/hello?name=frank', { 'x-correlation-id': 'cid-sigterm' });
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    const want = ['listening', 'hello from pino', 'hello from winston', 'hello from bunyan', 'hello from console frank', 'SIGTERM received, closing'];
    await waitFor('the records logged before SIGTERM', () => {
      const bodies = received().filter((r) => r.service === 'shop-sigterm').map((r) => r.body);
      return want.every((w) => bodies.includes(w)) ? true : undefined;
    });
  });

  it('SIGTERM without a handler in the app: flushed, then the process ends by the signal', async () => {
    const { exited } = spawnNode([...REQUIRE, '-e', `console.log('before-sigterm-1'); setInterval(() => {}, 1000); setTimeout(() => process.kill(process.pid, 'SIGTERM'), 50);`], { OTEL_SERVICE_NAME: 'sig-bare', OTEL_BLRP_SCHEDULE_DELAY: '60000' });
    expect(await exited).toBe('SIGTERM');
    await waitFor('the record logged before SIGTERM', () => received().some((r) => r.service === 'sig-bare' && r.body === 'before-sigterm-1'));
  });

  it('process.exit(): what was logged just before still arrives, and the exit code is kept', async () => {
    const { exited } = spawnNode([...REQUIRE, '-e', `console.warn('last words before exit'); process.exit(3);`], { OTEL_SERVICE_NAME: 'exit-now', OTEL_BLRP_SCHEDULE_DELAY: '60000' });
    expect(await exited).toBe(3);
    const rec = await waitFor('the record logged before exit', () => received().find((r) => r.service === 'exit-now' && r.body === 'last words before exit'));
    expect(rec?.severityNumber).toBe(13);
  });

  it('crash: the last records and a FATAL record with the stack arrive; the process exits 1 as Node would', async () => {
    const app = await startApp(REQUIRE, CJS_APP, { OTEL_SERVICE_NAME: 'shop-crash', OTEL_BLRP_SCHEDULE_DELAY: '60000' });
    await get(app, '/crash');
    expect(await app.exited).toBe(1);
    expect(app.stderr()).toContain('boom: deliberate crash');
    const recs = await waitFor('the last record and the fatal one', () => {
      const mine = received().filter((r) => r.service === 'shop-crash');
      return mine.some((r) => r.severityNumber === 21) && mine.some((r) => r.body === 'about to crash') ? mine : undefined;
    });
    expect(recs.find((r) => r.body === 'about to crash')?.severityNumber).toBe(13);
    const fatal = recs.find((r) => r.severityNumber === 21);
    expect(fatal?.severityText).toBe('FATAL');
    expect(fatal?.attrs['exception.message']).toBe('boom: deliberate crash');
    expect(String(fatal?.attrs['exception.stacktrace'])).toMatch(/Error: boom: deliberate crash\n\s+at /);
  });

  it('unhandled rejection: a FATAL record, exit code 1', async () => {
    const { exited, err } = spawnNode([...REQUIRE, '-e', `console.info('before rejection'); setTimeout(() => Promise.reject(new TypeError('rejected for test')), 10);`], { OTEL_SERVICE_NAME: 'reject', OTEL_BLRP_SCHEDULE_DELAY: '60000' });
    expect(await exited).toBe(1);
    expect(err()).toContain('rejected for test');
    const recs = await waitFor('the records of the rejecting script', () => {
      const mine = received().filter((r) => r.service === 'reject');
      return mine.some((r) => r.severityNumber === 21) && mine.some((r) => r.body === 'before rejection') ? mine : undefined;
    });
    expect(recs.some((r) => r.body === 'before rejection')).toBe(true);
    expect(recs.find((r) => r.severityNumber === 21)?.attrs).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'rejected for test' });
  });

  it('no double sending: a winston logger that already has an OpenTelemetry transport sends each record once', async () => {
    const script = `
      const winston = require('winston');
      const { OpenTelemetryTransportV3 } = require('@opentelemetry/winston-transport');
      const own = winston.createLogger({ transports: [new winston.transports.Console(), new OpenTelemetryTransportV3()] });
      const plain = winston.createLogger({ transports: [new winston.transports.Console()] });
      own.info('sent by the app transport');
      plain.info('sent by the bridge');`;
    const { exited } = spawnNode([...REQUIRE, '-e', script], { OTEL_SERVICE_NAME: 'dedupe' });
    expect(await exited).toBe(0);
    const recs = await waitFor('both records', () => {
      const mine = received().filter((r) => r.service === 'dedupe');
      return mine.length >= 2 ? mine : undefined;
    });
    expect(recs.filter((r) => r.body === 'sent by the app transport')).toHaveLength(1);
    expect(recs.filter((r) => r.body === 'sent by the bridge')).toHaveLength(1);
  });

  it('collector down: the app still answers and exits cleanly', async () => {
    const deadPort = await freePort();
    const app = await startApp(REQUIRE, CJS_APP, { OTEL_SERVICE_NAME: 'shop-down', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadPort}` });
    for (let i = 0; i < 5; i++) {
      const res = await get(app, `/hello?name=n${i}`);
      expect(res.status).toBe(200);
      expect(res.correlationId).toBeTruthy();
    }
    const started = Date.now();
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
