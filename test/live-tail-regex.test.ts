/**
 * A live tail query with a regex that backtracks exponentially in a backtracking engine (`(a+)+$` against
 * `aaa…ab`) costs linear time here (re2js): the record stream and the collector stay responsive, and a
 * regex RE2 cannot run (a backreference) is refused before the upgrade with 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/collector-process.js';
import { connect, startTailCollector, type TailCollector } from './support/tail-client.js';

let t: TailCollector | undefined;
let otlp: number;
let api: number;
beforeAll(async () => {
  t = await startTailCollector('live_tail');
  ({ otlp, api } = t);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

async function post(bodies: string[]): Promise<void> {
  const req = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'evil' } }] }, scopeLogs: [{ logRecords: bodies.map((b) => ({ timeUnixNano: `${Date.now()}000000`, severityNumber: 9, body: { stringValue: b } })) }] }] };
  const res = await fetch(`http://127.0.0.1:${otlp}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
}

describe('live tail with a pathological regex', () => {
  it('(a+)+$ against long non-matching bodies: linear time, matching records still arrive', async () => {
    const v = connect(`ws://127.0.0.1:${api}/api/v1/tail?query=${encodeURIComponent('body:/^(a+)+$/')}`);
    await v.opened;
    // 200 bodies of 5,000 "a" and a "b": a backtracking engine would need ~2^5000 steps for each.
    const evil = Array.from({ length: 200 }, () => `${'a'.repeat(5000)}b`);
    const t0 = Date.now();
    await post([...evil, 'aaaa']);
    await waitFor('the matching record', () => v.frames.some((f) => f.records?.some((r) => r.body === 'aaaa')) || undefined, 10_000, 20);
    expect(Date.now() - t0).toBeLessThan(5_000);
    // Only the matching record was streamed; the collector still answers at once.
    expect(v.frames.flatMap((f) => f.records ?? []).map((r) => r.body)).toEqual(['aaaa']);
    const h0 = Date.now();
    await post(['ok']);
    expect(Date.now() - h0).toBeLessThan(1_000);
    v.ws.close();
  }, 30_000);

  it('a regex RE2 cannot run (backreference) is refused with 400 before the upgrade', async () => {
    const v = connect(`ws://127.0.0.1:${api}/api/v1/tail?query=${encodeURIComponent('body:/(a)\\1/')}`);
    expect(await v.refused).toBe(400);
  });
});
