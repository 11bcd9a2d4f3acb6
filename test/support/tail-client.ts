/** A `ws` live tail client for tests: collects frames, exposes open/close/refusal as promises. */
import WebSocket from 'ws';

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
