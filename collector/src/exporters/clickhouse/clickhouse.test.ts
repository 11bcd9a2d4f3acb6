/**
 * Golden `convert` tests on the shared record set, with expectations written by hand from upstream clickhouseexporter
 * (fill rules: Timestamp = time else observed; hex IDs or ""; Body/attributes = AsString; ServiceName =
 * resource service.name), plus the SQL text and error classification.
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { nanosFromDecimal, type KeyValue } from '@tributary/otlp';
import { PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { goldenBatch, goldenRequest } from '../testdata/golden-records.js';
import {
  clickHouseError,
  clickHouseExporterConfigSchema,
  clickHouseExporterFactory,
  convertToClickHouseRows,
  createDatabaseSql,
  createLegacyTableSql,
  createModernTableSql,
  insertSql,
  layoutForVersion,
  quoteIdentifier,
  retentionDaysOf,
  ttlClause,
  ttlInterval,
} from './index.js';

/** "now" for the record with neither timestamp: 2023-11-14T22:13:20.000000001Z. */
const NOW = nanosFromDecimal('1700000000000000001');

type Row = Record<string, unknown>;

function modernRows(): Row[] {
  const text = convertToClickHouseRows(goldenBatch().resourceLogs, 'modern', NOW);
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').map((l) => JSON.parse(l) as Row);
}

const byCase = (rows: Row[], name: string): Row => {
  const r = rows.find((x) => (x['LogAttributes'] as Record<string, string>)['golden.case'] === name);
  if (!r) throw new Error(`no row for case ${name}`);
  return r;
};

const RESOURCE = {
  ServiceName: 'checkout',
  ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
  ResourceAttributes: {
    'service.name': 'checkout',
    'service.namespace': 'shop',
    'service.version': '1.4.2',
    'service.instance.id': 'pod-7',
    'deployment.environment': 'prod',
    'host.name': 'web-1',
    'k8s.pod.name': 'checkout-7d9f',
    'telemetry.sdk.language': 'nodejs',
  },
};
const GOLDEN_SCOPE = { ScopeSchemaUrl: '', ScopeName: 'golden-scope', ScopeVersion: '2.0.0', ScopeAttributes: { 'scope.attr': 's' } };
const IDS = { TraceId: '437ab4d83468c540bb0f3398a39faa59', SpanId: '2e26da881214cd7c', TraceFlags: 1 };
const T = '1705314600.123456789';

