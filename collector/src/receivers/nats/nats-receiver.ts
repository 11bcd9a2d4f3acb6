/**
 * The `nats` receiver: pulls OTLP protobuf messages from a durable JetStream consumer and acknowledges
 * each one only after the pipeline accepted it (every exporter queued it). Back-pressure from the
 * pipeline naks the message with a delay, so it is redelivered later (here or to another gateway); a
 * gateway killed mid-batch never acknowledged what it had not queued, and JetStream redelivers it after
 * `ack_wait`. Delivery is at least once: redeliveries are counted.
 */
import { countLogRecords, decodeExportRequest, type ResourceLogs } from '@tributary/otlp';
import { AckPolicy, DeliverPolicy, nanos, type ConnectionOptions, type ConsumerConfig, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import type { CreateSettings, LogsConsumer, Receiver } from '../../component.js';
import { connectNats, natsConnectOptions } from '../../coordination/nats-connection.js';
import { classifyError, errorMessage, retryAfterOf } from '../../errors.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import { Metrics } from '../../telemetry/metric-names.js';
import type { NatsReceiverConfig } from './config.js';

export const REDELIVERED_METRIC = Metrics.receiverNatsRedelivered.name;

const DELIVER: Record<NatsReceiverConfig['consumer']['deliver_policy'], DeliverPolicy> = {
  all: DeliverPolicy.All,
  new: DeliverPolicy.New,
  last: DeliverPolicy.Last,
  last_per_subject: DeliverPolicy.LastPerSubject,
};

export class NatsReceiver implements Receiver {
  private readonly stop = new AbortController();
  private readonly where: string;
  private readonly accepted: BoundCounter;
  private readonly refusedMalformed: BoundCounter;
  private readonly refusedPermanent: BoundCounter;
  private readonly refusedThrottled: BoundCounter;
  private readonly redelivered: BoundCounter;
  private nc: NatsConnection | undefined;
  private fetching: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: NatsReceiverConfig, private readonly next: LogsConsumer) {
    this.where = `receiver ${settings.id.id}`;
    const t = settings.telemetry;
    const accepted = t.counter(Metrics.receiverAccepted);
    const refused = t.counter(Metrics.receiverRefused);
    const labels = { receiver: settings.id.id, transport: 'nats' };
    this.accepted = accepted.bind(labels);
    this.refusedMalformed = refused.bind({ ...labels, reason: 'malformed' });
    this.refusedPermanent = refused.bind({ ...labels, reason: 'permanent' });
    this.refusedThrottled = refused.bind({ ...labels, reason: 'throttled' });
    this.redelivered = t.counter(Metrics.receiverNatsRedelivered).bind(labels);
  }

  async start(): Promise<void> {
    // Key files are read now (a missing or malformed one fails the start). NATS may be down at start:
    // keep connecting in the background; the collector starts anyway.
    const options = await natsConnectOptions(this.where, this.config, `tributary ${this.settings.id.id}`);
    this.loop = this.run(options).catch((e: unknown) => {
      if (!this.stop.signal.aborted) this.settings.logger.error('NATS receiver stopped', { error: errorMessage(e) });
    });
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.stop.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }

  private async run(options: ConnectionOptions): Promise<void> {
    const c = this.config;
    const nc = await connectNats(c, options, this.settings.logger, this.stop.signal);
    this.nc = nc;
    const js = nc.jetstream();
    let consumer: Awaited<ReturnType<typeof js.consumers.get>> | undefined;
    let warned = false;
    while (consumer === undefined && !this.stop.signal.aborted) {
      try {
        const jsm = await nc.jetstreamManager();
        const want: Partial<ConsumerConfig> = {
          durable_name: c.consumer.durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DELIVER[c.consumer.deliver_policy],
          ack_wait: nanos(c.consumer.ack_wait),
          max_ack_pending: c.consumer.max_ack_pending,
        };
        if (c.consumer.filter_subject !== undefined) want.filter_subject = c.consumer.filter_subject;
        try {
          await jsm.consumers.info(c.stream, c.consumer.durable);
        } catch {
          await jsm.consumers.add(c.stream, want);
          this.settings.logger.info('created durable JetStream consumer', { stream: c.stream, durable: c.consumer.durable });
        }
        consumer = await js.consumers.get(c.stream, c.consumer.durable);
      } catch (e) {
        if (!warned) this.settings.logger.warn('cannot set up the JetStream consumer yet (does the stream exist?); retrying', { stream: c.stream, error: errorMessage(e) });
        warned = true;
        await this.pause(c.reconnect_wait);
      }
    }
    // consume() keeps pulls open (and re-issues them after a reconnect); at most `fetch_size` messages
    // are in the pipeline at once, the next one is taken when one of them is done.
    const inFlight = new Set<Promise<void>>();
    while (consumer !== undefined && !this.stop.signal.aborted) {
      try {
        const msgs = await consumer.consume({ max_messages: c.fetch_size, expires: Math.max(1000, c.fetch_timeout) });
        this.fetching = msgs;
        for await (const m of msgs) {
          const p = this.handle(m).finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size >= c.fetch_size) await Promise.race(inFlight);
        }
      } catch (e) {
        if (this.stop.signal.aborted) break;
        this.settings.logger.warn('JetStream pull failed; retrying', { stream: c.stream, error: errorMessage(e) });
        await this.pause(c.reconnect_wait);
      } finally {
        this.fetching = undefined;
      }
    }
    await Promise.all(inFlight);
  }

  private async handle(m: JsMsg): Promise<void> {
    if (m.info.redeliveryCount > 1) this.redelivered.add(1);
    let resourceLogs: ResourceLogs[];
    try {
      resourceLogs = decodeExportRequest(m.data).resourceLogs;
    } catch (e) {
      // Never decodable: terminate (no redelivery), count, say which stream sequence.
      m.term();
      this.refusedMalformed.add(1);
      this.settings.logger.warn('dropping a message that is not OTLP protobuf', { stream: this.config.stream, seq: m.seq, error: errorMessage(e) });
      return;
    }
    const n = countLogRecords(resourceLogs);
    if (n === 0) {
      m.ack();
      return;
    }
    try {
      await this.next.consume({ resourceLogs, recordCount: n, receivedAt: performance.now() });
    } catch (e) {
      if (classifyError(e) === 'permanent') {
        m.term();
        this.refusedPermanent.add(n);
        this.settings.logger.warn('the pipeline refused a message for good', { stream: this.config.stream, seq: m.seq, records: n, error: errorMessage(e) });
      } else {
        m.nak(retryAfterOf(e) ?? this.config.nak_delay);
        this.refusedThrottled.add(n);
      }
      return;
    }
    m.ack();
    this.accepted.add(n);
  }

  async shutdown(): Promise<void> {
    this.stop.abort();
    // Stop pulling; messages already handed to the pipeline finish and are acknowledged.
    await this.fetching?.close();
    await this.loop;
    const nc = this.nc;
    this.nc = undefined;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}
