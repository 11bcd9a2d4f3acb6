import Long from 'long';
import { describe, expect, it } from 'vitest';
import { anyValueFrom, keyValuesToRaw, type LogRecord } from '@tributary/otlp';
import { parseComponentId } from '../../component.js';
import { silentLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { AttributesProcessor } from './attributes-processor.js';
import { attributesConfigSchema } from './config.js';

function rec(attrs: Record<string, unknown>, body: string, severityText = 'INFO', severityNumber = 9): LogRecord {
  return {
    timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO, severityNumber, severityText, body: { stringValue: body },
    attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: anyValueFrom(v) })),
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  };
}

async function run(config: Record<string, unknown>, records: LogRecord[], scope = { name: 'io.app.http', version: '2.0' }, service = 'checkout') {
  const p = new AttributesProcessor({ id: parseComponentId('attributes/x'), logger: silentLogger, telemetry: new Telemetry() }, attributesConfigSchema.parse(config), { consume: async () => undefined });
  await p.consume({
    resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { ...scope, attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records }] }],
    recordCount: records.length, receivedAt: 0,
  });
  return records.map((r) => keyValuesToRaw(r.attributes));
}

const tag = [{ key: 'tagged', action: 'insert', value: true }];

describe('attributes include/exclude', () => {
  it('include strict: attributes, resources and libraries must all match', async () => {
    const got = await run({ actions: tag, include: { match_type: 'strict', attributes: [{ key: 'http.route', value: '/pay' }], resources: [{ key: 'service.name', value: 'checkout' }], libraries: [{ name: 'io.app.http' }] } },
      [rec({ 'http.route': '/pay' }, 'a'), rec({ 'http.route': '/cart' }, 'b'), rec({}, 'c')]);
    expect(got.map((a) => a['tagged'] ?? false)).toEqual([true, false, false]);
  });

  it('exclude regexp on bodies and severity texts; include + exclude together', async () => {
    const got = await run({
      actions: tag,
      include: { match_type: 'regexp', log_severity_texts: ['^(WARN|ERROR)$'] },
      exclude: { match_type: 'regexp', log_bodies: ['health'] },
    }, [rec({}, 'disk full', 'ERROR', 17), rec({}, 'healthcheck failed', 'WARN', 13), rec({}, 'hello', 'INFO', 9)]);
    expect(got.map((a) => a['tagged'] ?? false)).toEqual([true, false, false]);
  });

  it('log_severity_number min; a library version that differs does not match', async () => {
    expect((await run({ actions: tag, include: { match_type: 'strict', log_severity_number: { min: 'WARN' } } }, [rec({}, 'x', 'INFO', 9), rec({}, 'y', 'WARN', 13)])).map((a) => a['tagged'] ?? false)).toEqual([false, true]);
    expect((await run({ actions: tag, include: { match_type: 'strict', libraries: [{ name: 'io.app.http', version: '1.0' }] } }, [rec({}, 'x')]))[0]).toEqual({});
  });

  it('span-only keys are refused with the reason', () => {
    const r = attributesConfigSchema.safeParse({ actions: tag, include: { match_type: 'strict', span_names: ['x'] } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('applies to spans or metrics');
  });
});
