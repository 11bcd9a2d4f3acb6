import { spawn, spawnSync, execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { Telemetry } from '../../telemetry/metrics.js';
import type { LineReceiver } from '../common/line-receiver.js';
import { newEntry } from '../common/records.js';
import { attr, RecordingConsumer, testHost, testSettings } from '../common/test-support.js';
import { syslogConfigSchema, syslogReceiverFactory } from './index.js';
import { parseRfc3164, parseRfc5424 } from './parse.js';

const run = promisify(execFile);
const hasLogger = spawnSync('logger', ['--version']).status === 0;
const hasRsyslog = spawnSync('rsyslogd', ['-v']).status === 0;
for (const [ok, what] of [[hasLogger, 'logger (util-linux: apt-get install bsdutils)'], [hasRsyslog, 'rsyslogd (apt-get install rsyslog)']] as const) {
  if (!ok) {
    if (process.env.CI === 'true') throw new Error(`${what} is not installed; .ci/run installs it`);
    console.warn(`skipping syslog tests that need ${what}`);
  }
}

const open: LineReceiver[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.shutdown();
  for (const c of cleanups.splice(0)) c();
});

async function start(cfg: Record<string, unknown>, telemetry = new Telemetry()) {
  const consumer = new RecordingConsumer();
  const r = syslogReceiverFactory.create(testSettings('syslog', telemetry), syslogConfigSchema.parse(cfg), consumer) as LineReceiver;
  await r.start(testHost({}, telemetry));
  open.push(r);
  return { r, consumer, telemetry };
}

describe('syslog parsing', () => {
  it('maps RFC 5424 fields as upstream does', () => {
    const e = newEntry('');
    parseRfc5424('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Appl\\"ication"][x@1 a="b"] An application event', e, false);
    expect(e.attributes).toEqual({
      priority: 165, facility: 20, version: 1, hostname: 'mymachine.example.com', appname: 'evntslog', proc_id: '1234', msg_id: 'ID47',
      structured_data: { 'exampleSDID@32473': { iut: '3', eventSource: 'Appl"ication' }, 'x@1': { a: 'b' } }, message: 'An application event',
    });
    expect(e.severity).toBe(10);
    expect(e.severityText).toBe('notice');
    expect(e.timestamp).toBe(1065910455003000000n);
  });

  it('maps RFC 3164 with the year guessed and the location applied', () => {
    const e = newEntry('');
    parseRfc3164('<34>Oct 11 22:14:15 mymachine su[99]: \'su root\' failed', e, 'America/New_York', false, new Date('2024-11-01T00:00:00Z'));
    expect(e.attributes).toEqual({ priority: 34, facility: 4, hostname: 'mymachine', appname: 'su', proc_id: '99', message: "'su root' failed" });
    expect(e.severity).toBe(18);
    expect(e.timestamp).toBe(BigInt(Date.parse('2024-10-12T02:14:15Z')) * 1_000_000n);
    const dec = newEntry('');
    parseRfc3164('<13>Dec 31 23:59:59 h app: x', dec, 'UTC', false, new Date('2025-01-01T00:00:10Z'));
    expect(dec.timestamp).toBe(BigInt(Date.parse('2024-12-31T23:59:59Z')) * 1_000_000n);
  });

  it('rejects garbage with a reason', () => {
    expect(() => parseRfc5424('hello', newEntry(''), false)).toThrow(/PRI/);
    expect(() => parseRfc5424('<999>1 - - - - -', newEntry(''), false)).toThrow(/PRI/);
    expect(() => parseRfc5424('<13>Oct 11 22:14:15 h a: m', newEntry(''), false)).toThrow(/VERSION/);
    expect(() => parseRfc5424('<13>1 - h a p m [x a="b" msg', newEntry(''), false)).toThrow(/SD/);
    expect(() => parseRfc3164('<13>yesterday h a: m', newEntry(''), 'UTC', false)).toThrow(/timestamp/);
    expect(() => syslogConfigSchema.parse({ protocol: 'rfc5424' })).toThrow(/tcp or udp/);
    expect(() => syslogConfigSchema.parse({ protocol: 'rfc3164', location: 'Mars/Base', udp: {} })).toThrow(/time zone/);
  });
});

