import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import aws4 from 'aws4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Extension } from '../../component.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { attr, RecordingConsumer, testHost, testSettings } from '../common/test-support.js';
import { awsCloudWatchConfigSchema, awsCloudWatchReceiverFactory } from './index.js';

const KEY = 'AKIDTRIBUTARYRECV01';
const SECRET = 'recv/secret+KEY/never-logged';
const saved: Record<string, string | undefined> = {};
beforeAll(() => {
  const env = { AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === '') delete process.env[k];
    else process.env[k] = v;
  }
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
});

interface Ev { eventId: string; timestamp: number; message: string; logStreamName: string }

/** CloudWatch Logs FilterLogEvents/DescribeLogGroups over AWS JSON 1.1, SigV4 checked with aws4. */
class FakeLogs {
  events: Ev[] = [];
  calls: { target: string; body: Record<string, unknown> }[] = [];
  badSignatures = 0;
  hook: ((target: string) => { status: number; type: string } | undefined) | undefined;
  /** Batches of live-tail results the next StartLiveTail session sends (then the session ends). */
  live: Ev[][] = [];
  liveRequests: Record<string, unknown>[] = [];
  server!: http.Server;
  url = '';
  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        const auth = req.headers.authorization ?? '';
        const m = /SignedHeaders=([^,]+), Signature=/.exec(auth);
        const headers: Record<string, string> = {};
        for (const h of m?.[1]?.split(';') ?? []) headers[h] = String(req.headers[h]);
        const signed = aws4.sign({ host: req.headers.host, method: req.method, path: req.url, headers, body: raw, service: 'logs', region: 'us-east-1' }, { accessKeyId: KEY, secretAccessKey: SECRET });
        if ((signed.headers?.Authorization ?? signed.headers?.authorization) !== auth) this.badSignatures++;
        const target = String(req.headers['x-amz-target']).split('.')[1]!;
        const body = JSON.parse(raw || '{}') as Record<string, unknown>;
        this.calls.push({ target, body });
        const send = (status: number, out: unknown, type?: string): void => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(type ? { 'x-amzn-errortype': type } : {}) });
          res.end(JSON.stringify(type ? { __type: type, message: `${type} (fake)` } : out));
        };
        const hooked = this.hook?.(target);
        if (hooked) return send(hooked.status, {}, hooked.type);
        if (target === 'StartLiveTail') {
          this.liveRequests.push(body);
          res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
          res.write(eventMessage('sessionStart', { requestId: 'r1', sessionId: 's1', logGroupIdentifiers: body.logGroupIdentifiers }));
          const batches = this.live.splice(0);
          let i = 0;
          const next = (): void => {
            const b = batches[i++];
            if (!b) return void res.end();
            res.write(eventMessage('sessionUpdate', { sessionMetadata: { sampled: false }, sessionResults: b.map((e) => ({ logStreamName: e.logStreamName, logGroupIdentifier: String((body.logGroupIdentifiers as string[])[0]), message: e.message, timestamp: e.timestamp, ingestionTime: e.timestamp + 5 })) }));
            setTimeout(next, 30);
          };
          next();
          return;
        }
        if (target === 'DescribeLogGroups') return send(200, { logGroups: [{ logGroupName: '/app/a' }, { logGroupName: '/app/b' }].filter((g) => g.logGroupName.startsWith(String(body.logGroupNamePrefix ?? ''))) });
        if (target !== 'FilterLogEvents') return send(400, {}, 'InvalidParameterException');
        const start = Number(body.startTime);
        const end = Number(body.endTime);
        const group = String(body.logGroupName);
        const all = this.events.filter((e) => e.timestamp >= start && e.timestamp <= end && e.logStreamName.startsWith(group)).sort((a, b) => a.timestamp - b.timestamp);
        const from = Number(body.nextToken ?? 0);
        const limit = Number(body.limit);
        const page = all.slice(from, from + limit);
        send(200, { events: page, ...(from + limit < all.length ? { nextToken: String(from + limit) } : {}) });
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

