import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { anyValueFrom, idFromHex, keyValuesFrom, nanosFromDecimal, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { parseQuery, compileMatcher, QueryParseError } from '../../query/index.js';
import { flattenBatch } from './encode.js';
import { runMaintenance } from './maintenance.js';
import Database from 'better-sqlite3';
import { PermanentError, RetryableError } from '../../errors.js';
import { QueryTooExpensiveError, StoreReader, TenantAccessError } from './reader.js';
import { classifyStoreError } from './store-exporter.js';
import { StoreWriter } from './writer.js';

const DAY = '2026-12-03';
const T0 = Date.parse(`${DAY}T10:00:00Z`);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'store-test-'));
  dirs.push(d);
  return d;
}

function rec(id: number, o: { body?: unknown; sev?: number; attrs?: Record<string, unknown>; msOffset?: number; trace?: string }): LogRecord {
  const ms = T0 + (o.msOffset ?? id * 1000);
  return {
    timeUnixNano: nanosFromDecimal(`${ms}${String(id % 1000).padStart(3, "0")}000`),
    observedTimeUnixNano: nanosFromDecimal(`${ms + 5}000000`),
    severityNumber: o.sev ?? 9,
    severityText: o.sev === 17 ? 'ERROR' : 'INFO',
    body: anyValueFrom(o.body ?? `record ${id}`),
    attributes: keyValuesFrom({ rid: id, ...o.attrs }),
    droppedAttributesCount: 0,
    flags: 1,
    traceId: o.trace ? idFromHex(o.trace, 16) : new Uint8Array(0),
    spanId: new Uint8Array(0),
    eventName: '',
  };
}

