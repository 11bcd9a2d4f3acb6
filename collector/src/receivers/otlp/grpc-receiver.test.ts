import { createServer, type Server } from 'node:net';
import {
  Metadata,
  compressionAlgorithms,
  credentials,
  makeGenericClientConstructor,
  status,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeRpcStatus,
  encodeExportRequest,
  idToHex,
  nanosToDecimal,
  retryDelayFromStatus,
  type ExportLogsServiceRequest,
  type ExportLogsServiceResponse,
} from '@tributary/otlp';
import { PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { MetricNames, type Counter } from '../../telemetry/metrics.js';
import { logsServiceDefinition } from './grpc-server.js';
import { REFUSED_REQUESTS_METRIC } from './ingest.js';
import { SPAN_ID_HEX, TRACE_ID_HEX, deeplyNestedProtobuf, sampleRecord, sampleRequest, startReceiver, type StartedReceiver } from './test-support.js';

type ExportFn<Req> = (req: Req, md: Metadata, cb: (err: ServiceError | null, res?: ExportLogsServiceResponse) => void) => void;
type LogsClient<Req = ExportLogsServiceRequest> = Client & { Export: ExportFn<Req> };

const LogsClientCtor = makeGenericClientConstructor(logsServiceDefinition, 'LogsService');
// Same method, but the request is sent as given bytes (to send malformed protobuf).
const RawClientCtor = makeGenericClientConstructor(
  { Export: { ...logsServiceDefinition.Export, requestSerialize: (b: Buffer) => b } },
  'LogsServiceRaw',
);

interface CallResult {
  err: ServiceError | null;
  res: ExportLogsServiceResponse | undefined;
}

function call<Req>(client: LogsClient<Req>, req: Req, md = new Metadata()): Promise<CallResult> {
  return new Promise((resolve) => {
    client.Export(req, md, (err, res) => resolve({ err, res }));
  });
}

function statusDetails(err: ServiceError): ReturnType<typeof decodeRpcStatus> | undefined {
  const bin = err.metadata.get('grpc-status-details-bin')[0];
  return bin === undefined ? undefined : decodeRpcStatus(bin as Buffer);
}

describe('otlp receiver over gRPC', () => {
  let r: StartedReceiver;
  let client: LogsClient;
  let gzipClient: LogsClient;
  let rawClient: LogsClient<Buffer>;

  beforeAll(async () => {
    r = await startReceiver({ grpc: { max_recv_msg_size_mib: 1 } });
    client = new LogsClientCtor(r.grpcTarget, credentials.createInsecure()) as unknown as LogsClient;
    gzipClient = new LogsClientCtor(r.grpcTarget, credentials.createInsecure(), {
      'grpc.default_compression_algorithm': compressionAlgorithms.gzip,
    }) as unknown as LogsClient;
    rawClient = new RawClientCtor(r.grpcTarget, credentials.createInsecure()) as unknown as LogsClient<Buffer>;
  });
  afterAll(async () => {
    client.close();
    gzipClient.close();
    rawClient.close();
    await r.receiver.shutdown();
  });
  afterEach(() => r.next.reset());

  async function expectStillAccepting(): Promise<void> {
    r.next.reset();
    const { err } = await call(client, sampleRequest());
    expect(err).toBeNull();
    expect(r.next.batches).toHaveLength(1);
  }

  it('accepts a request and hands the records over field for field', async () => {
    const { err, res } = await call(client, sampleRequest([sampleRecord(), sampleRecord({ body: { stringValue: 'second' } })]));
    expect(err).toBeNull();
    expect(res?.partialSuccess ?? null).toBeNull();
    const b = r.next.batches[0]!;
    expect(b.recordCount).toBe(2);
    const rec = b.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(nanosToDecimal(rec.timeUnixNano)).toBe('1700000000123456789');
    expect(rec.severityNumber).toBe(17);
    expect(rec.body?.stringValue).toBe('payment failed');
    expect(idToHex(rec.traceId)).toBe(TRACE_ID_HEX);
    expect(idToHex(rec.spanId)).toBe(SPAN_ID_HEX);
    expect(rec.attributes.map((a) => a.key)).toEqual(['http.status', 'retry', 'ratio']);
    expect(b.resourceLogs[0]!.scopeLogs[0]!.logRecords[1]!.body?.stringValue).toBe('second');
    expect(counter(r, MetricNames.receiverAccepted).total({ transport: 'grpc' })).toBeGreaterThanOrEqual(2);
  });

  it('accepts gzip-compressed messages', async () => {
    const { err } = await call(gzipClient, sampleRequest());
    expect(err).toBeNull();
    expect(r.next.batches[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.eventName).toBe('payment.failed');
  });

  it('answers OK without calling the pipeline for zero records', async () => {
    const { err } = await call(client, { resourceLogs: [] });
    expect(err).toBeNull();
    expect(r.next.batches).toHaveLength(0);
  });

  it('removes records with bad id lengths and answers partial success', async () => {
    const { err, res } = await call(client, sampleRequest([sampleRecord({ spanId: Buffer.from([1, 2, 3]) }), sampleRecord()]));
    expect(err).toBeNull();
    expect(Number(res!.partialSuccess!.rejectedLogRecords)).toBe(1);
    expect(res!.partialSuccess!.errorMessage).toBe('resourceLogs[0].scopeLogs[0].logRecords[0].spanId: must be 0 or 8 bytes, got 3');
    expect(r.next.batches[0]!.recordCount).toBe(1);
  });

  describe('refuses bad requests and keeps serving', () => {
    afterEach(expectStillAccepting);

    it('malformed protobuf → INVALID_ARGUMENT', async () => {
      const { err } = await call(rawClient, Buffer.from([0x0a, 0xff, 0xff, 0x01, 0x02]));
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      expect(err?.details).toMatch(/^malformed protobuf ExportLogsServiceRequest/);
      expect(r.next.batches).toHaveLength(0);
      expect(counter(r, REFUSED_REQUESTS_METRIC).total({ transport: 'grpc', reason: 'malformed' })).toBeGreaterThanOrEqual(1);
    });

    it('10,000 levels of nested kvlist → INVALID_ARGUMENT, not a crash', async () => {
      const { err } = await call(rawClient, deeplyNestedProtobuf(10_000));
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      expect(err?.details).toMatch(/depth/);
    });

    it('message over max_recv_msg_size_mib → RESOURCE_EXHAUSTED', async () => {
      const { err } = await call(rawClient, Buffer.concat([Buffer.from(encodeExportRequest(sampleRequest())), Buffer.alloc(2 * 1024 * 1024)]));
      expect(err?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(r.next.batches).toHaveLength(0);
    });
  });

  describe('maps pipeline errors', () => {
    afterEach(expectStillAccepting);

    it('ThrottledError → RESOURCE_EXHAUSTED with a RetryInfo detail', async () => {
      r.next.failWith = new ThrottledError('rate limit exceeded', { retryAfterMs: 2500 });
      const { err } = await call(client, sampleRequest());
      expect(err?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(err?.details).toBe('rate limit exceeded');
      const st = statusDetails(err!)!;
      expect(st.code).toBe(8);
      expect(st.message).toBe('rate limit exceeded');
      expect(retryDelayFromStatus(st)).toBe(2500);
    });

    it('ThrottledError without a delay still carries RetryInfo (1 s), so clients retry', async () => {
      r.next.failWith = new ThrottledError('slow down');
      const { err } = await call(client, sampleRequest());
      expect(err?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(retryDelayFromStatus(statusDetails(err!)!)).toBe(1000);
    });

    it('RetryableError → UNAVAILABLE, with RetryInfo when it has a delay', async () => {
      r.next.failWith = new RetryableError('queue full', { retryAfterMs: 4000 });
      const a = await call(client, sampleRequest());
      expect(a.err?.code).toBe(status.UNAVAILABLE);
      expect(retryDelayFromStatus(statusDetails(a.err!)!)).toBe(4000);
      r.next.failWith = new Error('boom');
      const b = await call(client, sampleRequest());
      expect(b.err?.code).toBe(status.UNAVAILABLE);
      expect(statusDetails(b.err!)).toBeUndefined();
    });

    it('PermanentError for some records → partial success', async () => {
      r.next.failWith = new PermanentError('1 record refused', { rejected: 1 });
      const { err, res } = await call(client, sampleRequest([sampleRecord(), sampleRecord()]));
      expect(err).toBeNull();
      expect(Number(res!.partialSuccess!.rejectedLogRecords)).toBe(1);
      expect(res!.partialSuccess!.errorMessage).toBe('1 record refused');
    });

    it('PermanentError for everything → INVALID_ARGUMENT', async () => {
      r.next.failWith = new PermanentError('schema mismatch');
      const { err } = await call(client, sampleRequest());
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      expect(err?.details).toBe('schema mismatch');
    });
  });
});

function counter(r: StartedReceiver, name: string): Counter {
  return r.telemetry.find(name) as Counter;
}

describe('otlp receiver gRPC options', () => {
  it('requires a bearer token when auth is set; include_metadata passes headers without it', async () => {
    const token = 'grpc-secret-token';
    const s = await startReceiver({ grpc: { auth: { bearer_tokens: [token] }, include_metadata: true } });
    const c = new LogsClientCtor(s.grpcTarget, credentials.createInsecure()) as unknown as LogsClient;
    try {
      const missing = await call(c, sampleRequest());
      expect(missing.err?.code).toBe(status.UNAUTHENTICATED);
      const badMd = new Metadata();
      badMd.set('authorization', 'Bearer nope');
      const wrong = await call(c, sampleRequest(), badMd);
      expect(wrong.err?.code).toBe(status.UNAUTHENTICATED);
      expect(wrong.err?.details).not.toContain(token);
      expect(s.next.batches).toHaveLength(0);

      const md = new Metadata();
      md.set('authorization', `Bearer ${token}`);
      md.set('x-tenant', 'acme');
      const ok = await call(c, sampleRequest(), md);
      expect(ok.err).toBeNull();
      const got = s.next.batches[0]!.metadata!;
      expect(got['x-tenant']).toBe('acme');
      expect(got['authorization']).toBeUndefined();
      expect(counter(s, MetricNames.receiverRefused)).toBeDefined();
      expect(counter(s, REFUSED_REQUESTS_METRIC).total({ transport: 'grpc', reason: 'unauthenticated' })).toBe(2);
    } finally {
      c.close();
      await s.receiver.shutdown();
    }
  });

  it('fails to start with a clear error when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startReceiver({ grpc: { endpoint: `127.0.0.1:${port}` } })).rejects.toThrow(
        `otlp receiver otlp: cannot listen for grpc on 127.0.0.1:${port} (EADDRINUSE`,
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('lets an in-flight call finish on shutdown', async () => {
    const s = await startReceiver({ grpc: {} });
    const c = new LogsClientCtor(s.grpcTarget, credentials.createInsecure()) as unknown as LogsClient;
    let release!: () => void;
    s.next.gate = new Promise<void>((resolve) => (release = resolve));
    const pending = call(c, sampleRequest());
    const deadline = Date.now() + 5000;
    while (s.next.batches.length === 0) {
      if (Date.now() > deadline) throw new Error('call did not reach the pipeline within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const closed = s.receiver.shutdown();
    release();
    expect((await pending).err).toBeNull();
    await closed;
    c.close();
  });

  it('starts both protocols by default and releases both ports on shutdown', async () => {
    const s = await startReceiver({ grpc: {}, http: {} });
    expect(s.receiver.grpcAddress()?.port).toBeGreaterThan(0);
    expect(s.receiver.httpAddress()?.port).toBeGreaterThan(0);
    const c = new LogsClientCtor(s.grpcTarget, credentials.createInsecure()) as unknown as LogsClient;
    expect((await call(c, sampleRequest())).err).toBeNull();
    c.close();
    await s.receiver.shutdown();
    // The port is free again: a plain listener can take it.
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(s.receiver.grpcAddress()!.port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
});

