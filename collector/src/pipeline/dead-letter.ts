/**
 * The dead-letter file: records an exporter gave up on (permanent errors, per-item rejections, retries
 * exhausted, shutdown without a disk queue) are appended as one OTLP/JSON line each:
 *
 *   {"exporter":"otlphttp/a","reason":"permanent: 400 bad","time":"2024-…Z","resourceLogs":[…]}
 *
 * `tributary replay --from <file> --exporter <id>` reads the lines back (readDeadLetterFile) and
 * resends them. Writes are serialised through one append stream; each append resolves once the line is
 * written (and fdatasync'd), so a record counted as dead-lettered is on disk.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeExportRequestJson, encodeResourceLogsArrayJson } from '@tributary/otlp';
import type { ResourceLogs } from '@tributary/otlp';

export interface DeadLetterEntry {
  exporter: string;
  reason: string;
  time: string;
  resourceLogs: ResourceLogs[];
  /** 1-based line number in the file (for error messages). */
  line: number;
}

/** One JSON line for a dead-lettered batch (no trailing newline). */
export function encodeDeadLetterLine(exporter: string, reason: string, resourceLogs: readonly ResourceLogs[], time = new Date()): string {
  // encodeResourceLogsArrayJson gives `{"resourceLogs":[…]}`: put our fields in front of it.
  const body = encodeResourceLogsArrayJson(resourceLogs);
  return `{"exporter":${JSON.stringify(exporter)},"reason":${JSON.stringify(reason)},"time":"${time.toISOString()}",${body.slice(1)}`;
}

export class DeadLetterWriter {
  private fh: FileHandle | undefined;
  private opening: Promise<FileHandle> | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(readonly path: string, private readonly exporter: string, private readonly fsync = true) {}

  /** Appends one line for the batch; resolves when it is on disk. Rejects if the file cannot be written. */
  append(resourceLogs: readonly ResourceLogs[], reason: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`dead-letter file ${this.path}: closed`));
    const line = encodeDeadLetterLine(this.exporter, reason, resourceLogs) + '\n';
    const p = this.chain.then(async () => {
      const fh = await this.handle();
      await fh.appendFile(line, 'utf8');
      if (this.fsync) await fh.datasync();
    });
    // Keep the chain alive after a failure so later appends still try.
    this.chain = p.catch(() => undefined);
    return p;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  private handle(): Promise<FileHandle> {
    if (this.fh) return Promise.resolve(this.fh);
    this.opening ??= (async () => {
      try {
        await mkdir(dirname(this.path), { recursive: true });
        this.fh = await open(this.path, 'a', 0o600);
        return this.fh;
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }
}

/** Reads a dead-letter file line by line. Throws with the line number on a malformed line. */
export async function* readDeadLetterFile(path: string): AsyncGenerator<DeadLetterEntry> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n++;
    if (text.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(`${path}:${n}: not JSON: ${(e as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${path}:${n}: not an object`);
    const o = parsed as Record<string, unknown>;
    let resourceLogs: ResourceLogs[];
    try {
      resourceLogs = decodeExportRequestJson({ resourceLogs: o['resourceLogs'] }).resourceLogs;
    } catch (e) {
      throw new Error(`${path}:${n}: ${(e as Error).message}`);
    }
    yield {
      exporter: typeof o['exporter'] === 'string' ? o['exporter'] : '',
      reason: typeof o['reason'] === 'string' ? o['reason'] : '',
      time: typeof o['time'] === 'string' ? o['time'] : '',
      resourceLogs,
      line: n,
    };
  }
}
