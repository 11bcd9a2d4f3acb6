/** `store` exporter (Tributary's own): an embedded, searchable log store (SQLite + FTS5, one file per tenant per day). */
import type { ExporterFactory } from '../../component.js';
import { storeConfigSchema, type StoreConfig } from './config.js';
import { StoreExporter } from './store-exporter.js';

export { storeConfigSchema, readerOptions, tenantKey, type StoreConfig } from './config.js';
export { StoreExporter } from './store-exporter.js';
export { StoreReader, TenantAccessError, QueryTooExpensiveError, streamLabels, type TenantAccess, type QueryRequest, type QueryResult, type StoredRecord, type ReaderOptions } from './reader.js';
export { StoreWriter, type WriterOptions } from './writer.js';
export { flattenBatch } from './encode.js';
export { runMaintenance } from './maintenance.js';
export { StoreWorker, StoreWorkerError } from './worker-client.js';
export { findStore } from './registry.js';

export const storeExporterFactory: ExporterFactory<StoreConfig> = {
  kind: 'exporter',
  type: 'store',
  configSchema: storeConfigSchema,
  create(settings, config) {
    return new StoreExporter(settings, config);
  },
};
