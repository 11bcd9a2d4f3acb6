// Records kept in their received bytes through the processors: the same chain on the same request,
// decoded into objects or kept as bytes, gives identical OTLP/JSON and OTLP protobuf, and records that no
// processor changed are still forwarded as bytes (the changed ones re-encoded).
import {
  anyValueFrom, decodeExportRequest, decodeExportRequestTree, encodeExportRequest, encodeResourceLogsJsonInto, idFromHex,
  JsonByteWriter, nanosFromDecimal, WireLogRecord, type LogRecord, type ResourceLogs,
} from '@tributary/otlp';
import { describe, expect, it } from 'vitest';
import type { LogsBatch, LogsConsumer, Processor } from '../component.js';
import { createDefaultRegistry } from '../builtins.js';
import { createLogger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/metrics.js';

const CHAINS: Record<string, Record<string, unknown>> = {
  'keep-all': {
    filter: { error_mode: 'ignore', logs: { log_record: ['attributes["http.route"] == "/health"'] } },
    probabilistic_sampler: { sampling_percentage: 100 },
    ratelimit: { summary_interval: 0, rules: [{ name: 'all', rate: 1_000_000_000, per: 'second', action: 'drop' }] },
    retention: {},
    redaction: { allow_all_keys: true },
  },
  'dropping and rewriting': {
    'filter/noise': { logs: { log_record: ['severity_number < SEVERITY_NUMBER_DEBUG', 'IsMatch(body, "^healthcheck ")', 'attributes["http.route"] == "/health"'] } },
    probabilistic_sampler: { sampling_percentage: 50, severity_percentages: { ERROR: 100 } },
    ratelimit: { summary_interval: 0, rules: [{ name: 'svc', key: ['service.name'], rate: 1_000_000_000, per: 'second', action: 'drop' }] },
    retention: { policies: [{ name: 'audit', days: 400, attributes: { 'log.category': 'audit' } }, { name: 'errors', days: 90, min_severity: 17 }] },
    redaction: { allow_all_keys: false, allowed_keys: ['http.route', 'http.status_code', 'user.email', 'log.category', 'retention.class', 'retention.days'], blocked_keys: ['password'], summary: 'debug' },
    attributes: { actions: [{ key: 'env', value: 'prod', action: 'insert' }] },
  },
};

const ROUTES = ['/checkout', '/health', '/cart', '/login'];

function record(i: number): LogRecord {
  const attributes = [
    { key: 'http.route', value: anyValueFrom(ROUTES[i % ROUTES.length]!) },
    { key: 'http.status_code', value: anyValueFrom(i % 7 ? 200 : 500) },
    { key: 'user.id', value: anyValueFrom(`u-${i % 13}`) },
    // Long fractions (13+ digits: the card-number prefilter passes) and now and then one passing Luhn.
    { key: 'duration_ms', value: { doubleValue: i % 10 === 3 ? 0.4111111111111111 : i / 7 + 0.5 } },
  ];
  if (i % 5 === 0) attributes.push({ key: 'user.email', value: anyValueFrom(`jane${i}@example.com`) });
  if (i % 6 === 0) attributes.push({ key: 'log.category', value: anyValueFrom('audit') });
  if (i % 9 === 0) attributes.push({ key: 'retention.days', value: anyValueFrom(1) });
  if (i % 11 === 0) attributes.push({ key: 'password', value: anyValueFrom('hunter2') });
  const trace = ((i * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(4);
  return {
    timeUnixNano: nanosFromDecimal(String(1_700_000_000_000_000_000n + BigInt(i) * 1000n)),
    observedTimeUnixNano: nanosFromDecimal('0'),
    severityNumber: [9, 13, 17, 5, 1][i % 5]!, severityText: '',
    body: { stringValue: i % 8 === 0 ? `healthcheck ${i}` : `request ${i} handled${i % 4 === 0 ? ' for bob@example.org' : ''}` },
    attributes, droppedAttributesCount: 0, flags: 1,
    traceId: i % 3 ? idFromHex(trace, 16) : new Uint8Array(0), spanId: idFromHex(trace.slice(0, 16), 8), eventName: '',
  };
}

function requestBytes(): Uint8Array {
  const resourceLogs: ResourceLogs[] = [0, 1].map((s) => ({
    resource: { attributes: [{ key: 'service.name', value: anyValueFrom(`svc-${s}`) }], droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeLogs: [{ scope: { name: 'lib', version: '1', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: Array.from({ length: 200 }, (_, i) => record(s * 1000 + i)) }],
  }));
  return encodeExportRequest({ resourceLogs });
}

async function runChain(chain: Record<string, unknown>, resourceLogs: ResourceLogs[]): Promise<ResourceLogs[]> {
  const registry = createDefaultRegistry();
  const telemetry = new Telemetry();
  const logger = createLogger({ level: 'error' });
  const out: ResourceLogs[] = [];
  let next: LogsConsumer = { consume: (b: LogsBatch) => Promise.resolve(void out.push(...b.resourceLogs)) };
  const procs: Processor[] = [];
  for (const id of Object.keys(chain).reverse()) {
    const type = id.split('/')[0]!;
    const f = registry.get('processor', type)!;
    const cfg: unknown = f.configSchema.parse(chain[id]);
    const p = f.create({ id: { type, name: '', id }, logger, telemetry }, cfg, next) as Processor;
    procs.unshift(p);
    next = p;
  }
  const host = { reportStatus() {}, componentStatuses: () => new Map(), isReady: () => true, getExtension: () => undefined, telemetry, logger };
  for (const p of procs) await p.start(host);
  const recordCount = resourceLogs.reduce((n, rl) => n + rl.scopeLogs.reduce((m, sl) => m + sl.logRecords.length, 0), 0);
  await next.consume({ resourceLogs, recordCount, receivedAt: Date.now() });
  for (const p of procs) await p.shutdown();
  return out;
}

function json(rls: ResourceLogs[]): string {
  const w = new JsonByteWriter(16);
  for (const rl of rls) encodeResourceLogsJsonInto(rl, w);
  return w.bytes().toString('utf8');
}

describe('processors on records kept in their received bytes', () => {
  for (const [name, chain] of Object.entries(CHAINS)) {
    it(`${name}: the same output as on decoded records; unchanged records stay bytes`, async () => {
      const bytes = requestBytes();
      const fromTree = await runChain(chain, decodeExportRequestTree(bytes).resourceLogs);
      const kept = decodeExportRequest(bytes).resourceLogs;
      const fromWire = await runChain(chain, kept);
      const records = fromWire.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
      expect(records.length).toBeGreaterThan(100);
      expect(records.every((r) => r instanceof WireLogRecord)).toBe(true);
      const clean = records.filter((r) => (r as WireLogRecord).wireClean).length;
      expect(json(fromWire)).toBe(json(fromTree));
      expect(decodeExportRequestTree(encodeExportRequest({ resourceLogs: fromWire }))).toEqual(decodeExportRequestTree(encodeExportRequest({ resourceLogs: fromTree })));
      if (name === 'keep-all') {
        // Only redaction's matches (an e-mail in the body or an attribute, a double whose digits pass as a
        // card number) are decoded and re-encoded: about half the records here, by construction.
        expect(clean / records.length).toBeGreaterThanOrEqual(0.45);
        expect(json(fromWire)).toContain('"retention.class"');
      } else {
        // The attributes processor changes every record.
        expect(clean).toBe(0);
        expect(json(fromWire)).toContain('redaction.redacted.keys');
      }
    });
  }
});
