// Records stay in the bytes they were received in until they leave: many different requests held in one
// batch (one keep-alive connection, plain and gzip bodies, some spanning many socket reads) come out intact
// in OTLP/JSON (file) and in OTLP protobuf (otlphttp, where a field the schema does not know is still there).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeExportRequestTree, encodeExportRequest, encodeExportRequestJson, idFromHex, nanosFromDecimal,
  type ExportLogsServiceRequest, type LogRecord,
} from '@tributary/otlp';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { startRecordingServer, type RecordingServer } from './support/recording-server.js';

let running: RunningCollector | undefined;
let sink: RecordingServer | undefined;
afterEach(async () => {
  await running?.stop();
  await sink?.close();
  running = undefined;
  sink = undefined;
});

function request(n: number): ExportLogsServiceRequest {
  // Sizes from a few hundred bytes to ~300 KB, so some bodies arrive in many socket reads.
  const records: LogRecord[] = [];
  const count = 1 + ((n * 7) % 40);
  const pad = n % 5 === 0 ? 'x'.repeat(7000) : '';
  for (let i = 0; i < count; i++) {
    records.push({
      timeUnixNano: nanosFromDecimal(String(1_700_000_000_000_000_000n + BigInt(n * 1000 + i))),
      observedTimeUnixNano: nanosFromDecimal('0'),
      severityNumber: 9 + (i % 3), severityText: 'INFO',
      body: { stringValue: `request ${n} record ${i} é 日本 "q" ${pad}` },
      attributes: [{ key: 'n', value: { intValue: n } }, { key: 'i', value: { intValue: i } }, { key: 'tag', value: { stringValue: `t-${n}-${i}` } }],
      droppedAttributesCount: 0, flags: 1,
      traceId: idFromHex(((n * 65537 + i) >>> 0).toString(16).padStart(8, '0').repeat(4), 16), spanId: new Uint8Array(0), eventName: '',
    });
  }
  return { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${n % 3}` } }], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records }] }] };
}

/** A request whose one record carries a field number this schema does not know (a newer sender's). */
function requestWithUnknownField(): { bytes: Uint8Array; record: Uint8Array } {
  const w = protobuf.Writer.create();
  w.uint32(9).fixed64(1_700_000_000_000);
  w.uint32(42).fork().uint32(10).string('from a newer sender').ldelim();
  w.uint32((100 << 3) | 2).string('future field');
  const record = w.finish();
  const sl = protobuf.Writer.create().uint32(0x12).bytes(record).finish();
  const rl = protobuf.Writer.create().uint32(0x12).bytes(sl).finish();
  return { bytes: protobuf.Writer.create().uint32(0x0a).bytes(rl).finish(), record };
}

/** Each record of a set of requests as its OTLP/JSON text, sorted. */
function recordJson(reqs: ExportLogsServiceRequest[]): string[] {
  const out: string[] = [];
  for (const req of reqs) {
    const parsed = JSON.parse(encodeExportRequestJson(req)) as { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] };
    for (const rl of parsed.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) out.push(JSON.stringify(r));
  }
  return out.sort();
}

describe('received records kept in their bytes', () => {
  it('leave intact in OTLP/JSON and OTLP protobuf after many other requests were received, unknown fields included', async () => {
    sink = await startRecordingServer();
    const otlpPort = await freePort();
    const healthPort = await freePort();
    running = await startCollector(`
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:${otlpPort} }
processors:
  batch: { timeout: 3s, send_batch_size: 100000 }
exporters:
  file: { path: ./out/logs.jsonl }
  otlphttp: { endpoint: http://127.0.0.1:${sink.port}, compression: none, retry_on_failure: { enabled: false } }
extensions:
  health_check: { endpoint: 127.0.0.1:${healthPort} }
service:
  extensions: [health_check]
  pipelines:
    logs: { receivers: [otlp], processors: [batch], exporters: [file, otlphttp] }
`, { healthPort });
    const sent: ExportLogsServiceRequest[] = [];
    for (let n = 0; n < 60; n++) {
      const req = request(n);
      sent.push(req);
      const pb = encodeExportRequest(req);
      const gzip = n % 4 === 1;
      const res = await fetch(`http://127.0.0.1:${otlpPort}/v1/logs`, {
        method: 'POST', body: gzip ? zlib.gzipSync(pb) : pb,
        headers: { 'content-type': 'application/x-protobuf', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const unknown = requestWithUnknownField();
    expect((await fetch(`http://127.0.0.1:${otlpPort}/v1/logs`, { method: 'POST', body: unknown.bytes, headers: { 'content-type': 'application/x-protobuf' } })).status).toBe(200);
    sent.push(decodeExportRequestTree(unknown.bytes));
    // The batch (3 s) held the records of the earlier requests while the later ones were read.

    const out = path.join(running.dir, 'out/logs.jsonl');
    const want = recordJson(sent);
    const fileRecords = (): string[] => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : [])
      .flatMap((l) => (JSON.parse(l) as { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] }).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => JSON.stringify(r)))))
      .sort();
    const fromFile = await waitFor('every record in the file', () => {
      const got = fileRecords();
      return got.length >= want.length ? got : undefined;
    });
    expect(fromFile).toEqual(want);

    const forwarded = await waitFor('every record at the OTLP destination', () => {
      const bodies = sink!.requests.map((r) => r.body);
      const n = bodies.reduce((k, b) => k + decodeExportRequestTree(b).resourceLogs.reduce((m, rl) => m + rl.scopeLogs.reduce((j, sl) => j + sl.logRecords.length, 0), 0), 0);
      return n >= want.length ? bodies : undefined;
    });
    expect(recordJson(forwarded.map((b) => decodeExportRequestTree(b)))).toEqual(want);
    // The record with the unknown field went out as the bytes it came in.
    expect(forwarded.some((b) => Buffer.from(b).includes(Buffer.from(unknown.record)))).toBe(true);
  });
});
