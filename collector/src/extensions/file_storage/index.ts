/**
 * `file_storage` extension, shaped like the upstream filestorage extension: exporters that name it in
 * `sending_queue.storage` get a persistent queue in `<directory>/<exporter id>/` (pipeline/disk-queue.ts).
 */
import { z } from 'zod';
import type { ExtensionFactory } from '../../component.js';
import { byteSize, section } from '../../config/schema-helpers.js';
import { FileStorageExtension } from './file-storage-extension.js';

export const fileStorageConfigSchema = z.strictObject({
  /** Where queues live; created if missing. One sub-directory per exporter. */
  directory: z.string().min(1).default('./data/file_storage'),
  /** fdatasync every write before the receiver acknowledges it (survives power loss, not just a crash). */
  fsync: z.boolean().default(false),
  compaction: section({
    /** Delete fully acknowledged segments when the queue opens. */
    on_start: z.boolean().default(true),
    /** Delete each segment as soon as every record in it is acknowledged. */
    on_rebound: z.boolean().default(true),
  }),
  /** Tributary: most unacknowledged bytes one exporter's queue may hold; full = back-pressure (or drop_oldest). */
  max_queue_bytes: byteSize().prefault('1GiB'),
  /** Tributary: a new segment file starts once the current one reaches this size. */
  segment_size: byteSize().prefault('16MiB'),
});

export type FileStorageConfig = z.infer<typeof fileStorageConfigSchema>;

export const fileStorageExtensionFactory: ExtensionFactory<FileStorageConfig> = {
  kind: 'extension',
  type: 'file_storage',
  stability: 'beta',
  configSchema: fileStorageConfigSchema,
  create(settings, config) {
    return new FileStorageExtension(settings, config);
  },
};

export { FileStorageExtension } from './file-storage-extension.js';
