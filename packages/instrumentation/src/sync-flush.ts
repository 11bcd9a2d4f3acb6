/**
 * The last resort at `process.on('exit')`, where nothing asynchronous can run any more: the records still
 * waiting in the batch buffer are serialised and sent by a short-lived child process that the exiting
 * process waits for (spawnSync, bounded by a timeout).
 */
import { spawnSync } from 'node:child_process';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { BatchLogRecordProcessor, ReadableLogRecord } from '@opentelemetry/sdk-logs';

export interface SyncTarget {
  processor: BatchLogRecordProcessor;
  url: string;
  headers: Record<string, string>;
  json: boolean;
}

// Plain JS run with `node -e`; exits 0 on any HTTP answer, 1 on a network error.
const SENDER = `
const u = new URL(process.env.TRIB_URL);
const m = require(u.protocol === 'https:' ? 'https' : 'http');
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c)).on('end', () => {
  const b = Buffer.concat(chunks);
  const h = Object.assign(JSON.parse(process.env.TRIB_HEADERS), { 'content-type': process.env.TRIB_CT, 'content-length': b.length });
  const r = m.request(u, { method: 'POST', headers: h }, (res) => { res.resume(); res.on('end', () => process.exit(0)); });
  r.on('error', () => process.exit(1));
  r.end(b);
});`;

/** Takes what is buffered in the SDK's batch processor (a private field: guarded, so a change only disables this). */
function drain(processor: BatchLogRecordProcessor): ReadableLogRecord[] {
  const holder = processor as unknown as { _finishedLogRecords?: unknown };
  const buf = holder._finishedLogRecords;
  if (!Array.isArray(buf) || buf.length === 0) return [];
  holder._finishedLogRecords = [];
  return buf as ReadableLogRecord[];
}

export function flushSync(targets: readonly SyncTarget[], timeoutMs: number): number {
  let sent = 0;
  for (const t of targets) {
    const records = drain(t.processor);
    if (records.length === 0) continue;
    const body = t.json ? JsonLogsSerializer.serializeRequest(records) : ProtobufLogsSerializer.serializeRequest(records);
    if (!body) continue;
    if (sendSync(t.url, t.headers, [Buffer.from(body)], t.json, timeoutMs) > 0) sent += records.length;
  }
  return sent;
}

/** Sends request bodies from a child process the exiting process waits for; returns how many were answered. */
export function sendSync(url: string, headers: Record<string, string>, bodies: readonly Buffer[], json: boolean, timeoutMs: number): number {
  const deadline = Date.now() + timeoutMs;
  let sent = 0;
  for (const body of bodies) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const res = spawnSync(process.execPath, ['-e', SENDER], {
      input: body,
      timeout: left,
      stdio: ['pipe', 'ignore', 'ignore'],
      // A clean environment: NODE_OPTIONS would load this instrumentation again in the child.
      env: {
        TRIB_URL: url, TRIB_HEADERS: JSON.stringify(headers),
        TRIB_CT: json ? 'application/json' : 'application/x-protobuf',
        ...(process.env['SYSTEMROOT'] ? { SYSTEMROOT: process.env['SYSTEMROOT'] } : {}),
      },
      windowsHide: true,
    });
    if (res.status === 0) sent++;
  }
  return sent;
}
