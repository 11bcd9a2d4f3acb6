// Throughput of the clickhouse exporter's convert (OTLP records → JSONEachRow INSERT bodies), on the built code.
// Run: npx tsc -b && node bench/convert-clickhouse.mjs
import { performance } from 'node:perf_hooks';
import { nowNanos } from '@tributary/otlp';
import { convertToClickHouseRows } from '../collector/dist/exporters/clickhouse/index.js';
import { makeBatches, RECORDS, PER_BATCH, ROUNDS } from './corpus.mjs';

const batches = makeBatches();
for (const layout of ['modern', 'legacy']) {
  for (const rl of batches.slice(0, 10)) convertToClickHouseRows(rl, layout, nowNanos()); // warm up
  const rates = [];
  let bytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    bytes = 0;
    for (const rl of batches) bytes += convertToClickHouseRows(rl, layout, nowNanos()).length;
    rates.push(RECORDS / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  if (layout === 'modern') console.log('command: npx tsc -b && node bench/convert-clickhouse.mjs');
  console.log(`clickhouse convert (${layout}): ${RECORDS} records → ${RECORDS / PER_BATCH} INSERT bodies, ${(bytes / RECORDS).toFixed(0)} chars/row (JSONEachRow, uncompressed)`);
  console.log(`clickhouse convert (${layout}): median ${Math.round(rates[Math.floor(ROUNDS / 2)]).toLocaleString('en-US')} records/s (min ${Math.round(rates[0]).toLocaleString('en-US')}, max ${Math.round(rates[ROUNDS - 1]).toLocaleString('en-US')}; ${ROUNDS} rounds, Node ${process.versions.node})`);
}

// --- JSONEachRow vs RowBinary (measured: RowBinary is used only if faster) ---------------------------
// A prototype RowBinary encoder for the modern layout (same columns and values as convertToClickHouseRows),
// timed in JS, then both bodies inserted into the embedded modern engine (chdb) to time the server side.
import { anyValueAsString, findAttribute, idToHex, isEmptyId, isZeroNanos, nanosToBigInt } from '@tributary/otlp';

function rowBinaryModern(resourceLogs, now) {
  let buf = Buffer.allocUnsafe(1 << 20);
  let off = 0;
  const ensure = (n) => {
    if (off + n <= buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(buf.length * 2, off + n));
    buf.copy(b, 0, 0, off);
    buf = b;
  };
  const varint = (n) => {
    ensure(10);
    while (n >= 0x80) { buf[off++] = (n & 0x7f) | 0x80; n >>>= 7; }
    buf[off++] = n;
  };
  const str = (s) => {
    const len = Buffer.byteLength(s);
    varint(len);
    ensure(len);
    off += buf.write(s, off, 'utf8');
  };
  const map = (kvs) => {
    varint(kvs ? kvs.length : 0);
    if (kvs) for (const kv of kvs) { str(kv.key); str(anyValueAsString(kv.value)); }
  };
  for (const rl of resourceLogs) {
    const svc = findAttribute(rl.resource?.attributes, 'service.name');
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        const t = !isZeroNanos(r.timeUnixNano) ? r.timeUnixNano : !isZeroNanos(r.observedTimeUnixNano) ? r.observedTimeUnixNano : now;
        ensure(8);
        off = buf.writeBigInt64LE(nanosToBigInt(t), off);                     // Timestamp DateTime64(9)
        str(isEmptyId(r.traceId) ? '' : idToHex(r.traceId));                  // TraceId
        str(isEmptyId(r.spanId) ? '' : idToHex(r.spanId));                    // SpanId
        ensure(1); buf[off++] = r.flags & 0xff;                               // TraceFlags
        str(r.severityText);                                                   // SeverityText
        ensure(1); buf[off++] = r.severityNumber & 0xff;                      // SeverityNumber
        str(svc ? anyValueAsString(svc) : '');                                 // ServiceName
        str(anyValueAsString(r.body));                                         // Body
        str(rl.schemaUrl ?? '');                                               // ResourceSchemaUrl
        map(rl.resource?.attributes);                                          // ResourceAttributes
        str(sl.schemaUrl ?? '');                                               // ScopeSchemaUrl
        str(sl.scope?.name ?? '');                                             // ScopeName
        str(sl.scope?.version ?? '');                                          // ScopeVersion
        map(sl.scope?.attributes);                                             // ScopeAttributes
        map(r.attributes);                                                     // LogAttributes
        str(r.eventName ?? '');                                                // EventName
        const cls = findAttribute(r.attributes, 'retention.class');
        str(cls ? anyValueAsString(cls) : '');                                 // RetentionClass
        const days = findAttribute(r.attributes, 'retention.days');
        ensure(4); off = buf.writeInt32LE(days?.intValue != null ? Number(days.intValue) : 0, off); // RetentionDays
      }
    }
  }
  return buf.subarray(0, off);
}
const RB_COLUMNS = 'Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body, ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, LogAttributes, EventName, RetentionClass, RetentionDays';

