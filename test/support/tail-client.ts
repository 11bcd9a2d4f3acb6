/** A `ws` live tail client for tests: collects frames, exposes open/close/refusal as promises. */
import fs from 'node:fs';
import WebSocket from 'ws';
import { freePort, startCollector, type RunningCollector } from './collector-process.js';

export interface Frame { type?: string; records?: { id: string; body: unknown; tenant: string; service: string | null }[]; cursor?: string; count?: number; streams?: { stream: Record<string, string>; values: [string, string][] }[] }

/** A tail client that collects frames; `opened` resolves on open, rejects with the HTTP status when refused. */
export function connect(url: string, protocols?: string[]): { ws: WebSocket; frames: Frame[]; opened: Promise<void>; closed: Promise<{ code: number; reason: string }>; refused: Promise<number> } {
  const ws = new WebSocket(url, protocols);
  const frames: Frame[] = [];
  ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString()) as Frame));
  const refused = new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    void refused.then((s) => reject(new Error(`refused with ${s}`)));
  });
  // Refused clients never await `opened`.
  opened.catch(() => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return { ws, frames, opened, closed, refused };
}

export interface TailCollector {
  collector: RunningCollector;
  otlp: number;
  api: number;
  stop(): Promise<void>;
}

/**
 * A collector for tail tests: OTLP/HTTP in, one exporter (`live_tail` or `store`, with its YAML flow config)
 * in one pipeline, and the api extension on a free port with `apiKeys` (YAML flow entries, e.g. `auth: {...}`).
 */
export async function startTailCollector(exporter: string, exporterConfig = '{}', apiKeys = ''): Promise<TailCollector> {
  const [otlp, api, health] = await Promise.all([freePort(), freePort(), freePort()]);
  const collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlp} } } } }
exporters: { ${exporter}: ${exporterConfig} }
extensions:
  health_check: { endpoint: 127.0.0.1:${health} }
  api: { endpoint: 127.0.0.1:${api}${apiKeys ? `, ${apiKeys}` : ''} }
service:
  extensions: [health_check, api]
  pipelines: { logs: { receivers: [otlp], exporters: [${exporter}] } }
`, { healthPort: health });
  return {
    collector, otlp, api,
    async stop() {
      await collector.stop();
      fs.rmSync(collector.dir, { recursive: true, force: true });
    },
  };
}
