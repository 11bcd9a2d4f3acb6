/**
 * TCP (optionally TLS) and UDP listeners for the log receivers. TCP frames are split by a trailer
 * (LF or NUL) or by octet counting (RFC 6587 `LEN SP MSG`); while the pipeline has not taken a
 * connection's messages the socket is paused, so a slow pipeline pushes back on the sender. UDP cannot
 * wait: what the pipeline refuses is counted and dropped.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { splitEndpoint } from '../../config/schema-helpers.js';
import { errorMessage } from '../../errors.js';
import { RateLimitedLog, type Logger } from '../../telemetry/logger.js';
import type { BoundCounter, Telemetry } from '../../telemetry/metrics.js';
import type { ServerTlsConfig } from './net-config.js';

export interface Peer {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export type Framing = { kind: 'trailer'; trailer: 0x0a | 0x00; octetCounting: boolean; maxBytes: number; maxOctets: number };

/** Takes the messages of one read; resolves when they may be dropped from memory. */
export type MessageHandler = (messages: string[], peer: Peer) => Promise<void>;

export interface NetMetrics {
  connections: BoundCounter;
  framingErrors: BoundCounter;
  partialFrames: BoundCounter;
  oversize: BoundCounter;
}

export function netMetrics(telemetry: Telemetry, receiver: string): NetMetrics {
  const c = (n: string, h: string): BoundCounter => telemetry.counter(n, h).bind({ receiver });
  return {
    connections: c('tributary_receiver_connections_total', 'TCP connections accepted by network log receivers.'),
    framingErrors: c('tributary_receiver_framing_errors_total', 'Connections closed because their framing was broken (bad octet count, frame over max_octets).'),
    partialFrames: c('tributary_receiver_partial_frames_total', 'Incomplete frames left when a connection closed (dropped).'),
    oversize: c('tributary_receiver_oversize_messages_total', 'Messages longer than the size limit (split at the limit).'),
  };
}

const MAX_COUNT_DIGITS = 10;

/** Splits a TCP byte stream into messages. Throws on framing it cannot recover from. */
export class Framer {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly f: Framing, private readonly m: NetMetrics, private readonly encoding: BufferEncoding) {}

  push(chunk: Buffer, out: string[]): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const b = this.buf;
    let i = 0;
    while (i < b.length) {
      const c = b[i]!;
      if (this.f.octetCounting && c >= 0x30 && c <= 0x39) {
        // Octet counting: LEN SP MSG
        let j = i;
        while (j < b.length && j - i <= MAX_COUNT_DIGITS && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
        if (j === b.length) break; // need more bytes
        if (b[j] !== 0x20 || j - i > MAX_COUNT_DIGITS) throw new Error('invalid octet count (expected digits then a space)');
        const len = Number(b.toString('latin1', i, j));
        if (len > this.f.maxOctets) throw new Error(`frame of ${len} bytes is over max_octets (${this.f.maxOctets})`);
        if (j + 1 + len > b.length) break;
        out.push(b.toString(this.encoding, j + 1, j + 1 + len).replace(/[\r\n]+$/, ''));
        i = j + 1 + len;
        continue;
      }
      if (c === 0x0a || c === 0x0d || (c === 0 && this.f.trailer === 0)) {
        i++; // stray trailer / empty line between frames
        continue;
      }
      const end = b.indexOf(this.f.trailer, i);
      if (end < 0) {
        if (b.length - i > this.f.maxBytes) {
          this.m.oversize.add(1);
          out.push(b.toString(this.encoding, i, i + this.f.maxBytes));
          i += this.f.maxBytes;
          continue;
        }
        break;
      }
      let e = end;
      if (e > i && b[e - 1] === 0x0d) e--;
      if (e - i > this.f.maxBytes) {
        this.m.oversize.add(1);
        for (let p = i; p < e; p += this.f.maxBytes) out.push(b.toString(this.encoding, p, Math.min(e, p + this.f.maxBytes)));
      } else out.push(b.toString(this.encoding, i, e));
      i = end + 1;
    }
    this.buf = i === b.length ? Buffer.alloc(0) : b.subarray(i);
  }

  /** Bytes of an unfinished frame. */
  get pending(): number {
    return this.buf.length;
  }

  /** At a clean close: a trailer-framed rest is a message; an unfinished octet-counted frame is not. */
  finish(out: string[]): boolean {
    if (this.buf.length === 0) return true;
    const first = this.buf[0]!;
    if (this.f.octetCounting && first >= 0x30 && first <= 0x39) return false;
    out.push(this.buf.toString(this.encoding).replace(/[\r\n\0]+$/, ''));
    this.buf = Buffer.alloc(0);
    return true;
  }
}

export class TcpLogServer {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly warn: RateLimitedLog;

  constructor(
    private readonly address: string,
    private readonly tlsConfig: ServerTlsConfig | undefined,
    private readonly framing: Framing,
    private readonly encoding: BufferEncoding,
    private readonly handler: MessageHandler,
    private readonly m: NetMetrics,
    private readonly logger: Logger,
  ) {
    this.warn = new RateLimitedLog(logger);
  }