{
  for (const rl of batches.slice(0, 10)) rowBinaryModern(rl, nowNanos());
  const rates = [];
  let bytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    bytes = 0;
    for (const rl of batches) bytes += rowBinaryModern(rl, nowNanos()).length;
    rates.push(RECORDS / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  console.log(`RowBinary prototype encode (modern): median ${Math.round(rates[Math.floor(ROUNDS / 2)]).toLocaleString('en-US')} records/s, ${(bytes / RECORDS).toFixed(0)} B/row`);
}

let chdb;
try { chdb = await import('chdb'); } catch (e) { console.log(`server-side comparison skipped: chdb cannot be loaded (${e.message})`); }
if (chdb) {
  const { createDatabaseSql, createModernTableSql } = await import('../collector/dist/exporters/clickhouse/index.js');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-bench-chdb-'));
  const s = new chdb.Session(dir);
  const o = { database: 'b', table: 'json', ttlMs: 0, clusterName: '', engineName: 'MergeTree', engineParams: '' };
  s.query(createDatabaseSql(o));
  s.query(createModernTableSql(o));
  s.query(createModernTableSql({ ...o, table: 'rb' }));
  // chdb takes SQL text: the JSON body goes inline; RowBinary goes through a file (INSERT … FROM INFILE).
  const jsonBodies = batches.map((rl) => convertToClickHouseRows(rl, 'modern', nowNanos()));
  const rbFile = path.join(dir, 'rows.bin');
  fs.writeFileSync(rbFile, Buffer.concat(batches.map((rl) => rowBinaryModern(rl, nowNanos()))));
  const jsonFile = path.join(dir, 'rows.json');
  fs.writeFileSync(jsonFile, jsonBodies.join(''));
  let t0 = performance.now();
  s.query(`INSERT INTO b.json FROM INFILE '${jsonFile}' FORMAT JSONEachRow`);
  const jsonS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  s.query(`INSERT INTO b.rb (${RB_COLUMNS}) FROM INFILE '${rbFile}' FORMAT RowBinary`);
  const rbS = (performance.now() - t0) / 1000;
  const same = s.query(`SELECT count() FROM (SELECT * EXCEPT TimestampTime FROM b.json EXCEPT SELECT * EXCEPT TimestampTime FROM b.rb)`, 'CSV').trim();
  const n = s.query('SELECT count() FROM b.rb', 'CSV').trim();
  console.log(`server-side parse+insert of ${RECORDS} rows on chdb ${s.query('SELECT version()', 'CSV').trim()}: JSONEachRow ${Math.round(RECORDS / jsonS).toLocaleString('en-US')} rows/s, RowBinary ${Math.round(RECORDS / rbS).toLocaleString('en-US')} rows/s (${n} rows, rows differing: ${same})`);
  s.cleanup?.();
  fs.rmSync(dir, { recursive: true, force: true });
}
