import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { anyValueFrom, keyValuesFrom, nanosFromMillis, type ResourceLogs } from '@tributary/otlp';
import { flattenBatch } from '../exporters/store/encode.js';
import { StoreWriter } from '../exporters/store/writer.js';
import { formatRecord, queryOptionsFrom, runQuery, QueryCliError } from './query.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function batch(service: string, bodies: string[], sev = 9): ResourceLogs[] {
  const now = Date.now();
  return [{
    resource: { attributes: keyValuesFrom({ 'service.name': service }), droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeLogs: [{ scope: null, schemaUrl: '', logRecords: bodies.map((b, i) => ({ timeUnixNano: nanosFromMillis(now - bodies.length + i), observedTimeUnixNano: nanosFromMillis(now), severityNumber: sev, severityText: '', body: anyValueFrom(b), attributes: keyValuesFrom({ k: i }), droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '' })) }],
  }];
}

describe('tributary query', () => {
  it('prints the newest N oldest first, as text or JSON, and follows new records until stopped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'query-cli-'));
    dirs.push(dir);
    const w = new StoreWriter({ directory: dir, tokenizer: 'unicode61', synchronous: 'normal', maxOpenFiles: 4, defaultDays: 7 });
    w.write(flattenBatch(batch('checkout', ['one hello', 'two hello', 'three hello', 'four bye']), { key: 'project.id', fallback: 'default' }, Date.now()));
    const lines: string[] = [];
    const o = queryOptionsFrom({ limit: '2', from: dir }, ['hello'], {}, false);
    await runQuery(o, (l) => lines.push(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  checkout two hello k=1$/);
    expect(lines[1]).toContain('three hello');
    const json: string[] = [];
    await runQuery(queryOptionsFrom({ from: dir, output: 'json' }, ['bye'], {}, false), (l) => json.push(l));
    expect(JSON.parse(json[0]!)).toMatchObject({ body: 'four bye', service: 'checkout', attributes: { k: 3 } });

    const followed: string[] = [];
    const ac = new AbortController();
    const done = runQuery(queryOptionsFrom({ from: dir, follow: true }, ['hello'], {}, false), (l) => {
      followed.push(l);
      if (l.includes('five hello')) ac.abort();
    }, ac.signal);
    await new Promise((r) => setTimeout(r, 200));
    w.write(flattenBatch(batch('checkout', ['five hello', 'six bye']), { key: 'project.id', fallback: 'default' }, Date.now()));
    const timer = setTimeout(() => ac.abort(), 15_000);
    await done;
    clearTimeout(timer);
    expect(followed.filter((l) => l.includes('hello'))).toHaveLength(4);
    expect(followed[3]).toContain('five hello');
    w.close();
  }, 30_000);

  it('colours by level in a terminal and refuses bad options with a clear message', () => {
    const rec = { tenant: 'default', id: '1', time: '2026-12-04T10:00:00.000000000Z', timestamp: '1', time_unix_nano: '1', observed_time_unix_nano: '0', severity_number: 17, severity_text: 'ERROR', level: 'error', body: 'boom', service: 'api', resource: {}, scope: { name: '', version: '' }, attributes: { a: 'x y' }, trace_id: null, span_id: null, correlation_id: 'c-1', retention_class: null, retention_days: null, flags: 0, event_name: null };
    expect(formatRecord(rec, false)).toBe('2026-12-04T10:00:00.000000000Z ERROR api boom a="x y" correlation_id=c-1');
    expect(formatRecord(rec, true)).toContain('\x1b[31mERROR');
    expect(() => queryOptionsFrom({ since: 'yesterday' }, ['x'], {}, false)).toThrow(QueryCliError);
    expect(() => queryOptionsFrom({ limit: '0' }, ['x'], {}, false)).toThrow(/--limit/);
    expect(() => queryOptionsFrom({ output: 'xml' }, ['x'], {}, false)).toThrow(/--output/);
    expect(queryOptionsFrom({}, [], { TRIBUTARY_QUERY_FROM: 'http://h:1', TRIBUTARY_TOKEN: 't' }, true)).toMatchObject({ from: 'http://h:1', token: 't', color: true, query: '' });
  });
});
