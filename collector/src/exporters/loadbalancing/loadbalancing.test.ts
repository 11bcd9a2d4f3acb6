import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { idToHex, type ExportLogsServiceRequest, type ExportLogsServiceResponse, type Long, type LogRecord } from '@tributary/otlp';
import { afterEach, describe, expect, it } from 'vitest';
import { parseComponentId, type CreateSettings, type Host, type LogsBatch } from '../../component.js';
import { QueuedRetryExporter } from '../../pipeline/exporter-helper.js';
import { createLogger } from '../../telemetry/logger.js';
import { Telemetry } from '../../telemetry/metrics.js';
import { logsServiceDefinition } from '../otlp/index.js';
import { HashRing, loadBalancingConfigSchema, LoadBalancingExporter } from './index.js';

const silent = createLogger({ level: 'error', encoding: 'text', write: () => undefined });

/** A gRPC OTLP backend that records (record number, trace id) of what it accepted. */
class Backend {
  readonly got: { n: number; trace: string }[] = [];
  private server = new Server();
  port = 0;
  async up(): Promise<void> {
    this.server = new Server();
    this.server.addService(logsServiceDefinition, {
      Export: (call: ServerUnaryCall<ExportLogsServiceRequest, ExportLogsServiceResponse>, cb: sendUnaryData<ExportLogsServiceResponse>) => {
        for (const rl of call.request.resourceLogs) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) {
          const v = lr.attributes.find((a) => a.key === 'n')?.value?.intValue as Long | number | undefined;
          this.got.push({ n: typeof v === 'number' ? v : Number(v), trace: idToHex(lr.traceId) });
        }
        cb(null, {});
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${this.port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  }
  down(): void {
    this.server.forceShutdown();
  }
}

const TRACES = 300;
function traceOf(n: number): Uint8Array {
  const t = new Uint8Array(16);
  new DataView(t.buffer).setUint32(12, (n % TRACES) + 1);
  return t;
}

function batchOf(from: number, to: number): LogsBatch {
  const logRecords: LogRecord[] = [];
  for (let n = from; n < to; n++) {
    logRecords.push({
      timeUnixNano: 0, observedTimeUnixNano: 0, severityNumber: 9, severityText: 'INFO', body: { stringValue: `r${n}` },
      attributes: [{ key: 'n', value: { intValue: n } }], droppedAttributesCount: 0, flags: 0, traceId: traceOf(n), spanId: new Uint8Array(0), eventName: '',
    } as unknown as LogRecord);
  }
  return {
    resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'lb' } }], droppedAttributesCount: 0 }, scopeLogs: [{ scope: null, logRecords, schemaUrl: '' }], schemaUrl: '' }],
    recordCount: to - from,
    receivedAt: performance.now(),
  };
}

const backends: Backend[] = [];
let exporter: QueuedRetryExporter | undefined;
afterEach(async () => {
  await exporter?.shutdown();
  exporter = undefined;
  for (const b of backends.splice(0)) b.down();
});

describe('HashRing', () => {
  it('removing a backend moves only the keys it owned', () => {
    const a = new HashRing(['a:1', 'b:1', 'c:1']);
    const b = new HashRing(['a:1', 'b:1']);
    let moved = 0;
    const counts = [0, 0, 0];
    for (let k = 0; k < 30_000; k++) {
      const before = a.endpoints[a.locate(k * 2654435761)]!;
      counts[a.locate(k * 2654435761)]!++;
      const after = b.endpoints[b.locate(k * 2654435761)]!;
      if (before !== 'c:1') expect(after).toBe(before);
      else moved++;
    }
    expect(moved).toBe(counts[2]);
    // A reasonably even spread: every backend between 20 % and 47 % of the keys.
    for (const c of counts) expect(c / 30_000).toBeGreaterThan(0.2);
    for (const c of counts) expect(c / 30_000).toBeLessThan(0.47);
  });
});

describe('loadbalancing exporter with a static resolver of 3 gRPC backends', () => {
  it('all records of a trace land on one backend; a backend removed mid-run loses nothing acknowledged', async () => {
    for (let i = 0; i < 3; i++) {
      const b = new Backend();
      await b.up();
      backends.push(b);
    }
    const telemetry = new Telemetry();
    const settings: CreateSettings = { id: parseComponentId('loadbalancing'), logger: silent, telemetry };
    const config = loadBalancingConfigSchema.parse({
      routing_key: 'traceID',
      protocol: { otlp: { tls: { insecure: true }, compression: 'none' } },
      resolver: { static: { hostnames: backends.map((b) => `127.0.0.1:${b.port}`) } },
      timeout: '2s',
      sending_queue: { num_consumers: 4, queue_size: 10_000 },
      retry_on_failure: { initial_interval: '20ms', max_interval: '200ms', max_elapsed_time: '0s' },
    });
    const lb = new LoadBalancingExporter(settings, config);
    exporter = new QueuedRetryExporter(settings, config, lb);
    const host = { telemetry, logger: silent, getExtension: () => undefined } as unknown as Host;
    await exporter.start(host);

    // Phase 1: 30k records over 300 traces; each trace on exactly one backend, all three used.
    const PER = 100;
    for (let n = 0; n < 30_000; n += PER) await exporter.consume(batchOf(n, n + PER));
    const total = (): number => backends.reduce((s, b) => s + b.got.length, 0);
    for (let i = 0; i < 400 && total() < 30_000; i++) await new Promise((r) => setTimeout(r, 25));
    expect(total()).toBe(30_000);
    const owner = new Map<string, number>();
    backends.forEach((b, i) => {
      expect(b.got.length).toBeGreaterThan(0);
      for (const r of b.got) {
        expect(owner.get(r.trace) ?? i).toBe(i);
        owner.set(r.trace, i);
      }
    });
    expect(owner.size).toBe(TRACES);

    // Phase 2: while records flow, backend 2 goes away and the resolver drops it.
    const acked = new Set<number>();
    const feed = (async () => {
      for (let n = 30_000; n < 60_000; n += PER) {
        await exporter.consume(batchOf(n, n + PER));
        for (let k = n; k < n + PER; k++) acked.add(k);
      }
    })();
    while (acked.size < 5_000) await new Promise((r) => setTimeout(r, 5));
    backends[2]!.down();
    await lb.setEndpoints(backends.slice(0, 2).map((b) => `127.0.0.1:${b.port}`));
    await feed;
    const seen = (): Set<number> => new Set(backends.flatMap((b) => b.got.map((r) => r.n)));
    for (let i = 0; i < 800; i++) {
      const s = seen();
      if ([...acked].every((n) => s.has(n))) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const s = seen();
    expect([...acked].filter((n) => !s.has(n))).toEqual([]);
    expect(lb.endpoints).toHaveLength(2);
    // After the change, each trace still lands on one backend (its new owner).
    const after = new Map<string, Set<number>>();
    backends.slice(0, 2).forEach((b, i) => { for (const r of b.got) if (r.n >= 40_000) after.set(r.trace, (after.get(r.trace) ?? new Set()).add(i)); });
    for (const owners of after.values()) expect(owners.size).toBe(1);
  }, 60_000);
});
