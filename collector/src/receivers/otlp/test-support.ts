/**
 * Helpers for tests that drive the otlp receiver (kept free of vitest so other test suites can use them):
 * a recording consumer, a receiver started on free ports, a raw HTTP client and sample requests.
 */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { idFromHex, nanosFromDecimal, type ExportLogsServiceRequest, type LogRecord } from '@tributary/otlp';
import { parseComponentId, type Host, type LogsBatch, type LogsConsumer } from '../../component.js';
import { silentLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { otlpReceiverConfigSchema } from './config.js';
import { OtlpReceiver } from './receiver.js';

/** Records every batch; rejects with `failWith` when set; waits on `gate` when set. */
export class RecordingConsumer implements LogsConsumer {
  readonly batches: LogsBatch[] = [];
  failWith: Error | undefined;
  gate: Promise<void> | undefined;
  async consume(batch: LogsBatch): Promise<void> {
    this.batches.push(batch);
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
  }
  reset(): void {
    this.batches.length = 0;
    this.failWith = undefined;
    this.gate = undefined;
  }
}

export function fakeHost(telemetry: Telemetry): Host {
  return {
    reportStatus: () => {},
    componentStatuses: () => new Map(),
    isReady: () => true,
    getExtension: () => undefined,
    telemetry,
    logger: silentLogger,
  };
}

export interface StartedReceiver {
  receiver: OtlpReceiver;
  next: RecordingConsumer;
  telemetry: Telemetry;
  /** `http://127.0.0.1:<port>` when HTTP is enabled. */
  httpBase: string;
  /** `127.0.0.1:<port>` when gRPC is enabled. */
  grpcTarget: string;
}

/** Starts a receiver from raw (YAML-shaped) config; endpoints default to 127.0.0.1:0. */
export async function startReceiver(protocols: { grpc?: Record<string, unknown> | null; http?: Record<string, unknown> | null }, id = 'otlp'): Promise<StartedReceiver> {
  const raw: Record<string, unknown> = {};
  if (protocols.grpc !== undefined) raw['grpc'] = { endpoint: '127.0.0.1:0', ...protocols.grpc };
  if (protocols.http !== undefined) raw['http'] = { endpoint: '127.0.0.1:0', ...protocols.http };
  const config = otlpReceiverConfigSchema.parse({ protocols: raw });
  const telemetry = new Telemetry();
  const next = new RecordingConsumer();
  const receiver = new OtlpReceiver({ id: parseComponentId(id), logger: silentLogger, telemetry }, config, next);
  await receiver.start(fakeHost(telemetry));
  const h = receiver.httpAddress();
  const g = receiver.grpcAddress();
  return {
    receiver,
    next,
    telemetry,
    httpBase: h ? `http://127.0.0.1:${h.port}` : '',
    grpcTarget: g ? `127.0.0.1:${g.port}` : '',
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP request on a fresh connection; `body` chunks are written in order (chunked when no length). */
export function rawRequest(url: string, opts: { method?: string; headers?: OutgoingHttpHeaders; body?: Buffer | Buffer[] | string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'POST', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const b = opts.body;
    if (Array.isArray(b)) for (const c of b) req.write(c);
    else if (b !== undefined) req.write(b);
    req.end();
  });
}

export const TRACE_ID_HEX = '5b8efff798038103d269b633813fc60c';
export const SPAN_ID_HEX = 'eee19b7ec3c1b174';

export function sampleRecord(overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal('1700000000123456789'),
    observedTimeUnixNano: nanosFromDecimal('1700000000200000000'),
    severityNumber: 17,
    severityText: 'ERROR',
    body: { stringValue: 'payment failed' },
    attributes: [
      { key: 'http.status', value: { intValue: 502 } },
      { key: 'retry', value: { boolValue: true } },
      { key: 'ratio', value: { doubleValue: 0.25 } },
    ],
    droppedAttributesCount: 2,
    flags: 1,
    traceId: idFromHex(TRACE_ID_HEX, 16),
    spanId: idFromHex(SPAN_ID_HEX, 8),
    eventName: 'payment.failed',
    ...overrides,
  };
}

/** One resource, one scope, `records` (default: one sample record). */
export function sampleRequest(records: LogRecord[] = [sampleRecord()]): ExportLogsServiceRequest {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }], droppedAttributesCount: 0 },
        schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
        scopeLogs: [{ scope: { name: 'pino', version: '9.0.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records }],
      },
    ],
  };
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function field(tag: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag, ...varint(payload.length)]), payload]);
}

/**
 * Protobuf bytes of a request whose one record has a body nested `depth` levels deep in kvlists, built
 * by hand (the encoder itself refuses such depth).
 */
export function deeplyNestedProtobuf(depth: number): Buffer {
  let anyValue = field(0x0a, Buffer.from('leaf')); // AnyValue.string_value
  const key = field(0x0a, Buffer.from('k')); // KeyValue.key
  for (let i = 0; i < depth; i++) {
    const kv = Buffer.concat([key, field(0x12, anyValue)]); // KeyValue.value
    const kvl = field(0x0a, kv); // KeyValueList.values
    anyValue = field(0x32, kvl); // AnyValue.kvlist_value
  }
  const record = field(0x2a, anyValue); // LogRecord.body
  const scopeLogs = field(0x12, record); // ScopeLogs.log_records
  const resourceLogs = field(0x12, scopeLogs); // ResourceLogs.scope_logs
  return field(0x0a, resourceLogs); // ExportLogsServiceRequest.resource_logs
}

/** OTLP/JSON text of a request whose one record has a body nested `depth` levels deep in kvlists. */
export function deeplyNestedJson(depth: number): string {
  const open = '{"kvlistValue":{"values":[{"key":"k","value":';
  const close = '}]}}';
  const body = open.repeat(depth) + '{"stringValue":"leaf"}' + close.repeat(depth);
  return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${body}}]}]}]}`;
}
