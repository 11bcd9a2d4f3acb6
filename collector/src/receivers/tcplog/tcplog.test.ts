import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ThrottledError } from '../../errors.js';
import { Telemetry } from '../../telemetry/metrics.js';
import type { LineReceiver } from '../common/line-receiver.js';
import { attr, RecordingConsumer, testHost, testSettings } from '../common/test-support.js';
import { udplogConfigSchema, udplogReceiverFactory } from '../udplog/index.js';
import { tcplogConfigSchema, tcplogReceiverFactory } from './index.js';

const open: LineReceiver[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.shutdown();
});

describe('tcplog and udplog', () => {
  it('tcplog: lines, operators, oversize split, push-back without loss', async () => {
    const telemetry = new Telemetry();
    const consumer = new RecordingConsumer();
    let fails = 2;
    consumer.fail = () => (fails-- > 0 ? new ThrottledError('busy', { retryAfterMs: 10 }) : undefined);
    const cfg = tcplogConfigSchema.parse({
      listen_address: '127.0.0.1:0', max_log_size: 64, add_attributes: true,
      operators: [{ type: 'regex_parser', regex: '^(?P<level>[A-Z]+) (?P<msg>.*)$', severity: { parse_from: 'attributes.level' }, on_error: 'send_quiet' }],
    });
    const r = tcplogReceiverFactory.create(testSettings('tcplog', telemetry), cfg, consumer) as LineReceiver;
    await r.start(testHost());
    open.push(r);
    const s = net.connect(r.tcpAddress!.port, '127.0.0.1');
    await new Promise((res) => s.once('connect', res));
    s.end(`ERROR disk full\r\nWARN ${'y'.repeat(100)}\nplain\n`);
    await consumer.until(() => consumer.records().length >= 4, '4 records');
    const recs = consumer.records();
    expect(recs[0]!.severityNumber).toBe(17);
    expect(attr(recs[0]!, 'msg')).toBe('disk full');
    expect(attr(recs[0]!, 'net.peer.ip')).toBe('127.0.0.1');
    expect(consumer.bodies()[1]).toHaveLength(64);
    expect(consumer.bodies()[3]).toBe('plain');
    expect(telemetry.counter('tributary_receiver_oversize_messages_total', '').total()).toBe(1);
    expect(telemetry.counter('tributary_receiver_pushback_total', '').total()).toBe(2);
  });

  it('udplog: splits datagrams on newlines unless one_log_per_packet', async () => {
    const consumer = new RecordingConsumer();
    const r = udplogReceiverFactory.create(testSettings('udplog'), udplogConfigSchema.parse({ listen_address: '127.0.0.1:0' }), consumer) as LineReceiver;
    await r.start(testHost());
    open.push(r);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res) => sock.send('a\nb\n', r.udpAddress!.port, '127.0.0.1', () => res()));
    await consumer.until(() => consumer.records().length >= 2, '2 lines');
    sock.close();
    expect(consumer.bodies()).toEqual(['a', 'b']);
  });
});
