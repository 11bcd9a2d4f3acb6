import { createServer, type Server } from 'node:net';
import { createDeflateRaw, createGzip, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeExportResponse,
  decodeExportResponseJson,
  decodeRpcStatus,
  encodeExportRequest,
  encodeExportRequestJson,
  idToHex,
  nanosToDecimal,
  type ExportLogsServiceRequest,
} from '@tributary/otlp';
import { PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { MetricNames, type Counter } from '../../telemetry/metrics.js';
import { REFUSED_REQUESTS_METRIC } from './ingest.js';
import {
  SPAN_ID_HEX,
  TRACE_ID_HEX,
  deeplyNestedJson,
  deeplyNestedProtobuf,
  rawRequest,
  sampleRecord,
  sampleRequest,
  startReceiver,
  type RawResponse,
  type StartedReceiver,
} from './test-support.js';

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

function protoBody(req: ExportLogsServiceRequest = sampleRequest()): Buffer {
  return Buffer.from(encodeExportRequest(req));
}

function statusOf(res: RawResponse): { code: number; message: string } {
  const ct = String(res.headers['content-type']);
  if (ct.startsWith('application/x-protobuf')) return decodeRpcStatus(res.body);
  if (ct.startsWith('application/json')) return JSON.parse(res.body.toString()) as { code: number; message: string };
  return { code: -1, message: res.body.toString() };
}

function counter(r: StartedReceiver, name: string): Counter {
  return r.telemetry.find(name) as Counter;
}

describe('otlp receiver over HTTP', () => {
  let r: StartedReceiver;
  let url: string;

  beforeAll(async () => {
    r = await startReceiver({ http: { max_request_body_size: '1MiB' } });
    url = `${r.httpBase}/v1/logs`;
  });
  afterAll(async () => {
    await r.receiver.shutdown();
  });
  afterEach(() => r.next.reset());

  /** A good request after a bad one must still be accepted (the process and server stay healthy). */
  async function expectStillAccepting(): Promise<void> {
    r.next.reset();
    const res = await rawRequest(url, { headers: PROTO, body: protoBody() });
    expect(res.status).toBe(200);
    expect(r.next.batches).toHaveLength(1);
  }

  it('accepts protobuf and hands the decoded records over field for field', async () => {
    const res = await rawRequest(url, { headers: PROTO, body: protoBody() });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-protobuf');
    expect(decodeExportResponse(res.body).partialSuccess ?? null).toBeNull();
    expect(r.next.batches).toHaveLength(1);
    const b = r.next.batches[0]!;
    expect(b.recordCount).toBe(1);
    expect(b.metadata).toBeUndefined();
    expect(typeof b.receivedAt).toBe('number');
    const rl = b.resourceLogs[0]!;
    expect(rl.resource?.attributes[0]).toMatchObject({ key: 'service.name', value: { stringValue: 'checkout' } });
    expect(rl.schemaUrl).toBe('https://opentelemetry.io/schemas/1.21.0');
    expect(rl.scopeLogs[0]!.scope).toMatchObject({ name: 'pino', version: '9.0.0' });
    const rec = rl.scopeLogs[0]!.logRecords[0]!;
    expect(nanosToDecimal(rec.timeUnixNano)).toBe('1700000000123456789');
    expect(nanosToDecimal(rec.observedTimeUnixNano)).toBe('1700000000200000000');
    expect(rec.severityNumber).toBe(17);
    expect(rec.severityText).toBe('ERROR');
    expect(rec.body?.stringValue).toBe('payment failed');
    expect(rec.attributes.map((a) => a.key)).toEqual(['http.status', 'retry', 'ratio']);
    expect(Number(rec.attributes[0]!.value!.intValue)).toBe(502);
    expect(rec.attributes[1]!.value!.boolValue).toBe(true);
    expect(rec.attributes[2]!.value!.doubleValue).toBe(0.25);
    expect(rec.droppedAttributesCount).toBe(2);
    expect(rec.flags).toBe(1);
    expect(idToHex(rec.traceId)).toBe(TRACE_ID_HEX);
    expect(idToHex(rec.spanId)).toBe(SPAN_ID_HEX);
    expect(rec.eventName).toBe('payment.failed');
  });

  it('accepts JSON (with a charset parameter) and answers in JSON', async () => {
    const res = await rawRequest(url, {
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: encodeExportRequestJson(sampleRequest([sampleRecord(), sampleRecord({ severityNumber: 9 })])),
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString())).toEqual({});
    const b = r.next.batches[0]!;
    expect(b.recordCount).toBe(2);
    const rec = b.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(nanosToDecimal(rec.timeUnixNano)).toBe('1700000000123456789');
    expect(idToHex(rec.traceId)).toBe(TRACE_ID_HEX);
    expect(idToHex(rec.spanId)).toBe(SPAN_ID_HEX);
    expect(rec.body?.stringValue).toBe('payment failed');
    expect(b.resourceLogs[0]!.scopeLogs[0]!.logRecords[1]!.severityNumber).toBe(9);
  });

  it.each([
    ['gzip', (b: Buffer) => gzipSync(b)],
    ['deflate', (b: Buffer) => deflateSync(b)],
  ])('accepts %s-compressed bodies', async (encoding, compress) => {
    const res = await rawRequest(url, { headers: { ...PROTO, 'content-encoding': encoding }, body: compress(protoBody()) });
    expect(res.status).toBe(200);
    expect(r.next.batches[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body?.stringValue).toBe('payment failed');
  });

  it('accepts raw (headerless) deflate as sent by some clients', async () => {
    const raw = await new Promise<Buffer>((resolve) => {
      const z = createDeflateRaw();
      const out: Buffer[] = [];
      z.on('data', (c: Buffer) => out.push(c));
      z.on('end', () => resolve(Buffer.concat(out)));
      z.end(protoBody());
    });
    const res = await rawRequest(url, { headers: { ...PROTO, 'content-encoding': 'deflate' }, body: raw });
    expect(res.status).toBe(200);
    expect(r.next.batches).toHaveLength(1);
  });

  it('answers 200 without calling the pipeline for a request with zero records', async () => {
    const res = await rawRequest(url, { headers: JSON_CT, body: '{"resourceLogs":[]}' });
    expect(res.status).toBe(200);
    expect(r.next.batches).toHaveLength(0);
  });

  it('accepts a record with 10,000 attributes', async () => {
    const attributes = Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i}`, value: { stringValue: `v${i}` } }));
    const res = await rawRequest(url, { headers: PROTO, body: protoBody(sampleRequest([sampleRecord({ attributes })])) });
    expect(res.status).toBe(200);
    const rec = r.next.batches[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(rec.attributes).toHaveLength(10_000);
    expect(rec.attributes[9_999]).toMatchObject({ key: 'k9999', value: { stringValue: 'v9999' } });
  });

  describe('refuses bad requests and keeps serving', () => {
    afterEach(expectStillAccepting);

    it('malformed protobuf → 400 with a google.rpc.Status body', async () => {
      const res = await rawRequest(url, { headers: PROTO, body: Buffer.from([0x0a, 0xff, 0xff, 0x01, 0x02]) });
      expect(res.status).toBe(400);
      const s = statusOf(res);
      expect(s.code).toBe(3);
      expect(s.message).toMatch(/^malformed protobuf ExportLogsServiceRequest: /);
      expect(r.next.batches).toHaveLength(0);
    });

    it('malformed JSON → 400 naming the path', async () => {
      const res = await rawRequest(url, {
        headers: JSON_CT,
        body: '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{"severityNumber":"LOUD"}]}]}]}',
      });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toBe('application/json');
      const s = statusOf(res);
      expect(s.code).toBe(3);
      expect(s.message).toContain('resourceLogs[0].scopeLogs[0].logRecords[1].severityNumber');
    });

    it('invalid JSON syntax → 400', async () => {
      const res = await rawRequest(url, { headers: JSON_CT, body: '{"resourceLogs":[' });
      expect(res.status).toBe(400);
      expect(statusOf(res).message).toMatch(/malformed OTLP\/JSON/);
    });

    it('unsupported content type → 415 in plain text', async () => {
      const res = await rawRequest(url, { headers: { 'content-type': 'text/plain' }, body: 'hello' });
      expect(res.status).toBe(415);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body.toString()).toContain('application/x-protobuf');
    });

    it('unsupported content encoding → 415', async () => {
      const res = await rawRequest(url, { headers: { ...PROTO, 'content-encoding': 'br' }, body: protoBody() });
      expect(res.status).toBe(415);
      expect(statusOf(res).message).toContain('Content-Encoding "br"');
    });

    it('corrupt gzip → 400', async () => {
      const res = await rawRequest(url, { headers: { ...PROTO, 'content-encoding': 'gzip' }, body: Buffer.from('not gzip at all') });
      expect(res.status).toBe(400);
      expect(statusOf(res).message).toMatch(/invalid gzip body/);
    });

    it('unknown path → 404', async () => {
      const res = await rawRequest(`${r.httpBase}/v1/traces`, { headers: PROTO, body: protoBody() });
      expect(res.status).toBe(404);
    });

    it('GET → 405 with Allow: POST', async () => {
      const res = await rawRequest(url, { method: 'GET' });
      expect(res.status).toBe(405);
      expect(res.headers['allow']).toBe('POST');
    });

    it('declared body over max_request_body_size → 413', async () => {
      const res = await rawRequest(url, { headers: { ...PROTO, 'content-length': String(2 * 1024 * 1024) } });
      expect(res.status).toBe(413);
      expect(statusOf(res).message).toContain('max_request_body_size');
    });

    it('chunked body over max_request_body_size → 413', async () => {
      const chunk = Buffer.alloc(256 * 1024, 1);
      const res = await rawRequest(url, { headers: PROTO, body: [chunk, chunk, chunk, chunk, chunk] });
      expect(res.status).toBe(413);
      expect(r.next.batches).toHaveLength(0);
    });

    it('gzip bomb (200 MiB of zeros) → 413 without inflating it', async () => {
      const bomb = await new Promise<Buffer>((resolve) => {
        const z = createGzip({ level: 9 });
        const out: Buffer[] = [];
        z.on('data', (c: Buffer) => out.push(c));
        z.on('end', () => resolve(Buffer.concat(out)));
        const zeros = Buffer.alloc(1024 * 1024);
        for (let i = 0; i < 200; i++) z.write(zeros);
        z.end();
      });
      expect(bomb.length).toBeLessThan(1024 * 1024); // the compressed body itself is under the limit
      const before = process.memoryUsage().arrayBuffers;
      const res = await rawRequest(url, { headers: { ...PROTO, 'content-encoding': 'gzip' }, body: bomb });
      const grown = process.memoryUsage().arrayBuffers - before;
      expect(res.status).toBe(413);
      expect(statusOf(res).message).toContain('decompresses to more than');
      expect(grown).toBeLessThan(64 * 1024 * 1024);
      expect(r.next.batches).toHaveLength(0);
    });

    it('10,000 levels of nested kvlist in protobuf → 400, not a crash', async () => {
      const res = await rawRequest(url, { headers: PROTO, body: deeplyNestedProtobuf(10_000) });
      expect(res.status).toBe(400);
      expect(statusOf(res).message).toMatch(/depth/);
    });

    it('10,000 levels of nested kvlist in JSON → 400, not a crash', async () => {
      const res = await rawRequest(url, { headers: JSON_CT, body: deeplyNestedJson(10_000) });
      expect(res.status).toBe(400);
      expect(statusOf(res).message).toMatch(/nesting deeper than/);
    });
  });

  it('removes records with bad trace/span id lengths and answers partial success', async () => {
    const bad = sampleRecord({ traceId: Buffer.from([1, 2, 3, 4, 5]) });
    const badSpan = sampleRecord({ spanId: Buffer.from([1, 2, 3]) });
    const good = sampleRecord({ traceId: new Uint8Array(0), spanId: new Uint8Array(0) });
    const res = await rawRequest(url, { headers: PROTO, body: protoBody(sampleRequest([sampleRecord(), bad, good, badSpan])) });
    expect(res.status).toBe(200);
    const ps = decodeExportResponse(res.body).partialSuccess!;
    expect(Number(ps.rejectedLogRecords)).toBe(2);
    expect(ps.errorMessage).toBe('resourceLogs[0].scopeLogs[0].logRecords[1].traceId: must be 0 or 16 bytes, got 5');
    const b = r.next.batches[0]!;
    expect(b.recordCount).toBe(2);
    expect(b.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((x) => idToHex(x.traceId))).toEqual([TRACE_ID_HEX, '']);
    const refused = counter(r, MetricNames.receiverRefused);
    expect(refused.total({ transport: 'http', reason: 'malformed' })).toBeGreaterThanOrEqual(2);
  });

  describe('maps pipeline errors', () => {
    afterEach(expectStillAccepting);

    it('ThrottledError → 429 with Retry-After rounded up', async () => {
      r.next.failWith = new ThrottledError('rate limit exceeded', { retryAfterMs: 2500 });
      const res = await rawRequest(url, { headers: PROTO, body: protoBody() });
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('3');
      expect(statusOf(res)).toMatchObject({ code: 8, message: 'rate limit exceeded' });
    });

    it('ThrottledError without a delay → 429 with Retry-After: 1 (JSON body for JSON request)', async () => {
      r.next.failWith = new ThrottledError('slow down');
      const res = await rawRequest(url, { headers: JSON_CT, body: encodeExportRequestJson(sampleRequest()) });
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('1');
      expect(JSON.parse(res.body.toString())).toEqual({ code: 8, message: 'slow down' });
    });

    it('RetryableError → 503 with Retry-After', async () => {
      r.next.failWith = new RetryableError('queue full', { retryAfterMs: 10_000 });
      const res = await rawRequest(url, { headers: PROTO, body: protoBody() });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('10');
      expect(statusOf(res)).toMatchObject({ code: 14, message: 'queue full' });
    });

    it('an untyped error → 503 with Retry-After: 1', async () => {
      r.next.failWith = new Error('boom');
      const res = await rawRequest(url, { headers: PROTO, body: protoBody() });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
    });

    it('PermanentError for some records → 200 partial success', async () => {
      r.next.failWith = new PermanentError('2 records too large', { rejected: 2 });
      const res = await rawRequest(url, { headers: JSON_CT, body: encodeExportRequestJson(sampleRequest([sampleRecord(), sampleRecord(), sampleRecord()])) });
      expect(res.status).toBe(200);
      expect(decodeExportResponseJson(res.body.toString())).toEqual({ partialSuccess: { rejectedLogRecords: 2, errorMessage: '2 records too large' } });
    });

    it('PermanentError for everything → 400', async () => {
      r.next.failWith = new PermanentError('schema mismatch');
      const res = await rawRequest(url, { headers: PROTO, body: protoBody() });
      expect(res.status).toBe(400);
      expect(statusOf(res)).toMatchObject({ code: 3, message: 'schema mismatch' });
    });
  });

  it('counts accepted and refused records and requests per transport', async () => {
    const accepted = counter(r, MetricNames.receiverAccepted);
    const refusedReq = counter(r, REFUSED_REQUESTS_METRIC);
    const a0 = accepted.total({ receiver: 'otlp', transport: 'http' });
    const t0 = refusedReq.total({ transport: 'http', reason: 'throttled' });
    await rawRequest(url, { headers: PROTO, body: protoBody(sampleRequest([sampleRecord(), sampleRecord()])) });
    expect(accepted.total({ receiver: 'otlp', transport: 'http' })).toBe(a0 + 2);
    r.next.failWith = new ThrottledError('x');
    await rawRequest(url, { headers: PROTO, body: protoBody() });
    expect(refusedReq.total({ transport: 'http', reason: 'throttled' })).toBe(t0 + 1);
    expect(counter(r, MetricNames.receiverRefused).total({ transport: 'http', reason: 'throttled' })).toBeGreaterThanOrEqual(1);
  });
});

describe('otlp receiver HTTP options', () => {
  const started: StartedReceiver[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.receiver.shutdown()));
  });
  async function start(http: Record<string, unknown>): Promise<StartedReceiver> {
    const s = await startReceiver({ http });
    started.push(s);
    return s;
  }

  it('serves a custom logs_url_path', async () => {
    const s = await start({ logs_url_path: '/ingest/logs' });
    expect((await rawRequest(`${s.httpBase}/ingest/logs`, { headers: PROTO, body: protoBody() })).status).toBe(200);
    expect((await rawRequest(`${s.httpBase}/v1/logs`, { headers: PROTO, body: protoBody() })).status).toBe(404);
  });

  it('answers CORS preflight for allowed origins (with wildcards) only', async () => {
    const s = await start({ cors: { allowed_origins: ['https://*.example.com'], allowed_headers: ['X-Custom'], max_age: 600 } });
    const url = `${s.httpBase}/v1/logs`;
    const ok = await rawRequest(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-custom' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(ok.headers['access-control-allow-methods']).toBe('POST');
    expect(ok.headers['access-control-allow-headers']).toBe('content-type, x-custom');
    expect(ok.headers['access-control-max-age']).toBe('600');

    const denied = await rawRequest(url, { method: 'OPTIONS', headers: { origin: 'https://evil.com', 'access-control-request-method': 'POST' } });
    expect(denied.status).toBe(204);
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();

    const badHeader = await rawRequest(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-other' },
    });
    expect(badHeader.headers['access-control-allow-origin']).toBeUndefined();

    const actual = await rawRequest(url, { headers: { ...PROTO, origin: 'https://app.example.com' }, body: protoBody() });
    expect(actual.status).toBe(200);
    expect(actual.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(actual.headers['vary']).toBe('Origin');
  });

  it('without cors config, OPTIONS is just a wrong method', async () => {
    const s = await start({});
    const res = await rawRequest(`${s.httpBase}/v1/logs`, { method: 'OPTIONS', headers: { origin: 'https://a.com', 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(405);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('requires a bearer token when auth is set, and keeps it out of metadata', async () => {
    const token = 'tok-very-secret-123';
    const s = await start({ auth: { bearer_tokens: ['other-token', token] }, include_metadata: true });
    const url = `${s.httpBase}/v1/logs`;
    const missing = await rawRequest(url, { headers: PROTO, body: protoBody() });
    expect(missing.status).toBe(401);
    expect(statusOf(missing)).toMatchObject({ code: 16 });
    const wrong = await rawRequest(url, { headers: { ...PROTO, authorization: `Bearer ${token}x` }, body: protoBody() });
    expect(wrong.status).toBe(401);
    expect(wrong.body.toString()).not.toContain(token);
    expect(s.next.batches).toHaveLength(0);
    const ok = await rawRequest(url, { headers: { ...PROTO, authorization: `Bearer ${token}`, 'x-tenant': 'acme' }, body: protoBody() });
    expect(ok.status).toBe(200);
    const md = s.next.batches[0]!.metadata!;
    expect(md['x-tenant']).toBe('acme');
    expect(md['content-type']).toBe('application/x-protobuf');
    expect(md['authorization']).toBeUndefined();
    expect(counter(s, REFUSED_REQUESTS_METRIC).total({ reason: 'unauthenticated' })).toBe(2);
  });

  it('lets an in-flight request finish on shutdown and then refuses connections', async () => {
    const s = await startReceiver({ http: {} });
    let release!: () => void;
    s.next.gate = new Promise<void>((resolve) => (release = resolve));
    const pending = rawRequest(`${s.httpBase}/v1/logs`, { headers: PROTO, body: protoBody() });
    await vi_waitFor(() => s.next.batches.length === 1);
    const closed = s.receiver.shutdown();
    release();
    expect((await pending).status).toBe(200);
    await closed;
    await expect(rawRequest(`${s.httpBase}/v1/logs`, { headers: PROTO, body: protoBody() })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('fails to start with a clear error when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startReceiver({ http: { endpoint: `127.0.0.1:${port}` } })).rejects.toThrow(
        `otlp receiver otlp: cannot listen for http on 127.0.0.1:${port} (EADDRINUSE`,
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

/** Polls a condition every 5 ms, for at most 5 s. */
async function vi_waitFor(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
