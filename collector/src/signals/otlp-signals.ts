/**
 * Traces and metrics as Tributary carries them: opaque OTLP protobuf requests, never decoded into a
 * model on the way through. What is needed at the edges lives here: counting spans / data points in a
 * request without decoding it (for the accounting), OTLP/JSON ↔ protobuf for JSON senders and for the
 * file and debug exporters, and the gRPC method paths.
 */
import protobuf from 'protobufjs';

export type OpaqueSignal = 'traces' | 'metrics';

export const SIGNAL_PATHS: Record<OpaqueSignal, { http: string; grpc: string; items: string }> = {
  traces: { http: '/v1/traces', grpc: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', items: 'spans' },
  metrics: { http: '/v1/metrics', grpc: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', items: 'data points' },
};

// ---------------------------------------------------------------- counting without decoding

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated varint');
    v += (b & 0x7f) * mul;
    if (b < 0x80) return [v, pos];
    mul *= 128;
  }
  throw new Error('varint too long');
}

/** Calls `fn(field, start, end)` for every length-delimited field of the message in buf[start, end). */
function eachField(buf: Uint8Array, start: number, end: number, fn: (field: number, s: number, e: number) => void): void {
  let pos = start;
  while (pos < end) {
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        pos = readVarint(buf, pos)[1];
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const [len, q] = readVarint(buf, pos);
        if (q + len > end) throw new Error('truncated field');
        fn(field, q, q + len);
        pos = q + len;
        break;
      }
      default:
        throw new Error(`unsupported wire type ${tag & 7}`);
    }
  }
  if (pos !== end) throw new Error('truncated message');
}

/** Spans in an ExportTraceServiceRequest, data points in an ExportMetricsServiceRequest. Throws on malformed input. */
export function countItems(signal: OpaqueSignal, buf: Uint8Array): number {
  let n = 0;
  eachField(buf, 0, buf.length, (f, s, e) => {
    if (f !== 1) return; // resource_spans / resource_metrics
    eachField(buf, s, e, (f2, s2, e2) => {
      if (f2 !== 2) return; // scope_spans / scope_metrics
      eachField(buf, s2, e2, (f3, s3, e3) => {
        if (f3 !== 2) return; // span / metric
        if (signal === 'traces') {
          n++;
          return;
        }
        eachField(buf, s3, e3, (f4, s4, e4) => {
          // gauge 5, sum 7, histogram 9, exponential_histogram 10, summary 11: data_points is field 1.
          if (f4 === 5 || f4 === 7 || f4 === 9 || f4 === 10 || f4 === 11) {
            eachField(buf, s4, e4, (f5) => {
              if (f5 === 1) n++;
            });
          }
        });
      });
    });
  });
  return n;
}

/** One request from several: protobuf concatenation merges the repeated top-level field. */
export function concatRequests(requests: readonly Uint8Array[]): Uint8Array {
  if (requests.length === 1) return requests[0]!;
  return Buffer.concat(requests);
}

// ---------------------------------------------------------------- OTLP/JSON ↔ protobuf

const kv = {
  AnyValue: {
    oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
    fields: {
      stringValue: { type: 'string', id: 1 }, boolValue: { type: 'bool', id: 2 }, intValue: { type: 'int64', id: 3 },
      doubleValue: { type: 'double', id: 4 }, arrayValue: { type: 'ArrayValue', id: 5 }, kvlistValue: { type: 'KeyValueList', id: 6 },
      bytesValue: { type: 'bytes', id: 7 },
    },
  },
  ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
  KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
  KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
  InstrumentationScope: {
    fields: {
      name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 }, attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
      droppedAttributesCount: { type: 'uint32', id: 4 },
    },
  },
  EntityRef: {
    fields: {
      schemaUrl: { type: 'string', id: 1 }, type: { type: 'string', id: 2 }, idKeys: { rule: 'repeated', type: 'string', id: 3 },
      descriptionKeys: { rule: 'repeated', type: 'string', id: 4 },
    },
  },
  Resource: {
    fields: {
      attributes: { rule: 'repeated', type: 'KeyValue', id: 1 }, droppedAttributesCount: { type: 'uint32', id: 2 },
      entityRefs: { rule: 'repeated', type: 'EntityRef', id: 3 },
    },
  },
};

const attrs = (id: number) => ({ rule: 'repeated', type: 'KeyValue', id });
const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });

