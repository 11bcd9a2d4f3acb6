/** The `attributes` processor (upstream attributesprocessor, logs): applies actions to every record's attributes. */
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import { AttributeActions } from './actions.js';
import type { AttributesConfig } from './config.js';
import { Metrics } from '../../telemetry/metric-names.js';

export class AttributesProcessor implements Processor {
  readonly mutatesData = true;
  private readonly actions: AttributeActions;
  private readonly incoming: BoundCounter;
  private readonly outgoing: BoundCounter;

  constructor(settings: CreateSettings, config: AttributesConfig, private readonly next: LogsConsumer) {
    this.actions = new AttributeActions(config.actions);
    const labels = { processor: settings.id.id };
    this.incoming = settings.telemetry.counter(Metrics.processorIncoming).bind(labels);
    this.outgoing = settings.telemetry.counter(Metrics.processorOutgoing).bind(labels);
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  consume(batch: LogsBatch): Promise<void> {
    this.incoming.add(batch.recordCount);
    const md = batch.metadata;
    const rls = batch.resourceLogs;
    for (let i = 0; i < rls.length; i++) {
      const sls = rls[i]!.scopeLogs;
      for (let j = 0; j < sls.length; j++) {
        const recs = sls[j]!.logRecords;
        for (let k = 0; k < recs.length; k++) this.actions.apply(recs[k]!.attributes, md);
      }
    }
    this.outgoing.add(batch.recordCount);
    return this.next.consume(batch);
  }
}
