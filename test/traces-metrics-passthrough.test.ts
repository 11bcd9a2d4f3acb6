/**
 * Traces and metrics pass through: the official OpenTelemetry JS SDK exporters (http/protobuf,
 * http/json, grpc) send to Tributary A (otlp receiver → memory_limiter, batch → otlp_http / otlp
 * exporters), which forwards to Tributary B (otlp receiver → file exporter). Every span and data point in
 * B's files must equal, field for field, what the SDK exported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonMetricsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultRegistry } from '../collector/src/builtins.js';
import { loadConfigText } from '../collector/src/config/load.js';
import { Service } from '../collector/src/pipeline/service.js';
import { silentLogger } from '../collector/src/telemetry/logger.js';
import { freePort, tempDir, waitFor } from './support/collector-process.js';

const services: Service[] = [];
let dir = '';
let a = { http: 0, grpc: 0 };
let bHttp = 0;

async function start(yaml: string): Promise<Service> {
  const registry = createDefaultRegistry();
  const svc = new Service(loadConfigText(yaml, registry, { env: {} }), { registry, logger: silentLogger });
  services.push(svc);
  await svc.start();
  return svc;
}

beforeAll(async () => {
  dir = tempDir();
  const [bGrpc] = [await freePort()];
  bHttp = await freePort();
  a = { http: await freePort(), grpc: await freePort() };
  await start(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${bHttp} }, grpc: { endpoint: 127.0.0.1:${bGrpc} } } } }
exporters:
  file/traces: { path: ${path.join(dir, 'traces.jsonl')}, flush_interval: 10ms }
  file/metrics: { path: ${path.join(dir, 'metrics.jsonl')}, flush_interval: 10ms }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [file/traces] }
    metrics: { receivers: [otlp], exporters: [file/metrics] }
`);
  await start(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${a.http} }, grpc: { endpoint: 127.0.0.1:${a.grpc} } } } }
processors:
  memory_limiter: { check_interval: 1s, limit_mib: 2048 }
  batch: { timeout: 50ms }
exporters:
  otlp_http/b: { endpoint: http://127.0.0.1:${bHttp} }
  otlp/b: { endpoint: 127.0.0.1:${bGrpc}, tls: { insecure: true } }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp_http/b] }
    metrics/grpc: { receivers: [otlp], processors: [batch], exporters: [otlp/b] }
`);
});

afterAll(async () => {
  for (const s of services.splice(0).reverse()) await s.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** OTLP/JSON content with representation differences removed: defaults (0, "", false, empty) dropped, scalars as strings. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(normalize).filter((x) => x !== undefined);
    return items.length ? items : undefined;
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalize((v as Record<string, unknown>)[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (v === 0 || v === '' || v === false || v === null || v === undefined || v === '0') return undefined;
  return String(v);
}

interface Flat {
  resource: unknown;
  scope: unknown;
  item: unknown;
}

/** Every span (or metric with its points) with its resource and scope, normalized, in a stable order. */
function flatten(requests: Record<string, unknown>[], signal: 'traces' | 'metrics'): string[] {
  const [top, scopes, items] = signal === 'traces' ? ['resourceSpans', 'scopeSpans', 'spans'] : ['resourceMetrics', 'scopeMetrics', 'metrics'];
  const out: Flat[] = [];
  for (const req of requests) {
    for (const r of (req[top] as Record<string, unknown>[] | undefined) ?? []) {
      for (const s of (r[scopes] as Record<string, unknown>[] | undefined) ?? []) {
        for (const item of (s[items] as unknown[] | undefined) ?? []) out.push({ resource: normalize(r['resource']), scope: normalize(s['scope']), item: normalize(item) });
      }
    }
  }
  return out.map((f) => JSON.stringify(f)).sort();
}

function readLines(file: string): Record<string, unknown>[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

class RecordingSpanExporter implements SpanExporter {
  readonly spans: ReadableSpan[] = [];
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], cb: Parameters<SpanExporter['export']>[1]): void {
    this.spans.push(...spans);
    this.inner.export(spans, (r) => {
      if (r.code !== 0) console.error('span export failed', r.error);
      cb(r);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

class RecordingMetricExporter implements PushMetricExporter {
  readonly batches: ResourceMetrics[] = [];
  constructor(private readonly inner: PushMetricExporter) {}
  export(m: ResourceMetrics, cb: Parameters<PushMetricExporter['export']>[1]): void {
    this.batches.push(m);
    this.inner.export(m, (r) => {
      if (r.code !== 0) console.error('metric export failed', r.error);
      cb(r);
    });
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }
}

const attrs = (protocol: string): Attributes => ({ protocol, str: 'é ü 🚀', int: 42, neg: -7, dbl: 2.5, bool: true, strs: ['a', 'b'], ints: [1, 2, 3] });

async function sendTraces(protocol: string, exporter: SpanExporter): Promise<ReadableSpan[]> {
  const rec = new RecordingSpanExporter(exporter);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `svc-${protocol}`, 'deployment.environment': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(rec)],
  });
  const tracer = provider.getTracer('passthrough-test', '1.2.3');
  const parent = tracer.startSpan(`parent ${protocol}`, { kind: SpanKind.SERVER, attributes: attrs(protocol) });
  parent.addEvent('something happened', { detail: 'x', count: 3 });
  for (let i = 0; i < 5; i++) {
    const ctx = (await import('@opentelemetry/api')).trace.setSpan((await import('@opentelemetry/api')).context.active(), parent);
    const child = tracer.startSpan(`child ${i}`, { kind: i % 2 ? SpanKind.CLIENT : SpanKind.INTERNAL, links: [{ context: parent.spanContext(), attributes: { why: 'link' } }] }, ctx);
    if (i === 3) child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    child.end();
  }
  parent.setStatus({ code: SpanStatusCode.OK });
  parent.end();
  await provider.forceFlush();
  await provider.shutdown();
  return rec.spans;
}

