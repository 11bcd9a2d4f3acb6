/**
 * Refusals a client can read, and the limits that protect memory: early answers (413, 415, 400 for a
 * corrupt gzip) reach clients that write their whole body before reading (Python's http.client), no
 * `100 Continue` precedes a refusal, a budget of request bytes in flight, and the server timeouts.
 */
import { isUtf8 } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeExportRequest, encodeExportRequestJson } from '@tributary/otlp';
import { requestBytesInFlight } from '../../config/http-server.js';
import type { Counter } from '../../telemetry/metrics.js';
import { INVALID_UTF8_METRIC } from './ingest.js';
import { rawRequest, sampleRecord, sampleRequest, startReceiver, type StartedReceiver } from './test-support.js';

const inCi = process.env.CI === 'true';
const python = ((): boolean => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!python) console.log('http-refusals: python3 is not installed; the http.client tests are skipped');

let r: StartedReceiver | undefined;
afterEach(async () => {
  await r?.receiver.shutdown();
  r = undefined;
});

/** Sends with Python's http.client (whole body first, then reads); prints "<status> <body>" or the exception. */
function pythonPost(port: number, headers: Record<string, string>, bodyBytes: number): Promise<string> {
  const script = `
import http.client, json, sys
h = json.loads(sys.argv[1])
c = http.client.HTTPConnection('127.0.0.1', ${port}, timeout=60)
try:
    c.request('POST', '/v1/logs', body=b'\\x1f\\x8b' + b'x' * (${bodyBytes} - 2), headers=h)
    r = c.getresponse()
    print(r.status, r.read().decode('utf-8', 'replace')[:200])
except Exception as e:
    print('ERROR', type(e).__name__, e)
`;
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', script, JSON.stringify(headers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(out.trim()));
  });
}

