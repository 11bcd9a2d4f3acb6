/**
 * Fluentd's Forward protocol v1 over TCP: Message `[tag, time, record, option?]`, Forward
 * `[tag, [[time, record], …], option?]`, PackedForward `[tag, bin(entries), option?]` and
 * CompressedPackedForward (the same, gzip, `option.compressed: "gzip"`); `option.chunk` is answered
 * with `{ack: chunk}` once the pipeline took the events; the optional shared-key handshake; UDP
 * heartbeats answered on the same port. Records become attributes, `log`/`message` the body, the tag
 * `fluent.tag`, as upstream.
 */
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeMulti, decodeMultiStream, encode, ExtensionCodec } from '@msgpack/msgpack';
import { nowNanos } from '@tributary/otlp';
import type { CreateSettings, Host, LogsConsumer, Receiver } from '../../component.js';
import { splitEndpoint } from '../../config/schema-helpers.js';
import { errorMessage } from '../../errors.js';
import { RateLimitedLog } from '../../telemetry/logger.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import { entriesToBatch, newEntry, type Entry } from '../common/records.js';
import { ReceiverSink } from '../common/sink.js';
import type { FluentForwardConfig } from './index.js';

class ProtocolError extends Error {}

/** EventTime (ext type 0): uint32 seconds + uint32 nanoseconds, big-endian. */
const extensionCodec = new ExtensionCodec();
class EventTime {
  constructor(readonly ns: bigint) {}
}
extensionCodec.register({
  type: 0,
  encode: () => null,
  decode: (data: Uint8Array) => {
    if (data.length !== 8) throw new ProtocolError('EventTime extension must be 8 bytes');
    const v = new DataView(data.buffer, data.byteOffset, 8);
    return new EventTime(BigInt(v.getUint32(0)) * 1_000_000_000n + BigInt(v.getUint32(4)));
  },
});

