/**
 * Fuzzing the OTLP receivers of the built collector: protobuf and JSON bodies mutated from valid
 * ones (bit flips, truncation, length-prefix lies, huge varints, deep nesting, type confusion), sent over
 * HTTP and gRPC. Every case must be answered (2xx or 4xx; gRPC OK or a client-error code), the process
 * must not crash or grow without bound, and a valid request right after must be served.
 * Bounded to a few seconds here; `FUZZ_SECONDS=600 npx vitest run test/fuzz-otlp.test.ts` (or
 * `node bench/soak-fuzz.mjs`) runs longer. The seed is printed; `FUZZ_SEED` replays a run.
 */
import fs from 'node:fs';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startCollector, type RunningCollector } from './support/collector-process.js';
import { Destination, numberedRequest, postLogs, rawLogsClient, rssOf } from './support/delivery.js';
import { prng } from '../packages/otlp/src/testdata/random-records.js';

const SECONDS = Number(process.env['FUZZ_SECONDS'] ?? 3);
const SEED = Number(process.env['FUZZ_SEED'] ?? (Date.now() % 1_000_000));
// At least this many cases even when a loaded machine makes the time budget short (each must still pass).
const MIN_CASES = 60;


function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const field = (tag: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), varint(payload.length), payload]);

function nestedProtobuf(depth: number): Buffer {
  let anyValue = field(0x0a, Buffer.from('leaf'));
  const key = field(0x0a, Buffer.from('k'));
  for (let i = 0; i < depth; i++) anyValue = field(0x32, field(0x0a, Buffer.concat([key, field(0x12, anyValue)])));
  return field(0x0a, field(0x12, field(0x12, field(0x2a, anyValue))));
}

function nestedJson(depth: number, rnd: () => number): string {
  let v = '{"stringValue":"leaf"}';
  for (let i = 0; i < depth; i++) v = rnd() < 0.5 ? `{"kvlistValue":{"values":[{"key":"k","value":${v}}]}}` : `{"arrayValue":{"values":[${v}]}}`;
  return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${v}}]}]}]}`;
}

const VALID_PB = Buffer.from(numberedRequest(0, 20));
const VALID_JSON = JSON.stringify({
  resourceLogs: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz' } }] },
    scopeLogs: [{ scope: { name: 's' }, logRecords: [
      { timeUnixNano: '1700000000000000000', severityNumber: 9, severityText: 'INFO', body: { stringValue: 'hello' },
        traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174',
        attributes: [{ key: 'n', value: { intValue: '1' } }, { key: 'd', value: { doubleValue: 1.5 } }, { key: 'b', value: { bytesValue: 'AAE=' } }] },
    ] }],
  }],
});

/** One mutated protobuf body and the name of the mutation. */
function mutatePb(rnd: () => number): [string, Buffer] {
  const b = Buffer.from(VALID_PB);
  const pos = (): number => Math.floor(rnd() * b.length);
  switch (Math.floor(rnd() * 7)) {
    case 0: {
      const n = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < n; i++) b[pos()]! ^= 1 << Math.floor(rnd() * 8);
      return ['pb bit flips', b];
    }
    case 1:
      return ['pb truncation', b.subarray(0, pos())];
    case 2: {
      // A length prefix that lies: overwrite a byte with a large single/multi-byte varint.
      const p = pos();
      const lie = varint(rnd() < 0.5 ? 0x7f : Math.floor(rnd() * 0xffffffff));
      return ['pb length lie', Buffer.concat([b.subarray(0, p), lie, b.subarray(p + 1)])];
    }
    case 3: {
      const p = pos();
      const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, rnd() < 0.5 ? 0x01 : 0x7f]);
      return ['pb huge varint', Buffer.concat([b.subarray(0, p), huge, b.subarray(p)])];
    }
    case 4:
      return ['pb deep nesting', nestedProtobuf(Math.floor(rnd() * 3000))];
    case 5: {
      // Random bytes spliced in.
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
      const p = pos();
      return ['pb splice', Buffer.concat([b.subarray(0, p), junk, b.subarray(p)])];
    }
    default: {
      // Unknown field numbers / wire types at the top level.
      const tag = Math.floor(rnd() * 256);
      return ['pb unknown field', Buffer.concat([Buffer.from([tag]), varint(Math.floor(rnd() * 40)), b])];
    }
  }
}

function mutateJson(rnd: () => number): [string, Buffer] {
  const s = VALID_JSON;
  const pos = (): number => Math.floor(rnd() * s.length);
  switch (Math.floor(rnd() * 7)) {
    case 0: {
      const b = Buffer.from(s);
      const n = 1 + Math.floor(rnd() * 6);
      for (let i = 0; i < n; i++) b[Math.floor(rnd() * b.length)]! ^= 1 << Math.floor(rnd() * 8);
      return ['json bit flips', b];
    }
    case 1:
      return ['json truncation', Buffer.from(s.slice(0, pos()))];
    case 2:
      return ['json deep nesting', Buffer.from(nestedJson(Math.floor(rnd() * 3000), rnd))];
    case 3: {
      // Type confusion: swap a value for another JSON type.
      const repl = ['null', '[]', '{}', '"x"', '1e400', '-1', '18446744073709551616', 'true', '"\\ud800"'][Math.floor(rnd() * 9)]!;
      const keys = [...s.matchAll(/"[a-zA-Z]+":/g)];
      const k = keys[Math.floor(rnd() * keys.length)]!;
      const start = k.index + k[0].length;
      const v = /^("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|true|false|null|\{|\[)/.exec(s.slice(start))?.[0] ?? '';
      if (v === '{' || v === '[') return ['json type confusion', Buffer.from(s.slice(0, start) + repl + ',' + s.slice(start))];
      return ['json type confusion', Buffer.from(s.slice(0, start) + repl + s.slice(start + v.length))];
    }
    case 4:
      return ['json array nesting', Buffer.from('['.repeat(Math.floor(rnd() * 20000)))];
    case 5: {
      const p = pos();
      const junk = Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => String.fromCharCode(Math.floor(rnd() * 0x3000))).join('');
      return ['json splice', Buffer.from(s.slice(0, p) + junk + s.slice(p))];
    }
    default:
      return ['json huge numbers', Buffer.from(s.replace(/"1700000000000000000"/, '"9'.padEnd(60, '9') + '"').replace('"severityNumber":9', '"severityNumber":4294967297'))];
  }
}

/** gRPC codes a client error may get: the data is bad or too large, never a server fault. */
const GRPC_CLIENT_ERRORS = new Set<number>([status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED, status.OUT_OF_RANGE]);

let collector: RunningCollector;
let dest: Destination;
let ports: { http: number; grpc: number; health: number; metrics: number };

beforeAll(async () => {
  dest = new Destination();
  await dest.up();
  ports = { http: await freePort(), grpc: await freePort(), health: await freePort(), metrics: await freePort() };
  collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${ports.http} }, grpc: { endpoint: 127.0.0.1:${ports.grpc} } } } }
exporters: { otlphttp: { endpoint: ${dest.url}, compression: none } }
extensions: { health_check: { endpoint: 127.0.0.1:${ports.health} }, metrics: { endpoint: 127.0.0.1:${ports.metrics} } }
service:
  extensions: [health_check, metrics]
  pipelines: { logs: { receivers: [otlp], exporters: [otlphttp] } }
`, { healthPort: ports.health });
});