/** One AWS event-stream message (prelude, string headers, JSON payload, CRC32s). */
function eventMessage(eventType: string, payload: unknown): Buffer {
  const headers: [string, string][] = [[':message-type', 'event'], [':event-type', eventType], [':content-type', 'application/json']];
  const hb = Buffer.concat(headers.map(([k, v]) => {
    const kb = Buffer.from(k);
    const vb = Buffer.from(v);
    const b = Buffer.alloc(1 + kb.length + 3 + vb.length);
    b.writeUInt8(kb.length, 0);
    kb.copy(b, 1);
    b.writeUInt8(7, 1 + kb.length);
    b.writeUInt16BE(vb.length, 2 + kb.length);
    vb.copy(b, 4 + kb.length);
    return b;
  }));
  const body = Buffer.from(JSON.stringify(payload));
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(12 + hb.length + body.length + 4, 0);
  prelude.writeUInt32BE(hb.length, 4);
  const pcrc = Buffer.alloc(4);
  pcrc.writeUInt32BE(zlib.crc32(prelude), 0);
  const msg = Buffer.concat([prelude, pcrc, hb, body]);
  const mcrc = Buffer.alloc(4);
  mcrc.writeUInt32BE(zlib.crc32(msg), 0);
  return Buffer.concat([msg, mcrc]);
}

let fake: FakeLogs;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  await new Promise<void>((r) => fake.server.close(() => r()));
});

async function start(storage: string, telemetry = new Telemetry()) {
  const consumer = new RecordingConsumer();
  const cfg = awsCloudWatchConfigSchema.parse({
    region: 'us-east-1', endpoint: fake.url, overlap: '60s', start_from: '2024-01-01T00:00:00Z',
    logs: { poll_interval: '50ms', max_events_per_request: 3, groups: { autodiscover: { prefix: '/app/' } } },
  });
  const r = awsCloudWatchReceiverFactory.create(testSettings('awscloudwatch', telemetry), cfg, consumer);
  const ext = { file_storage: { directory: storage, start: async () => undefined, shutdown: async () => undefined } as Extension };
  await r.start(testHost(ext, telemetry));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) await r.shutdown();
    stopped = true;
  };
  stops.push(stop);
  return { consumer, telemetry, stop };
}