function timeOf(t: unknown): bigint | undefined {
  if (t instanceof EventTime) return t.ns;
  if (typeof t === 'number' && Number.isFinite(t) && t >= 0) return BigInt(Math.floor(t)) * 1_000_000_000n + BigInt(Math.round((t % 1) * 1e9));
  if (typeof t === 'bigint') return t * 1_000_000_000n;
  return undefined;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

interface Metrics { events: BoundCounter; protocolErrors: BoundCounter; authFailures: BoundCounter; heartbeats: BoundCounter; acks: BoundCounter }

export class FluentForwardReceiver implements Receiver {
  private server: net.Server | undefined;
  private udp: dgram.Socket | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly sink: ReceiverSink;
  private readonly m: Metrics;
  private readonly warn: RateLimitedLog;
  private readonly decodeOptions;
  address: { host: string; port: number } | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: FluentForwardConfig, next: LogsConsumer) {
    this.sink = new ReceiverSink(settings.id, settings.telemetry, next, settings.logger, 'tcp');
    const c = (n: string, h: string): BoundCounter => settings.telemetry.counter(n, h).bind({ receiver: settings.id.id });
    this.m = {
      events: c('tributary_fluentforward_events_total', 'Events decoded from forward messages.'),
      protocolErrors: c('tributary_fluentforward_protocol_errors_total', 'Connections closed for a message that breaks the Forward protocol (bad msgpack, lying lengths, wrong shapes).'),
      authFailures: c('tributary_fluentforward_auth_failures_total', 'Handshakes refused (shared key mismatch).'),
      heartbeats: c('tributary_fluentforward_heartbeats_total', 'UDP heartbeats answered.'),
      acks: c('tributary_fluentforward_acks_total', 'Chunks acknowledged to senders.'),
    };
    this.warn = new RateLimitedLog(settings.logger);
    const max = config.max_message_size;
    this.decodeOptions = { extensionCodec, maxStrLength: max, maxBinLength: max, maxArrayLength: max, maxMapLength: max, maxExtLength: max };
  }

  async start(_host: Host): Promise<void> {
    const { host, port } = splitEndpoint(this.config.endpoint);
    const srv = net.createServer((s) => void this.connection(s));
    this.server = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    const a = srv.address() as net.AddressInfo;
    this.address = { host: a.address, port: a.port };
    if (this.config.heartbeat) {
      const u = dgram.createSocket(net.isIPv6(a.address) ? 'udp6' : 'udp4');
      this.udp = u;
      u.on('message', (_msg, rinfo) => {
        this.m.heartbeats.add(1);
        u.send(Buffer.from([0]), rinfo.port, rinfo.address);
      });
      u.on('error', (e) => this.settings.logger.warn('fluentforward heartbeat socket error', { error: e.message }));
      await new Promise<void>((resolve, reject) => {
        u.once('error', reject);
        u.bind(a.port, a.address, () => {
          u.off('error', reject);
          resolve();
        });
      });
    }
    this.settings.logger.info('fluentforward receiver listening', { host: a.address, port: a.port, heartbeat: this.config.heartbeat, shared_key: this.config.security !== undefined });
  }

  /** Socket bytes, with the bytes waiting for one message bounded by max_message_size. */
  private async *guarded(s: net.Socket, state: { pending: number }): AsyncGenerator<Uint8Array> {
    for await (const chunk of s as AsyncIterable<Buffer>) {
      state.pending += chunk.length;
      if (state.pending > this.config.max_message_size) throw new ProtocolError(`a message is larger than max_message_size (${this.config.max_message_size} bytes)`);
      yield chunk;
    }
  }

  private async connection(s: net.Socket): Promise<void> {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    const peer = `${s.remoteAddress ?? ''}:${s.remotePort ?? 0}`;
    const sec = this.config.security;
    let nonce: Buffer | undefined;
    if (sec) {
      nonce = randomBytes(16);
      s.write(encode(['HELO', { nonce, auth: '', keepalive: true }]));
    }
    let authed = sec === undefined;
    const state = { pending: 0 };
    try {
      for await (const msg of decodeMultiStream(this.guarded(s, state), this.decodeOptions)) {
        state.pending = 0;
        if (!authed) {
          authed = this.handshake(s, msg, nonce!);
          if (!authed) return;
          continue;
        }
        const r = await this.message(msg);
        if (r.stopped) return;
        const ack = r.ack;
        if (ack !== undefined) {
          s.write(encode({ ack }));
          this.m.acks.add(1);
        }
      }
    } catch (e) {
      this.m.protocolErrors.add(1);
      this.warn.warn('fluentforward: closing connection: invalid forward message', { peer, error: errorMessage(e) });
      s.destroy();
    }
  }

  private handshake(s: net.Socket, msg: unknown, nonce: Buffer): boolean {
    const sec = this.config.security!;
    const hash = (salt: Uint8Array | string, host: string): string => createHash('sha512').update(salt).update(host).update(nonce).update(sec.shared_key).digest('hex');
    if (!Array.isArray(msg) || msg[0] !== 'PING' || typeof msg[1] !== 'string' || typeof msg[3] !== 'string') {
      this.m.authFailures.add(1);
      this.warn.warn('fluentforward: expected PING after HELO; closing', {});
      s.end(encode(['PONG', false, 'expected PING', sec.self_hostname, '']));
      return false;
    }
    const [, host, salt, digest] = msg as [string, string, Uint8Array | string, string];
    if (hash(salt, host) !== digest) {
      this.m.authFailures.add(1);
      this.warn.warn('fluentforward: shared key mismatch; closing', { client_hostname: host });
      s.end(encode(['PONG', false, 'shared key mismatch', sec.self_hostname, '']));
      return false;
    }
    s.write(encode(['PONG', true, '', sec.self_hostname, hash(salt, sec.self_hostname)]));
    return true;
  }

  /** Decodes one forward message and delivers its events; returns the chunk id to ack, if any. */
  private async message(msg: unknown): Promise<{ ack: string | undefined; stopped: boolean }> {
    if (!Array.isArray(msg) || msg.length < 2 || typeof msg[0] !== 'string') throw new ProtocolError('message is not [tag, …]');
    const tag = msg[0];
    const entries: Entry[] = [];
    let option: unknown;
    const second = msg[1] as unknown;
    if (Array.isArray(second)) {
      // Forward
      for (const ev of second) this.pushEvent(entries, tag, ev);
      option = msg[2];
    } else if (second instanceof Uint8Array || typeof second === 'string') {
      // PackedForward / CompressedPackedForward
      option = msg[2];
      let bytes = typeof second === 'string' ? Buffer.from(second, 'latin1') : second;
      if (isMap(option) && option.compressed === 'gzip') {
        try {
          bytes = gunzipSync(bytes, { maxOutputLength: this.config.max_message_size * 4 });
        } catch (e) {
          throw new ProtocolError(`CompressedPackedForward entries do not gunzip: ${errorMessage(e)}`);
        }
      }
      for (const ev of decodeMulti(bytes, this.decodeOptions)) this.pushEvent(entries, tag, ev);
    } else {
      // Message
      this.pushEvent(entries, tag, [msg[1], msg[2]]);
      option = msg[3];
    }
    const chunk = isMap(option) && typeof option.chunk === 'string' ? option.chunk : undefined;
    if (entries.length === 0) return { ack: chunk, stopped: false };
    this.m.events.add(entries.length);
    const r = await this.sink.deliver(entriesToBatch(entries, nowNanos()));
    // Refused for good is still answered: the sender could never get it accepted by resending.
    return { ack: chunk, stopped: r === 'stopped' };
  }

  private pushEvent(out: Entry[], tag: string, ev: unknown): void {
    if (!Array.isArray(ev) || ev.length < 2 || !isMap(ev[1])) throw new ProtocolError('event is not [time, record]');
    const ts = timeOf(ev[0]);
    if (ts === undefined) throw new ProtocolError('event time is neither an integer nor EventTime');
    const record = ev[1];
    const e = newEntry(undefined);
    e.timestamp = ts;
    for (const k of Object.keys(record)) {
      const v = record[k];
      if ((k === 'log' || k === 'message') && e.body === undefined) e.body = v;
      else e.attributes[k] = v;
    }
    e.attributes['fluent.tag'] = tag;
    out.push(e);
  }

  async shutdown(): Promise<void> {
    this.sink.stop();
    // Idempotent: a second shutdown finds nothing to close.
    const srv = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
    const u = this.udp;
    this.udp = undefined;
    if (u) await new Promise<void>((r) => u.close(() => r()));
  }
}