describe('clickhouse convert (golden, modern layout)', () => {
  it('one row per record, every field of the string-body case', () => {
    const rows = modernRows();
    expect(rows).toHaveLength(goldenBatch().recordCount);
    expect(byCase(rows, 'string-body')).toEqual({
      Timestamp: T,
      ...IDS,
      SeverityText: 'ERROR',
      SeverityNumber: 17,
      Body: 'GET /checkout 500 in 12ms',
      EventName: '',
      LogAttributes: { 'golden.case': 'string-body', 'http.method': 'GET', 'http.status_code': '500', duration_ms: '12.5', 'cache.hit': 'false' },
      RetentionClass: '',
      RetentionDays: 0,
      ...RESOURCE,
      ...GOLDEN_SCOPE,
    });
  });

  it('bodies are AsString: Go JSON with sorted keys for maps and arrays, base64 for bytes, "" for empty', () => {
    const rows = modernRows();
    expect(byCase(rows, 'map-body')['Body']).toBe('{"msg":"order placed","order":{"id":1042,"total":99.95},"tags":["a","b"]}');
    expect(byCase(rows, 'map-body')['LogAttributes']).toEqual({ 'golden.case': 'map-body', 'user.id': 'u-17' });
    expect(byCase(rows, 'array-body')['Body']).toBe('["one",2,true]');
    expect(byCase(rows, 'bytes-body')['Body']).toBe('3q2+7w==');
    expect(byCase(rows, 'empty-body')['Body']).toBe('');
    expect(byCase(rows, 'empty-string-body')['Body']).toBe('');
    expect(byCase(rows, 'non-ascii')['Body']).toBe('Grüße, 世界! 🚀 naïve café');
    expect(byCase(rows, 'non-ascii')['LogAttributes']).toEqual({ 'golden.case': 'non-ascii', city: 'Zürich', emoji: '✅' });
  });

  it('timestamp falls back to observed, then now', () => {
    const rows = modernRows();
    expect(byCase(rows, 'no-timestamp')['Timestamp']).toBe('1705314601.000000500');
    expect(byCase(rows, 'no-timestamps')['Timestamp']).toBe('1700000000.000000001');
  });

  it('all-zero and absent IDs are empty strings', () => {
    const rows = modernRows();
    for (const name of ['zero-ids', 'no-ids']) {
      expect(byCase(rows, name)).toMatchObject({ TraceId: '', SpanId: '', TraceFlags: 0 });
    }
  });

  it('nested attributes are AsString (Go JSON, sorted keys, no flattening); HTML is not escaped in plain strings', () => {
    expect(byCase(modernRows(), 'nested-attributes')['LogAttributes']).toEqual({
      'golden.case': 'nested-attributes',
      http: '{"request":{"headers":{"x-id":"abc"},"method":"POST"},"status":201}',
      list: '[1,[2]]',
      html: '<b>&</b>',
    });
  });

  it('severity text and number as is; event name', () => {
    const rows = modernRows();
    expect(byCase(rows, 'severity-text-only')).toMatchObject({ SeverityText: 'warning', SeverityNumber: 0 });
    expect(byCase(rows, 'event')['EventName']).toBe('checkout.completed');
    const texts = ['', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4',
      'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4'];
    for (let n = 0; n <= 24; n++) {
      expect(byCase(rows, `severity-${n}`)).toMatchObject({
        SeverityNumber: n, SeverityText: texts[n], Body: `severity ${n}`,
        ScopeName: 'severity-scope', ScopeVersion: '', ScopeAttributes: {}, ServiceName: 'checkout',
      });
    }
  });

  it('ServiceName does not carry over to a ResourceLogs without service.name (upstream bug not copied)', () => {
    const req = goldenRequest();
    const second = { ...req.resourceLogs[0]!, resource: { attributes: [], droppedAttributesCount: 0 } };
    const rows = convertToClickHouseRows([req.resourceLogs[0]!, second], 'modern', NOW).trimEnd().split('\n').map((l) => JSON.parse(l) as Row);
    expect(rows[0]!['ServiceName']).toBe('checkout');
    expect(rows[rows.length - 1]!['ServiceName']).toBe('');
    expect(rows[rows.length - 1]!['ResourceAttributes']).toEqual({});
  });

  it('retention.days / retention.class become RetentionDays / RetentionClass', () => {
    const mk = (v: KeyValue['value']) => [{ key: 'retention.days', value: v }];
    expect(retentionDaysOf(mk({ intValue: Long.fromNumber(90) }))).toBe(90);
    expect(retentionDaysOf(mk({ intValue: -1 }))).toBe(-1);
    expect(retentionDaysOf(mk({ stringValue: '30' }))).toBe(30);
    expect(retentionDaysOf(mk({ stringValue: 'forever' }))).toBe(0);
    expect(retentionDaysOf([])).toBe(0);
    const req = goldenRequest();
    const rec = req.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    rec.attributes.push({ key: 'retention.class', value: { stringValue: 'audit' } }, { key: 'retention.days', value: { intValue: -1 } });
    const row = JSON.parse(convertToClickHouseRows(req.resourceLogs, 'modern', NOW).split('\n')[0]!) as Row;
    expect(row).toMatchObject({ RetentionClass: 'audit', RetentionDays: -1 });
  });
});

