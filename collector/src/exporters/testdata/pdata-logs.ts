/**
 * pdata's pinned OTLP/JSON logs document: logsOTLP / logsJSON of TestJSONMarshal in
 * open-telemetry/opentelemetry-collector pdata/plog/json_test.go (the version pinning timeUnixNano
 * 1684617382541971000 and flags 1). Upstream's file exporter writes this line for that input, and its
 * otlp / otlphttp exporters send this request unchanged.
 */
import { idFromHex, nanosFromDecimal, type ResourceLogs } from '@tributary/otlp';

/** logsOTLP: dropped counts of 1 everywhere, schema URLs on both levels, severity 17 "Error", flags 1. */
export function pdataLogsOTLP(): ResourceLogs[] {
  return [{
    resource: { attributes: [{ key: 'host.name', value: { stringValue: 'testHost' } }], droppedAttributesCount: 1 },
    schemaUrl: 'resource_schema',
    scopeLogs: [{
      scope: { name: 'name', version: 'version', attributes: [], droppedAttributesCount: 1 },
      schemaUrl: 'scope_schema',
      logRecords: [{
        timeUnixNano: nanosFromDecimal('1684617382541971000'),
        observedTimeUnixNano: nanosFromDecimal('1684623646539558000'),
        severityNumber: 17,
        severityText: 'Error',
        body: { stringValue: 'hello world' },
        attributes: [{ key: 'sdkVersion', value: { stringValue: '1.0.1' } }],
        droppedAttributesCount: 1,
        flags: 1,
        traceId: idFromHex('0102030405060708090a0b0c0d0e0f10', 16),
        spanId: idFromHex('1112131415161718', 8),
        eventName: '',
      }],
    }],
  }];
}

/** logsJSON, byte for byte. */
export const PDATA_LOGS_JSON =
  '{"resourceLogs":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"testHost"}}],"droppedAttributesCount":1},' +
  '"scopeLogs":[{"scope":{"name":"name","version":"version","droppedAttributesCount":1},"logRecords":[{"timeUnixNano":"1684617382541971000",' +
  '"observedTimeUnixNano":"1684623646539558000","severityNumber":17,"severityText":"Error","body":{"stringValue":"hello world"},' +
  '"attributes":[{"key":"sdkVersion","value":{"stringValue":"1.0.1"}}],"droppedAttributesCount":1,"flags":1,' +
  '"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718"}],"schemaUrl":"scope_schema"}],"schemaUrl":"resource_schema"}]}';