function tree(service: string, records: LogRecord[], project?: string): ResourceLogs {
  return {
    resource: { attributes: keyValuesFrom({ 'service.name': service, ...(project ? { 'project.id': project } : {}) }), droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeLogs: [{ scope: { name: 'pino', version: '9', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records }],
  };
}

const RULE = { key: 'project.id', fallback: 'default' };
const ALL = { all: true } as const;

function open(dir: string): { writer: StoreWriter; reader: StoreReader } {
  return {
    writer: new StoreWriter({ directory: dir, tokenizer: 'unicode61', synchronous: 'normal', maxOpenFiles: 4, defaultDays: 7 }),
    reader: new StoreReader({ directory: dir, tokenizer: 'unicode61', maxQueryTimeMs: 10_000, maxRows: 10_000_000, maxRangeMs: 31 * 86_400_000 }),
  };
}

/** The known corpus: ids are the `rid` attribute. */
function corpus(): ResourceLogs[] {
  return [
    tree('checkout', [
      rec(1, { body: 'Payment accepted for order 42', attrs: { 'http.status_code': 200 } }),
      rec(2, { body: 'Payment declined: card expired', sev: 17, attrs: { 'http.status_code': 502, user: 'ann' } }),
      rec(3, { body: 'timeout calling payments', sev: 13, attrs: { 'http.status_code': 504, correlation_id: 'c-1' } }),
      rec(4, { body: { msg: 'structured', n: 1 }, attrs: { 'http.route': '/api/v1/orders/:id' } }),
    ]),
    tree('payments', [
      rec(5, { body: 'card expired for user bob', sev: 17, attrs: { user: 'bob' }, trace: '0123456789abcdef0123456789abcdef' }),
      rec(6, { body: 'Hello world', attrs: { note: 'hello there', 'retention.class': 'audit', 'retention.days': -1 } }),
      rec(7, { body: 'GET /health 200', sev: 5 }),
    ]),
  ];
}

function ids(reader: StoreReader, q: string, extra: { dir?: 'forward' | 'backward'; limit?: number } = {}): number[] {
  const r = reader.query({ node: parseQuery(q), startMs: T0 - 3600_000, endMs: T0 + 3600_000, limit: extra.limit ?? 100, direction: extra.dir ?? 'forward' }, ALL);
  return r.records.map((x) => x.attributes.rid as number);
}

describe('store: write, read back, query', () => {
  it('every field round-trips through the store', () => {
    const { writer, reader } = open(tmp());
    const original = corpus();
    writer.write(flattenBatch(original, RULE, Date.now()));
    const back = reader.queryOtlp({ node: parseQuery(''), startMs: T0 - 3600_000, endMs: T0 + 3600_000, limit: 100, direction: 'forward' }, ALL);
    expect(back).toHaveLength(7);
    const byId = new Map(back.map((b) => [b.record.attributes.find((a) => a.key === 'rid')!.value!.intValue, b]));
    for (const rl of original) {
      for (const lr of rl.scopeLogs[0]!.logRecords) {
        const got = byId.get(lr.attributes[0]!.value!.intValue!)!;
        expect(got.record.timeUnixNano.toString()).toBe(lr.timeUnixNano.toString());
        expect(got.record.observedTimeUnixNano.toString()).toBe(lr.observedTimeUnixNano.toString());
        expect(got.record.severityNumber).toBe(lr.severityNumber);
        expect(got.record.severityText).toBe(lr.severityText);
        expect(got.record.body).toEqual(lr.body);
        expect(got.record.flags).toBe(1);
        expect(Buffer.from(got.record.traceId).toString('hex')).toBe(Buffer.from(lr.traceId).toString('hex'));
        const sortKv = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : 1);
        expect([...got.record.attributes].sort(sortKv)).toEqual([...lr.attributes].sort(sortKv));
        expect(got.resource.attributes).toEqual(rl.resource!.attributes);
        expect(got.scope.name).toBe('pino');
      }
    }
  });

  it('typed values that JSON alone would lose come back with their type', () => {
    const { writer, reader } = open(tmp());
    const r = rec(1, { attrs: {} });
    r.attributes.push({ key: 'dbl', value: { doubleValue: 2 } }, { key: 'big', value: anyValueFrom(2n ** 62n) }, { key: 'raw', value: { bytesValue: new Uint8Array([1, 2, 3]) } });
    r.attributes.push({ key: 'nested', value: { kvlistValue: { values: [{ key: 'd', value: { doubleValue: 3 } }, { key: 'a', value: { arrayValue: { values: [{ intValue: 1 }, { stringValue: 'x' }] } } }] } } });
    writer.write(flattenBatch([tree('s', [r])], RULE, Date.now()));
    const [got] = reader.queryOtlp({ node: parseQuery(''), startMs: T0 - 3600_000, endMs: T0 + 3600_000, limit: 10, direction: 'forward' }, ALL);
    const attr = (k: string) => got!.record.attributes.find((a) => a.key === k)!.value;
    expect(attr('dbl')).toEqual({ doubleValue: 2 });
    expect(String(attr('big')!.intValue)).toBe(String(2n ** 62n));
    expect(attr('raw')).toEqual({ bytesValue: new Uint8Array([1, 2, 3]) });
    expect(attr('nested')).toEqual(r.attributes.find((a) => a.key === 'nested')!.value);
  });

  const table: [string, number[]][] = [
    ['', [1, 2, 3, 4, 5, 6, 7]],
    ['payment', [1, 2]],
    ['Payment', [1, 2]],
    ['"card expired"', [2, 5]],
    ['"expired card"', []],
    ['card expired', [2, 5]],
    ['hello', [6]],
    ['body:hello', [6]],
    ['service:checkout', [1, 2, 3, 4]],
    ['service:payments AND severity>=warn', [5]],
    ['severity>=warn', [2, 3, 5]],
    ['severity:error', [2, 5]],
    ['severity<info', [7]],
    ['level:warn OR level:debug', [3, 7]],
    ['attributes.http.status_code:>=500', [2, 3]],
    ['attributes.http.status_code>=500 NOT timeout', [2]],
    ['http.status_code:200', [1]],
    ['user:bob', [5]],
    ['user:/^a/', [2]],
    ['body:/^GET /', [7]],
    ['-service:checkout', [5, 6, 7]],
    ['NOT (payment OR card)', [3, 4, 6, 7]],
    ['correlation_id:c-1', [3]],
    ['trace_id:0123456789ABCDEF0123456789abcdef', [5]],
    ['retention.class:audit', [6]],
    ['retention_days:-1', [6]],
    ['structured', [4]],
    ['attributes.http.route:"/api/v1/orders/:id"', [4]],
    ['user:*', [2, 5]],
    ['(service:checkout OR service:payments) expired', [2, 5]],
  ];

  it.each(table)('query %j returns exactly %j (store and matcher agree)', (q, expected) => {
    const { writer, reader } = open(tmp());
    const data = corpus();
    writer.write(flattenBatch(data, RULE, Date.now()));
    expect(ids(reader, q)).toEqual(expected);
    const m = compileMatcher(parseQuery(q));
    const matched: number[] = [];
    for (const rl of data) for (const lr of rl.scopeLogs[0]!.logRecords) if (m.matches(rl.resource, rl.scopeLogs[0]!.scope, lr)) matched.push(lr.attributes[0]!.value!.intValue as number);
    expect(matched).toEqual(expected);
  });

  it('tokenizer trigram: words match substrings (3+ characters), shorter ones fall back to a scan; matcher agrees', () => {
    const dir = tmp();
    const writer = new StoreWriter({ directory: dir, tokenizer: 'trigram', synchronous: 'normal', maxOpenFiles: 4, defaultDays: 7 });
    const reader = new StoreReader({ directory: dir, tokenizer: 'trigram', maxQueryTimeMs: 10_000, maxRows: 1_000_000, maxRangeMs: 31 * 86_400_000 });
    const data = corpus();
    writer.write(flattenBatch(data, RULE, Date.now()));
    for (const [q, expected] of [['xpire', [2, 5]], ['PAYMENT', [1, 2, 3]], ['ll', [3, 6]], ['service:payments orl', [6]]] as const) {
      expect(ids(reader, q), q).toEqual(expected);
      const m = compileMatcher(parseQuery(q), 'trigram');
      const got: number[] = [];
      for (const rl of data) for (const lr of rl.scopeLogs[0]!.logRecords) if (m.matches(rl.resource, rl.scopeLogs[0]!.scope, lr)) got.push(lr.attributes[0]!.value!.intValue as number);
      expect(got, q).toEqual(expected);
    }
  });

  it('pages backward with a cursor, newest first, with no record twice', () => {
    const { writer, reader } = open(tmp());
    writer.write(flattenBatch(corpus(), RULE, Date.now()));
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const r = reader.query({ node: parseQuery(''), startMs: T0 - 3600_000, endMs: T0 + 3600_000, limit: 3, direction: 'backward', cursor }, ALL);
      seen.push(...r.records.map((x) => x.attributes.rid as number));
      cursor = r.cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  it('with max_open_files 1 and synchronous full, writes across several days still all land', () => {
    const dir = tmp();
    const writer = new StoreWriter({ directory: dir, tokenizer: 'unicode61', synchronous: 'full', maxOpenFiles: 1, defaultDays: 7 });
    for (let d = 0; d < 3; d++) writer.write(flattenBatch([tree('s', [rec(d, { msOffset: d * 86_400_000 }), rec(d + 10, { msOffset: d * 86_400_000 + 1 })])], RULE, Date.now()));
    writer.write(flattenBatch([tree('s', [rec(20, {})])], RULE, Date.now()));
    const r = open(dir).reader.query({ node: parseQuery(''), startMs: T0 - 3600_000, endMs: T0 + 3 * 86_400_000, limit: 100, direction: 'forward' }, ALL);
    expect(r.records.map((x) => x.attributes.rid)).toEqual([0, 10, 20, 1, 11, 2, 12]);
  });

  it('records in the same microsecond keep distinct ids', () => {
    const { writer, reader } = open(tmp());
    const same = Array.from({ length: 3000 }, () => rec(7, { msOffset: 0 }));
    writer.write(flattenBatch([tree('s', same)], RULE, Date.now()));
    writer.write(flattenBatch([tree('s', same)], RULE, Date.now()));
    const r = reader.query({ node: parseQuery(''), startMs: T0 - 1000, endMs: T0 + 1000, limit: 10_000, direction: 'forward' }, ALL);
    expect(r.records).toHaveLength(6000);
    expect(new Set(r.records.map((x) => x.id)).size).toBe(6000);
  });

  it('splits files by tenant and UTC day and confines reads to the allowed tenants', () => {
    const dir = tmp();
    const { writer, reader } = open(dir);
    writer.write(flattenBatch([tree('a', [rec(1, {})], 'acme'), tree('b', [rec(2, {}), rec(3, { msOffset: 86_400_000 })], 'globex')], RULE, Date.now()));
    expect(fs.readdirSync(path.join(dir, 'acme')).filter((f) => f.endsWith('.db'))).toEqual([`${DAY}.db`]);
    expect(fs.readdirSync(path.join(dir, 'globex')).filter((f) => f.endsWith('.db')).sort()).toEqual([`${DAY}.db`, '2026-12-04.db']);
    const q = (access: { tenants: string[] }, tenants?: string[]) => reader.query({ node: parseQuery(''), startMs: T0 - 3600_000, endMs: T0 + 2 * 86_400_000, limit: 100, direction: 'forward', tenants }, access).records.map((r) => `${r.tenant}:${String(r.attributes.rid)}`);
    expect(q({ tenants: ['acme'] })).toEqual(['acme:1']);
    expect(q({ tenants: ['globex'] })).toEqual(['globex:2', 'globex:3']);
    expect(() => q({ tenants: ['acme'] }, ['globex'])).toThrow(TenantAccessError);
    expect(reader.histogram({ node: parseQuery(''), startMs: T0 - 60_000, endMs: T0 + 60_000, stepMs: 60_000 }, { tenants: ['acme'] }).buckets.reduce((n, b) => n + (b.counts.info ?? 0), 0)).toBe(1);
    expect(reader.fieldValues({ field: 'service', startMs: T0 - 3600_000, endMs: T0 + 3600_000, limit: 10 }, { tenants: ['acme'] })).toEqual([{ value: 'a', count: 1 }]);
  });

  it('answers histograms from the rollup when it can, from rows otherwise, with the same counts', () => {
    const { writer, reader } = open(tmp());
    writer.write(flattenBatch(corpus(), RULE, Date.now()));
    const h = (q: string) => reader.histogram({ node: parseQuery(q), startMs: T0 - 60_000, endMs: T0 + 600_000, stepMs: 60_000 }, ALL);
    const a = h('service:checkout');
    expect(a.source).toBe('rollup');
    expect(a.buckets.find((b) => b.start === T0)!.counts).toEqual({ info: 2, error: 1, warn: 1 });
    const b = h('service:checkout 1');
    expect(b.source).toBe('rows');
  });

  it('refuses absurd ranges and names the problem', () => {
    const { reader } = open(tmp());
    expect(() => reader.query({ node: parseQuery(''), startMs: 0, endMs: Date.now(), limit: 10, direction: 'forward' }, ALL)).toThrow(/longer than the allowed/);
    expect(() => reader.query({ node: parseQuery(''), startMs: 10, endMs: 5, limit: 10, direction: 'forward' }, ALL)).toThrow(/before start/);
  });

  it('a corrupt day file is reported by name; the other files still answer', () => {
    const dir = tmp();
    const { writer, reader } = open(dir);
    writer.write(flattenBatch([tree('a', [rec(1, {})], 'acme'), tree('b', [rec(2, {})], 'globex')], RULE, Date.now()));
    writer.close();
    fs.writeFileSync(path.join(dir, 'globex', `${DAY}.db`), 'this is not a database'.repeat(100));
    fs.rmSync(path.join(dir, 'globex', `${DAY}.db-wal`), { force: true });
    const r = reader.query({ node: parseQuery(''), startMs: T0 - 3600_000, endMs: T0 + 3600_000, limit: 10, direction: 'forward' }, ALL);
    expect(r.records.map((x) => x.tenant)).toEqual(['acme']);
    expect(r.errors[0]!.file).toBe(`globex/${DAY}`);
  });

  it('a damaged day file is moved aside (kept) and writing goes on in a fresh file', () => {
    const dir = tmp();
    const moved: string[] = [];
    const writer = new StoreWriter({ directory: dir, tokenizer: 'unicode61', synchronous: 'normal', maxOpenFiles: 4, defaultDays: 7, onCorrupt: (_f, aside) => moved.push(aside) });
    fs.mkdirSync(path.join(dir, 'default'));
    fs.writeFileSync(path.join(dir, 'default', `${DAY}.db`), 'garbage'.repeat(1000));
    writer.write(flattenBatch([tree('a', [rec(1, {})])], RULE, Date.now()));
    expect(moved).toHaveLength(1);
    expect(fs.readFileSync(moved[0]!, 'utf8').startsWith('garbage')).toBe(true);
    expect(ids(open(dir).reader, '')).toEqual([1]);
  });

  it('a day file deleted under a running writer is recreated on the next write', () => {
    const dir = tmp();
    const { writer, reader } = open(dir);
    writer.write(flattenBatch([tree('a', [rec(1, {})])], RULE, Date.now()));
    fs.rmSync(path.join(dir, 'default'), { recursive: true });
    writer.write(flattenBatch([tree('a', [rec(2, {})])], RULE, Date.now()));
    expect(ids(reader, '')).toEqual([2]);
  });
});

describe('store: retention, archival, size cap', () => {
  it('deletes expired classes and whole expired files, archives old days, caps size oldest first', async () => {
    const dir = tmp();
    const { writer, reader } = open(dir);
    const day = (d: number, records: LogRecord[]) => records.map((r) => ({ ...r, timeUnixNano: nanosFromDecimal(`${T0 + d * 86_400_000}000000`) }));
    writer.write(flattenBatch([tree('s', [
      ...day(0, [rec(1, { attrs: { 'retention.class': 'debug', 'retention.days': 1 } }), rec(2, { attrs: { 'retention.class': 'error', 'retention.days': 90 } })]),
      ...day(1, [rec(3, { attrs: { 'retention.class': 'debug', 'retention.days': 1 } })]),
      ...day(2, [rec(4, {})]),
    ])], RULE, Date.now()));
    writer.close();
    const tdir = path.join(dir, 'default');
    // Three days after the first: day 0's debug class expired (file stays for the error class), day 1 expired whole.
    const now = T0 + 3 * 86_400_000;
    const events = await runMaintenance({ directory: dir, defaultDays: 7, archiveAfterMs: 0, maxSizeBytes: 0 }, now, (p) => reader.forget((q) => q === p));
    expect(events.map((e) => `${e.action}:${e.day}:${e.records}`).sort()).toEqual(['expired_class:2026-12-03:1', 'expired_file:2026-12-04:1']);
    const left = reader.query({ node: parseQuery(''), startMs: T0 - 3600_000, endMs: T0 + 3 * 86_400_000, limit: 100, direction: 'forward' }, ALL);
    expect(left.records.map((r) => r.attributes.rid)).toEqual([2, 4]);
    // Archival of days older than 1 day: day 0 becomes a .gz and leaves search (named in the answer).
    const ev2 = await runMaintenance({ directory: dir, defaultDays: 7, archiveAfterMs: 86_400_000, maxSizeBytes: 0 }, now, (p) => reader.forget((q) => q === p));
    expect(ev2.map((e) => e.action)).toEqual(['archived']);
    expect(fs.readdirSync(tdir).filter((f) => !/-(wal|shm)$/.test(f)).sort()).toEqual(['2026-12-03.classes.json', '2026-12-03.db.gz', '2026-12-05.db']);
    const r2 = reader.query({ node: parseQuery(''), startMs: T0 - 3600_000, endMs: T0 + 3 * 86_400_000, limit: 100, direction: 'forward' }, ALL);
    expect(r2.archivedDays).toEqual(['default/2026-12-03']);
    // Size cap of 1 byte: everything but today's file goes, oldest first.
    const ev3 = await runMaintenance({ directory: dir, defaultDays: 7, archiveAfterMs: 0, maxSizeBytes: 1 }, T0 + 2 * 86_400_000 + 1000, (p) => reader.forget((q) => q === p));
    expect(ev3.map((e) => `${e.action}:${e.day}`)).toEqual(['size_cap:2026-12-03']);
    expect(fs.readdirSync(tdir).filter((f) => !/-(wal|shm)$/.test(f))).toEqual(['2026-12-05.db']);
  });
});

describe('store: faults', () => {
  it('a scan that would examine more than max_rows is refused with a hint; a full-text query is not', () => {
    const dir = tmp();
    const { writer } = open(dir);
    writer.write(flattenBatch(corpus(), RULE, Date.now()));
    const reader = new StoreReader({ directory: dir, tokenizer: 'unicode61', maxQueryTimeMs: 10_000, maxRows: 3, maxRangeMs: 31 * 86_400_000 });
    const run = (q: string) => reader.query({ node: parseQuery(q), startMs: T0 - 3600_000, endMs: T0 + 3600_000, limit: 100, direction: 'backward' }, ALL);
    expect(() => run('attributes.http.status_code>=500')).toThrow(QueryTooExpensiveError);
    try {
      run('user:bob');
    } catch (e) {
      expect((e as QueryTooExpensiveError).hint).toMatch(/narrow start\/end/);
    }
    expect(run('payment').records).toHaveLength(2);
  });

  it('a database locked by another process fails with SQLITE_BUSY, which the queue retries', () => {
    const dir = tmp();
    const { writer } = open(dir);
    writer.write(flattenBatch([tree('a', [rec(1, {})])], RULE, Date.now()));
    const other = new Database(path.join(dir, 'default', `${DAY}.db`));
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN EXCLUSIVE');
    try {
      let caught: unknown;
      try {
        writer.write(flattenBatch([tree('a', [rec(2, {})])], RULE, Date.now()));
      } catch (e) {
        caught = e;
      }
      expect((caught as { code?: string }).code).toBe('SQLITE_BUSY');
      expect(classifyStoreError(caught)).toBeInstanceOf(RetryableError);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    writer.write(flattenBatch([tree('a', [rec(2, {})])], RULE, Date.now()));
    expect(ids(open(dir).reader, '')).toEqual([1, 2]);
  }, 30_000);

  it('a full disk (SQLITE_FULL) is retryable and the failed batch leaves nothing half-written', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t(x)');
    db.pragma('max_page_count = 2');
    let caught: unknown;
    try {
      db.transaction(() => {
        for (let i = 0; i < 1000; i++) db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(1000));
      })();
    } catch (e) {
      caught = e;
    }
    expect((caught as { code?: string }).code).toBe('SQLITE_FULL');
    expect(classifyStoreError(caught)).toBeInstanceOf(RetryableError);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
    expect(classifyStoreError(Object.assign(new Error('x'), { code: 'SQLITE_MISMATCH' }))).toBeInstanceOf(PermanentError);
  });
});

describe('query language errors', () => {
  it.each([
    ['(a OR b', 7, 'expected ")"'],
    ['a OR', 4, 'expected a search term'],
    ['severity>=loud', 10, 'expected a severity level'],
    ['user:/(/', 6, 'invalid regex'],
    ['"open', 5, "expected closing '\"'"],
    ['a )', 2, 'unexpected ")"'],
    ['status:>=abc', 9, 'expected a number'],
    ['trace_id:xyz', 9, 'expected 32 hex digits'],
  ])('%j fails at %i with %j', (q, pos, reason) => {
    try {
      parseQuery(q);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(QueryParseError);
      expect((e as QueryParseError).position).toBe(pos);
      expect((e as QueryParseError).reason).toContain(reason);
    }
  });
});
