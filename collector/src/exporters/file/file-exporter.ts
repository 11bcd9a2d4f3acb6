/**
 * The file exporter's sender: each batch becomes one line of OTLP/JSON (an ExportLogsServiceRequest,
 * like the upstream file exporter's JSON lines), appended through the group-commit writer.
 */
import { encodeResourceLogsJson } from '@tributary/otlp';
import type { CreateSettings, LogsBatch, LogsSender } from '../../component.js';
import { errorMessage, RetryableError } from '../../errors.js';
import { RateLimitedLog } from '../../telemetry/logger.js';
import { FileWriteError, RotatingFileWriter } from './rotating-writer.js';
import type { FileExporterConfig } from './index.js';

const MEGABYTE = 1024 * 1024;

export interface FileExporterOptions {
  /** Wall clock in ms, for rotation (tests inject one to cross midnight). */
  now?: () => number;
}

const LINE_START = Buffer.from('{"resourceLogs":[');
const COMMA = Buffer.from(',');
const LINE_END = Buffer.from(']}\n');

/** One OTLP/JSON line for the batch, as chunks: one Buffer per ResourceLogs (never one giant string). */
function encodeLine(batch: LogsBatch): Buffer[] {
  const rls = batch.resourceLogs;
  const out: Buffer[] = [LINE_START];
  for (let i = 0; i < rls.length; i++) {
    if (i > 0) out.push(COMMA);
    out.push(Buffer.from(encodeResourceLogsJson(rls[i]!), 'utf8'));
  }
  out.push(LINE_END);
  return out;
}

export class FileExporter implements LogsSender {
  readonly writer: RotatingFileWriter;
  private readonly id: string;

  constructor(settings: CreateSettings, config: FileExporterConfig, options: FileExporterOptions = {}) {
    this.id = settings.id.id;
    const log = new RateLimitedLog(settings.logger);
    const rotation = config.rotation;
    this.writer = new RotatingFileWriter({
      path: config.path,
      append: config.append,
      maxBytes: rotation ? Math.round(rotation.max_megabytes * MEGABYTE) : 0,
      daily: rotation?.daily ?? false,
      maxBackups: rotation?.max_backups ?? 0,
      maxDays: rotation?.max_days ?? 0,
      localtime: rotation?.localtime ?? false,
      compress: config.compress === 'gzip',
      flushIntervalMs: config.flush_interval,
      ...(options.now ? { now: options.now } : {}),
      onBackgroundError: (what, err) => log.warn('file exporter background work failed', { exporter: this.id, what, error: errorMessage(err) }),
    });
  }

  async start(): Promise<void> {
    try {
      await this.writer.open();
    } catch (err) {
      throw new Error(`exporter ${this.id}: ${errorMessage(err)}`, { cause: err });
    }
  }

  async send(batch: LogsBatch, _signal: AbortSignal): Promise<void> {
    try {
      await this.writer.writeChunks(encodeLine(batch));
    } catch (err) {
      // Disk full, permissions, a vanished directory: the queue retries.
      const msg = err instanceof FileWriteError ? err.message : `write to ${this.writer.filePath} failed: ${errorMessage(err)}`;
      throw new RetryableError(`exporter ${this.id}: ${msg}`, { cause: err });
    }
  }

  shutdown(): Promise<void> {
    return this.writer.close();
  }
}
