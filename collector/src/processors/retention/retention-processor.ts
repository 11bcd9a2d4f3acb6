/**
 * The `retention` processor: tags every record with `retention.class` and `retention.days` from the first
 * matching policy. Policies are compiled once; per record it evaluates policies in order and upserts two
 * attributes.
 */
import { countLogRecords, upsertAttributes, type KeyValue, type LogRecord } from '@tributary/otlp';
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import { PermanentError } from '../../errors.js';
import {
  allOf,
  attributeEquals,
  categoryIn,
  compileCondition,
  EvaluationError,
  guardCondition,
  severityBetween,
  type Condition,
  type ErrorMode,
  type LogContext,
} from '../../ottl/index.js';
import { RateLimitedLog } from '../../telemetry/logger.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import { BUILTIN_POLICIES, type RetentionPolicy, type RetentionProcessorConfig } from './config.js';
import { Metrics } from '../../telemetry/metric-names.js';

export const RETENTION_CLASS_ATTRIBUTE = 'retention.class';
export const RETENTION_DAYS_ATTRIBUTE = 'retention.days';
export const RETENTION_TAGGED_METRIC = Metrics.retentionTagged.name;

/** A retention class and how long it is kept (-1: forever). */
export interface RetentionClass {
  readonly name: string;
  readonly days: number;
}

/** The classes a config can produce, in policy order, default last (for exporters that pre-create storage). */
export function retentionClasses(config: RetentionProcessorConfig): RetentionClass[] {
  const out: RetentionClass[] = [];
  for (const p of [...(config.policies ?? BUILTIN_POLICIES), config.default]) {
    if (!out.some((c) => c.name === p.name && c.days === p.days)) out.push({ name: p.name, days: p.days });
  }
  return out;
}

/** One policy's match predicate: all of its keys (a policy without keys matches everything). */
export function compilePolicy(p: RetentionPolicy, label: string, mode: ErrorMode, log?: RateLimitedLog): Condition {
  const parts: Condition[] = [];
  if (p.min_severity !== undefined || p.max_severity !== undefined) parts.push(severityBetween(p.min_severity, p.max_severity));
  if (p.categories !== undefined) parts.push(categoryIn(p.categories));
  for (const [key, value] of Object.entries(p.attributes ?? {})) parts.push(attributeEquals(key, value));
  // The condition goes last: the cheap keys above short-circuit it.
  if (p.when !== undefined) parts.push(guardCondition(compileCondition(p.when), `${label}.when ${JSON.stringify(p.when)}`, mode, log));
  return allOf(parts);
}

interface CompiledPolicy extends RetentionClass {
  readonly match: Condition;
  readonly attributes: readonly KeyValue[];
  readonly tagged: BoundCounter;
}

/**
 * The two attributes of a class, shared by every record tagged with it: `upsertAttributes` keeps them as
 * an overlay on records still in their bytes and copies the values into any other record (a later
 * processor may rewrite values in place).
 */
function classAttributes(name: string, days: number): readonly KeyValue[] {
  return Object.freeze([
    Object.freeze({ key: RETENTION_CLASS_ATTRIBUTE, value: Object.freeze({ stringValue: name }) }),
    Object.freeze({ key: RETENTION_DAYS_ATTRIBUTE, value: Object.freeze({ intValue: days }) }),
  ]);
}

export class RetentionProcessor implements Processor {
  readonly mutatesData = true;

  private readonly policies: CompiledPolicy[];
  private readonly fallback: CompiledPolicy;
  private readonly incoming: BoundCounter;
  private readonly outgoing: BoundCounter;
  private readonly refused: BoundCounter;

  constructor(settings: CreateSettings, config: RetentionProcessorConfig, private readonly next: LogsConsumer) {
    const id = settings.id.id;
    const t = settings.telemetry;
    const tagged = t.counter(Metrics.retentionTagged);
    const log = new RateLimitedLog(settings.logger);
    const list = config.policies ?? BUILTIN_POLICIES;
    this.policies = list.map((p, i) => ({
      name: p.name,
      days: p.days,
      match: compilePolicy(p, `policies[${i}]`, config.error_mode, log),
      attributes: classAttributes(p.name, p.days),
      tagged: tagged.bind({ processor: id, class: p.name }),
    }));
    const d = config.default;
    this.fallback = { name: d.name, days: d.days, match: () => true, attributes: classAttributes(d.name, d.days), tagged: tagged.bind({ processor: id, class: d.name }) };
    const labels = { processor: id };
    this.incoming = t.counter(Metrics.processorIncoming).bind(labels);
    this.outgoing = t.counter(Metrics.processorOutgoing).bind(labels);
    this.refused = t.counter(Metrics.processorRefused).bind(labels);
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  consume(batch: LogsBatch): Promise<void> {
    const total = countLogRecords(batch.resourceLogs);
    this.incoming.add(total);
    try {
      this.tagBatch(batch);
    } catch (err) {
      this.refused.add(total);
      const message = err instanceof EvaluationError ? err.message : `retention failed: ${String(err)}`;
      return Promise.reject(new PermanentError(message, { cause: err }));
    }
    this.outgoing.add(total);
    return this.next.consume(batch);
  }

  private tagBatch(batch: LogsBatch): void {
    const policies = this.policies;
    const n = policies.length;
    const ctx: LogContext = { record: undefined as unknown as LogRecord, resource: undefined, scope: undefined };
    const rls = batch.resourceLogs;
    for (let r = 0; r < rls.length; r++) {
      const rl = rls[r]!;
      ctx.resource = rl.resource;
      const sls = rl.scopeLogs;
      for (let s = 0; s < sls.length; s++) {
        const sl = sls[s]!;
        ctx.scope = sl.scope;
        const recs = sl.logRecords;
        for (let i = 0; i < recs.length; i++) {
          const rec = recs[i]!;
          ctx.record = rec;
          let chosen = this.fallback;
          for (let p = 0; p < n; p++) {
            if (policies[p]!.match(ctx)) {
              chosen = policies[p]!;
              break;
            }
          }
          upsertAttributes(rec, chosen.attributes);
          chosen.tagged.value++;
        }
      }
    }
  }
}
