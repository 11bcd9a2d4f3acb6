/**
 * What tcplog, udplog and syslog share: messages from a TCP/UDP listener become records (directly, or
 * through a parser and the operators), with `net.*` attributes when `add_attributes` is on, and go to
 * the pipeline — waiting (TCP, paused socket) or dropped and counted (UDP) when it pushes back.
 */
import { nowNanos, type KeyValue } from '@tributary/otlp';
import type { CreateSettings, Host, LogsConsumer, Receiver } from '../../component.js';
import { errorMessage } from '../../errors.js';
import { RateLimitedLog } from '../../telemetry/logger.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import { OperatorChain, type OperatorConfig } from './operators/index.js';
import { batchOf, entriesToBatch, kv, newEntry, stringRecord, type Entry } from './records.js';
import { TcpLogServer, UdpLogServer, netMetrics, type Framing, type Peer } from './net-server.js';
import type { ServerTlsConfig } from './net-config.js';
import { ReceiverSink } from './sink.js';

export interface LineReceiverOptions {
  tcp?: { listen_address: string; tls?: ServerTlsConfig | undefined; add_attributes: boolean; encoding: string; framing: Framing } | undefined;
  udp?: { listen_address: string; add_attributes: boolean; one_log_per_packet: boolean; encoding: string } | undefined;
  operators: readonly OperatorConfig[];
  attributes: Record<string, string>;
  resource: Record<string, string>;
  /** Fills the entry from the raw message; throws to mark it unparseable (kept raw, counted). */
  parse?: ((message: string, e: Entry) => void) | undefined;
  /** Name for the parse-error log line and metric label. */
  format?: string | undefined;
}

const bufferEncoding = (e: string): BufferEncoding => (e === 'ascii' ? 'ascii' : e === 'latin1' ? 'latin1' : 'utf8');

export class LineReceiver implements Receiver {
  private readonly tcp: TcpLogServer | undefined;
  private readonly udp: UdpLogServer | undefined;
  private readonly tcpSink: ReceiverSink;
  private readonly udpSink: ReceiverSink;
  private readonly chain: OperatorChain | undefined;
  private readonly staticAttrs: KeyValue[];
  private readonly resource: KeyValue[];
  private readonly parseErrors: BoundCounter;
  private readonly invalidEncoding: BoundCounter;
  private readonly warn: RateLimitedLog;

  constructor(private readonly settings: CreateSettings, private readonly o: LineReceiverOptions, next: LogsConsumer) {
    const { id, telemetry, logger } = settings;
    this.tcpSink = new ReceiverSink(id, telemetry, next, logger, 'tcp');
    this.udpSink = new ReceiverSink(id, telemetry, next, logger, 'udp');
    this.chain = o.operators.length > 0 ? new OperatorChain(o.operators, id, telemetry, logger) : undefined;
    this.staticAttrs = Object.entries(o.attributes).map(([k, v]) => kv(k, v));
    this.resource = Object.entries(o.resource).map(([k, v]) => kv(k, v));
    this.parseErrors = telemetry.counter('tributary_receiver_parse_errors_total', 'Messages that did not parse in the receiver\'s format (kept with the raw message as body).').bind({ receiver: id.id, format: o.format ?? 'raw' });
    this.invalidEncoding = telemetry.counter('tributary_receiver_invalid_encoding_messages_total', 'Messages with bytes invalid in the configured encoding (replaced by U+FFFD).').bind({ receiver: id.id });
    this.warn = new RateLimitedLog(logger);
    const m = netMetrics(telemetry, id.id);
    if (o.tcp) {
      const t = o.tcp;
      this.tcp = new TcpLogServer(t.listen_address, t.tls, t.framing, bufferEncoding(t.encoding), (msgs, peer) => this.handle(msgs, peer, t.add_attributes, true), m, logger);
    }
    if (o.udp) {
      const u = o.udp;
      this.udp = new UdpLogServer(u.listen_address, u.one_log_per_packet, bufferEncoding(u.encoding), (msgs, peer) => this.handle(msgs, peer, u.add_attributes, false), logger, u.add_attributes);
    }
  }

  private peerAttrs(peer: Peer): KeyValue[] {
    return [kv('net.peer.ip', peer.remoteAddress), kv('net.peer.port', peer.remotePort), kv('net.host.ip', peer.localAddress), kv('net.host.port', peer.localPort)];
  }

  private async handle(msgs: string[], peer: Peer, addAttributes: boolean, canWait: boolean): Promise<void> {
    const observed = nowNanos();
    const base = addAttributes ? [...this.peerAttrs(peer), ...this.staticAttrs] : this.staticAttrs;
    for (const m of msgs) {
      if (m.includes('\uFFFD')) {
        this.invalidEncoding.add(1);
        this.warn.warn('message has bytes that are not valid in the configured encoding; they were replaced with U+FFFD', { peer: peer.remoteAddress });
      }
    }
    let batch;
    if (!this.o.parse && !this.chain) {
      const recs = msgs.map((m) => stringRecord(m, base.slice(), observed));
      batch = batchOf(recs, this.resource);
    } else {
      const entries: Entry[] = [];
      for (const m of msgs) {
        const e = newEntry(m);
        for (const a of base) e.attributes[a.key] = a.value?.stringValue ?? Number(a.value?.intValue ?? 0);
        if (this.o.parse) {
          try {
            this.o.parse(m, e);
          } catch (err) {
            this.parseErrors.add(1);
            this.warn.warn(`message is not valid ${this.o.format ?? ''}; kept with the raw text as body`, { peer: peer.remoteAddress, error: errorMessage(err), start: JSON.stringify(m.slice(0, 40)) });
          }
        }
        const out = this.chain ? this.chain.process(e, `${peer.remoteAddress}:${peer.remotePort}`) : e;
        if (out) entries.push(out);
      }
      if (entries.length === 0) return;
      batch = entriesToBatch(entries, observed, this.resource);
    }
    if (canWait) await this.tcpSink.deliver(batch);
    else await this.udpSink.offer(batch);
  }

  tcpAddress: { host: string; port: number } | undefined;
  udpAddress: { host: string; port: number } | undefined;

  async start(_host: Host): Promise<void> {
    try {
      if (this.tcp) {
        this.tcpAddress = await this.tcp.listen();
        this.settings.logger.info('listening on tcp', { host: this.tcpAddress.host, port: this.tcpAddress.port });
      }
      if (this.udp) {
        this.udpAddress = await this.udp.listen();
        this.settings.logger.info('listening on udp', { host: this.udpAddress.host, port: this.udpAddress.port });
      }
    } catch (e) {
      await this.shutdown();
      throw new Error(`receivers.${this.settings.id.id}: cannot listen: ${errorMessage(e)}`);
    }
  }

  /** Stops listening, lets what is in flight reach the pipeline (bounded), then stops waiting on push-back. */
  async shutdown(): Promise<void> {
    await Promise.all([this.tcp?.close(5_000), this.udp?.close()]);
    this.tcpSink.stop();
    this.udpSink.stop();
  }
}
