import Long from 'long';
import { describe, expect, it } from 'vitest';
import { RecordingConsumer, testSettings } from '../../../../test/kit/index.js';
import type { LogRecord, ResourceLogs } from '@tributary/otlp';
import { type LogsBatch } from '../../component.js';
import { MetricNames, Telemetry } from '../../telemetry/metrics.js';
import { probabilisticSamplerConfigSchema } from './config.js';
import { fnvSeed, fnvString } from './fnv.js';
import { ProbabilisticSamplerProcessor } from './sampler-processor.js';
import { prng } from '../../../../packages/otlp/src/testdata/random-records.js';


function traceId(rand: () => number): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

function rec(i: number, over: Partial<LogRecord> = {}): LogRecord {
  return {
    timeUnixNano: Long.fromNumber(1_700_000_000_000_000_000 + i * 1000, true),
    observedTimeUnixNano: Long.UZERO,
    severityNumber: 9,
    severityText: '',
    body: { stringValue: `request ${i} served` },
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: new Uint8Array(0),
    spanId: new Uint8Array(0),
    eventName: '',
    ...over,
  };
}

function batchOf(records: LogRecord[]): LogsBatch {
  const rl: ResourceLogs = { resource: { attributes: [], droppedAttributesCount: 0 }, scopeLogs: [{ scope: null, logRecords: records, schemaUrl: '' }], schemaUrl: '' };
  return { resourceLogs: [rl], recordCount: records.length, receivedAt: 0 };
}

