/**
 * The SQL the clickhouse exporter runs: CREATE DATABASE / CREATE TABLE for both layouts, the TTL clause,
 * the INSERT statement, and the version → layout decision. Pure functions, unit-tested and run against a
 * real old server (Debian's clickhouse-server) and the embedded modern engine (chdb).
 */
import type { ClickHouseLayout } from './convert.js';

/** Backtick-quotes an identifier (ClickHouse escapes `\` and `` ` `` with a backslash). */
export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

export interface SchemaOptions {
  database: string;
  table: string;
  /** Table TTL in ms for untagged rows (RetentionDays = 0); 0 = none. */
  ttlMs: number;
  clusterName: string;
  engineName: string;
  engineParams: string;
}

function onCluster(o: SchemaOptions): string {
  return o.clusterName ? ` ON CLUSTER ${quoteIdentifier(o.clusterName)}` : '';
}

export function createDatabaseSql(o: SchemaOptions): string {
  return `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(o.database)}${onCluster(o)}`;
}

/** Upstream `GenerateTTLExpr`: the largest whole unit of the duration (day, hour, minute, else second). */
export function ttlInterval(ttlMs: number): string {
  const s = Math.floor(ttlMs / 1000);
  if (s % 86400 === 0) return `toIntervalDay(${s / 86400})`;
  if (s % 3600 === 0) return `toIntervalHour(${s / 3600})`;
  if (s % 60 === 0) return `toIntervalMinute(${s / 60})`;
  return `toIntervalSecond(${s})`;
}

/**
 * Longer retention is kept forever: DateTime ends in 2106, and `TimestampTime + toIntervalDay(n)` past it
 * wraps around to the past (found with the real engine: a 36500-day row expired at once).
 */
export const MAX_TTL_DAYS = 20_000;

/**
 * The modern table's TTL: rows tagged by the retention processor expire `RetentionDays` days after
 * `TimestampTime` (-1 = never); untagged rows (0) expire after the `ttl` option when it is set.
 */
export function ttlClause(ttlMs: number): string {
  let s = `TTL TimestampTime + toIntervalDay(RetentionDays) WHERE RetentionDays > 0 AND RetentionDays <= ${MAX_TTL_DAYS}`;
  if (ttlMs >= 1000) s += `, TimestampTime + ${ttlInterval(ttlMs)} WHERE RetentionDays = 0`;
  return s;
}

/** The modern `otel_logs` table plus RetentionClass / RetentionDays. */
export function createModernTableSql(o: SchemaOptions): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(o.database)}.${quoteIdentifier(o.table)}${onCluster(o)} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    EventName String CODEC(ZSTD(1)),
    RetentionClass LowCardinality(String) CODEC(ZSTD(1)),
    RetentionDays Int32,
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = ${o.engineName}(${o.engineParams})
PARTITION BY (toDate(TimestampTime), RetentionDays)
PRIMARY KEY (ServiceName, TimestampTime)
ORDER BY (ServiceName, TimestampTime, Timestamp)
${ttlClause(o.ttlMs)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;
}

/**
 * The legacy table for servers older than 21.8 (Debian's 18.16: no Map, no DateTime64, no codecs, no
 * TTL): the same column names where the type exists; `Timestamp` becomes `TimestampTime` (DateTime) +
 * `TimestampUnixNano` (UInt64, full precision); each attribute map becomes `Nested(Key String, Value String)`
 * (query with `LogAttributes.Value[indexOf(LogAttributes.Key, 'k')]`). No TTL clause: RetentionDays is
 * stored for an `ALTER TABLE … DELETE` job.
 */
export function createLegacyTableSql(o: SchemaOptions): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(o.database)}.${quoteIdentifier(o.table)}${onCluster(o)} (
    TimestampTime DateTime,
    TimestampUnixNano UInt64,
    TraceId String,
    SpanId String,
    TraceFlags UInt8,
    SeverityText String,
    SeverityNumber UInt8,
    ServiceName String,
    Body String,
    ResourceSchemaUrl String,
    ResourceAttributes Nested(Key String, Value String),
    ScopeSchemaUrl String,
    ScopeName String,
    ScopeVersion String,
    ScopeAttributes Nested(Key String, Value String),
    LogAttributes Nested(Key String, Value String),
    EventName String,
    RetentionClass String,
    RetentionDays Int32
) ENGINE = ${o.engineName}(${o.engineParams})
PARTITION BY (toDate(TimestampTime), RetentionDays)
ORDER BY (ServiceName, TimestampTime, TimestampUnixNano)
SETTINGS index_granularity = 8192`;
}

export function createTableSql(o: SchemaOptions, layout: ClickHouseLayout): string {
  return layout === 'modern' ? createModernTableSql(o) : createLegacyTableSql(o);
}

export function insertSql(database: string, table: string): string {
  return `INSERT INTO ${quoteIdentifier(database)}.${quoteIdentifier(table)} FORMAT JSONEachRow`;
}

/** `SELECT version()` text → layout: 21.8 and later have Map (GA), DateTime64, codecs and TTL … WHERE. */
export function layoutForVersion(version: string): ClickHouseLayout {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) return 'modern';
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 21 || (major === 21 && minor >= 8) ? 'modern' : 'legacy';
}
