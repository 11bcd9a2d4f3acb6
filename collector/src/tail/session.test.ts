import type { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { compileMatcher } from '../query/matcher.js';
import { parseQuery } from '../query/parser.js';
import type { TailRecord } from './hub.js';
import { TailSession } from './session.js';

/** The part of a `ws` socket a session uses: sends are recorded, nothing is ever buffered. */
function fakeSocket(): { ws: WebSocket; frames: { type: string; records?: { id: string }[] }[] } {
  const frames: { type: string; records?: { id: string }[] }[] = [];
  const ws = { OPEN: 1, readyState: 1, bufferedAmount: 0, send: (t: string) => frames.push(JSON.parse(t) as { type: string }), close: () => undefined, terminate: () => undefined };
  return { ws: ws as unknown as WebSocket, frames };
}

function record(id: string, tenant = 't'): TailRecord {
  return {
    tenant, id, time: '', timestamp: '', severity_number: 9, severity_text: 'INFO', level: 'info', body: `r${id}`,
    service: 's', resource: {}, scope: { name: '', version: '' }, attributes: {}, trace_id: null, span_id: null,
  };
}

const sessions: TailSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.stop();
});

function session(): { s: TailSession; frames: { type: string; records?: { id: string }[] }[] } {
  const { ws, frames } = fakeSocket();
  const s = new TailSession(ws, undefined, compileMatcher(parseQuery('')), {
    bufferSize: 100, batchSize: 500, flushIntervalMs: 10_000, heartbeatIntervalMs: 60_000, maxSocketBuffer: 1 << 20,
    expiresAtMs: undefined, format: 'native', onDropped: () => undefined, onSent: () => undefined,
  });
  sessions.push(s);
  return { s, frames };
}

const sentIds = (frames: { type: string; records?: { id: string }[] }[]): string[] => frames.filter((f) => f.type === 'logs').flatMap((f) => f.records!.map((r) => r.id));

describe('tail session resume', () => {
  it('sends the backlog, then live records, each once, even when a backlog record is published after the release', () => {
    const { s, frames } = session();
    s.hold();
    s.push([record('12'), record('13')]); // live while the store is read: 12 is in the backlog too
    s.release([record('10'), record('11'), record('12')]);
    // Committed before the backlog read, published after the release: a late copy.
    s.push([record('11'), record('12'), record('14'), record('x-1')]);
    s.flush();
    expect(sentIds(frames)).toEqual(['10', '11', '12', '13', '14', 'x-1']);
  });

  it("another tenant's store ids are not compared with this tenant's backlog", () => {
    const { s, frames } = session();
    s.hold();
    s.release([record('50', 'a')]);
    s.push([record('40', 'b'), record('40', 'a')]);
    s.flush();
    expect(sentIds(frames)).toEqual(['50', '40']);
  });
});
