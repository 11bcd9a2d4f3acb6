/**
 * The default config plus a traces pipeline (added with --set, as upstream's flag does): an app exporting
 * traces and metrics over OTLP gets successful answers and its spans and data points reach the files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { describe, expect, it } from 'vitest';
import { freePort, repoRoot, startCollector, waitFor } from './support/collector-process.js';

describe('default config + a traces pipeline', () => {
  it('traces and metrics from an instrumented app are answered 200 and written to data/traces and data/metrics', async () => {
    const ports = { 4317: await freePort(), 4318: await freePort(), 13133: await freePort(), 8888: await freePort() };
    let cfg = fs.readFileSync(path.join(repoRoot, 'otel-config.yaml'), 'utf8');
    // One pass: replacing port by port could rewrite a port an earlier replacement put in (4318 inside 43180).
    cfg = cfg.replace(/127\.0\.0\.1:(\d+)\b/g, (m, p: string) => (ports[Number(p)] !== undefined ? `127.0.0.1:${ports[Number(p)]}` : m));
    const c = await startCollector(cfg, {
      healthPort: ports[13133],
      args: ['--set', 'service.pipelines.traces.receivers=[otlp]', '--set', 'service.pipelines.traces.processors=[memory_limiter, batch]', '--set', 'service.pipelines.traces.exporters=[file/traces]'],
    });
    try {
      const results: number[] = [];
      const wrap = <E extends SpanExporter | PushMetricExporter>(e: E): E => {
        const inner: (x: never, cb: (r: { code: number }) => void) => void = e.export.bind(e);
        (e as { export: unknown }).export = (x: never, cb: (r: { code: number }) => void) => inner(x, (r) => (results.push(r.code), cb(r)));
        return e;
      };
      const tracer = new NodeTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'shop' }),
        spanProcessors: [new SimpleSpanProcessor(wrap(new OTLPTraceExporter({ url: `http://127.0.0.1:${ports[4318]}/v1/traces` })))],
      });
      const span = tracer.getTracer('t').startSpan('GET /cart');
      span.end();
      await tracer.forceFlush();
      await tracer.shutdown();
      const meters = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: wrap(new OTLPMetricExporter({ url: `http://127.0.0.1:${ports[4318]}/v1/metrics` })), exportIntervalMillis: 3_600_000 })] });
      meters.getMeter('m').createCounter('orders').add(3);
      await meters.forceFlush();
      await meters.shutdown();
      expect(results.length).toBeGreaterThanOrEqual(2);
      expect(results.every((code) => code === 0)).toBe(true);
      const traces = await waitFor('the span in data/traces', () => {
        const f = path.join(c.dir, 'data/traces/traces.jsonl');
        const t = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
        return t.includes('GET /cart') ? t : undefined;
      });
      expect(JSON.parse(traces.trim().split('\n')[0]!).resourceSpans[0].scopeSpans[0].spans[0].name).toBe('GET /cart');
      await waitFor('the data point in data/metrics', () => {
        const f = path.join(c.dir, 'data/metrics/metrics.jsonl');
        return fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes('"orders"') ? true : undefined;
      });
    } finally {
      await c.stop();
      fs.rmSync(c.dir, { recursive: true, force: true });
    }
  });
});
