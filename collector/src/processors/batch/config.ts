/** Config of the `batch` processor: upstream batchprocessor keys and defaults. */
import { z } from 'zod';
import { duration } from '../../config/schema-helpers.js';

export const batchProcessorConfigSchema = z
  .strictObject({
    /** Records pending that trigger a send regardless of `timeout`. 0: send on every arrival. */
    send_batch_size: z.number().int().min(0).default(8192),
    /** Most records per downstream call; larger batches are split. 0: no limit. */
    send_batch_max_size: z.number().int().min(0).default(0),
    /** Longest a record waits for a batch to fill. 0: send on every arrival. */
    timeout: duration().prefault('200ms'),
    /**
     * Tributary: false (default) acknowledges records once they are in the batch (as upstream), so
     * senders are not held for `timeout`; true acknowledges only after the batch carrying them was
     * accepted downstream. The service turns it on when a pipeline's exporter has a persistent queue,
     * so nothing is acknowledged before it is on disk.
     */
    wait_for_result: z.boolean().default(false),
    /** Tributary: most records held (pending + refused by downstream) before senders get 429. 0: auto. */
    max_pending_records: z.number().int().min(0).default(0),
    /**
     * Request metadata keys (the receiver's `include_metadata: true`): one batcher per distinct combination
     * of their values, so a batch never mixes them and keeps them for the exporter (e.g. headers_setter).
     */
    metadata_keys: z.array(z.string().min(1)).optional(),
    /** Most distinct metadata combinations (batchers); data bringing one more is refused. 0: no limit. Default 1000. */
    metadata_cardinality_limit: z.number().int().min(0).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.send_batch_max_size > 0 && c.send_batch_max_size < c.send_batch_size) {
      ctx.addIssue({
        code: 'custom',
        path: ['send_batch_max_size'],
        message: `must be 0 or greater than or equal to send_batch_size (${c.send_batch_size})`,
      });
    }
  });

export type BatchProcessorConfig = z.output<typeof batchProcessorConfigSchema>;
