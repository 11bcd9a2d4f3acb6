import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Extension } from '../../component.js';
import { ThrottledError } from '../../errors.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { attr, RecordingConsumer, testHost, testSettings } from '../common/test-support.js';
import { filelogConfigSchema } from './config.js';
import { FilelogReceiver } from './receiver.js';

const dirs: string[] = [];
const running: FilelogReceiver[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.shutdown();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'filelog-'));
  dirs.push(d);
  return d;
}

async function start(cfg: Record<string, unknown>, storageDir?: string, telemetry = new Telemetry()) {
  const consumer = new RecordingConsumer();
  const config = filelogConfigSchema.parse({ poll_interval: '20ms', start_at: 'beginning', ...cfg });
  const r = new FilelogReceiver(testSettings('filelog', telemetry), config, consumer);
  const ext: Record<string, Extension> = storageDir ? { file_storage: { directory: storageDir, start: async () => undefined, shutdown: async () => undefined } as Extension } : {};
  await r.start(testHost(ext, telemetry));
  running.push(r);
  return { consumer, r, telemetry };
}

async function stop(r: FilelogReceiver): Promise<void> {
  running.splice(running.indexOf(r), 1);
  await r.shutdown();
}

const lines = (prefix: string, from: number, to: number): string => {
  let s = '';
  for (let i = from; i < to; i++) s += `${prefix} line ${i}\n`;
  return s;
};

