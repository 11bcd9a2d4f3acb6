/**
 * The `clickhouse` exporter: `INSERT INTO <db>.<table> FORMAT JSONEachRow` over the HTTP interface
 * (the shared HTTP client, optional gzip), one INSERT per batch. Before the first insert it asks
 * `SELECT version()` (layout `auto`) and, with `create_schema`, creates the database and table.
 * It never retries: failures are classified for the shared queue/retry helper.
 */
import { nowNanos } from '@tributary/otlp';
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { compressBody, headerOf, openHttpClient, type HttpClient } from '../../config/http-client.js';
import { parseRetryAfter, PermanentError, RetryableError, ThrottledError } from '../../errors.js';
import type { ClickHouseExporterConfig } from './config.js';
import { convertToClickHouseRows, type ClickHouseLayout } from './convert.js';
import { createDatabaseSql, createTableSql, insertSql, layoutForVersion, type SchemaOptions } from './schema.js';

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
  private client: HttpClient | undefined;
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

  async start(host?: Host): Promise<void> {
    this.client = await openHttpClient({ name: `exporter ${this.settings.id.id}`, logger: this.settings.logger, host }, this.url, this.config, this.where);
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
    const body = await compressBody(raw, gz, this.config.compression_params.level);
    await this.post(this.insertPath, body, signal, gz, batch);
  }

  async shutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
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

  private async post(path: string, body: Uint8Array | undefined, signal: AbortSignal, gzipped: boolean, batch?: LogsBatch): Promise<string> {
    const client = this.client;
    if (client === undefined) throw new RetryableError(`${this.where}: exporter is not started`);
    const headers = gzipped ? { ...this.headers, 'content-encoding': 'gzip' } : this.headers;
    const res = await client.request({ path, headers, body: body ?? '', signal, metadata: batch?.metadata });
    if (res.status === 200) return res.body.toString('utf8');
    throw clickHouseError(this.where, res.status, headerOf(res.headers, 'x-clickhouse-exception-code'), headerOf(res.headers, 'retry-after'), res.body.toString('utf8'));
  }
}
