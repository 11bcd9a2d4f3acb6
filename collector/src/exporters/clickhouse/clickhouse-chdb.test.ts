/**
 * Validates the modern `otel_logs` DDL, its TTL and the inserted rows with the embedded modern engine
 * (npm `chdb`, ClickHouse 25+/26.x): the exporter's exact statements (CREATE DATABASE, CREATE TABLE,
 * INSERT … FORMAT JSONEachRow + convert's body), then a query reads every field back.
 * Skipped with a printed reason when chdb cannot be loaded; required when CI=true.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nanosFromDecimal } from '@tributary/otlp';
import { goldenBatch, goldenRequest } from '../testdata/golden-records.js';
import { convertToClickHouseRows, createDatabaseSql, createModernTableSql, insertSql } from './index.js';

interface ChdbSession {
  query(sql: string, format?: string): string;
  cleanup?(): void;
}
type ChdbModule = { Session: new (path?: string) => ChdbSession };

let chdb: ChdbModule | undefined;
let loadError = '';
try {
  // A specifier in a variable: chdb is installed outside the lock file, so its types may or may not be there.
  const specifier = 'chdb';
  chdb = (await import(specifier)) as ChdbModule;
} catch (e) {
  loadError = (e as Error).message;
}
const required = process.env['CI'] === 'true';
if (!chdb) {
  if (required) throw new Error(`chdb is required when CI=true but cannot be loaded: ${loadError}`);
  console.warn(`[clickhouse-chdb] skipping modern-engine tests: chdb cannot be loaded (${loadError})`);
}

const NOW = nanosFromDecimal('1700000000000000001');

describe.skipIf(!chdb)('clickhouse modern DDL on the embedded engine (chdb)', () => {
  let dir = '';
  let s: ChdbSession;
  const o = { database: 'otel', table: 'otel_logs', ttlMs: 0, clusterName: '', engineName: 'MergeTree', engineParams: '' };
  const run = (sql: string, format = 'JSONEachRow'): string => s.query(sql, format);
  const rows = (sql: string): Record<string, unknown>[] =>
    run(sql).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-chdb-'));
    s = new chdb!.Session(dir);
  });
  afterAll(() => {
    s?.cleanup?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the table, inserts the golden set and reads every field back', () => {
    run(createDatabaseSql(o));
    run(createModernTableSql(o));
    run(createModernTableSql(o)); // IF NOT EXISTS: idempotent
    const ddl = run('SHOW CREATE TABLE otel.otel_logs', 'TSVRaw');
    expect(ddl).toContain('TTL TimestampTime + toIntervalDay(RetentionDays) WHERE (RetentionDays > 0) AND (RetentionDays <= 20000)');
    expect(ddl).toContain('`LogAttributes` Map(LowCardinality(String), String)');
    run(`${insertSql('otel', 'otel_logs')}\n${convertToClickHouseRows(goldenBatch().resourceLogs, 'modern', NOW)}`);

    const got = rows(`SELECT toUnixTimestamp64Nano(Timestamp) AS ns, toUnixTimestamp(TimestampTime) AS sec, TraceId, SpanId, TraceFlags, SeverityText,
      SeverityNumber, ServiceName, Body, ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes,
      LogAttributes, EventName, RetentionClass, RetentionDays FROM otel.otel_logs
      SETTINGS output_format_json_quote_64bit_integers = 1`);
    expect(got).toHaveLength(goldenBatch().recordCount);
    const row = (c: string) => got.find((r) => (r['LogAttributes'] as Record<string, string>)['golden.case'] === c)!;
    expect(row('string-body')).toEqual({
      ns: '1705314600123456789', sec: 1705314600,
      TraceId: '437ab4d83468c540bb0f3398a39faa59', SpanId: '2e26da881214cd7c', TraceFlags: 1,
      SeverityText: 'ERROR', SeverityNumber: 17, ServiceName: 'checkout', Body: 'GET /checkout 500 in 12ms',
      ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      ResourceAttributes: {
        'service.name': 'checkout', 'service.namespace': 'shop', 'service.version': '1.4.2', 'service.instance.id': 'pod-7',
        'deployment.environment': 'prod', 'host.name': 'web-1', 'k8s.pod.name': 'checkout-7d9f', 'telemetry.sdk.language': 'nodejs',
      },
      ScopeSchemaUrl: '', ScopeName: 'golden-scope', ScopeVersion: '2.0.0', ScopeAttributes: { 'scope.attr': 's' },
      LogAttributes: { 'golden.case': 'string-body', 'http.method': 'GET', 'http.status_code': '500', duration_ms: '12.5', 'cache.hit': 'false' },
      EventName: '', RetentionClass: '', RetentionDays: 0,
    });
    expect(row('no-timestamp')['ns']).toBe('1705314601000000500');
    expect(row('no-timestamps')['ns']).toBe('1700000000000000001');
    expect(row('non-ascii')['Body']).toBe('Grüße, 世界! 🚀 naïve café');
    expect(row('map-body')['Body']).toBe('{"msg":"order placed","order":{"id":1042,"total":99.95},"tags":["a","b"]}');
    expect(row('zero-ids')).toMatchObject({ TraceId: '', SpanId: '', TraceFlags: 0 });
    expect(row('event')['EventName']).toBe('checkout.completed');
    expect(row('severity-24')).toMatchObject({ SeverityNumber: 24, SeverityText: 'FATAL4', ScopeVersion: '', ScopeAttributes: {} });
  });

  it('TTL: tagged rows expire after RetentionDays, -1 never, untagged after ttl', () => {
    const t = { ...o, table: 'ttl_logs', ttlMs: 30 * 86400_000 };
    run(createModernTableSql(t));
    const req = goldenRequest();
    const recs = req.resourceLogs[0]!.scopeLogs[0]!.logRecords.slice(0, 4); // timestamps in January 2024: long past
    const tag = (i: number, cls: string, days: number) =>
      recs[i]!.attributes.push({ key: 'retention.class', value: { stringValue: cls } }, { key: 'retention.days', value: { intValue: days } });
    tag(0, 'debug', 7); // expired
    tag(1, 'audit', -1); // forever
    tag(2, 'future', 36500); // 100 years: past DateTime's end (2106), must be kept, not wrap around
    // recs[3] untagged → table ttl (30d) → expired
    req.resourceLogs[0]!.scopeLogs = [{ ...req.resourceLogs[0]!.scopeLogs[0]!, logRecords: recs }];
    run(`${insertSql('otel', 'ttl_logs')}\n${convertToClickHouseRows(req.resourceLogs, 'modern', NOW)}`);
    // (a server may already drop expired rows at insert; OPTIMIZE … FINAL applies every TTL rule)
    run('OPTIMIZE TABLE otel.ttl_logs FINAL');
    const left = rows("SELECT LogAttributes['golden.case'] AS c, RetentionClass, RetentionDays FROM otel.ttl_logs ORDER BY c");
    expect(left).toEqual([
      { c: 'array-body', RetentionClass: 'future', RetentionDays: 36500 },
      { c: 'map-body', RetentionClass: 'audit', RetentionDays: -1 },
    ]);
  });
});
