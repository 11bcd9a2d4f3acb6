/**
 * Application Insights mode, against upstream's mapping (exporter/azuremonitorexporter/log_to_envelope.go
 * at contrib 5952a526, connection_string_parser.go at e9872306; cases written here, not copied).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { idFromHex, nanosFromDecimal, type LogRecord } from '@tributary/otlp';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogsBatch } from '../../component.js';
import { PartialSendError } from '../../errors.js';
import { silentLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { AppInsightsSender, appInsightsConfigSchema, parseConnection, recordToEnvelope, rfc3339Nano } from './appinsights.js';
import { azureMonitorExporterFactory } from './index.js';

function rec(over: Partial<LogRecord> = {}): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal('1700000000123456700'), observedTimeUnixNano: nanosFromDecimal('0'), severityNumber: 17, severityText: 'ERROR',
    body: { stringValue: 'payment failed' }, attributes: [{ key: 'order.id', value: { intValue: 42 } }], droppedAttributesCount: 0, flags: 0,
    traceId: idFromHex('5b8efff798038103d269b633813fc60c', 16), spanId: idFromHex('eee19b7ec3c1b174', 8), eventName: '', ...over,
  };
}
const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'service.namespace', value: { stringValue: 'shop' } }, { key: 'service.instance.id', value: { stringValue: 'pod-1' } }, { key: 'k8s.pod.uid', value: { intValue: 7 } }], droppedAttributesCount: 0 };
const scope = { name: 'io.app', version: '1.2', attributes: [], droppedAttributesCount: 0 };

describe('azuremonitor Application Insights mapping', () => {
  it('MessageData: message, severity level, properties from resource, scope and record, cloud and operation tags', () => {
    const e = recordToEnvelope(rec(), resource, scope, 'ikey-1', { customEvents: false, exceptionEvents: false });
    expect(e).toMatchObject({
      ver: 1, name: 'Microsoft.ApplicationInsights.Message', time: '2023-11-14T22:13:20.1234567Z', sampleRate: 100, iKey: 'ikey-1',
      tags: { 'ai.operation.id': '5b8efff798038103d269b633813fc60c', 'ai.operation.parentId': 'eee19b7ec3c1b174', 'ai.cloud.role': 'shop.checkout', 'ai.cloud.roleInstance': 'pod-1' },
      data: { baseType: 'MessageData', baseData: { ver: 2, message: 'payment failed', severityLevel: 3, properties: {
        'service.name': 'checkout', 'service.namespace': 'shop', 'service.instance.id': 'pod-1', 'k8s.pod.uid': '',
        'instrumentationlibrary.name': 'io.app', 'instrumentationlibrary.version': '1.2', 'order.id': '42',
      } } },
    });
    expect(e.tags['ai.internal.sdkVersion']).toMatch(/^otelc-/);
  });

  it('ExceptionData only with exception_events_enabled; EventData only with custom_events_enabled', () => {
    const ex = rec({ attributes: [{ key: 'exception.type', value: { stringValue: 'TypeError' } }, { key: 'exception.message', value: { stringValue: 'x is undefined' } }, { key: 'exception.stacktrace', value: { stringValue: 'at f (a.js:1)' } }] });
    expect(recordToEnvelope(ex, resource, scope, 'k', { customEvents: false, exceptionEvents: false }).data.baseType).toBe('MessageData');
    const e = recordToEnvelope(ex, resource, scope, 'k', { customEvents: false, exceptionEvents: true });
    expect(e.name).toBe('Microsoft.ApplicationInsights.Exception');
    expect(e.data.baseData).toMatchObject({ ver: 2, problemId: 'ERROR', severityLevel: 3, exceptions: [{ typeName: 'TypeError', message: 'x is undefined', hasFullStack: true, stack: 'at f (a.js:1)' }] });
    const ev = recordToEnvelope(rec({ attributes: [{ key: 'microsoft.custom_event.name', value: { stringValue: 'checkout.completed' } }] }), resource, scope, 'k', { customEvents: true, exceptionEvents: false });
    expect(ev).toMatchObject({ name: 'Microsoft.ApplicationInsights.Event', data: { baseType: 'EventData', baseData: { name: 'checkout.completed', properties: { 'microsoft.custom_event.name': 'checkout.completed' } } } });
  });

  it('severity levels and times as upstream', () => {
    expect(recordToEnvelope(rec({ severityNumber: 5 }), null, null, 'k', { customEvents: false, exceptionEvents: false }).data.baseData['severityLevel']).toBe(0);
    expect(recordToEnvelope(rec({ severityNumber: 0 }), null, null, 'k', { customEvents: false, exceptionEvents: false }).data.baseData['severityLevel']).toBe(1);
    expect(recordToEnvelope(rec({ severityNumber: 21 }), null, null, 'k', { customEvents: false, exceptionEvents: false }).data.baseData['severityLevel']).toBe(4);
    expect(rfc3339Nano(nanosFromDecimal('1700000000000000000'))).toBe('2023-11-14T22:13:20Z');
    expect(recordToEnvelope(rec({ timeUnixNano: nanosFromDecimal('0'), observedTimeUnixNano: nanosFromDecimal('1700000000500000000') }), null, null, 'k', { customEvents: false, exceptionEvents: false }).time).toBe('2023-11-14T22:13:20.5Z');
  });

  it('connection strings: the ingestion endpoint gets /v2.1/track; missing key is an error', () => {
    expect(parseConnection({ connection_string: 'InstrumentationKey=abc;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;LiveEndpoint=https://x' }, undefined))
      .toEqual({ iKey: 'abc', url: 'https://westeurope-5.in.applicationinsights.azure.com/v2.1/track' });
    expect(parseConnection({ instrumentation_key: 'k' }, undefined)).toEqual({ iKey: 'k', url: 'https://dc.services.visualstudio.com/v2.1/track' });
    expect(parseConnection({ connection_string: 'IngestionEndpoint=https://x/' }, undefined)).toMatch(/InstrumentationKey is required/);
    expect(appInsightsConfigSchema.safeParse({ connection_string: 'junk' }).success).toBe(false);
    // The factory picks the mode from the keys present.
    expect(azureMonitorExporterFactory.configSchema.parse({ connection_string: 'InstrumentationKey=abc' })).toMatchObject({ mode: 'appinsights' });
  });
});

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

describe('azuremonitor Application Insights sending', () => {
  it('POSTs gzipped JSON lines to /v2.1/track; a 206 retries only the retryable items', async () => {
    const seen: { url: string; headers: IncomingHttpHeaders; lines: Record<string, unknown>[] }[] = [];
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const lines = gunzipSync(Buffer.concat(chunks)).toString().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
        seen.push({ url: req.url ?? '', headers: req.headers, lines });
        if (seen.length === 1) {
          res.writeHead(206, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ itemsReceived: 3, itemsAccepted: 1, errors: [{ index: 1, statusCode: 500, message: 'later' }, { index: 2, statusCode: 400, message: 'bad' }] }));
        } else {
          res.writeHead(200);
          res.end('{"itemsReceived":1,"itemsAccepted":1,"errors":[]}');
        }
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const config = appInsightsConfigSchema.parse({ connection_string: `InstrumentationKey=ikey;IngestionEndpoint=http://127.0.0.1:${port}/` });
    const s = new AppInsightsSender({ id: { type: 'azuremonitor', name: '', id: 'azuremonitor' }, logger: silentLogger, telemetry: new Telemetry() }, config);
    await s.start();
    const records = ['a', 'b', 'c'].map((m) => rec({ body: { stringValue: m } }));
    const batch: LogsBatch = { resourceLogs: [{ resource, schemaUrl: '', scopeLogs: [{ scope, schemaUrl: '', logRecords: records }] }], recordCount: 3, receivedAt: 0 };
    const err = await s.send(batch, new AbortController().signal).then(() => undefined, (e: unknown) => e);
    await s.shutdown();
    expect(seen[0]!.url).toBe('/v2.1/track');
    expect(seen[0]!.headers['content-type']).toBe('application/x-json-stream');
    expect(seen[0]!.lines.map((l) => (l['data'] as { baseData: { message: string } }).baseData.message)).toEqual(['a', 'b', 'c']);
    expect(err).toBeInstanceOf(PartialSendError);
    const p = err as PartialSendError;
    expect(p.retry?.recordCount).toBe(1);
    expect(p.retry?.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body?.stringValue).toBe('b');
    expect(p.rejected?.recordCount).toBe(1);
  });
});
