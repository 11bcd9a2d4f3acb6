/**
 * A local HTTP endpoint standing in for a destination: records every request (decoded when it is OTLP)
 * and answers what the test tells it to (status, delay, headers). `requests` holds what the destination
 * accepted (2xx answers); `attempts` holds every request, failed ones included, with the status answered.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { decodeExportRequest, decodeExportRequestJson, type ExportLogsServiceRequest } from '@tributary/otlp';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The body, gunzipped when it came with `content-encoding: gzip`. */
  body: Buffer;
  /** The body as it came on the wire. */
  raw: Buffer;
  /** The OTLP payload when the request was an OTLP export. */
  otlp?: ExportLogsServiceRequest;
  at: number;
  /** The status this request was answered with (set when the answer is sent). */
  status?: number;
}

export interface Answer {
  status: number;
  delayMs?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RecordingServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Every request, answered with any status (failed attempts included), in arrival order. */
  attempts: RecordedRequest[];
  /**
   * Decides the answer for each request (default: 200 with an empty OTLP JSON response). `index` counts
   * the accepted requests before this one, `attempt` every request before this one.
   */
  respond: (req: RecordedRequest, index: number, attempt: number) => Answer;
  close(): Promise<void>;
}

export async function startRecordingServer(respond?: RecordingServer['respond']): Promise<RecordingServer> {
  const state: RecordingServer = {
    url: '', port: 0, requests: [], attempts: [],
    respond: respond ?? (() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' })),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw;
      const rec: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, raw, at: Date.now() };
      try {
        const type = req.headers['content-type'] ?? '';
        if (type.startsWith('application/x-protobuf')) rec.otlp = decodeExportRequest(body);
        else if (type.startsWith('application/json') && body.length) rec.otlp = decodeExportRequestJson(body.toString());
      } catch {
        // not OTLP: kept raw
      }
      const index = state.requests.length;
      state.attempts.push(rec);
      const answer = state.respond(rec, index, state.attempts.length - 1);
      rec.status = answer.status;
      // Only answered-with-2xx requests count as received by the destination.
      const finish = (): void => {
        if (answer.status >= 200 && answer.status < 300) state.requests.push(rec);
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(finish, answer.delayMs);
      else finish();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  state.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return state;
}

/** Every `n` attribute value (an int) of every record the server accepted. */
export function receivedNumbers(server: RecordingServer, key = 'n'): number[] {
  const out: number[] = [];
  for (const r of server.requests) {
    for (const rl of r.otlp?.resourceLogs ?? []) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) {
      const a = lr.attributes.find((x) => x.key === key);
      const v = a?.value?.intValue;
      if (v != null) out.push(typeof v === 'number' ? v : v.toNumber());
    }
  }
  return out;
}

/** An OTLP/JSON request body with records numbered from..to-1 (attribute `n`). */
export function numberedRequestJson(from: number, to: number, service = 'load'): string {
  const recs = [];
  for (let n = from; n < to; n++) {
    recs.push({ timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(n)), severityNumber: 9, body: { stringValue: `record ${n}` }, attributes: [{ key: 'n', value: { intValue: String(n) } }] });
  }
  return JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeLogs: [{ logRecords: recs }] }] });
}

/** POSTs an OTLP/JSON body to a collector's HTTP receiver and reads the answer to the end. */
export async function postOtlpJson(port: number, body: string): Promise<Response> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  return res;
}

/** A test record: number `n` (attribute `n`), string attributes, body and severity. */
export interface TestRecord { n: number; attrs?: Record<string, string>; body?: string; sev?: number }

/** An OTLP/JSON request with the given records under one resource (string attributes). */
export function recordsRequestJson(records: TestRecord[], resource: Record<string, string> = { 'service.name': 'checkout' }): string {
  const kv = (o: Record<string, string>) => Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }));
  return JSON.stringify({
    resourceLogs: [{
      resource: { attributes: kv(resource) },
      scopeLogs: [{
        scope: { name: 'test' },
        logRecords: records.map((r) => ({
          timeUnixNano: String(1_705_314_600_000_000_000n + BigInt(r.n)),
          severityNumber: r.sev ?? 9, severityText: 'INFO',
          body: { stringValue: r.body ?? `record ${r.n}` },
          attributes: [{ key: 'n', value: { intValue: String(r.n) } }, ...kv(r.attrs ?? {})],
        })),
      }],
    }],
  });
}

const open: RecordingServer[] = [];

/**
 * A recording server for one test whose `seen` array holds every attempt (failed ones included), answered
 * by `reply(request, attemptIndex)`. Close them all with `closeRecordingServers()` in `afterEach`.
 */
export async function serveAttempts(reply: (req: RecordedRequest, attempt: number) => Answer): Promise<{ url: string; seen: RecordedRequest[] }> {
  return serveMapped((req) => req, reply);
}

/** `serveAttempts` with each request seen as `view(request)` (e.g. the body as text). */
export async function serveMapped<S>(view: (req: RecordedRequest) => S, reply: (seen: S, attempt: number) => Answer): Promise<{ url: string; seen: S[] }> {
  const seen: S[] = [];
  const server = await startRecordingServer((req, _accepted, attempt) => {
    const s = view(req);
    seen.push(s);
    return reply(s, attempt);
  });
  open.push(server);
  return { url: server.url, seen };
}

export async function closeRecordingServers(): Promise<void> {
  await Promise.all(open.splice(0).map((s) => s.close()));
}
