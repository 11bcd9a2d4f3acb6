/** The `attributes` processor (upstream attributesprocessor, logs): applies actions to every record's attributes. */
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import type { LogRecord } from '@tributary/otlp';
import type { Condition, LogContext } from '../../ottl/index.js';
import { AttributeActions } from './actions.js';
import { compileSelection } from './match.js';
import type { AttributesConfig } from './config.js';
import { Metrics } from '../../telemetry/metric-names.js';

export class AttributesProcessor implements Processor {
  readonly mutatesData = true;
  private readonly actions: AttributeActions;
  private readonly selected: Condition | undefined;
  private readonly incoming: BoundCounter;
  private readonly outgoing: BoundCounter;

  constructor(settings: CreateSettings, config: AttributesConfig, private readonly next: LogsConsumer) {
    this.actions = new AttributeActions(config.actions);
    this.selected = compileSelection(config.include, config.exclude);
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
    const selected = this.selected;
    // One context object per batch, its fields reassigned per record (no allocation per record).
    const ctx: LogContext = { record: undefined as unknown as LogRecord, resource: undefined, scope: undefined };
    for (let i = 0; i < rls.length; i++) {
      const sls = rls[i]!.scopeLogs;
      ctx.resource = rls[i]!.resource;
      for (let j = 0; j < sls.length; j++) {
        const recs = sls[j]!.logRecords;
        ctx.scope = sls[j]!.scope;
        for (let k = 0; k < recs.length; k++) {
          if (selected !== undefined) {
            ctx.record = recs[k]!;
            if (!selected(ctx)) continue;
          }
          this.actions.apply(recs[k]!.attributes, md);
        }
      }
    }
    this.outgoing.add(batch.recordCount);
    return this.next.consume(batch);
  }
}
