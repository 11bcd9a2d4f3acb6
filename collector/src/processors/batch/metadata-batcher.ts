/**
 * `metadata_keys` (as upstream's batch processor): one batcher per distinct combination of the listed
 * request metadata values; each batch it sends carries those values as its metadata, so exporters (and
 * headers_setter) see the tenant the records came with. More than `metadata_cardinality_limit`
 * combinations: the data is refused for good, as upstream.
 */
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import { PermanentError } from '../../errors.js';
import { BatchProcessor } from './batch-processor.js';
import type { BatchProcessorConfig } from './config.js';

type Metadata = NonNullable<LogsBatch['metadata']>;

export class MetadataBatchProcessor implements Processor {
  readonly mutatesData = false;
  private readonly keys: string[];
  private readonly limit: number;
  private readonly batchers = new Map<string, BatchProcessor>();

  constructor(private readonly settings: CreateSettings, private readonly config: BatchProcessorConfig, private readonly next: LogsConsumer) {
    this.keys = (config.metadata_keys ?? []).map((k) => k.toLowerCase());
    this.limit = config.metadata_cardinality_limit ?? 1000;
  }

  async start(): Promise<void> {}

  consume(batch: LogsBatch): Promise<void> {
    const values = this.keys.map((k) => {
      const v = batch.metadata?.[k];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    });
    const id = JSON.stringify(values);
    let b = this.batchers.get(id);
    if (b === undefined) {
      if (this.limit > 0 && this.batchers.size >= this.limit) {
        return Promise.reject(new PermanentError(`batch processor ${this.settings.id.id}: too many batcher metadata-value combinations (metadata_cardinality_limit ${this.limit})`));
      }
      const fixed: Record<string, string | string[]> = {};
      this.keys.forEach((k, i) => {
        const v = values[i]!;
        if (v.length) fixed[k] = v.length === 1 ? v[0]! : v;
      });
      const metadata: Metadata = fixed;
      const next = this.next;
      b = new BatchProcessor(this.settings, this.config, { consume: (out) => next.consume({ ...out, metadata }) });
      this.batchers.set(id, b);
    }
    return b.consume(batch);
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.batchers.values()].map((b) => b.shutdown()));
  }
}
