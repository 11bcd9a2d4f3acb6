/**
 * The `store` exporter's sender: flattens each batch on the main thread (split by tenant, one array of
 * primitives per tenant) and hands it to the writer worker, which commits it in one transaction per day
 * file. Maintenance (retention, archival, size cap) runs in the same worker on a timer.
 */
import type { CreateSettings, Host, LogsBatch, LogsSender } from '../../component.js';
import { errorMessage, PermanentError, RetryableError } from '../../errors.js';
import type { Counter } from '../../telemetry/metrics.js';
import { flattenBatch, type TenantRule } from './encode.js';
import type { MaintenanceEvent } from './maintenance.js';
import { tenantKey, type StoreConfig } from './config.js';
import { StoreWorker, StoreWorkerError } from './worker-client.js';
import { registerStore, unregisterStore } from './registry.js';
import { tailHub } from '../../tail/hub.js';

/** SQLite codes worth retrying (disk full, I/O, lock held by another process). */
const RETRYABLE = new Set(['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_READONLY']);

/** A write failure as the queue should see it: disk full, I/O, locks, corruption → retry; the rest permanent. */
export function classifyStoreError(err: unknown): RetryableError | PermanentError {
  const code = err instanceof StoreWorkerError || err instanceof Error ? (err as { code?: string }).code : undefined;
  const base = code?.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1');
  if (base === undefined || RETRYABLE.has(base)) return new RetryableError(`store: ${errorMessage(err)}`, { cause: err });
  return new PermanentError(`store: ${errorMessage(err)}`, { cause: err });
}

export class StoreExporter implements LogsSender {
  private worker: StoreWorker | undefined;
  private readonly rule: TenantRule;
  private timer: NodeJS.Timeout | undefined;
  private maintaining: Promise<void> | undefined;
  private readonly removed: Counter;
  private readonly stored: Counter;

  constructor(private readonly settings: CreateSettings, private readonly config: StoreConfig) {
    this.rule = { key: tenantKey(config), fallback: config.default_tenant };
    registerStore(settings.id.id, config);
    this.removed = settings.telemetry.counter('tributary_store_removed_log_records_total', 'Records removed from the store by retention, archival moves them out of search, or the size cap');
    this.stored = settings.telemetry.counter('tributary_store_written_log_records_total', 'Records committed to the store');
  }

  async start(_host: Host): Promise<void> {
    const c = this.config;
    this.worker = new StoreWorker({
      role: 'writer',
      writer: { directory: c.directory, tokenizer: c.tokenizer, synchronous: c.synchronous, maxOpenFiles: c.max_open_files, defaultDays: c.retention.default_days },
      maintenance: { directory: c.directory, defaultDays: c.retention.default_days, archiveAfterMs: c.archive.after, maxSizeBytes: c.max_size },
    }, (err) => this.settings.logger.error('store writer worker stopped', { exporter: this.settings.id.id, error: err.message }),
    (e) => this.settings.logger.error('store day file is damaged: moved aside, a new file started', { exporter: this.settings.id.id, file: e.file, moved_to: e.aside }));
    await this.maintain();
    if (c.retention.check_interval > 0) {
      this.timer = setInterval(() => void this.maintain(), c.retention.check_interval);
      this.timer.unref();
    }
  }

  /** One retention/archival/size-cap pass (also callable from tests). */
  maintain(nowMs = Date.now()): Promise<void> {
    const w = this.worker;
    if (!w) return Promise.resolve();
    this.maintaining ??= w.call<MaintenanceEvent[]>('maintain', nowMs).then(
      (events) => {
        for (const e of events) {
          this.settings.logger.info('store retention', { exporter: this.settings.id.id, action: e.action, tenant: e.tenant, day: e.day, records: e.records, bytes: e.bytes, class: e.class });
          this.removed.bind({ exporter: this.settings.id.id, reason: e.action }).add(e.records);
        }
      },
      (err: unknown) => this.settings.logger.warn('store maintenance failed', { exporter: this.settings.id.id, error: errorMessage(err) }),
    ).finally(() => {
      this.maintaining = undefined;
    });
    return this.maintaining;
  }

  async send(batch: LogsBatch): Promise<void> {
    const w = this.worker;
    if (!w) throw new RetryableError('store exporter not started');
    const flat = flattenBatch(batch.resourceLogs, this.rule, Date.now());
    try {
      const r = await w.call<{ records: number; rids: BigInt64Array[] }>('write', flat);
      this.stored.bind({ exporter: this.settings.id.id }).add(r.records);
      // Committed: live tail viewers get the records with their store ids, so a resume can start here.
      if (tailHub.size > 0 || tailHub.onPublish) {
        const ids = new Map<string, BigInt64Array>();
        for (let i = 0; i < flat.length; i++) ids.set(flat[i]!.tenant, r.rids[i]!);
        tailHub.publish(batch.resourceLogs, this.rule, false, ids);
      }
    } catch (err) {
      throw classifyStoreError(err);
    }
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.maintaining;
    const w = this.worker;
    this.worker = undefined;
    unregisterStore(this.settings.id.id);
    if (!w) return;
    try {
      await w.call('close');
    } finally {
      await w.terminate();
    }
  }
}
