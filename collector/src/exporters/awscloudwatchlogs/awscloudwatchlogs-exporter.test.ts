/** The CloudWatch sender against a local AWS JSON 1.1 endpoint: error classes, partial sends, per-stream back-off, abort. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Long from 'long';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nanosFromMillis, type LogRecord } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';
import { PartialSendError, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { AwsCloudWatchLogsExporter, awsCloudWatchLogsExporterConfigSchema } from './index.js';

const SECRET = 'test/secret+key-never-in-errors';
type Handler = (target: string, body: Record<string, unknown>) => { status: number; type?: string; delayMs?: number };
let handler: Handler = () => ({ status: 200 });
const calls: { target: string; body: Record<string, unknown> }[] = [];
let server: Server;
let url = '';
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) saved[k] = process.env[k];
  process.env.AWS_ACCESS_KEY_ID = 'AKIDUNITTEST';
  process.env.AWS_SECRET_ACCESS_KEY = SECRET;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']).replace('Logs_20140328.', '');
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
      calls.push({ target, body });
      const a = handler(target, body);
      const finish = () => {
        if (res.destroyed) return;
        res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.1', ...(a.type ? { 'x-amzn-errortype': a.type } : {}) });
        res.end(a.type ? JSON.stringify({ __type: a.type, message: `${a.type}!` }) : '{}');
      };
      if (a.delayMs) setTimeout(finish, a.delayMs);
      else finish();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

let exporters: AwsCloudWatchLogsExporter[] = [];
afterEach(async () => {
  await Promise.all(exporters.map((e) => e.shutdown()));
  exporters = [];
  calls.length = 0;
  handler = () => ({ status: 200 });
});

async function exporter(extra: Record<string, unknown> = {}): Promise<AwsCloudWatchLogsExporter> {
  const config = awsCloudWatchLogsExporterConfigSchema.parse({ region: 'eu-west-1', endpoint: url, log_group_name: '/g', log_stream_name: '{s}', raw_log: true, ...extra });
  const e = new AwsCloudWatchLogsExporter({ id: { type: 'awscloudwatchlogs', name: '', id: 'awscloudwatchlogs' }, logger: createLogger({ write: () => {}, level: 'error' }), telemetry: new Telemetry() }, config);
  await e.start();
  exporters.push(e);
  return e;
}

function batch(streams: string[]): LogsBatch {
  const now = Date.now();
  const logRecords: LogRecord[] = streams.map((s, i) => ({
    timeUnixNano: nanosFromMillis(now + i), observedTimeUnixNano: Long.UZERO, severityNumber: 9, severityText: '', body: { stringValue: `m${i}` },
    attributes: [{ key: 's', value: { stringValue: s } }], droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  }));
  return { resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords }] }], recordCount: logRecords.length, receivedAt: 0 };
}

const never = new AbortController().signal;
async function failure(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  throw new Error('expected a failure');
}
const bodies = (b: LogsBatch | undefined) => b?.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.body?.stringValue))) ?? [];

describe('AwsCloudWatchLogsExporter.send', () => {
  it('sends one PutLogEvents per stream with the SDK retries off', async () => {
    const e = await exporter();
    await e.send(batch(['a', 'b', 'a']), never);
    expect(calls.map((c) => `${c.target}:${String(c.body.logStreamName)}`).sort()).toEqual(['PutLogEvents:a', 'PutLogEvents:b']);
  });

  it('InvalidParameterException → PermanentError; 503 ServiceUnavailable → RetryableError (one attempt each); no secret in messages', async () => {
    const e = await exporter();
    handler = () => ({ status: 400, type: 'InvalidParameterException' });
    const p = await failure(e.send(batch(['a']), never));
    expect(p).toBeInstanceOf(PermanentError);
    expect(p.message).toContain('InvalidParameterException');
    expect(calls).toHaveLength(1);
    handler = () => ({ status: 503, type: 'ServiceUnavailableException' });
    const r = await failure(e.send(batch(['a']), never));
    expect(r).toBeInstanceOf(RetryableError);
    expect(calls).toHaveLength(2); // maxAttempts: 1
    expect(`${p.message} ${r.message}`).not.toContain(SECRET);
  });

  it('one stream refused, another accepted → PartialSendError with only the refused records', async () => {
    const e = await exporter();
    handler = (_t, b) => (b.logStreamName === 'bad' ? { status: 400, type: 'InvalidParameterException' } : { status: 200 });
    const err = await failure(e.send(batch(['ok', 'bad', 'ok', 'bad']), never));
    expect(err).toBeInstanceOf(PartialSendError);
    const pe = err as PartialSendError;
    expect(bodies(pe.rejected)).toEqual(['m1', 'm3']);
    expect(pe.retry).toBeUndefined();
  });

  it('a failed second call of a split stream hands back only that call’s records', async () => {
    const e = await exporter();
    let puts = 0;
    handler = (t) => (t === 'PutLogEvents' && ++puts === 2 ? { status: 500, type: 'InternalFailure' } : { status: 200 });
    const err = await failure(e.send(batch(Array.from({ length: 10_003 }, () => 'a')), never));
    expect(err).toBeInstanceOf(PartialSendError);
    expect((err as PartialSendError).retry!.recordCount).toBe(3);
    expect(bodies((err as PartialSendError).retry)).toEqual(['m10000', 'm10001', 'm10002']);
  });

  it('a throttled stream backs off on its own: the next send skips it without a call, the other stream goes', async () => {
    const e = await exporter();
    handler = (_t, b) => (b.logStreamName === 'hot' ? { status: 400, type: 'ThrottlingException' } : { status: 200 });
    const first = await failure(e.send(batch(['hot', 'cold']), never));
    expect(first).toBeInstanceOf(PartialSendError);
    expect((first as PartialSendError).retryAfterMs).toBe(1000);
    expect(bodies((first as PartialSendError).retry)).toEqual(['m0']);
    calls.length = 0;
    const second = await failure(e.send(batch(['hot', 'cold']), never));
    expect(calls.map((c) => c.body.logStreamName)).toEqual(['cold']); // hot not called while backing off
    expect((second as PartialSendError).retryAfterMs).toBeGreaterThan(0);
    expect((second as PartialSendError).retryAfterMs).toBeLessThanOrEqual(1000);
    // Only the hot stream in a batch: a plain ThrottledError.
    const third = await failure(e.send(batch(['hot']), never));
    expect(third).toBeInstanceOf(ThrottledError);
  });

  it('honours the abort signal', async () => {
    const e = await exporter();
    handler = () => ({ status: 200, delayMs: 5000 });
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(new Error('timeout')), 50);
    const err = await failure(e.send(batch(['a']), ac.signal));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).toContain('aborted');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