async function sendMetrics(protocol: string, exporter: PushMetricExporter): Promise<ResourceMetrics[]> {
  const rec = new RecordingMetricExporter(exporter);
  const reader = new PeriodicExportingMetricReader({ exporter: rec, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': `svc-${protocol}` }), readers: [reader] });
  const meter = provider.getMeter('passthrough-test', '1.0.0');
  const counter = meter.createCounter(`requests_${protocol.replace(/\W/g, '_')}`, { description: 'requests', unit: '1' });
  const hist = meter.createHistogram('latency', { unit: 'ms' });
  const gauge = meter.createGauge('temperature');
  const updown = meter.createUpDownCounter('queue_depth');
  for (let i = 0; i < 4; i++) {
    counter.add(i + 1, { route: `/r${i % 2}` });
    hist.record(i * 12.5, { route: '/r0' });
    updown.add(i % 2 ? -2 : 3);
  }
  gauge.record(21.5, { room: 'a' });
  await provider.forceFlush();
  await provider.shutdown();
  return rec.batches;
}

function sdkJson(bytes: Uint8Array | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(bytes ?? new Uint8Array()).toString('utf8')) as Record<string, unknown>;
}

describe('traces and metrics pass-through with the official SDK exporters', () => {
  it('spans sent over http/protobuf, http/json and grpc arrive in B identical in content', async () => {
    const sent: ReadableSpan[] = [];
    sent.push(...(await sendTraces('http/protobuf', new TraceProto({ url: `http://127.0.0.1:${a.http}/v1/traces` }))));
    sent.push(...(await sendTraces('http/json', new TraceJson({ url: `http://127.0.0.1:${a.http}/v1/traces` }))));
    sent.push(...(await sendTraces('grpc', new TraceGrpc({ url: `http://127.0.0.1:${a.grpc}` }))));
    expect(sent).toHaveLength(18);
    const expected = flatten([sdkJson(JsonTraceSerializer.serializeRequest(sent))], 'traces');
    const file = path.join(dir, 'traces.jsonl');
    const got = await waitFor('18 spans in B', () => {
      const f = flatten(readLines(file), 'traces');
      return f.length >= 18 ? f : undefined;
    }, 30_000);
    expect(got).toEqual(expected);
    // The content really is there (not two empty sides): ids, kinds, statuses, links, events, attributes.
    expect(got.join('\n')).toContain('"name":"something happened"');
    expect(got.join('\n')).toContain('"message":"boom"');
    expect(got.join('\n')).toContain('é ü 🚀');
  });

  it('data points sent over http/protobuf, http/json and grpc arrive in B identical in content', async () => {
    const sent: ResourceMetrics[] = [];
    sent.push(...(await sendMetrics('http/protobuf', new MetricsProto({ url: `http://127.0.0.1:${a.http}/v1/metrics` }))));
    sent.push(...(await sendMetrics('http/json', new MetricsJson({ url: `http://127.0.0.1:${a.http}/v1/metrics` }))));
    sent.push(...(await sendMetrics('grpc', new MetricsGrpc({ url: `http://127.0.0.1:${a.grpc}` }))));
    const expected = sent.flatMap((m) => flatten([sdkJson(JsonMetricsSerializer.serializeRequest(m))], 'metrics'));
    expect(expected.length).toBeGreaterThanOrEqual(12);
    const file = path.join(dir, 'metrics.jsonl');
    const got = await waitFor('every metric in B', () => {
      const f = flatten(readLines(file), 'metrics');
      return f.length >= expected.length ? f : undefined;
    }, 30_000);
    expect(got).toEqual(expected.sort());
    expect(got.join('\n')).toContain('"explicitBounds"');
  });

  it('a receiver without a logs pipeline answers /v1/logs with a clear 404; malformed protobuf is a 400', async () => {
    const res = await fetch(`http://127.0.0.1:${a.http}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('no logs pipeline takes data from receiver otlp');
    const bad = await fetch(`http://127.0.0.1:${bHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from([0x0a, 0x05, 0x01]) });
    expect(bad.status).toBe(400);
  });
});