describe('clickhouse convert (legacy layout)', () => {
  it('DateTime seconds + UInt64 nanos (exact digits), Nested key/value arrays', () => {
    const text = convertToClickHouseRows(goldenBatch().resourceLogs, 'legacy', NOW);
    const first = text.split('\n')[0]!;
    expect(first.startsWith('{"TimestampTime":1705314600,"TimestampUnixNano":1705314600123456789,')).toBe(true);
    const row = JSON.parse(first) as Row;
    expect(row).toMatchObject({
      ...IDS,
      SeverityText: 'ERROR',
      SeverityNumber: 17,
      Body: 'GET /checkout 500 in 12ms',
      'LogAttributes.Key': ['golden.case', 'http.method', 'http.status_code', 'duration_ms', 'cache.hit'],
      'LogAttributes.Value': ['string-body', 'GET', '500', '12.5', 'false'],
      'ScopeAttributes.Key': ['scope.attr'],
      'ScopeAttributes.Value': ['s'],
      ServiceName: 'checkout',
      ScopeName: 'golden-scope',
      RetentionDays: 0,
    });
    expect(row['ResourceAttributes.Key']).toEqual(Object.keys(RESOURCE.ResourceAttributes));
    expect(row['Timestamp']).toBeUndefined();
  });
});

