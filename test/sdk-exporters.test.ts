/**
 * The official OpenTelemetry JS log exporters (http/json, http/protobuf, grpc) send to the collector
 * started from the built CLI; the file exporter's output must hold every record field for field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as GrpcExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';

let collector: RunningCollector;
let httpPort: number;
let grpcPort: number;
let outFile: string;

beforeAll(async () => {
  [httpPort, grpcPort] = [await freePort(), await freePort()];
  const healthPort = await freePort();
  const metricsPort = await freePort();
  collector = await startCollector(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort} }
      http: { endpoint: 127.0.0.1:${httpPort} }
processors:
  batch: { timeout: 50ms }
exporters:
  file: { path: ./out/logs.jsonl }
extensions:
  health_check: { endpoint: 127.0.0.1:${healthPort} }
  metrics: { endpoint: 127.0.0.1:${metricsPort} }
service:
  extensions: [health_check, metrics]
  pipelines:
    logs: { receivers: [otlp], processors: [batch], exporters: [file] }
`, { healthPort });
  outFile = path.join(collector.dir, 'out/logs.jsonl');
});

afterAll(async () => {
  await collector?.stop();
  if (collector) fs.rmSync(collector.dir, { recursive: true, force: true });
});

interface JsonRecord {
  timeUnixNano?: string; observedTimeUnixNano?: string; severityNumber?: number; severityText?: string;
  body?: unknown; attributes?: { key: string; value: unknown }[]; traceId?: string; spanId?: string; flags?: number; eventName?: string;
}
interface JsonLine { resourceLogs: { resource?: { attributes: { key: string; value: unknown }[] }; scopeLogs: { scope?: { name?: string; version?: string }; logRecords: JsonRecord[] }[] }[] }

function readRecords(): { rec: JsonRecord; resource: Record<string, unknown>; scope: { name?: string; version?: string } }[] {
  if (!fs.existsSync(outFile)) return [];
  const out = [];
  for (const line of fs.readFileSync(outFile, 'utf8').split('\n')) {
    if (!line) continue;
    const parsed = JSON.parse(line) as JsonLine;
    for (const rl of parsed.resourceLogs) {
      const resource = Object.fromEntries((rl.resource?.attributes ?? []).map((a) => [a.key, a.value]));
      for (const sl of rl.scopeLogs) for (const rec of sl.logRecords) out.push({ rec, resource, scope: sl.scope ?? {} });
    }
  }
  return out;
}

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

async function sendWith(exporter: LogRecordExporter, tag: string): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': `svc-${tag}`, 'deployment.environment': 'test' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger(`scope-${tag}`, '4.5.6');
  const ctx = trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  const common = { timestamp: [1700000000, 123456789] as [number, number], observedTimestamp: [1700000001, 5] as [number, number], context: ctx };
  logger.emit({ ...common, severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: `string body ${tag}`,
    attributes: { tag, kind: 'string', 'http.status_code': 500, ratio: 0.25, ok: true, list: ['a', 1], nested: { k: 'v', n: 2 } } });
  logger.emit({ ...common, severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: { message: `map body ${tag}`, count: 3, deep: { flag: false } }, attributes: { tag, kind: 'map' } });
  logger.emit({ ...common, severityNumber: SeverityNumber.DEBUG, body: [1, 'two', 3.5], attributes: { tag, kind: 'array' } });
  logger.emit({ ...common, severityNumber: SeverityNumber.WARN, body: 42, attributes: { tag, kind: 'int' } });
  logger.emit({ ...common, severityNumber: SeverityNumber.WARN2, body: 2.5, attributes: { tag, kind: 'double' } });
  logger.emit({ ...common, severityNumber: SeverityNumber.FATAL, body: true, attributes: { tag, kind: 'bool' } });
  logger.emit({ ...common, body: new Uint8Array([0, 1, 254, 255]), attributes: { tag, kind: 'bytes' } });
  await provider.forceFlush();
  await provider.shutdown();
}

const cases: [string, () => LogRecordExporter][] = [
  ['http-json', () => new JsonExporter({ url: `http://127.0.0.1:${httpPort}/v1/logs` })],
  ['http-proto', () => new ProtoExporter({ url: `http://127.0.0.1:${httpPort}/v1/logs` })],
  ['grpc', () => new GrpcExporter({ url: `http://127.0.0.1:${grpcPort}` })],
];

describe('official OpenTelemetry exporters → collector → file exporter', () => {
  for (const [tag, make] of cases) {
    it(`${tag}: every record arrives field for field`, async () => {
      await sendWith(make(), tag);
      const mine = await waitFor(`7 records tagged ${tag} in the file`, () => {
        const recs = readRecords().filter((r) => r.rec.attributes?.some((a) => a.key === 'tag' && JSON.stringify(a.value) === JSON.stringify({ stringValue: tag })));
        return recs.length >= 7 ? recs : undefined;
      });
      expect(mine).toHaveLength(7);
      for (const { rec, resource, scope } of mine) {
        expect(resource['service.name']).toEqual({ stringValue: `svc-${tag}` });
        expect(resource['deployment.environment']).toEqual({ stringValue: 'test' });
        expect(scope).toMatchObject({ name: `scope-${tag}`, version: '4.5.6' });
        expect(rec.timeUnixNano).toBe('1700000000123456789');
        expect(rec.observedTimeUnixNano).toBe('1700000001000000005');
        expect(rec.traceId).toBe(TRACE_ID);
        expect(rec.spanId).toBe(SPAN_ID);
        expect(rec.flags).toBe(1);
      }
      const byKind = (k: string): JsonRecord => mine.find((r) => r.rec.attributes?.some((a) => a.key === 'kind' && JSON.stringify(a.value) === JSON.stringify({ stringValue: k })))!.rec;
      const [s, m, arr, i, d, b, bytes] = ['string', 'map', 'array', 'int', 'double', 'bool', 'bytes'].map(byKind);
      expect(s).toMatchObject({ severityNumber: 17, severityText: 'ERROR', body: { stringValue: `string body ${tag}` } });
      const attrs = Object.fromEntries(s!.attributes!.map((a) => [a.key, a.value]));
      expect(attrs).toEqual({
        tag: { stringValue: tag },
        kind: { stringValue: 'string' },
        'http.status_code': { intValue: '500' },
        ratio: { doubleValue: 0.25 },
        ok: { boolValue: true },
        list: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } },
        nested: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }, { key: 'n', value: { intValue: '2' } }] } },
      });
      expect(m).toMatchObject({ severityNumber: 9, severityText: 'INFO' });
      expect(m!.body).toEqual({ kvlistValue: { values: [
        { key: 'message', value: { stringValue: `map body ${tag}` } },
        { key: 'count', value: { intValue: '3' } },
        { key: 'deep', value: { kvlistValue: { values: [{ key: 'flag', value: { boolValue: false } }] } } },
      ] } });
      expect(arr).toMatchObject({ severityNumber: 5, body: { arrayValue: { values: [{ intValue: '1' }, { stringValue: 'two' }, { doubleValue: 3.5 }] } } });
      expect(arr!.severityText).toBeUndefined();
      expect(i).toMatchObject({ severityNumber: 13, body: { intValue: '42' } });
      expect(d).toMatchObject({ severityNumber: 14, body: { doubleValue: 2.5 } });
      expect(b).toMatchObject({ severityNumber: 21, body: { boolValue: true } });
      expect(bytes!.body).toEqual({ bytesValue: Buffer.from([0, 1, 254, 255]).toString('base64') });
      expect(bytes!.severityNumber).toBeUndefined();
    });
  }
});