describe('awscloudwatch receiver', () => {
  it('pages, backs off on throttling and expired tokens, catches late events once, and resumes without duplicates', async () => {
    fake = new FakeLogs();
    await fake.start();
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-'));
    const t0 = Date.parse('2024-01-01T00:00:00Z');
    for (let i = 0; i < 8; i++) fake.events.push({ eventId: `a${i}`, timestamp: t0 + 10_000 + i * 1000, message: `a event ${i}`, logStreamName: '/app/a/s1' });
    fake.events.push({ eventId: 'b0', timestamp: t0 + 5000, message: 'b event', logStreamName: '/app/b/s1' });
    let throttles = 1;
    let expired = 1;
    fake.hook = (target) => {
      if (target === 'FilterLogEvents' && throttles-- > 0) return { status: 400, type: 'ThrottlingException' };
      if (target === 'FilterLogEvents' && expired-- > 0) return { status: 400, type: 'ExpiredTokenException' };
      return undefined;
    };
    const a = await start(storage);
    await a.consumer.until(() => a.consumer.records().length >= 9, '9 events', 20_000);
    // A late event: older than the cursor but inside the overlap window.
    fake.events.push({ eventId: 'a-late', timestamp: t0 + 12_500, message: 'late event', logStreamName: '/app/a/s2' });
    await a.consumer.until(() => a.consumer.bodies().includes('late event'), 'late event', 20_000);
    await a.stop();
    fake.events.push({ eventId: 'a-new', timestamp: t0 + 30_000, message: 'after restart', logStreamName: '/app/a/s1' });
    const b = await start(storage);
    await b.consumer.until(() => b.consumer.bodies().includes('after restart'), 'event after restart', 20_000);
    await new Promise((r) => setTimeout(r, 200));
    const all = [...a.consumer.bodies(), ...b.consumer.bodies()];
    expect(all.sort()).toEqual([...Array.from({ length: 8 }, (_, i) => `a event ${i}`), 'after restart', 'b event', 'late event'].sort());
    const rec = a.consumer.records().find((x) => attr(x, 'id') === 'a3')!;
    expect(rec.timeUnixNano.toString()).toBe(String((t0 + 13_000) * 1e6));
    expect(a.telemetry.counter('tributary_receiver_pull_failures_total', '').total({ reason: 'throttled' })).toBe(1);
    expect(a.telemetry.counter('tributary_receiver_pull_failures_total', '').total({ reason: 'auth' })).toBe(1);
    expect(fake.badSignatures).toBe(0);
    expect(fake.calls.some((c) => c.target === 'FilterLogEvents' && c.body.nextToken !== undefined)).toBe(true);
    fs.rmSync(storage, { recursive: true, force: true });
  }, 60_000);

  it('live_tail: backfills the seam with FilterLogEvents, then streams StartLiveTail events, nothing twice', async () => {
    fake = new FakeLogs();
    await fake.start();
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-live-'));
    const t0 = Date.parse('2024-01-01T00:00:00Z');
    fake.events.push({ eventId: 'x1', timestamp: t0 + 1000, message: 'before the session', logStreamName: '/app/a/s1' });
    // The session repeats the backfilled event (the seam) and brings two new ones in two updates.
    fake.live.push([{ eventId: '', timestamp: t0 + 1000, message: 'before the session', logStreamName: '/app/a/s1' }, { eventId: '', timestamp: t0 + 2000, message: 'live one', logStreamName: '/app/a/s1' }]);
    fake.live.push([{ eventId: '', timestamp: t0 + 3000, message: 'live two', logStreamName: '/app/a/s2' }]);
    const consumer = new RecordingConsumer();
    const telemetry = new Telemetry();
    const cfg = awsCloudWatchConfigSchema.parse({
      region: 'us-east-1', endpoint: fake.url, overlap: '60s', start_from: '2024-01-01T00:00:00Z', live_tail: true,
      logs: { poll_interval: '50ms', groups: { named: { '/app/a': null } } },
    });
    const r = awsCloudWatchReceiverFactory.create(testSettings('awscloudwatch', telemetry), cfg, consumer);
    await r.start(testHost({ file_storage: { directory: storage, start: async () => undefined, shutdown: async () => undefined } as Extension }, telemetry));
    stops.push(async () => {
      await r.shutdown();
      fs.rmSync(storage, { recursive: true, force: true });
    });
    await consumer.until(() => consumer.records().length >= 3, '3 events', 20_000);
    await new Promise((res) => setTimeout(res, 300));
    expect(consumer.bodies()).toEqual(['before the session', 'live one', 'live two']);
    expect(fake.liveRequests[0]).toMatchObject({ logGroupIdentifiers: ['/app/a'] });
    expect(attr(consumer.records()[2]!, 'aws.cloudwatch.ingestion_time')).toBe(String(t0 + 3005));
    expect(consumer.records()[2]!.timeUnixNano.toString()).toBe(String((t0 + 3000) * 1e6));
    expect(fake.badSignatures).toBe(0);
  }, 60_000);

  it('validates the groups keys', () => {
    expect(() => awsCloudWatchConfigSchema.parse({ region: 'x' })).toThrow(/autodiscover or named/);
    expect(awsCloudWatchConfigSchema.parse({ region: 'x', logs: { groups: { named: { '/g': null } } } }).logs.groups.named).toEqual({ '/g': { names: [], prefixes: [] } });
  });
});
