import { afterEach, describe, expect, it } from 'vitest';
import { testSettings } from '../../../../test/kit/index.js';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Long from 'long';
import {
  anyValueFrom, decodeExportRequestJson, encodeResourceLogsArrayJson, idFromHex, idToHex, keyValuesFrom, nanosFromDecimal,
  nanosToDecimal,
} from '@tributary/otlp';
import type { LogRecord, ResourceLogs } from '@tributary/otlp';
import type { CreateSettings, Host, LogsBatch } from '../../component.js';
import { RetryableError } from '../../errors.js';
import { QueuedRetryExporter } from '../../pipeline/exporter-helper.js';
import { silentLogger } from '../../telemetry/logger.js';
import { Counter, MetricNames } from '../../telemetry/metrics.js';
import { FileExporter, fileExporterConfigSchema, fileExporterFactory } from './index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'tributary-file-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

const settings = (): CreateSettings => testSettings('file');
const signal = new AbortController().signal;

function record(i: number, over: Partial<LogRecord> = {}): LogRecord {
  return {
    timeUnixNano: nanosFromDecimal('1705314600123456789'),
    observedTimeUnixNano: nanosFromDecimal('1705314600223456789'),
    severityNumber: 9,
    severityText: 'INFO',
    body: { stringValue: `message ${i} "quoted" \u00e9\n` },
    attributes: keyValuesFrom({ i, ok: true, ratio: 0.5, nested: { a: [1, 'x'] } }),
    droppedAttributesCount: 0,
    flags: 1,
    traceId: idFromHex('0102030405060708090a0b0c0d0e0f10', 16),
    spanId: idFromHex('1112131415161718', 8),
    eventName: '',
    ...over,
  };
}