describe('filelog receiver', () => {
  it('reads lines with file attributes and waits for an unterminated line (force_flush_period)', async () => {
    const d = tmp();
    const f = path.join(d, 'a.log');
    fs.writeFileSync(f, 'one\r\ntwo\n  three  \npartial');
    const { consumer } = await start({ include: [path.join(d, '*.log')], include_file_path: true, force_flush_period: '300ms' });
    await consumer.until(() => consumer.records().length >= 3, '3 lines');
    expect(consumer.bodies()).toEqual(['one', 'two', 'three']);
    const r0 = consumer.records()[0]!;
    expect(attr(r0, 'log.file.name')).toBe('a.log');
    expect(attr(r0, 'log.file.path')).toBe(f);
    await consumer.until(() => consumer.records().length >= 4, 'force-flushed partial line');
    expect(consumer.bodies()[3]).toBe('partial');
    fs.appendFileSync(f, '\nnext\n');
    await consumer.until(() => consumer.records().length >= 5, 'line after partial');
    expect(consumer.bodies().slice(3)).toEqual(['partial', 'next']);
  });

  it('start_at end skips what files held at start but reads files created later from their start', async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'old.log'), 'old1\nold2\n');
    const { consumer } = await start({ include: [path.join(d, '*.log')], start_at: 'end' });
    await new Promise((r) => setTimeout(r, 100));
    fs.appendFileSync(path.join(d, 'old.log'), 'old3\n');
    fs.writeFileSync(path.join(d, 'new.log'), 'new1\n');
    await consumer.until(() => consumer.records().length >= 2, '2 lines');
    expect(consumer.bodies().sort()).toEqual(['new1', 'old3']);
  });

  it('follows rotation by rename, copytruncate and compression without loss or duplicates', async () => {
    const d = tmp();
    const f = path.join(d, 'app.log');
    fs.writeFileSync(f, lines('a', 0, 50));
    const { consumer } = await start({ include: [path.join(d, 'app.log*')], compression: 'auto' });
    await consumer.until(() => consumer.records().length >= 50, 'first 50');
    // rename: the tail written before the rename is read from the renamed file
    fs.appendFileSync(f, lines('a', 50, 60));
    fs.renameSync(f, `${f}.1`);
    fs.writeFileSync(f, lines('b', 0, 10));
    await consumer.until(() => consumer.records().length >= 70, 'after rename');
    // copytruncate: copy + truncate in one go, with unread lines in the copy only
    fs.appendFileSync(f, lines('b', 10, 20));
    fs.copyFileSync(f, `${f}.2`);
    fs.truncateSync(f, 0);
    fs.appendFileSync(f, lines('c', 0, 5));
    await consumer.until(() => consumer.records().length >= 85, 'after copytruncate');
    // compression of the renamed file (its lines were all read): nothing again
    fs.writeFileSync(`${f}.1.gz`, gzipSync(fs.readFileSync(`${f}.1`)));
    fs.rmSync(`${f}.1`);
    fs.appendFileSync(f, lines('c', 5, 6));
    await consumer.until(() => consumer.records().length >= 86, 'after compress');
    await new Promise((r) => setTimeout(r, 200));
    const got = consumer.bodies();
    const want = (lines('a', 0, 60) + lines('b', 0, 20) + lines('c', 0, 6)).trim().split('\n');
    expect([...got].sort()).toEqual([...want].sort());
  });

  it('resumes from the checkpoint and reads a file rotated (and compressed) while stopped to its end', async () => {
    const d = tmp();
    const store = path.join(d, 'store');
    const f = path.join(d, 'app.log');
    fs.writeFileSync(f, lines('x', 0, 30));
    const first = await start({ include: [path.join(d, 'app.log*')], compression: 'auto', start_at: 'end' }, store);
    await first.consumer.until(() => fs.existsSync(path.join(store, 'receivers', 'filelog.json')), 'first poll done');
    fs.appendFileSync(f, lines('x', 30, 40));
    await first.consumer.until(() => first.consumer.records().length >= 10, '10 lines');
    await stop(first.r);
    // while down: more lines, then rotated and compressed, and a new file
    fs.appendFileSync(f, lines('x', 40, 55));
    fs.writeFileSync(`${f}.1.gz`, gzipSync(fs.readFileSync(f)));
    fs.rmSync(f);
    fs.writeFileSync(f, lines('y', 0, 5));
    const second = await start({ include: [path.join(d, 'app.log*')], compression: 'auto', start_at: 'end' }, store);
    await second.consumer.until(() => second.consumer.records().length >= 20, '20 lines');
    await new Promise((r) => setTimeout(r, 200));
    expect(first.consumer.bodies()).toEqual(lines('x', 30, 40).trim().split('\n'));
    expect([...second.consumer.bodies()].sort()).toEqual([...(lines('x', 40, 55) + lines('y', 0, 5)).trim().split('\n')].sort());
  });


  it('a rotated copy and its .gz (gzip still running) found in one poll are read as one file', async () => {
    const d = tmp();
    const store = path.join(d, 'store');
    const f = path.join(d, 'app.log');
    const cfg = { include: [path.join(d, 'app.log*')], compression: 'auto' };
    fs.writeFileSync(f, lines('z', 0, 30));
    const first = await start(cfg, store);
    await first.consumer.until(() => first.consumer.records().length >= 30, '30 lines');
    await stop(first.r);
    // While down: more lines, rotated to a copy (new inode), gzip has written the .gz but not yet removed the copy.
    fs.appendFileSync(f, lines('z', 30, 50));
    const data = fs.readFileSync(f);
    fs.writeFileSync(`${f}.1`, data);
    fs.writeFileSync(`${f}.1.gz`, gzipSync(data));
    fs.rmSync(f);
    const second = await start(cfg, store);
    await second.consumer.until(() => second.consumer.records().length >= 20, '20 lines');
    fs.rmSync(`${f}.1`); // gzip done
    // Sentinels in a new file, read in later polls than the ones that saw the copy go.
    fs.writeFileSync(f, 'end 1\n');
    await second.consumer.until(() => second.consumer.bodies().includes('end 1'), 'first sentinel');
    fs.appendFileSync(f, 'end 2\n');
    await second.consumer.until(() => second.consumer.bodies().includes('end 2'), 'second sentinel');
    expect(second.consumer.bodies()).toEqual([...lines('z', 30, 50).trim().split('\n'), 'end 1', 'end 2']);
  });
  it('splits or truncates entries over max_log_size and counts them; counts invalid UTF-8', async () => {
    const d = tmp();
    const long = 'z'.repeat(250);
    fs.writeFileSync(path.join(d, 's.log'), `short\n${long}\nafter\n`);
    fs.writeFileSync(path.join(d, 'u.log'), Buffer.concat([Buffer.from('bad '), Buffer.from([0xff, 0xfe]), Buffer.from(' bytes\n')]));
    const split = await start({ include: [path.join(d, 's.log'), path.join(d, 'u.log')], max_log_size: 100 });
    await split.consumer.until(() => split.consumer.records().length >= 6, 'split pieces');
    expect(split.consumer.bodies().filter((b) => b.startsWith('z')).map((b) => b.length)).toEqual([100, 100, 50]);
    expect(split.consumer.bodies()).toContain('bad \uFFFD\uFFFD bytes');
    const t = split.telemetry;
    expect(t.counter('tributary_filelog_oversize_entries_total', '').total()).toBe(1);
    expect(t.counter('tributary_filelog_invalid_encoding_entries_total', '').total()).toBe(1);
    const trunc = await start({ include: [path.join(d, 's.log')], max_log_size: 100, max_log_size_behavior: 'truncate' });
    await trunc.consumer.until(() => trunc.consumer.records().length >= 3, 'truncated');
    expect(trunc.consumer.bodies()).toEqual(['short', 'z'.repeat(100), 'after']);
  });

  it('joins multiline entries by line_start_pattern and line_end_pattern', async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'm.log'), '2024-01-01 start one\n  at a\n  at b\n2024-01-02 two\n2024-01-03 three\n');
    const { consumer } = await start({ include: [path.join(d, 'm.log')], multiline: { line_start_pattern: '^\\d{4}-' }, force_flush_period: '100ms' });
    await consumer.until(() => consumer.records().length >= 3, '3 entries');
    expect(consumer.bodies()).toEqual(['2024-01-01 start one\n  at a\n  at b', '2024-01-02 two', '2024-01-03 three']);
    fs.writeFileSync(path.join(d, 'e.log'), 'a\nb;\nc;\n');
    const end = await start({ include: [path.join(d, 'e.log')], multiline: { line_end_pattern: ';$' } });
    await end.consumer.until(() => end.consumer.records().length >= 2, '2 entries');
    expect(end.consumer.bodies()).toEqual(['a\nb;', 'c;']);
  });

  it('waits when the pipeline pushes back and loses nothing', async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'p.log'), lines('p', 0, 100));
    let failures = 3;
    const consumer = new RecordingConsumer();
    consumer.fail = () => (failures-- > 0 ? new ThrottledError('full', { retryAfterMs: 20 }) : undefined);
    const telemetry = new Telemetry();
    const r = new FilelogReceiver(testSettings('filelog', telemetry), filelogConfigSchema.parse({ include: [path.join(d, '*.log')], start_at: 'beginning', poll_interval: '20ms' }), consumer);
    await r.start(testHost({}, telemetry));
    running.push(r);
    await consumer.until(() => consumer.records().length >= 100, '100 lines');
    expect(consumer.bodies()).toEqual(lines('p', 0, 100).trim().split('\n'));
    expect(telemetry.counter('tributary_receiver_pushback_total', '').total()).toBe(3);
  });

  it('reads 10,000 files matched by one glob exactly once with few handles (max_concurrent_files)', async () => {
    const d = tmp();
    const N = 10_000;
    for (let i = 0; i < N; i++) fs.writeFileSync(path.join(d, `f${i}.log`), `file ${i} a\nfile ${i} b\n`);
    const { consumer, telemetry } = await start({ include: [path.join(d, '*.log')], max_concurrent_files: 256 });
    await consumer.until(() => consumer.records().length >= 2 * N, `${2 * N} lines`, 90_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(new Set(consumer.bodies()).size).toBe(2 * N);
    expect(consumer.records().length).toBe(2 * N);
    expect(telemetry.gauge('tributary_filelog_files_open', '').sum()).toBeLessThanOrEqual(256);
  }, 120_000);

  it('a file deleted while open is read to its end; a directory matching the glob is ignored', async () => {
    const d = tmp();
    const f = path.join(d, 'gone.log');
    fs.writeFileSync(f, lines('g', 0, 5));
    fs.mkdirSync(path.join(d, 'dir.log')); // matches the glob but is not a file
    const { consumer } = await start({ include: [path.join(d, '*.log')] });
    await consumer.until(() => consumer.records().length >= 5, 'first lines');
    fs.appendFileSync(f, lines('g', 5, 9));
    fs.unlinkSync(f);
    await consumer.until(() => consumer.records().length >= 9, 'lines written just before the delete');
    expect(consumer.bodies()).toEqual(lines('g', 0, 9).trim().split('\n'));
  });

  it('deletes files after reading them with delete_after_read', async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'del.log'), 'gone\n');
    const { consumer } = await start({ include: [path.join(d, '*.log')], delete_after_read: true });
    await consumer.until(() => consumer.records().length >= 1 && !fs.existsSync(path.join(d, 'del.log')), 'deleted');
    expect(consumer.bodies()).toEqual(['gone']);
  });

  it('rejects bad config with the key path', () => {
    expect(() => filelogConfigSchema.parse({ include: [] })).toThrow(/at least one glob/);
    expect(() => filelogConfigSchema.parse({ include: ['x'], delete_after_read: true })).toThrow(/start_at: beginning/);
    expect(() => filelogConfigSchema.parse({ include: ['x'], multiline: { line_start_pattern: '(' } })).toThrow(/invalid regular expression/);
  });
});