function make(config: Record<string, unknown>, telemetry = new Telemetry()) {
  const next = new RecordingConsumer();
  const out = next.batches;
  const p = new ProbabilisticSamplerProcessor(
    testSettings('probabilistic_sampler', telemetry),
    probabilisticSamplerConfigSchema.parse(config),
    next,
  );
  const kept = (): LogRecord[] => out.flatMap((b) => b.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
  return { p, out, kept, telemetry };
}

describe('fnv', () => {
  it('is FNV-1a 32 (reference vectors) with the seed hashed first as 4 little-endian bytes', () => {
    expect(fnvString(0x811c9dc5, '')).toBe(0x811c9dc5);
    expect(fnvString(0x811c9dc5, 'a')).toBe(0xe40c292c);
    expect(fnvString(0x811c9dc5, 'foobar')).toBe(0xbf9cf968);
    // Multi-byte UTF-8 is hashed as its bytes.
    let h = 0x811c9dc5;
    for (const b of Buffer.from('é€😀')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(fnvString(0x811c9dc5, 'é€😀')).toBe(h);
    let s = 0x811c9dc5;
    for (const b of [1, 0, 0, 0]) s = Math.imul(s ^ b, 0x01000193) >>> 0;
    expect(fnvSeed(1)).toBe(s);
  });
});

describe('probabilistic_sampler', () => {
  it('keeps 25 % ± 1 % of 100k records with random trace ids', async () => {
    const rand = prng(42);
    const { p, kept } = make({ sampling_percentage: 25, hash_seed: 22 });
    for (let b = 0; b < 100; b++) {
      const recs: LogRecord[] = [];
      for (let i = 0; i < 1000; i++) recs.push(rec(b * 1000 + i, { traceId: traceId(rand) }));
      await p.consume(batchOf(recs));
    }
    expect(Math.abs(kept().length / 100_000 - 0.25)).toBeLessThan(0.01);
  });

  it('keeps 10 % ± 1 % of 100k records without trace ids (record hash fallback)', async () => {
    const { p, kept } = make({ sampling_percentage: 10 });
    for (let b = 0; b < 100; b++) {
      const recs: LogRecord[] = [];
      for (let i = 0; i < 1000; i++) recs.push(rec(b * 1000 + i));
      await p.consume(batchOf(recs));
    }
    expect(Math.abs(kept().length / 100_000 - 0.1)).toBeLessThan(0.01);
  });

  it('two instances with the same seed keep or drop all records of a trace together', async () => {
    const rand = prng(7);
    const traces = Array.from({ length: 2000 }, () => traceId(rand));
    const a = make({ sampling_percentage: 30, hash_seed: 123 });
    const b = make({ sampling_percentage: 30, hash_seed: 123 });
    // Each instance sees different records (bodies, times, severities) of the same traces.
    await a.p.consume(batchOf(traces.map((t, i) => rec(i, { traceId: t, body: { stringValue: `a ${i}` } }))));
    await b.p.consume(batchOf(traces.flatMap((t, i) => [rec(i + 5000, { traceId: t, severityNumber: 10 }), rec(i + 9000, { traceId: t })])));
    const hex = (r: LogRecord): string => Buffer.from(r.traceId).toString('hex');
    const keptA = new Set(a.kept().map(hex));
    const keptBList = b.kept().map(hex);
    const keptB = new Set(keptBList);
    expect(keptA.size).toBeGreaterThan(400);
    expect([...keptB].sort()).toEqual([...keptA].sort());
    expect(keptBList.length).toBe(keptB.size * 2);
    // A different seed makes different decisions (so the seed is really used).
    const c = make({ sampling_percentage: 30, hash_seed: 124 });
    await c.p.consume(batchOf(traces.map((t, i) => rec(i, { traceId: t }))));
    expect(new Set(c.kept().map(hex))).not.toEqual(keptA);
  });

  it('applies per-severity percentages by range and sampling_percentage elsewhere', async () => {
    const rand = prng(99);
    const { p, kept } = make({ sampling_percentage: 25, severity_percentages: { ERROR: 100, WARN: 100, DEBUG: 5 } });
    const sevs = [5, 8, 9, 13, 16, 17, 20];
    const recs: LogRecord[] = [];
    for (let i = 0; i < 70_000; i++) recs.push(rec(i, { traceId: traceId(rand), severityNumber: sevs[i % sevs.length]! }));
    await p.consume(batchOf(recs));
    const by = (lo: number, hi: number): number => kept().filter((r) => r.severityNumber >= lo && r.severityNumber <= hi).length;
    expect(by(17, 20)).toBe(20_000);
    expect(by(13, 16)).toBe(20_000);
    expect(Math.abs(by(5, 8) / 20_000 - 0.05)).toBeLessThan(0.01);
    expect(Math.abs(by(9, 12) / 10_000 - 0.25)).toBeLessThan(0.015);
  });

  it('sampling_priority overrides the percentage per record', async () => {
    const rand = prng(5);
    const { p, kept } = make({ sampling_percentage: 50, sampling_priority: 'sampling.priority' });
    const recs: LogRecord[] = [];
    for (let i = 0; i < 1000; i++) {
      const prio = i % 2 === 0 ? { intValue: 100 } : { doubleValue: 0 };
      recs.push(rec(i, { traceId: traceId(rand), attributes: [{ key: 'sampling.priority', value: prio }, { key: 'i', value: { intValue: i } }] }));
    }
    await p.consume(batchOf(recs));
    const ks = kept().map((r) => Number(r.attributes[1]!.value!.intValue));
    expect(ks.length).toBe(500);
    expect(ks.every((i) => i % 2 === 0)).toBe(true);
  });

  it('attribute_source record hashes from_attribute; missing attribute fails closed', async () => {
    const t = new Telemetry();
    const { p, kept } = make({ sampling_percentage: 50, attribute_source: 'record', from_attribute: 'user.id' }, t);
    const recs: LogRecord[] = [];
    for (let u = 0; u < 200; u++) for (let k = 0; k < 3; k++) recs.push(rec(u * 3 + k, { attributes: [{ key: 'user.id', value: { stringValue: `u${u}` } }] }));
    recs.push(rec(9999));
    await p.consume(batchOf(recs));
    const users = new Map<string, number>();
    for (const r of kept()) users.set(r.attributes[0]!.value!.stringValue!, (users.get(r.attributes[0]!.value!.stringValue!) ?? 0) + 1);
    expect([...users.values()].every((n) => n === 3)).toBe(true);
    expect(users.size).toBeGreaterThan(60);
    expect(users.size).toBeLessThan(140);
    const dropped = t.counter(MetricNames.processorDropped, '');
    expect(dropped.total({ reason: 'missing_randomness' })).toBe(1);
    expect(dropped.total({ reason: 'sampled_out' })).toBe(600 - users.size * 3);
  });

  it('removes empty scopes and resources, updates recordCount and counts in/out/dropped', async () => {
    const rand = prng(1);
    const t = new Telemetry();
    const { p, out } = make({ sampling_percentage: 0, severity_percentages: { ERROR: 100 } }, t);
    const batch: LogsBatch = {
      resourceLogs: [
        { resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [rec(1, { traceId: traceId(rand) })] }] },
        { resource: null, schemaUrl: '', scopeLogs: [
          { scope: null, schemaUrl: '', logRecords: [rec(2), rec(3)] },
          { scope: null, schemaUrl: '', logRecords: [rec(4), rec(5, { severityNumber: 17 }), rec(6)] },
        ] },
      ],
      recordCount: 6,
      receivedAt: 0,
    };
    await p.consume(batch);
    expect(out).toHaveLength(1);
    expect(batch.recordCount).toBe(1);
    expect(batch.resourceLogs).toHaveLength(1);
    expect(batch.resourceLogs[0]!.scopeLogs).toHaveLength(1);
    expect(batch.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => r.severityNumber)).toEqual([17]);
    expect(t.counter(MetricNames.processorIncoming, '').total()).toBe(6);
    expect(t.counter(MetricNames.processorOutgoing, '').total()).toBe(1);
    expect(t.counter(MetricNames.processorDropped, '').total({ processor: 'probabilistic_sampler', reason: 'sampled_out' })).toBe(5);
    // A batch with nothing kept is not passed on.
    await p.consume(batchOf([rec(7)]));
    expect(out).toHaveLength(1);
  });

  it('rejects record source without from_attribute and unknown severity ranges', () => {
    expect(probabilisticSamplerConfigSchema.safeParse({ attribute_source: 'record' }).success).toBe(false);
    expect(probabilisticSamplerConfigSchema.safeParse({ severity_percentages: { NOTICE: 5 } }).success).toBe(false);
    expect(probabilisticSamplerConfigSchema.safeParse({ sampling_percentage: 101 }).success).toBe(false);
  });
});
