/**
 * The `clickhouse` exporter: `INSERT INTO <db>.<table> FORMAT JSONEachRow` over the HTTP interface
 * (keep-alive undici Pool, optional gzip), one INSERT per batch. Before the first insert it asks
 * `SELECT version()` (layout `auto`) and, with `create_schema`, creates the database and table.
 * It never retries: failures are classified for the shared queue/retry helper.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Pool, type Dispatcher } from 'undici';
import { nowNanos } from '@tributary/otlp';
import type { CreateSettings, LogsBatch, LogsSender } from '../../component.js';
import { errorMessage, parseRetryAfter, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import { readBounded } from '../common/response.js';
import type { ClickHouseExporterConfig } from './config.js';
import { convertToClickHouseRows, type ClickHouseLayout } from './convert.js';
import { createDatabaseSql, createTableSql, insertSql, layoutForVersion, type SchemaOptions } from './schema.js';

const gzip = promisify(gzipCb);

/** Exception codes meaning the data (or statement) can never be accepted as sent. */
const PERMANENT_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  62, // SYNTAX_ERROR
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  192, // UNKNOWN_USER
  193, // WRONG_PASSWORD
  194, // REQUIRED_PASSWORD
  497, // ACCESS_DENIED
  516, // AUTHENTICATION_FAILED
]);
/** Codes that mean "too much right now": back-pressure. */
const THROTTLE_CODES = new Set([
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  252, // TOO_MANY_PARTS
  241, // MEMORY_LIMIT_EXCEEDED
]);

/** Maps a non-200 answer of the HTTP interface to a typed error. Unknown codes are retryable (no silent loss). */
export function clickHouseError(where: string, status: number, codeHeader: string | undefined, retryAfter: string | undefined, body: string): Error {
  const codeFromBody = /Code: (\d+)/.exec(body);
  const code = codeHeader !== undefined && /^\d+$/.test(codeHeader) ? Number(codeHeader) : codeFromBody ? Number(codeFromBody[1]) : undefined;
  const text = body.trim().replace(/\s+/g, ' ');
  const msg = `${where}: HTTP ${status}${code !== undefined ? ` (code ${code})` : ''}: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status === 429 || (code !== undefined && THROTTLE_CODES.has(code))) return new ThrottledError(msg, { retryAfterMs });
  if (code !== undefined && PERMANENT_CODES.has(code)) return new PermanentError(msg);
  if (code === undefined && status >= 400 && status < 500 && status !== 408) return new PermanentError(msg);
  return new RetryableError(msg, { retryAfterMs });
}

export class ClickHouseExporter implements LogsSender {
  private readonly url: URL;
  private readonly where: string;
  private readonly headers: Record<string, string>;
  private readonly schema: SchemaOptions;
  private readonly insertPath: string;
  private pool: Pool | undefined;
  private layout: ClickHouseLayout | undefined;
  private ready: Promise<ClickHouseLayout> | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: ClickHouseExporterConfig) {
    this.url = new URL(config.endpoint);
    this.where = `exporter ${settings.id.id}: ${this.url.origin}`;
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (config.username !== '' || config.password !== '') {
      headers['authorization'] = 'Basic ' + Buffer.from(`${config.username}:${config.password}`).toString('base64');
    }
    this.headers = headers;
    this.schema = {
      database: config.database,
      table: config.logs_table_name,
      ttlMs: config.ttl,
      clusterName: config.cluster_name,
      engineName: config.table_engine.name,
      engineParams: config.table_engine.params,
    };
    this.insertPath = this.pathFor(insertSql(config.database, config.logs_table_name));
    if (config.schema !== 'auto') this.layout = config.schema;
  }

  async start(): Promise<void> {
    this.pool = new Pool(this.url.origin, { keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
  }

  /** The table layout in use (after the first send). */
  get tableLayout(): ClickHouseLayout | undefined {
    return this.layout;
  }

  async send(batch: LogsBatch, signal: AbortSignal): Promise<void> {
    const layout = await this.prepare(signal);
    const rows = convertToClickHouseRows(batch.resourceLogs, layout, nowNanos());
    if (rows.length === 0) return;
    const raw = Buffer.from(rows, 'utf8');
    const gz = this.config.compression === 'gzip';
    const body = gz ? await gzip(raw) : raw;
    await this.post(this.insertPath, body, signal, gz);
  }

  async shutdown(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  /** Layout detection and schema creation, once; a failure is retried on the next send. */
  private prepare(signal: AbortSignal): Promise<ClickHouseLayout> {
    if (this.ready === undefined) {
      this.ready = this.runPrepare(signal);
      this.ready.catch(() => {
        this.ready = undefined;
      });
    }
    return this.ready;
  }

  private async runPrepare(signal: AbortSignal): Promise<ClickHouseLayout> {
    let layout = this.layout;
    if (layout === undefined) {
      const version = (await this.post(this.pathFor('SELECT version()'), undefined, signal, false)).trim();
      layout = layoutForVersion(version);
      this.settings.logger.info('clickhouse server version detected', { version, layout });
    }
    if (this.config.create_schema) {
      await this.post(this.pathFor(createDatabaseSql(this.schema)), undefined, signal, false);
      await this.post(this.pathFor(createTableSql(this.schema, layout)), undefined, signal, false);
      if (layout === 'legacy' && this.config.ttl > 0) {
        this.settings.logger.warn('ttl is not applied on the legacy table layout (server without TTL support); RetentionDays is stored for a cleanup job');
      }
    }
    this.layout = layout;
    return layout;
  }

  private pathFor(query: string): string {
    const base = this.url.pathname.endsWith('/') ? this.url.pathname : `${this.url.pathname}/`;
    const params = new URLSearchParams(this.url.search);
    params.set('query', query);
    return `${base}?${params.toString()}`;
  }

  private async post(path: string, body: Buffer | undefined, signal: AbortSignal, gzipped: boolean): Promise<string> {
    const pool = this.pool;
    if (pool === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    const headers = gzipped ? { ...this.headers, 'content-encoding': 'gzip' } : this.headers;
    let res: Dispatcher.ResponseData;
    try {
      res = await pool.request({ method: 'POST', path, headers, body: body ?? '', signal });
    } catch (err) {
      if (signal.aborted) {
        const reason: unknown = signal.reason;
        throw new RetryableError(`${this.where}: request aborted (${reason instanceof Error ? reason.message : String(reason ?? 'aborted')})`, { cause: err });
      }
      const code = (err as { code?: unknown }).code;
      throw new RetryableError(`${this.where}: ${typeof code === 'string' ? `${code}: ` : ''}${errorMessage(err)}`, { cause: err });
    }
    let answer: Buffer;
    try {
      answer = await readBounded(res.body);
    } catch (err) {
      throw new RetryableError(`${this.where}: reading the answer failed: ${errorMessage(err)}`, { cause: err });
    }
    if (res.statusCode === 200) return answer.toString('utf8');
    const h = (n: string): string | undefined => {
      const v = res.headers[n];
      return Array.isArray(v) ? v[0] : v;
    };
    throw clickHouseError(this.where, res.statusCode, h('x-clickhouse-exception-code'), h('retry-after'), answer.toString('utf8'));
  }
}