const traces = {
  ExportTraceServiceRequest: { fields: { resourceSpans: repeated('ResourceSpans', 1) } },
  ResourceSpans: { fields: { resource: { type: 'Resource', id: 1 }, scopeSpans: repeated('ScopeSpans', 2), schemaUrl: { type: 'string', id: 3 } } },
  ScopeSpans: { fields: { scope: { type: 'InstrumentationScope', id: 1 }, spans: repeated('Span', 2), schemaUrl: { type: 'string', id: 3 } } },
  Span: {
    fields: {
      traceId: { type: 'bytes', id: 1 }, spanId: { type: 'bytes', id: 2 }, traceState: { type: 'string', id: 3 },
      parentSpanId: { type: 'bytes', id: 4 }, flags: { type: 'fixed32', id: 16 }, name: { type: 'string', id: 5 },
      kind: { type: 'int32', id: 6 }, startTimeUnixNano: { type: 'fixed64', id: 7 }, endTimeUnixNano: { type: 'fixed64', id: 8 },
      attributes: attrs(9), droppedAttributesCount: { type: 'uint32', id: 10 }, events: repeated('Event', 11),
      droppedEventsCount: { type: 'uint32', id: 12 }, links: repeated('Link', 13), droppedLinksCount: { type: 'uint32', id: 14 },
      status: { type: 'Status', id: 15 },
    },
  },
  Event: { fields: { timeUnixNano: { type: 'fixed64', id: 1 }, name: { type: 'string', id: 2 }, attributes: attrs(3), droppedAttributesCount: { type: 'uint32', id: 4 } } },
  Link: {
    fields: {
      traceId: { type: 'bytes', id: 1 }, spanId: { type: 'bytes', id: 2 }, traceState: { type: 'string', id: 3 }, attributes: attrs(4),
      droppedAttributesCount: { type: 'uint32', id: 5 }, flags: { type: 'fixed32', id: 6 },
    },
  },
  Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
};

const dp = {
  startTimeUnixNano: { type: 'fixed64', id: 2 }, timeUnixNano: { type: 'fixed64', id: 3 },
};

const metrics = {
  ExportMetricsServiceRequest: { fields: { resourceMetrics: repeated('ResourceMetrics', 1) } },
  ResourceMetrics: { fields: { resource: { type: 'Resource', id: 1 }, scopeMetrics: repeated('ScopeMetrics', 2), schemaUrl: { type: 'string', id: 3 } } },
  ScopeMetrics: { fields: { scope: { type: 'InstrumentationScope', id: 1 }, metrics: repeated('Metric', 2), schemaUrl: { type: 'string', id: 3 } } },
  Metric: {
    oneofs: { data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] } },
    fields: {
      name: { type: 'string', id: 1 }, description: { type: 'string', id: 2 }, unit: { type: 'string', id: 3 },
      gauge: { type: 'Gauge', id: 5 }, sum: { type: 'Sum', id: 7 }, histogram: { type: 'Histogram', id: 9 },
      exponentialHistogram: { type: 'ExponentialHistogram', id: 10 }, summary: { type: 'Summary', id: 11 }, metadata: attrs(12),
    },
  },
  Gauge: { fields: { dataPoints: repeated('NumberDataPoint', 1) } },
  Sum: { fields: { dataPoints: repeated('NumberDataPoint', 1), aggregationTemporality: { type: 'int32', id: 2 }, isMonotonic: { type: 'bool', id: 3 } } },
  Histogram: { fields: { dataPoints: repeated('HistogramDataPoint', 1), aggregationTemporality: { type: 'int32', id: 2 } } },
  ExponentialHistogram: { fields: { dataPoints: repeated('ExponentialHistogramDataPoint', 1), aggregationTemporality: { type: 'int32', id: 2 } } },
  Summary: { fields: { dataPoints: repeated('SummaryDataPoint', 1) } },
  NumberDataPoint: {
    oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
    fields: { attributes: attrs(7), ...dp, asDouble: { type: 'double', id: 4 }, asInt: { type: 'sfixed64', id: 6 }, exemplars: repeated('Exemplar', 5), flags: { type: 'uint32', id: 8 } },
  },
  HistogramDataPoint: {
    oneofs: { _sum: { oneof: ['sum'] }, _min: { oneof: ['min'] }, _max: { oneof: ['max'] } },
    fields: {
      attributes: attrs(9), ...dp, count: { type: 'fixed64', id: 4 }, sum: { type: 'double', id: 5 },
      bucketCounts: { rule: 'repeated', type: 'fixed64', id: 6 }, explicitBounds: { rule: 'repeated', type: 'double', id: 7 },
      exemplars: repeated('Exemplar', 8), flags: { type: 'uint32', id: 10 }, min: { type: 'double', id: 11 }, max: { type: 'double', id: 12 },
    },
  },
  ExponentialHistogramDataPoint: {
    oneofs: { _sum: { oneof: ['sum'] }, _min: { oneof: ['min'] }, _max: { oneof: ['max'] } },
    fields: {
      attributes: attrs(1), ...dp, count: { type: 'fixed64', id: 4 }, sum: { type: 'double', id: 5 }, scale: { type: 'sint32', id: 6 },
      zeroCount: { type: 'fixed64', id: 7 }, positive: { type: 'Buckets', id: 8 }, negative: { type: 'Buckets', id: 9 },
      flags: { type: 'uint32', id: 10 }, exemplars: repeated('Exemplar', 11), min: { type: 'double', id: 12 }, max: { type: 'double', id: 13 },
      zeroThreshold: { type: 'double', id: 14 },
    },
  },
  Buckets: { fields: { offset: { type: 'sint32', id: 1 }, bucketCounts: { rule: 'repeated', type: 'uint64', id: 2 } } },
  SummaryDataPoint: {
    fields: {
      attributes: attrs(7), ...dp, count: { type: 'fixed64', id: 4 }, sum: { type: 'double', id: 5 },
      quantileValues: repeated('ValueAtQuantile', 6), flags: { type: 'uint32', id: 8 },
    },
  },
  ValueAtQuantile: { fields: { quantile: { type: 'double', id: 1 }, value: { type: 'double', id: 2 } } },
  Exemplar: {
    oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
    fields: {
      filteredAttributes: attrs(7), timeUnixNano: { type: 'fixed64', id: 2 }, asDouble: { type: 'double', id: 3 }, asInt: { type: 'sfixed64', id: 6 },
      spanId: { type: 'bytes', id: 4 }, traceId: { type: 'bytes', id: 5 },
    },
  },
};