describe('syslog receiver on the network', () => {
  it('takes octet-counted and LF-framed messages, counts garbage, drops and counts a partial frame', async () => {
    const { r, consumer, telemetry } = await start({ protocol: 'rfc5424', enable_octet_counting: true, tcp: { listen_address: '127.0.0.1:0', add_attributes: true } });
    const m1 = '<14>1 2024-01-01T00:00:00Z h app 1 - - first';
    const m2 = '<14>1 2024-01-01T00:00:01Z h app 1 - - second\nwith newline';
    const s = net.connect(r.tcpAddress!.port, '127.0.0.1');
    await new Promise((res) => s.once('connect', res));
    s.write(`${Buffer.byteLength(m1)} ${m1}${Buffer.byteLength(m2)} ${m2}`);
    s.write('not syslog at all\n');
    s.end('40 <14>1 2024-01-01T00:00:00Z h app 1 -'); // shorter than announced
    await consumer.until(() => consumer.records().length >= 3, '3 records');
    await new Promise((res) => setTimeout(res, 100));
    const recs = consumer.records();
    expect(recs.map((x) => attr(x, 'message'))).toEqual(['first', 'second\nwith newline', undefined]);
    expect(consumer.bodies()[2]).toBe('not syslog at all');
    expect(attr(recs[0]!, 'net.peer.ip')).toBe('127.0.0.1');
    expect(telemetry.counter('tributary_receiver_parse_errors_total', '').total()).toBe(1);
    expect(telemetry.counter('tributary_receiver_partial_frames_total', '').total()).toBe(1);
    // A lying octet count closes that connection only.
    const bad = net.connect(r.tcpAddress!.port, '127.0.0.1');
    bad.on('error', () => undefined);
    bad.write('99999999 <14>1 - - - - - x');
    await new Promise((res) => bad.once('close', res));
    expect(telemetry.counter('tributary_receiver_framing_errors_total', '').total()).toBe(1);
  });

  it.skipIf(!hasLogger)('receives from the real logger command: tcp+udp, rfc5424 and rfc3164, octet counting', async () => {
    const a = await start({ protocol: 'rfc5424', enable_octet_counting: true, tcp: { listen_address: '127.0.0.1:0' }, udp: { listen_address: '127.0.0.1:0' } });
    await run('logger', ['--tcp', '--rfc5424', '--octet-count', '--server', '127.0.0.1', '--port', String(a.r.tcpAddress!.port), '-t', 'myapp', '-p', 'local0.warning', '--sd-id', 'meta@1', '--sd-param', 'k="v"', 'hello over tcp']);
    await run('logger', ['--udp', '--rfc5424', '--server', '127.0.0.1', '--port', String(a.r.udpAddress!.port), '-t', 'myapp', '-p', 'user.err', 'hello over udp']);
    await a.consumer.until(() => a.consumer.records().length >= 2, '2 logger messages');
    const byMsg = new Map(a.consumer.records().map((x) => [attr(x, 'message'), x]));
    const tcp = byMsg.get('hello over tcp')!;
    expect(attr(tcp, 'appname')).toBe('myapp');
    expect(tcp.severityNumber).toBe(13);
    expect(tcp.attributes.find((k) => k.key === 'facility')?.value?.intValue).toBe(16);
    expect(JSON.stringify(tcp.attributes.find((k) => k.key === 'structured_data'))).toContain('meta@1');
    expect(byMsg.get('hello over udp')?.severityNumber).toBe(17);
    const b = await start({ protocol: 'rfc3164', tcp: { listen_address: '127.0.0.1:0' } });
    await run('logger', ['--tcp', '--rfc3164', '--server', '127.0.0.1', '--port', String(b.r.tcpAddress!.port), '-t', 'old', '-i', 'bsd style']);
    await b.consumer.until(() => b.consumer.records().length >= 1, 'rfc3164 message');
    const rec = b.consumer.records()[0]!;
    expect(attr(rec, 'appname')).toBe('old');
    expect(attr(rec, 'message')).toBe('bsd style');
    expect(attr(rec, 'proc_id')).toMatch(/^\d+$/);
  });

  it.skipIf(!hasLogger || !hasRsyslog)('receives what a real rsyslog forwards with octet counting', async () => {
    const { r, consumer } = await start({ protocol: 'rfc5424', enable_octet_counting: true, tcp: { listen_address: '127.0.0.1:0' } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rsyslog-'));
    const inPort = await new Promise<number>((res) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => res(p));
      });
    });
    fs.writeFileSync(path.join(dir, 'rsyslog.conf'), [
      `global(workDirectory="${dir}")`,
      'module(load="imtcp")',
      `input(type="imtcp" address="127.0.0.1" port="${inPort}")`,
      `*.* action(type="omfwd" target="127.0.0.1" port="${r.tcpAddress!.port}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`,
      '',
    ].join('\n'));
    const rs = spawn('rsyslogd', ['-n', '-f', path.join(dir, 'rsyslog.conf'), '-i', path.join(dir, 'rsyslogd.pid')], { stdio: 'ignore' });
    cleanups.push(() => {
      rs.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    });
    // Wait (bounded) for rsyslog's input port.
    const end = Date.now() + 15_000;
    for (;;) {
      const ok = await new Promise<boolean>((res) => {
        const c = net.connect(inPort, '127.0.0.1', () => { c.destroy(); res(true); });
        c.on('error', () => res(false));
      });
      if (ok) break;
      if (Date.now() > end) throw new Error('rsyslogd did not open its port');
      await new Promise((res) => setTimeout(res, 100));
    }
    const N = 200;
    const lines = Array.from({ length: N }, (_, i) => `via rsyslog ${i}`);
    for (let i = 0; i < N; i += 50) {
      const c = net.connect(inPort, '127.0.0.1');
      await new Promise((res) => c.once('connect', res));
      c.end(lines.slice(i, i + 50).map((l) => `<13>1 2024-05-01T10:00:00.000Z host1 app 7 - - ${l}\n`).join(''));
      await new Promise((res) => c.once('close', res));
    }
    await run('logger', ['--tcp', '--rfc5424', '--server', '127.0.0.1', '--port', String(inPort), '-t', 'loggerapp', 'multi\nline is one message over octet counting']);
    await consumer.until(() => consumer.records().length >= N + 1, `${N + 1} forwarded messages`, 30_000);
    const msgs = consumer.records().map((x) => attr(x, 'message'));
    for (const l of lines) expect(msgs.filter((m) => m === l)).toHaveLength(1);
    const fromLogger = consumer.records().find((x) => attr(x, 'appname') === 'loggerapp');
    expect(fromLogger).toBeDefined();
    expect(attr(consumer.records()[0]!, 'hostname')).toBe('host1');
  }, 60_000);

  it('TLS on TCP: a client trusting the certificate is read; a plain-text client is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syslog-tls-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const { r, consumer } = await start({ protocol: 'rfc5424', enable_octet_counting: true, tcp: { listen_address: '127.0.0.1:0', tls: { cert_file: path.join(dir, 'cert.pem'), key_file: path.join(dir, 'key.pem') } } });
    const m = '<14>1 2024-01-01T00:00:00Z h app 1 - - over tls';
    const s = tls.connect({ port: r.tcpAddress!.port, host: '127.0.0.1', ca: fs.readFileSync(path.join(dir, 'cert.pem')) });
    await new Promise((res, rej) => { s.once('secureConnect', res); s.once('error', rej); });
    s.end(`${Buffer.byteLength(m)} ${m}`);
    await consumer.until(() => consumer.records().length >= 1, 'tls message');
    expect(attr(consumer.records()[0]!, 'message')).toBe('over tls');
    const plain = net.connect(r.tcpAddress!.port, '127.0.0.1');
    plain.on('error', () => undefined);
    plain.write(`${Buffer.byteLength(m)} ${m}`);
    await new Promise((res) => plain.once('close', res));
    await new Promise((res) => setTimeout(res, 100));
    expect(consumer.records()).toHaveLength(1);
  });

  it('UDP datagrams are one message each', async () => {
    const { r, consumer } = await start({ protocol: 'rfc3164', udp: { listen_address: '127.0.0.1:0' } });
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res) => sock.send('<13>Jan  2 03:04:05 host app: one', r.udpAddress!.port, '127.0.0.1', () => res()));
    await consumer.until(() => consumer.records().length >= 1, 'udp message');
    sock.close();
    expect(attr(consumer.records()[0]!, 'message')).toBe('one');
  });
});