describe('early refusals are readable by clients that write the whole body first', () => {
  it.runIf(!python && inCi)('python3 must be installed when CI=true', () => {
    throw new Error('python3 is not installed (CI=true): the http.client refusal tests cannot run');
  });

  it.runIf(python)('Python http.client: 22 MB body → 413, 5 MB with a wrong content type → 415, 5 MB corrupt gzip → 400', async () => {
    r = await startReceiver({ http: {} });
    const port = Number(new URL(r.httpBase).port);
    const big = await pythonPost(port, { 'Content-Type': 'application/x-protobuf' }, 22_000_000);
    expect(big).toMatch(/^413 .*max_request_body_size/);
    const wrongType = await pythonPost(port, { 'Content-Type': 'text/plain' }, 5_000_000);
    expect(wrongType).toMatch(/^415 .*unsupported media type/);
    // Chunked-less, 5 MB of garbage after a gzip magic: the inflater fails early, the rest is discarded.
    const gz = await pythonPost(port, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'gzip' }, 5_000_000);
    expect(gz).toMatch(/^400 .*invalid gzip body/);
    // The receiver is still serving, and nothing is left reserved.
    expect((await rawRequest(`${r.httpBase}/v1/logs`, { headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
    expect(requestBytesInFlight()).toBe(0);
  }, 60_000);

  it('Expect: 100-continue on a request about to be refused gets the refusal, not 100 Continue', async () => {
    r = await startReceiver({ http: { max_request_body_size: '1KiB' } });
    const port = Number(new URL(r.httpBase).port);
    const first = async (headers: string): Promise<string> => {
      const sock = connect(port, '127.0.0.1');
      try {
        sock.write(`POST /v1/logs HTTP/1.1\r\nHost: x\r\n${headers}Expect: 100-continue\r\n\r\n`);
        return await firstLine(sock);
      } finally {
        sock.destroy();
      }
    };
    expect(await first('Content-Type: text/plain\r\nContent-Length: 10\r\n')).toMatch(/^HTTP\/1\.1 415/);
    expect(await first('Content-Type: application/json\r\nContent-Length: 100000\r\n')).toMatch(/^HTTP\/1\.1 413/);
    // A request that will be read is told to continue.
    expect(await first('Content-Type: application/json\r\nContent-Length: 2\r\n')).toMatch(/^HTTP\/1\.1 100/);
  });
});

function firstLine(sock: Socket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(buf)}`)), timeoutMs);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\r\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(buf.split('\r\n')[0] ?? '');
    });
  });
}

describe('request bytes in flight and timeouts', () => {
  it('refuses with 503 + Retry-After before reading the body when the budget is full, then recovers', async () => {
    r = await startReceiver({ http: { max_request_bytes_in_flight: '1MiB' } });
    const port = Number(new URL(r.httpBase).port);
    // A stalled upload holding 900 KB of the budget.
    const stalled = connect(port, '127.0.0.1');
    stalled.write('POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 900000\r\n\r\n' + 'x'.repeat(1000));
    const t0 = Date.now();
    while (requestBytesInFlight() < 900_000 && Date.now() - t0 < 10_000) await new Promise((res) => setTimeout(res, 10));
    expect(requestBytesInFlight()).toBe(900_000);
    // The second declares 500 KB and sends nothing: the answer comes before any body byte.
    const second = connect(port, '127.0.0.1');
    second.write('POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 500000\r\n\r\n');
    const answer = await firstLine(second);
    second.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 503/);
    // The stalled client goes away: the budget is free again.
    stalled.destroy();
    const t1 = Date.now();
    while (requestBytesInFlight() > 0 && Date.now() - t1 < 10_000) await new Promise((res) => setTimeout(res, 10));
    expect(requestBytesInFlight()).toBe(0);
    expect((await rawRequest(`${r.httpBase}/v1/logs`, { headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
  });

  it('read_header_timeout and read_timeout cut stalled clients', async () => {
    r = await startReceiver({ http: { read_header_timeout: '300ms', read_timeout: '600ms' } });
    const port = Number(new URL(r.httpBase).port);
    const closedWithin = (sock: Socket): Promise<number> => {
      const t = Date.now();
      return new Promise((resolve) => {
        sock.on('error', () => undefined);
        sock.on('close', () => resolve(Date.now() - t));
        sock.resume();
      });
    };
    const headers = connect(port, '127.0.0.1');
    headers.write('POST /v1/logs HTTP/1.1\r\nHost: x\r\n'); // never finishes its headers
    const body = connect(port, '127.0.0.1');
    body.write('POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{'); // nor its body
    const [h, b] = await Promise.all([closedWithin(headers), closedWithin(body)]);
    expect(h).toBeLessThan(5_000);
    expect(b).toBeLessThan(5_000);
    expect(requestBytesInFlight()).toBe(0);
  });
});

describe('text that is not valid Unicode', () => {
  it('invalid UTF-8 (protobuf, JSON) and lone surrogates (JSON) become U+FFFD, are counted on /metrics, and encode as valid UTF-8 JSON', async () => {
    r = await startReceiver({ http: {}, grpc: {} });
    const url = `${r.httpBase}/v1/logs`;
    // protobuf: a body string whose bytes are patched to invalid UTF-8.
    const proto = Buffer.from(encodeExportRequest(sampleRequest([sampleRecord({ body: { stringValue: 'MARKMARK' } })])));
    const at = proto.indexOf('MARKMARK');
    proto[at] = 0xff;
    proto[at + 1] = 0xfe;
    expect((await rawRequest(url, { headers: { 'content-type': 'application/x-protobuf' }, body: proto })).status).toBe(200);
    // JSON: invalid bytes in one string, a lone surrogate escape in another.
    const json = Buffer.from(encodeExportRequestJson(sampleRequest([sampleRecord({ body: { stringValue: 'MARKMARK' } }), sampleRecord({ body: { stringValue: 'LONE' } })])).replace('LONE', '\\ud800x'));
    const j = json.indexOf('MARKMARK');
    json[j] = 0xc3; // a lead byte followed by ASCII: invalid
    expect((await rawRequest(url, { headers: { 'content-type': 'application/json' }, body: json })).status).toBe(200);
    const bodies = r.next.batches.flatMap((b) => b.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((rec) => rec.body?.stringValue ?? ''))));
    expect(bodies).toEqual(['\uFFFD\uFFFDRKMARK', '\uFFFDARKMARK', '\uFFFDx']);
    const c = r.telemetry.find(INVALID_UTF8_METRIC) as Counter;
    expect(c.total({ transport: 'http' })).toBe(3);
    expect(r.telemetry.render()).toMatch(/tributary_receiver_invalid_utf8_strings_total\{receiver="otlp",transport="http"\} 3/);
    // What exporters write from it is valid UTF-8 JSON, with U+FFFD rather than a "\ud800" escape.
    for (const b of r.next.batches) {
      const out = Buffer.from(encodeExportRequestJson({ resourceLogs: b.resourceLogs }));
      expect(isUtf8(out)).toBe(true);
      expect(out.toString()).not.toMatch(/\\ud[89ab]/i);
    }
  });
});
