/**
 * Upstream's file exporter writes each export as the pdata JSON marshaler's output plus "\n". The record and
 * the expected line are rebuilt from logsOTLP / logsJSON of TestJSONMarshal in open-telemetry/opentelemetry-collector
 * pdata/plog/json_test.go (the version pinning timeUnixNano 1684617382541971000 and flags 1); the one-line-per-
 * export framing from opentelemetry-collector-contrib exporter/fileexporter (format: json).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { idFromHex, nanosFromDecimal, type ResourceLogs } from '@tributary/otlp';
import { testSettings } from '../../../../test/kit/index.js';
import { FileExporter, fileExporterConfigSchema } from './index.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

/** logsOTLP: dropped counts of 1 everywhere, schema URLs on both levels, severity 17 "Error", flags 1. */
function logsOTLP(): ResourceLogs[] {
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

const LOGS_JSON =
  '{"resourceLogs":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"testHost"}}],"droppedAttributesCount":1},' +
  '"scopeLogs":[{"scope":{"name":"name","version":"version","droppedAttributesCount":1},"logRecords":[{"timeUnixNano":"1684617382541971000",' +
  '"observedTimeUnixNano":"1684623646539558000","severityNumber":17,"severityText":"Error","body":{"stringValue":"hello world"},' +
  '"attributes":[{"key":"sdkVersion","value":{"stringValue":"1.0.1"}}],"droppedAttributesCount":1,"flags":1,' +
  '"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718"}],"schemaUrl":"scope_schema"}],"schemaUrl":"resource_schema"}]}';

describe('file exporter: upstream pdata JSON line', () => {
  it('one export is exactly the marshaler output of logsJSON, then a newline; two exports are two lines', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tributary-file-golden-'));
    dirs.push(dir);
    const file = path.join(dir, 'out.json');
    const ex = new FileExporter(testSettings('file'), fileExporterConfigSchema.parse({ path: file, flush_interval: '10ms' }));
    await ex.start();
    const signal = new AbortController().signal;
    await ex.send({ resourceLogs: logsOTLP(), recordCount: 1, receivedAt: performance.now() }, signal);
    await ex.send({ resourceLogs: logsOTLP(), recordCount: 1, receivedAt: performance.now() }, signal);
    await ex.shutdown();
    expect(await fs.readFile(file, 'utf8')).toBe(`${LOGS_JSON}\n${LOGS_JSON}\n`);
  });
});
