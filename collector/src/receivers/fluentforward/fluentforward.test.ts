import dgram from 'node:dgram';
import net from 'node:net';
import { encode } from '@msgpack/msgpack';
import { EventTime, FluentClient, type EventModes } from '@fluent-org/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { Telemetry } from '../../telemetry/metrics.js';
import { attr, RecordingConsumer, testHost, testSettings } from '../common/test-support.js';
import { fluentforwardConfigSchema } from './index.js';
import { FluentForwardReceiver } from './receiver.js';

const open: FluentForwardReceiver[] = [];
const clients: FluentClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.disconnect().catch(() => undefined);
  for (const r of open.splice(0)) await r.shutdown();
});

async function start(cfg: Record<string, unknown> = {}, telemetry = new Telemetry()) {
  const consumer = new RecordingConsumer();
  const r = new FluentForwardReceiver(testSettings('fluentforward', telemetry), fluentforwardConfigSchema.parse({ endpoint: '127.0.0.1:0', ...cfg }), consumer);
  await r.start(testHost({}, telemetry));
  open.push(r);
  return { r, consumer, telemetry };
}

describe('fluentforward receiver with @fluent-org/logger', () => {
  for (const mode of ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'] as EventModes[]) {
    it(`${mode} mode with ack`, async () => {
      const { r, consumer, telemetry } = await start();
      const client = new FluentClient('app', { eventMode: mode, socket: { host: '127.0.0.1', port: r.address!.port, timeout: 5000 }, ack: { ackTimeout: 5000 }, flushInterval: 10 });
      clients.push(client);
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) sends.push(client.emit('web', { log: `event ${i}`, level: 'info', n: i }, new EventTime(1_700_000_000, i)));
      await Promise.all(sends); // resolves only once acked
      await consumer.until(() => consumer.records().length >= 20, '20 events');
      const recs = consumer.records();
      expect(consumer.bodies()).toEqual(Array.from({ length: 20 }, (_, i) => `event ${i}`));
      expect(attr(recs[3]!, 'fluent.tag')).toBe('app.web');
      expect(attr(recs[3]!, 'level')).toBe('info');
      expect(recs[3]!.attributes.find((k) => k.key === 'n')?.value?.intValue).toBe(3);
      expect(recs[3]!.timeUnixNano.toString()).toBe('1700000000000000003');
      expect(telemetry.counter('tributary_fluentforward_acks_total', '').total()).toBeGreaterThan(0);
    });
  }

  it('shared-key handshake: right key accepted, wrong key refused and counted', async () => {
    const { r, consumer, telemetry } = await start({ security: { shared_key: 's3cret', self_hostname: 'collector' } });
    const good = new FluentClient('sec', { socket: { host: '127.0.0.1', port: r.address!.port }, security: { clientHostname: 'client-a', sharedKey: 's3cret' }, ack: {} });
    clients.push(good);
    await good.emit('x', { message: 'authed' });
    await consumer.until(() => consumer.records().length >= 1, 'authed event');
    expect(consumer.bodies()).toEqual(['authed']);
    const bad = new FluentClient('sec', { socket: { host: '127.0.0.1', port: r.address!.port, timeout: 2000 }, security: { clientHostname: 'client-b', sharedKey: 'wrong' }, ack: { ackTimeout: 1000 } });
    clients.push(bad);
    const p = bad.emit('x', { message: 'nope' }).then(() => 'sent', () => 'failed');
    const deadline = Date.now() + 10_000;
    while (telemetry.counter('tributary_fluentforward_auth_failures_total', '').total() < 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(telemetry.counter('tributary_fluentforward_auth_failures_total', '').total()).toBeGreaterThanOrEqual(1);
    await bad.disconnect().catch(() => undefined);
    void p;
    expect(consumer.bodies()).toEqual(['authed']);
  });

  it('answers UDP heartbeats', async () => {
    const { r } = await start();
    const sock = dgram.createSocket('udp4');
    const reply = new Promise<Buffer>((res) => sock.once('message', (m) => res(m)));
    sock.send(Buffer.alloc(0), r.address!.port, '127.0.0.1');
    expect([...(await reply)]).toEqual([0]);
    sock.close();
  });

  it('closes a connection whose msgpack lies about lengths; other connections are unaffected', async () => {
    const { r, consumer, telemetry } = await start({ max_message_size: '64KiB' });
    const s = net.connect(r.address!.port, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise((res) => s.once('connect', res));
    // str32 header announcing 1 GiB, followed by a few bytes.
    s.write(Buffer.from([0x93, 0xdb, 0x40, 0x00, 0x00, 0x00, 0x61, 0x62]));
    await new Promise((res) => s.once('close', res));
    const s2 = net.connect(r.address!.port, '127.0.0.1');
    s2.on('error', () => undefined);
    await new Promise((res) => s2.once('connect', res));
    s2.write(Buffer.from([0xc1])); // never-used msgpack byte
    await new Promise((res) => s2.once('close', res));
    expect(telemetry.counter('tributary_fluentforward_protocol_errors_total', '').total()).toBe(2);
    const ok = net.connect(r.address!.port, '127.0.0.1');
    await new Promise((res) => ok.once('connect', res));
    ok.write(encode(['tag', 1_700_000_000, { message: 'fine' }, { chunk: 'c1' }]));
    const ack = await new Promise<Buffer>((res) => ok.once('data', res));
    expect(ack.equals(Buffer.from(encode({ ack: 'c1' })))).toBe(true);
    ok.destroy();
    expect(consumer.bodies()).toEqual(['fine']);
  });
});
