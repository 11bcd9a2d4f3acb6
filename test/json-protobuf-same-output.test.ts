// The same request sent as OTLP/HTTP protobuf and as OTLP/JSON comes out of the collector byte for byte
// the same (otlp → batch → file): both inputs land in one record model. Edge values included: int64
// beyond 2^53, nested kvlist/array, bytes, empty value, non-ASCII and escaped text, ids, flags.
import fs from 'node:fs';
import path from 'node:path';
import Long from 'long';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeExportRequest, encodeExportRequestJson, idFromHex, nanosFromDecimal, type ExportLogsServiceRequest } from '@tributary/otlp';
import { fileSinkConfig, freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';

let running: RunningCollector | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function request(): ExportLogsServiceRequest {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'host.name', value: { stringValue: 'web-1' } }], droppedAttributesCount: 0 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeLogs: [{
        scope: { name: 'lib', version: '1.2.3', attributes: [{ key: 's', value: { boolValue: true } }], droppedAttributesCount: 1 },
        schemaUrl: '',
        logRecords: [{
          timeUnixNano: nanosFromDecimal('1700000000123456789'),
          observedTimeUnixNano: nanosFromDecimal('1700000000987654321'),
          severityNumber: 17,
          severityText: 'ERROR',
          body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'boom "quoted" <&> é 日本 \u0001' } }, { key: 'n', value: { arrayValue: { values: [{ intValue: Long.fromString('-9007199254740993') }, { doubleValue: 1.5 }, { bytesValue: Buffer.from([1, 2, 255]) }] } } }] } },
          attributes: [{ key: 'http.status_code', value: { intValue: 500 } }, { key: 'duration_ms', value: { doubleValue: 12.345678901234567 } }, { key: 'ok', value: { boolValue: false } }, { key: 'empty', value: {} }],
          droppedAttributesCount: 2,
          flags: 1,
          traceId: idFromHex('437ab4d83468c540bb0f3398a39faa59', 16),
          spanId: idFromHex('2e26da881214cd7c', 8),
          eventName: 'checkout.failed',
        }, {
          timeUnixNano: nanosFromDecimal('0'),
          observedTimeUnixNano: nanosFromDecimal('18446744073709551615'),
          severityNumber: 0, severityText: '', body: { stringValue: 'plain' }, attributes: [], droppedAttributesCount: 0, flags: 0,
          traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
        }],
      }],
    }],
  };
}

describe('protobuf and JSON inputs', () => {
  it('give identical file output', async () => {
    const otlpPort = await freePort();
    const healthPort = await freePort();
    running = await startCollector(fileSinkConfig(otlpPort, healthPort), { healthPort });
    const out = path.join(running.dir, 'out/logs.jsonl');
    const lines = (): string[] => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
    const send = async (body: Uint8Array | string, type: string): Promise<void> => {
      const res = await fetch(`http://127.0.0.1:${otlpPort}/v1/logs`, { method: 'POST', body, headers: { 'content-type': type } });
      expect(res.status).toBe(200);
    };
    await send(encodeExportRequest(request()), 'application/x-protobuf');
    await waitFor('the protobuf request in the file', () => lines().length === 1 || undefined);
    await send(encodeExportRequestJson(request()), 'application/json');
    const [fromProtobuf, fromJson] = await waitFor('the JSON request in the file', () => (lines().length === 2 ? lines() : undefined));
    expect(fromJson).toBe(fromProtobuf);
    expect(fromProtobuf).toContain('"intValue":"-9007199254740993"');
    expect(fromProtobuf).toContain('"observedTimeUnixNano":"18446744073709551615"');
  });
});