const root = protobuf.Root.fromJSON({ nested: { otlp: { nested: { ...kv, ...traces, ...metrics } } } });
const TYPES: Record<OpaqueSignal, protobuf.Type> = {
  traces: root.lookupType('otlp.ExportTraceServiceRequest'),
  metrics: root.lookupType('otlp.ExportMetricsServiceRequest'),
};
const TOP_KEY: Record<OpaqueSignal, string> = { traces: 'resourceSpans', metrics: 'resourceMetrics' };

/** OTLP/JSON ids are hex; everything else that is bytes is base64 (as the OTLP JSON mapping says). */
const HEX_ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** OTLP/JSON also allows the proto field names (snake_case); protobufjs wants the camelCase ones. */
function camel(k: string): string {
  return k.includes('_') ? k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : k;
}

function fromJsonValue(v: unknown, key: string): unknown {
  if (Array.isArray(v)) return v.map((x) => fromJsonValue(x, ''));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k0, val] of Object.entries(v)) {
      const k = camel(k0);
      if (HEX_ID_KEYS.has(k) && typeof val === 'string') {
        if (!/^([0-9a-fA-F]{2})*$/.test(val)) throw new Error(`${k}: not a hex string`);
        out[k] = Buffer.from(val, 'hex');
      } else out[k] = fromJsonValue(val, k);
    }
    return out;
  }
  // Enum names in JSON (kind, code, aggregationTemporality) as their numbers.
  if (typeof v === 'string' && ENUMS[key]?.[v] !== undefined) return ENUMS[key][v];
  return v;
}

const ENUMS: Record<string, Record<string, number>> = {
  kind: { SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 },
  code: { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 },
  aggregationTemporality: { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 },
};

/** An OTLP/JSON ExportTraceServiceRequest / ExportMetricsServiceRequest as protobuf. Throws on bad input. */
export function jsonToProto(signal: OpaqueSignal, json: Uint8Array | string): Uint8Array {
  const parsed: unknown = JSON.parse(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
  const type = TYPES[signal];
  const obj = fromJsonValue(parsed, '') as Record<string, unknown>;
  // fromObject takes int64 as decimal strings, as OTLP/JSON writes them (verify() would not).
  return type.encode(type.fromObject(obj)).finish();
}

function toJsonValue(v: unknown, key: string): unknown {
  if (Array.isArray(v)) return v.map((x) => toJsonValue(x, ''));
  if (v instanceof Uint8Array) return HEX_ID_KEYS.has(key) ? Buffer.from(v).toString('hex') : Buffer.from(v).toString('base64');
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) out[k] = toJsonValue(val, k);
    return out;
  }
  return v;
}

/** A protobuf request as an OTLP/JSON object (int64 as strings, ids as hex, enums as numbers). */
export function protoToJsonObject(signal: OpaqueSignal, buf: Uint8Array): Record<string, unknown> {
  const type = TYPES[signal];
  const obj = type.toObject(type.decode(buf), { longs: String, enums: Number, defaults: false, oneofs: false });
  return toJsonValue(obj, '') as Record<string, unknown>;
}

/** Several protobuf requests as one OTLP/JSON text line. */
export function requestsToJson(signal: OpaqueSignal, requests: readonly Uint8Array[]): string {
  return JSON.stringify(protoToJsonObject(signal, concatRequests(requests)));
}

/** The top-level list of a request object (`resourceSpans` / `resourceMetrics`). */
export function topList(signal: OpaqueSignal, obj: Record<string, unknown>): unknown[] {
  const v = obj[TOP_KEY[signal]];
  return Array.isArray(v) ? v : [];
}
