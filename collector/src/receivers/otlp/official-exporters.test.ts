// Smoke test: the official OpenTelemetry JS exporters (http/json, http/protobuf, grpc) deliver to the receiver.
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as GrpcExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyValueAsString, findAttribute } from '@tributary/otlp';
import { startReceiver, type StartedReceiver } from './test-support.js';

describe('official @opentelemetry exporters → otlp receiver', () => {
  let r: StartedReceiver;
  beforeAll(async () => {
    r = await startReceiver({ grpc: {}, http: {} });
  });
  afterAll(async () => {
    await r.receiver.shutdown();
  });

  const cases: [string, () => LogRecordExporter][] = [
    ['http/json', () => new JsonExporter({ url: `${r.httpBase}/v1/logs` })],
    ['http/protobuf', () => new ProtoExporter({ url: `${r.httpBase}/v1/logs` })],
    ['grpc', () => new GrpcExporter({ url: `http://${r.grpcTarget}` })],
  ];

  it.each(cases)('%s', async (protocol, makeExporter) => {
    r.next.reset();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': `svc-${protocol}` }),
      processors: [new SimpleLogRecordProcessor({ exporter: makeExporter() })],
    });
    provider.getLogger('smoke', '1.2.3').emit({
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: `hello over ${protocol}`,
      attributes: { 'user.id': 42 },
    });
    await provider.forceFlush();
    await provider.shutdown();

    expect(r.next.batches).toHaveLength(1);
    const b = r.next.batches[0]!;
    expect(b.recordCount).toBe(1);
    const rl = b.resourceLogs[0]!;
    expect(anyValueAsString(findAttribute(rl.resource?.attributes, 'service.name'))).toBe(`svc-${protocol}`);
    expect(rl.scopeLogs[0]!.scope).toMatchObject({ name: 'smoke', version: '1.2.3' });
    const rec = rl.scopeLogs[0]!.logRecords[0]!;
    expect(rec.severityNumber).toBe(13);
    expect(rec.severityText).toBe('WARN');
    expect(rec.body?.stringValue).toBe(`hello over ${protocol}`);
    expect(Number(findAttribute(rec.attributes, 'user.id')?.intValue)).toBe(42);
  });
});
