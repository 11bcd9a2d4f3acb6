/**
 * `tributary replay --from <dead-letter file> --exporter <id>`: resends the batches of a dead-letter file
 * through one exporter of the config (its own sender, retry and timeout; no queue, no dead-letter file of
 * its own), once the cause of the failure is fixed. Lines that fail again are written to
 * `<file>.remaining` (same format), so a second replay can pick them up.
 */
import { open } from 'node:fs/promises';
import { countLogRecords } from '@tributary/otlp';
import { parseComponentId } from '../component.js';
import type { ExporterFactory, Host } from '../component.js';
import { errorMessage } from '../errors.js';
import { encodeDeadLetterLine, readDeadLetterFile } from '../pipeline/dead-letter.js';
import type { ExporterHelperConfig } from '../pipeline/exporter-helper-config.js';
import { QueuedRetryExporter } from '../pipeline/exporter-helper.js';
import type { ComponentRegistry } from '../registry.js';
import type { Logger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/metrics.js';

export interface ReplayOptions {
  exporters: Readonly<Record<string, unknown>>;
  registry: ComponentRegistry;
  from: string;
  exporterId: string;
  logger: Logger;
  /** Where lines that fail again go; `<from>.remaining` by default. */
  remainingPath?: string;
}

export interface ReplayResult {
  batches: number;
  records: number;
  delivered: number;
  failedBatches: number;
  failedRecords: number;
  remainingPath: string | undefined;
}

export class ReplayError extends Error {}

export async function replayDeadLetters(o: ReplayOptions): Promise<ReplayResult> {
  const expCfg = o.exporters[o.exporterId];
  if (expCfg === undefined) throw new ReplayError(`exporter "${o.exporterId}" is not in the config's exporters`);
  const id = parseComponentId(o.exporterId);
  const factory = o.registry.get('exporter', id.type) as ExporterFactory | undefined;
  if (!factory) throw new ReplayError(`exporter type "${id.type}" is not registered`);
  const telemetry = new Telemetry();
  const settings = { id, logger: o.logger.child({ kind: 'exporter', component: o.exporterId }), telemetry };
  const helperCfg = expCfg as ExporterHelperConfig;
  // Send synchronously (each batch's outcome is known) and never write back into a dead-letter file.
  const cfg: ExporterHelperConfig = { ...helperCfg, sending_queue: { ...helperCfg.sending_queue, enabled: false }, dead_letter: {} };
  const exporter = new QueuedRetryExporter(settings, cfg, factory.create(settings, expCfg));
  const host: Host = {
    telemetry,
    logger: o.logger,
    reportStatus: () => undefined,
    componentStatuses: () => new Map(),
    isReady: () => true,
    getExtension: () => undefined,
  };
  const result: ReplayResult = { batches: 0, records: 0, delivered: 0, failedBatches: 0, failedRecords: 0, remainingPath: undefined };
  const remainingPath = o.remainingPath ?? `${o.from}.remaining`;
  let remaining: Awaited<ReturnType<typeof open>> | undefined;
  await exporter.start(host);
  try {
    for await (const entry of readDeadLetterFile(o.from)) {
      const n = countLogRecords(entry.resourceLogs);
      result.batches++;
      result.records += n;
      try {
        await exporter.consume({ resourceLogs: entry.resourceLogs, recordCount: n, receivedAt: performance.now() });
        result.delivered += n;
      } catch (e) {
        result.failedBatches++;
        result.failedRecords += n;
        remaining ??= await open(remainingPath, 'w', 0o600);
        await remaining.appendFile(encodeDeadLetterLine(entry.exporter || o.exporterId, `${entry.reason}; replay failed: ${errorMessage(e)}`, entry.resourceLogs) + '\n');
      }
    }
  } finally {
    await remaining?.close();
    await exporter.shutdown();
  }
  if (remaining) result.remainingPath = remainingPath;
  return result;
}