function batchOf(records: LogRecord[]): LogsBatch {
  const rls: ResourceLogs[] = [{
    resource: { attributes: keyValuesFrom({ 'service.name': 'checkout' }), droppedAttributesCount: 0 },
    schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
    scopeLogs: [{ scope: { name: 'app', version: '1.0.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records }],
  }];
  return { resourceLogs: rls, recordCount: records.length, receivedAt: performance.now() };
}

async function exporter(over: Record<string, unknown>, now?: () => number) {
  const config = fileExporterConfigSchema.parse({ flush_interval: '10ms', ...over });
  const ex = new FileExporter(settings(), config, now ? { now } : {});
  await ex.start();
  return ex;
}

async function lines(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('file exporter config', () => {
  it('requires path, fills defaults, rejects unknown keys and formats', () => {
    expect(() => fileExporterConfigSchema.parse({})).toThrow(/path/);
    const c = fileExporterConfigSchema.parse({ path: 'x.jsonl' });
    expect(c).toMatchObject({ format: 'json', append: false, compress: 'none', flush_interval: 1000, timeout: 0 });
    expect(c.rotation).toBeUndefined();
    expect(fileExporterConfigSchema.parse({ path: 'x', rotation: {} }).rotation).toEqual({
      max_megabytes: 100, max_days: 0, max_backups: 100, localtime: false, daily: false,
    });
    expect(() => fileExporterConfigSchema.parse({ path: 'x', format: 'proto' })).toThrow();
    expect(() => fileExporterConfigSchema.parse({ path: 'x', rotation: { max_size: 1 } })).toThrow();
    expect(fileExporterFactory.create(settings(), c)).toBeInstanceOf(FileExporter);
  });
});

describe('FileExporter', () => {
  it('writes one OTLP/JSON line per batch that decodes back field for field', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'a', 'b', 'logs.jsonl'); // parents are created
    const ex = await exporter({ path: file });
    const rec = record(7, {
      body: anyValueFrom({ k: 'v', n: 3 }),
      attributes: [{ key: 'big', value: { intValue: Long.fromString('9007199254740993') } }, { key: 'bytes', value: { bytesValue: new Uint8Array([1, 2, 255]) } }],
      eventName: 'evt',
    });
    const b1 = batchOf([rec, record(8, { traceId: new Uint8Array(0), spanId: new Uint8Array(0), timeUnixNano: Long.UZERO })]);
    await ex.send(b1, signal);
    await ex.send(batchOf([record(9)]), signal);
    await ex.shutdown();

    const ls = await lines(file);
    expect(ls).toHaveLength(2);
    expect(ls[0]).toBe(encodeResourceLogsArrayJson(b1.resourceLogs));
    const decoded = decodeExportRequestJson(ls[0]!);
    const rl = decoded.resourceLogs[0]!;
    expect(rl.schemaUrl).toBe('https://opentelemetry.io/schemas/1.21.0');
    expect(rl.resource!.attributes).toEqual([{ key: 'service.name', value: { stringValue: 'checkout' } }]);
    expect(rl.scopeLogs[0]!.scope).toMatchObject({ name: 'app', version: '1.0.0' });
    const [r1, r2] = rl.scopeLogs[0]!.logRecords;
    expect(nanosToDecimal(r1!.timeUnixNano)).toBe('1705314600123456789');
    expect(nanosToDecimal(r1!.observedTimeUnixNano)).toBe('1705314600223456789');
    expect(r1!.severityNumber).toBe(9);
    expect(r1!.severityText).toBe('INFO');
    expect(r1!.flags).toBe(1);
    expect(r1!.eventName).toBe('evt');
    expect(idToHex(r1!.traceId)).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(idToHex(r1!.spanId)).toBe('1112131415161718');
    expect(r1!.body!.kvlistValue!.values.map((kv) => kv.key)).toEqual(['k', 'n']);
    expect(String(r1!.attributes[0]!.value!.intValue)).toBe('9007199254740993');
    expect([...r1!.attributes[1]!.value!.bytesValue!]).toEqual([1, 2, 255]);
    expect(r2!.traceId.length).toBe(0);
    expect(nanosToDecimal(r2!.timeUnixNano)).toBe('0');
    expect(r2!.body!.stringValue).toBe('message 8 "quoted" \u00e9\n');
    // Re-encoding the decoded tree gives the same bytes: nothing was lost.
    expect(encodeResourceLogsArrayJson(decoded.resourceLogs)).toBe(ls[0]);
    expect(decodeExportRequestJson(ls[1]!).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body!.stringValue).toContain('message 9');
  });

  it('lands many concurrent sends whole, never interleaved, in one line each', async () => {
    const file = path.join(await tempDir(), 'logs.jsonl');
    const ex = await exporter({ path: file });
    const n = 400;
    await Promise.all(Array.from({ length: n }, (_, i) => ex.send(batchOf([record(i), record(i)]), signal)));
    await ex.shutdown();
    const ls = await lines(file);
    expect(ls).toHaveLength(n);
    const seen = new Set<string>();
    for (const l of ls) {
      const recs = decodeExportRequestJson(l).resourceLogs[0]!.scopeLogs[0]!.logRecords;
      expect(recs).toHaveLength(2);
      seen.add(recs[0]!.body!.stringValue!);
    }
    expect(seen.size).toBe(n);
  });

  it('acknowledged sends are in the file; shutdown writes what is pending', async () => {
    const file = path.join(await tempDir(), 'logs.jsonl');
    const ex = await exporter({ path: file, flush_interval: '1h' });
    await ex.send(batchOf([record(1)]), signal);
    expect(await lines(file)).toHaveLength(1); // visible before any fsync or shutdown
    const sends = Array.from({ length: 50 }, (_, i) => ex.send(batchOf([record(i)]), signal));
    await ex.shutdown();
    await Promise.all(sends);
    expect(await lines(file)).toHaveLength(51);
    await expect(ex.send(batchOf([record(1)]), signal)).rejects.toBeInstanceOf(RetryableError);
  });

  it('append: false truncates at start, append: true keeps existing content', async () => {
    const file = path.join(await tempDir(), 'logs.jsonl');
    await fs.writeFile(file, 'old line\n');
    const a = await exporter({ path: file, append: true });
    await a.send(batchOf([record(1)]), signal);
    await a.shutdown();
    const kept = await lines(file);
    expect(kept).toHaveLength(2);
    expect(kept[0]).toBe('old line');

    const b = await exporter({ path: file });
    await b.send(batchOf([record(2)]), signal);
    await b.shutdown();
    const after = await lines(file);
    expect(after).toHaveLength(1);
    expect(after[0]).toContain('message 2');
  });

  it('append after a crash tore the last line: the next line starts on a line of its own', async () => {
    const file = path.join(await tempDir(), 'logs.jsonl');
    await fs.writeFile(file, '{"resourceLogs":[{"resou');
    const a = await exporter({ path: file, append: true });
    await a.send(batchOf([record(3)]), signal);
    await a.shutdown();
    const got = await lines(file);
    expect(got).toHaveLength(2);
    expect(got[0]).toBe('{"resourceLogs":[{"resou');
    expect((JSON.parse(got[1]!) as { resourceLogs: unknown[] }).resourceLogs).toHaveLength(1);
  });

  it('rotates by size, names backups <name>-<time>.<ext>, keeps max_backups', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'logs.jsonl');
    const lineLen = Buffer.byteLength(encodeResourceLogsArrayJson(batchOf([record(0)]).resourceLogs)) + 1;
    // Room for 3 lines per file.
    const maxBytes = lineLen * 3 + 10;
    const ex = await exporter({ path: file, rotation: { max_megabytes: maxBytes / (1024 * 1024), max_backups: 2 } });
    for (let i = 0; i < 12; i++) await ex.send(batchOf([record(i)]), signal);
    await ex.writer.backgroundIdle();
    await ex.shutdown();
    const names = (await fs.readdir(dir)).sort();
    const backups = names.filter((n) => n !== 'logs.jsonl');
    expect(backups).toHaveLength(2);
    for (const b of backups) expect(b).toMatch(/^logs-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.jsonl$/);
    // The current file holds the newest 3 lines, the newest backups the 6 before.
    const current = await lines(file);
    expect(current.map((l) => /message (\d+)/.exec(l)![1])).toEqual(['9', '10', '11']);
    const backupLines = (await Promise.all(backups.map((b) => lines(path.join(dir, b))))).flat();
    expect(backupLines.map((l) => Number(/message (\d+)/.exec(l)![1])).sort((x, y) => x - y)).toEqual([3, 4, 5, 6, 7, 8]);
    for (const l of [...current, ...backupLines]) expect(() => decodeExportRequestJson(l)).not.toThrow();
    const size = (await fs.stat(file)).size;
    expect(size).toBeLessThanOrEqual(maxBytes);
  });

  it('gzips rotated backups, which decompress to the original lines', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'logs.jsonl');
    const written: string[] = [];
    const lineLen = Buffer.byteLength(encodeResourceLogsArrayJson(batchOf([record(0)]).resourceLogs)) + 1;
    const ex = await exporter({ path: file, compress: 'gzip', rotation: { max_megabytes: (lineLen * 2) / (1024 * 1024) } });
    for (let i = 0; i < 6; i++) {
      const b = batchOf([record(i)]);
      written.push(encodeResourceLogsArrayJson(b.resourceLogs));
      await ex.send(b, signal);
    }
    await ex.shutdown(); // waits for background compression
    const names = (await fs.readdir(dir)).sort();
    const gz = names.filter((n) => n.endsWith('.jsonl.gz'));
    expect(gz).toHaveLength(2);
    expect(names.filter((n) => n !== 'logs.jsonl' && !n.endsWith('.gz'))).toEqual([]);
    const restored: string[] = [];
    for (const g of gz) restored.push(...gunzipSync(await fs.readFile(path.join(dir, g))).toString('utf8').trimEnd().split('\n'));
    restored.push(...(await lines(file)));
    expect(restored).toEqual(written);
  });

  it('daily: rotates when the date changes (injected clock)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'logs.jsonl');
    let now = Date.UTC(2024, 0, 15, 23, 59, 0);
    const ex = await exporter({ path: file, rotation: { daily: true } }, () => now);
    await ex.send(batchOf([record(1)]), signal);
    await ex.send(batchOf([record(2)]), signal);
    now = Date.UTC(2024, 0, 16, 0, 1, 0);
    await ex.send(batchOf([record(3)]), signal);
    await ex.shutdown();
    const backups = (await fs.readdir(dir)).filter((n) => n !== 'logs.jsonl');
    expect(backups).toEqual(['logs-2024-01-16T00-01-00.000.jsonl']);
    expect((await lines(path.join(dir, backups[0]!))).map((l) => /message (\d)/.exec(l)![1])).toEqual(['1', '2']);
    expect((await lines(file)).map((l) => /message (\d)/.exec(l)![1])).toEqual(['3']);
  });

  it('deletes backups older than max_days', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'logs.jsonl');
    await fs.writeFile(path.join(dir, 'logs-2020-01-01T00-00-00.000.jsonl'), 'x\n');
    await fs.writeFile(path.join(dir, 'logs-2020-01-02T00-00-00.000.jsonl.gz'), 'x');
    await fs.writeFile(path.join(dir, 'unrelated-2020-01-01T00-00-00.000.jsonl'), 'x\n');
    const fresh = `logs-${new Date(Date.now() - 3600_000).toISOString().slice(0, 23).replace(/:/g, '-')}.jsonl`;
    await fs.writeFile(path.join(dir, fresh), 'x\n');
    const ex = await exporter({ path: file, rotation: { max_days: 7 } });
    await ex.writer.backgroundIdle();
    await ex.shutdown();
    expect((await fs.readdir(dir)).sort()).toEqual(['logs.jsonl', fresh, 'unrelated-2020-01-01T00-00-00.000.jsonl'].sort());
  });

  it('an unwritable path gives a clear error: at start, and RetryableError on send', async () => {
    const dir = await tempDir();
    const blocker = path.join(dir, 'not-a-dir');
    await fs.writeFile(blocker, '');
    const file = path.join(blocker, 'logs.jsonl');
    const config = fileExporterConfigSchema.parse({ path: file });
    await expect(new FileExporter(settings(), config).start()).rejects.toThrow(/exporter file: open .*not-a-dir\/logs\.jsonl failed: (ENOTDIR|EEXIST)/);
    const ex = new FileExporter(settings(), config);
    const err = await ex.send(batchOf([record(1)]), signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/ENOTDIR|EEXIST/);
  });

  it.runIf(process.platform === 'linux')('a full disk (ENOSPC on /dev/full) is a RetryableError naming the path and code', async () => {
    const ex = await exporter({ path: '/dev/full', append: true });
    const err = await ex.send(batchOf([record(1)]), signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(/\/dev\/full failed: ENOSPC/);
    await ex.shutdown().catch(() => {});
  });

  it('works behind the exporter helper (queue, workers) end to end', async () => {
    const file = path.join(await tempDir(), 'logs.jsonl');
    const s = settings();
    const config = fileExporterConfigSchema.parse({ path: file, sending_queue: { num_consumers: 4 } });
    const ex = new QueuedRetryExporter(s, config, fileExporterFactory.create(s, config));
    await ex.start({ telemetry: s.telemetry, logger: silentLogger } as unknown as Host);
    for (let i = 0; i < 100; i++) await ex.consume(batchOf([record(i), record(i), record(i)]));
    await ex.shutdown();
    expect(await lines(file)).toHaveLength(100);
    expect((s.telemetry.find(MetricNames.exporterSent) as Counter).total({ exporter: 'file' })).toBe(300);
  });
});