describe('clickhouse SQL', () => {
  const o = { database: 'otel', table: 'otel_logs', ttlMs: 0, clusterName: '', engineName: 'MergeTree', engineParams: '' };

  it('TTL interval uses the largest whole unit (upstream GenerateTTLExpr)', () => {
    expect(ttlInterval(72 * 3600_000)).toBe('toIntervalDay(3)');
    expect(ttlInterval(5 * 3600_000)).toBe('toIntervalHour(5)');
    expect(ttlInterval(90 * 60_000)).toBe('toIntervalMinute(90)');
    expect(ttlInterval(45_000)).toBe('toIntervalSecond(45)');
  });

  it('TTL: RetentionDays drives expiry; ttl applies to untagged rows only', () => {
    expect(ttlClause(0)).toBe('TTL TimestampTime + toIntervalDay(RetentionDays) WHERE RetentionDays > 0 AND RetentionDays <= 20000');
    expect(ttlClause(7 * 86400_000)).toBe(
      'TTL TimestampTime + toIntervalDay(RetentionDays) WHERE RetentionDays > 0 AND RetentionDays <= 20000, TimestampTime + toIntervalDay(7) WHERE RetentionDays = 0',
    );
  });

  it('modern DDL: the upstream otel_logs columns, indexes, partitioning and settings, plus retention columns', () => {
    const sql = createModernTableSql({ ...o, clusterName: 'c1', engineName: 'ReplicatedMergeTree', engineParams: "'/t/{shard}', '{replica}'" });
    expect(sql.startsWith('CREATE TABLE IF NOT EXISTS `otel`.`otel_logs` ON CLUSTER `c1` (')).toBe(true);
    for (const col of [
      'Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))', 'TimestampTime DateTime DEFAULT toDateTime(Timestamp)', 'TraceId String CODEC(ZSTD(1))',
      'TraceFlags UInt8', 'SeverityText LowCardinality(String) CODEC(ZSTD(1))', 'SeverityNumber UInt8', 'ServiceName LowCardinality(String) CODEC(ZSTD(1))',
      'LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1))', 'EventName String CODEC(ZSTD(1))', 'RetentionDays Int32',
      'INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1', 'INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8',
    ]) expect(sql).toContain(col);
    expect(sql).toContain("ENGINE = ReplicatedMergeTree('/t/{shard}', '{replica}')");
    expect(sql).toContain('PRIMARY KEY (ServiceName, TimestampTime)');
    expect(sql).toContain('ORDER BY (ServiceName, TimestampTime, Timestamp)');
    expect(sql).toContain('SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1');
    expect(sql).toContain('PARTITION BY (toDate(TimestampTime), RetentionDays)');
  });

  it('legacy DDL has no Map, DateTime64, codec or TTL', () => {
    const sql = createLegacyTableSql(o);
    expect(sql).not.toMatch(/Map\(|DateTime64|CODEC|TTL|LowCardinality/);
    expect(sql).toContain('LogAttributes Nested(Key String, Value String)');
    expect(sql).toContain('ENGINE = MergeTree()');
  });

  it('database, insert statement and identifier quoting', () => {
    expect(createDatabaseSql(o)).toBe('CREATE DATABASE IF NOT EXISTS `otel`');
    expect(createDatabaseSql({ ...o, clusterName: 'c' })).toBe('CREATE DATABASE IF NOT EXISTS `otel` ON CLUSTER `c`');
    expect(insertSql('otel', 'otel_logs')).toBe('INSERT INTO `otel`.`otel_logs` FORMAT JSONEachRow');
    expect(quoteIdentifier('a`b\\c')).toBe('`a\\`b\\\\c`');
  });

  it('version → layout', () => {
    expect(layoutForVersion('18.16.1')).toBe('legacy');
    expect(layoutForVersion('21.3.20.1')).toBe('legacy');
    expect(layoutForVersion('21.8.1')).toBe('modern');
    expect(layoutForVersion('26.7.2.1')).toBe('modern');
  });
});

describe('clickhouse config and errors', () => {
  it('defaults and upstream keys', () => {
    const c = clickHouseExporterConfigSchema.parse({ endpoint: 'http://127.0.0.1:8123' });
    expect(c).toMatchObject({ database: 'default', logs_table_name: 'otel_logs', create_schema: true, ttl: 0, username: 'default', password: '',
      cluster_name: '', table_engine: { name: 'MergeTree', params: '' }, schema: 'auto', compression: 'gzip', timeout: 5000 });
    expect(clickHouseExporterConfigSchema.parse({ endpoint: 'http://x:8123', ttl: '72h' }).ttl).toBe(72 * 3600_000);
    expect(clickHouseExporterConfigSchema.safeParse({ endpoint: 'http://x:8123', bogus: 1 }).success).toBe(false);
    expect(clickHouseExporterConfigSchema.safeParse({ endpoint: 'ftp://x:9000' }).success).toBe(false);
    // Native-protocol URLs on the default ports map to the HTTP interface; another port is a clear error.
    expect(clickHouseExporterConfigSchema.parse({ endpoint: 'tcp://ch.local:9000?dial_timeout=10s' }).endpoint).toBe('http://ch.local:8123');
    expect(clickHouseExporterConfigSchema.parse({ endpoint: 'clickhouse://ch.local' }).endpoint).toBe('http://ch.local:8123');
    expect(clickHouseExporterConfigSchema.parse({ endpoint: 'clickhouse://ch.local:9440' }).endpoint).toBe('https://ch.local:8443');
    expect(clickHouseExporterConfigSchema.parse({ endpoint: 'tcp://ch.local:9000?secure=true' }).endpoint).toBe('https://ch.local:8443');
    expect(clickHouseExporterConfigSchema.safeParse({ endpoint: 'tcp://ch.local:19000' }).error!.issues[0]!.message).toMatch(/use http:\/\/ch\.local:8123/);
    expect(clickHouseExporterFactory.type).toBe('clickhouse');
  });

  it('classifies server answers', () => {
    expect(clickHouseError('w', 500, '27', undefined, 'Code: 27, Cannot parse input')).toBeInstanceOf(PermanentError);
    expect(clickHouseError('w', 500, undefined, undefined, 'Code: 117, e.displayText() = DB::Exception: incorrect data')).toBeInstanceOf(PermanentError);
    expect(clickHouseError('w', 516, '516', undefined, 'Authentication failed')).toBeInstanceOf(PermanentError);
    expect(clickHouseError('w', 500, '252', undefined, 'Too many parts')).toBeInstanceOf(ThrottledError);
    const t = clickHouseError('w', 429, undefined, '3', 'slow down');
    expect(t).toBeInstanceOf(ThrottledError);
    expect((t as ThrottledError).retryAfterMs).toBe(3000);
    expect(clickHouseError('w', 503, undefined, undefined, 'proxy')).toBeInstanceOf(RetryableError);
    expect(clickHouseError('w', 500, '999', undefined, 'Code: 999, something new')).toBeInstanceOf(RetryableError);
    expect(clickHouseError('w', 404, '60', undefined, 'Table otel.x does not exist')).toBeInstanceOf(RetryableError);
  });
});