  async listen(): Promise<{ host: string; port: number }> {
    const onConn = (s: net.Socket): void => this.connection(s);
    if (this.tlsConfig) {
      const t = this.tlsConfig;
      const opts: tls.TlsOptions = { cert: fs.readFileSync(t.cert_file), key: fs.readFileSync(t.key_file) };
      if (t.client_ca_file) Object.assign(opts, { ca: fs.readFileSync(t.client_ca_file), requestCert: true, rejectUnauthorized: true });
      this.server = tls.createServer(opts, onConn);
      this.server.on('tlsClientError', (e: Error) => this.warn.warn('TLS handshake failed', { error: e.message }));
    } else this.server = net.createServer(onConn);
    const { host, port } = splitEndpoint(this.address);
    const srv = this.server;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    const a = srv.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  private connection(s: net.Socket): void {
    this.m.connections.add(1);
    this.sockets.add(s);
    const framer = new Framer(this.framing, this.m, this.encoding);
    const peer: Peer = { remoteAddress: s.remoteAddress ?? '', remotePort: s.remotePort ?? 0, localAddress: s.localAddress ?? '', localPort: s.localPort ?? 0 };
    let chain: Promise<void> = Promise.resolve();
    const deliver = (msgs: string[]): void => {
      s.pause();
      const p = chain.then(() => this.handler(msgs, peer)).catch((e: unknown) => this.warn.warn('dropping messages after a pipeline error', { error: errorMessage(e) }));
      chain = p;
      this.inflight.add(p);
      void p.finally(() => {
        this.inflight.delete(p);
        if (!s.destroyed) s.resume();
      });
    };
    s.on('data', (chunk: Buffer) => {
      const out: string[] = [];
      try {
        framer.push(chunk, out);
      } catch (e) {
        this.m.framingErrors.add(1);
        this.warn.warn('closing connection: broken framing', { peer: `${peer.remoteAddress}:${peer.remotePort}`, error: errorMessage(e) });
        if (out.length > 0) deliver(out);
        s.destroy();
        return;
      }
      if (out.length > 0) deliver(out);
    });
    s.on('end', () => {
      const out: string[] = [];
      const pending = framer.pending;
      if (!framer.finish(out)) {
        this.m.partialFrames.add(1);
        this.warn.warn('connection closed inside a frame; the partial frame is dropped', { peer: `${peer.remoteAddress}:${peer.remotePort}`, bytes: pending });
      }
      if (out.length > 0) deliver(out);
      void chain.finally(() => s.end());
    });
    s.on('error', (e) => this.logger.debug('connection error', { error: e.message }));
    s.on('close', () => this.sockets.delete(s));
  }

  async close(graceMs: number): Promise<void> {
    const srv = this.server;
    if (!srv) return;
    const closed = new Promise<void>((r) => srv.close(() => r()));
    for (const s of this.sockets) s.pause();
    const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.inflight]), timer]);
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

export class UdpLogServer {
  private sock: dgram.Socket | undefined;
  private pending: { msgs: string[]; peer: Peer }[] = [];
  private scheduled = false;

  constructor(
    private readonly address: string,
    private readonly onePerPacket: boolean,
    private readonly encoding: BufferEncoding,
    private readonly handler: MessageHandler,
    private readonly logger: Logger,
    /** The handler needs each datagram's peer (net.* attributes); otherwise datagrams are batched together. */
    private readonly perPeer: boolean,
  ) {}

  async listen(): Promise<{ host: string; port: number }> {
    const { host, port } = splitEndpoint(this.address);
    const sock = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    this.sock = sock;
    sock.on('message', (msg, rinfo) => this.message(msg, rinfo));
    sock.on('error', (e) => this.logger.warn('udp socket error', { error: e.message }));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    const a = sock.address();
    return { host: a.address, port: a.port };
  }

  private message(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const text = msg.toString(this.encoding);
    const msgs = this.onePerPacket ? [text.replace(/[\r\n\0]+$/, '')] : text.split(/\r?\n/).filter((l) => l.length > 0);
    const a = this.sock?.address();
    this.pending.push({ msgs, peer: { remoteAddress: rinfo.address, remotePort: rinfo.port, localAddress: a?.address ?? '', localPort: a?.port ?? 0 } });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    const fail = (e: unknown): void => this.logger.warn('udp: messages dropped after an error', { error: errorMessage(e) });
    if (!this.perPeer) {
      // Peer details are not recorded: every datagram since the last drain goes as one batch.
      const all: string[] = [];
      for (const b of batch) for (const m of b.msgs) all.push(m);
      if (all.length > 0) this.handler(all, batch[0]!.peer).catch(fail);
      return;
    }
    for (const b of batch) this.handler(b.msgs, b.peer).catch(fail);
  }

  async close(): Promise<void> {
    const s = this.sock;
    if (!s) return;
    // Closed once: a second shutdown finds no socket (dgram throws on a second close).
    this.sock = undefined;
    await new Promise<void>((r) => s.close(() => r()));
    this.drain();
  }
}
