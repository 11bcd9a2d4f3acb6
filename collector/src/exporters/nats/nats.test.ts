import { decodeExportRequest, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { describe, expect, it } from 'vitest';
import { compileSubject, encodeMessages, msgIdOf, natsExporterConfigSchema, subjectFor } from './index.js';
import { natsReceiverConfigSchema } from '../../receivers/nats/index.js';
import { wildcardOf, withoutRecords } from './nats-exporter.js';

function rl(attrs: Record<string, string>, records: number, bodyBytes = 10): ResourceLogs {
  const logRecords: LogRecord[] = [];
  for (let i = 0; i < records; i++) {
    logRecords.push({
      timeUnixNano: 0, observedTimeUnixNano: 0, severityNumber: 9, severityText: '', body: { stringValue: 'x'.repeat(bodyBytes) },
      attributes: [{ key: 'n', value: { intValue: i } }], droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
    } as unknown as LogRecord);
  }
  return {
    resource: { attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })), droppedAttributesCount: 0 },
    scopeLogs: [{ scope: null, logRecords, schemaUrl: '' }],
    schemaUrl: '',
  };
}

describe('nats exporter subjects', () => {
  it('fills {attribute} placeholders from resource attributes, sanitised, unknown when missing', () => {
    const t = compileSubject('logs.{tenant}.{service.name}');
    expect(subjectFor(t, rl({ tenant: 'acme', 'service.name': 'check out.v2' }, 1))).toBe('logs.acme.check_out_v2');
    expect(subjectFor(t, rl({}, 1))).toBe('logs.unknown.unknown');
    expect(subjectFor(compileSubject('logs.all'), rl({ tenant: 'x' }, 1))).toBe('logs.all');
    expect(wildcardOf('logs.{tenant}')).toBe('logs.*');
  });

  it('rejects subjects that are not dot-separated tokens, and two auth modes at once', () => {
    expect(natsExporterConfigSchema.safeParse({ subject: 'logs..x' }).success).toBe(false);
    expect(natsExporterConfigSchema.safeParse({ subject: 'logs.>' }).success).toBe(false);
    const two = natsExporterConfigSchema.safeParse({ auth: { token: 't', user: 'u', password: 'p' } });
    expect(two.success).toBe(false);
    expect(JSON.stringify(two.error?.issues)).toMatch(/only one of/);
    expect(JSON.stringify(two.error?.issues)).not.toContain('"t"');
    const ok = natsExporterConfigSchema.parse({ servers: 'nats://h:4222', stream: { name: 'LOGS', max_age: '1h', max_bytes: '1GiB' } });
    expect(ok.servers).toEqual(['nats://h:4222']);
    expect(ok.stream?.max_age).toBe(3_600_000);
    expect(ok.max_message_size).toBe(1024 * 1024);
  });

  it('receiver config: stream required, defaults filled', () => {
    expect(natsReceiverConfigSchema.safeParse({}).success).toBe(false);
    const c = natsReceiverConfigSchema.parse({ stream: 'LOGS' });
    expect(c.consumer).toMatchObject({ durable: 'tributary', deliver_policy: 'all', ack_wait: 30_000, max_ack_pending: 1000 });
  });
});

describe('nats exporter messages', () => {
  it('splits a batch over max_message_size into messages that each fit, losing no record', () => {
    const out: Uint8Array[] = [];
    const oversize: ResourceLogs[] = [];
    encodeMessages([rl({ a: '1' }, 500, 100), rl({ a: '2' }, 300, 100)], 16 * 1024, out, oversize);
    expect(out.length).toBeGreaterThan(4);
    expect(oversize).toEqual([]);
    let n = 0;
    for (const m of out) {
      expect(m.byteLength).toBeLessThanOrEqual(16 * 1024);
      for (const r of decodeExportRequest(m).resourceLogs) for (const sl of r.scopeLogs) n += sl.logRecords.length;
    }
    expect(n).toBe(800);
  });

  it('a single record larger than the limit is set apart', () => {
    const out: Uint8Array[] = [];
    const oversize: ResourceLogs[] = [];
    encodeMessages([rl({}, 3, 5000)], 4000, out, oversize);
    expect(out).toEqual([]);
    expect(oversize.length).toBe(3);
  });

  it('a failed subject is sent again without the records already refused as too large', () => {
    const small = rl({ tenant: 'a' }, 4, 10);
    const out: Uint8Array[] = [];
    const oversize: ResourceLogs[] = [];
    const big = rl({ tenant: 'a' }, 2, 5000);
    encodeMessages([small, big], 4000, out, oversize);
    expect(oversize.length).toBe(2);
    const retry = withoutRecords([small, big], oversize);
    expect(retry).toEqual([small]);
    expect(withoutRecords([small], [])).toEqual([small]);
  });

  it('message ids are stable for the same subject and payload, different otherwise', () => {
    const a = new Uint8Array([1, 2, 3]);
    expect(msgIdOf('s', a)).toBe(msgIdOf('s', new Uint8Array([1, 2, 3])));
    expect(msgIdOf('s', a)).not.toBe(msgIdOf('t', a));
    expect(msgIdOf('s', a)).not.toBe(msgIdOf('s', new Uint8Array([1, 2, 4])));
  });
});