afterAll(async () => {
  await collector?.stop('SIGKILL');
  if (collector) fs.rmSync(collector.dir, { recursive: true, force: true });
  await dest?.down();
});

const rss = (): Promise<number> => rssOf(ports.metrics);

describe(`fuzz: mutated OTLP bodies (seed ${SEED}, ${SECONDS}s per transport)`, () => {
  it('HTTP: every mutated protobuf/JSON body is answered 2xx or 4xx, and a valid request right after is served', async () => {
    const rnd = prng(SEED);
    const bad: string[] = [];
    const byKind: Record<string, number> = {};
    const rssBefore = await rss();
    const end = performance.now() + SECONDS * 1000;
    let cases = 0;
    while (performance.now() < end || cases < MIN_CASES) {
      const json = rnd() < 0.5;
      const [kind, body] = json ? mutateJson(rnd) : mutatePb(rnd);
      const res = await fetch(`http://127.0.0.1:${ports.http}/v1/logs`, {
        method: 'POST', headers: { 'content-type': json ? 'application/json' : 'application/x-protobuf' }, body,
      }).then(async (r) => (await r.arrayBuffer(), r.status), (e: unknown) => `error ${String(e)}`);
      cases++;
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      if (typeof res !== 'number' || res >= 500 || res < 200 || (res >= 300 && res < 400)) bad.push(`${kind}: ${res} body=${body.subarray(0, 200).toString('base64')}`);
      // A valid request right after is served.
      const ok = await postLogs(ports.http, VALID_PB);
      if (ok.status !== 200) bad.push(`valid request after ${kind}: ${ok.status}`);
    }
    const rssAfter = await rss();
    console.log(`[fuzz-http] seed=${SEED} cases=${cases} ${JSON.stringify(byKind)} rssMiB ${(rssBefore / 1048576).toFixed(0)}→${(rssAfter / 1048576).toFixed(0)}`);
    expect(bad).toEqual([]);
    expect(cases).toBeGreaterThan(50);
    expect(collector.child.exitCode).toBeNull();
    // No leak: a run of mutated requests does not grow RSS without bound.
    expect(rssAfter).toBeLessThan(rssBefore + 200 * 1024 * 1024);
  }, 60_000 + SECONDS * 2000);

  it('gRPC: every mutated protobuf message is answered OK or a client-error code, and a valid call right after succeeds', async () => {
    const rnd = prng(SEED + 1);
    const client = rawLogsClient(ports.grpc);
    const call = (b: Buffer): Promise<ServiceError | null> => new Promise((resolve) => client.Export(b, new Metadata(), (e) => resolve(e)));
    const bad: string[] = [];
    const codes: Record<string, number> = {};
    const end = performance.now() + SECONDS * 1000;
    let cases = 0;
    try {
      while (performance.now() < end || cases < MIN_CASES) {
        const [kind, body] = mutatePb(rnd);
        const err = await call(body);
        cases++;
        const code = err?.code ?? status.OK;
        codes[String(code)] = (codes[String(code)] ?? 0) + 1;
        if (code !== status.OK && !GRPC_CLIENT_ERRORS.has(code)) bad.push(`${kind}: code ${code} ${err?.details} body=${body.subarray(0, 200).toString('base64')}`);
        const ok = await call(VALID_PB);
        if (ok !== null) bad.push(`valid call after ${kind}: ${ok.code} ${ok.details}`);
      }
    } finally {
      client.close();
    }
    console.log(`[fuzz-grpc] seed=${SEED} cases=${cases} codes=${JSON.stringify(codes)}`);
    expect(bad).toEqual([]);
    expect(cases).toBeGreaterThan(50);
    expect(collector.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${ports.health}/`)).status).toBe(200);
  }, 60_000 + SECONDS * 2000);
});
