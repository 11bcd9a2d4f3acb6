/**
 * The file exporter's sender: each batch becomes one line of OTLP/JSON (an ExportLogsServiceRequest,
 * like the upstream file exporter's JSON lines), encoded straight into a pooled byte buffer and appended
 * through the group-commit writer.
 */
import { encodeResourceLogsJsonInto, JsonByteWriter } from '@tributary/otlp';
import { requestsToJson } from '../../signals/otlp-signals.js';
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
const LINE_END = Buffer.from(']}\n');
/** Idle writers kept for reuse; more concurrent sends than this allocate (and drop) their own. */
const MAX_POOLED_WRITERS = 4;
/** A writer grown past this by an outsized batch is dropped rather than kept holding the memory. */
const MAX_POOLED_CAPACITY = 32 * MEGABYTE;

/** The batch as one OTLP/JSON line, encoded straight into bytes (no per-record strings or Buffers). */
function encodeLine(batch: LogsBatch, out: JsonByteWriter): void {
  if (batch.opaque !== undefined) {
    // Traces / metrics: one OTLP/JSON line per batch, as upstream's file exporter writes them.
    out.raw(Buffer.from(requestsToJson(batch.opaque.signal, batch.opaque.requests) + '\n', 'utf8'));
    return;
  }
  const rls = batch.resourceLogs;
  out.raw(LINE_START);
  for (let i = 0; i < rls.length; i++) {
    if (i > 0) out.byte(0x2c);
    encodeResourceLogsJsonInto(rls[i]!, out);
  }
  out.raw(LINE_END);
}

export class FileExporter implements LogsSender {
  readonly writer: RotatingFileWriter;
  private readonly id: string;
  private readonly idleWriters: JsonByteWriter[] = [];

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
    // The line is a view into the writer's buffer: the writer goes back to the pool only once the
    // group-commit write holding that view has settled (the file writer keeps no chunk after that).
    const out = this.idleWriters.pop() ?? new JsonByteWriter(256 * 1024);
    try {
      encodeLine(batch, out);
      await this.writer.writeChunks([out.bytes()]);
    } catch (err) {
      // Disk full, permissions, a vanished directory: the queue retries.
      const msg = err instanceof FileWriteError ? err.message : `write to ${this.writer.filePath} failed: ${errorMessage(err)}`;
      throw new RetryableError(`exporter ${this.id}: ${msg}`, { cause: err });
    } finally {
      out.reset();
      if (this.idleWriters.length < MAX_POOLED_WRITERS && out.capacity <= MAX_POOLED_CAPACITY) this.idleWriters.push(out);
    }
  }

  shutdown(): Promise<void> {
    return this.writer.close();
  }
}
