/** The `resource` processor (upstream resourceprocessor): applies attribute actions to each ResourceLogs' resource, once per resource. */
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import { AttributeActions } from '../attributes/actions.js';
import type { ResourceConfig } from './config.js';
import { Metrics } from '../../telemetry/metric-names.js';

export class ResourceProcessor implements Processor {
  readonly mutatesData = true;
  private readonly actions: AttributeActions;
  private readonly incoming: BoundCounter;
  private readonly outgoing: BoundCounter;

  constructor(settings: CreateSettings, config: ResourceConfig, private readonly next: LogsConsumer) {
    this.actions = new AttributeActions(config.attributes);
    const labels = { processor: settings.id.id };
    this.incoming = settings.telemetry.counter(Metrics.processorIncoming).bind(labels);
    this.outgoing = settings.telemetry.counter(Metrics.processorOutgoing).bind(labels);
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  consume(batch: LogsBatch): Promise<void> {
    this.incoming.add(batch.recordCount);
    for (const rl of batch.resourceLogs) {
      rl.resource ??= { attributes: [], droppedAttributesCount: 0 };
      this.actions.apply(rl.resource.attributes, batch.metadata);
    }
    this.outgoing.add(batch.recordCount);
    return this.next.consume(batch);
  }
}
