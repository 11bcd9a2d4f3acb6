/**
 * `tributary validate --config <file> --dry-run <records.jsonl>`: runs each record through every
 * pipeline's processors, one record at a time, and prints which processor kept, changed, dropped or
 * limited it and why, then the totals. Nothing listens and nothing is exported. `batch` and
 * `memory_limiter` only group and guard records, so they are shown as passed, not simulated.
 */
import fs from 'node:fs';
import {
  anyValueAsString, cloneResourceLogs, decodeExportRequestJson, keyValuesToRaw, type KeyValue, type ResourceLogs,
} from '@tributary/otlp';
import type { ComponentStatus, Host, LogsBatch, Processor, ProcessorFactory } from '../component.js';
import { parseComponentId } from '../component.js';
import type { CollectorConfig } from '../config/load.js';
import { errorMessage, ThrottledError } from '../errors.js';
import type { ComponentRegistry } from '../registry.js';
import { silentLogger } from '../telemetry/logger.js';
import { MetricNames, Telemetry } from '../telemetry/metrics.js';

const NOT_SIMULATED = new Set(['batch', 'memory_limiter']);

interface Stage {
  id: string;
  processor: Processor | undefined;
  /** What the stage passed on for the record being simulated; undefined = nothing. */
  output: LogsBatch | undefined;
}

interface PipelineTotals {
  delivered: number;
  changed: number;
  dropped: Map<string, number>;
  limited: Map<string, number>;
  errors: number;
}

function dryRunHost(telemetry: Telemetry): Host {
  const statuses = new Map<string, { status: ComponentStatus; since: number }>();
  return {
    reportStatus: (id, status) => void statuses.set(id, { status, since: Date.now() }),
    componentStatuses: () => statuses,
    isReady: () => true,
    getExtension: () => undefined,
    telemetry,
    logger: silentLogger,
  };
}

/** Parses a records file: each line is an ExportLogsServiceRequest or a single LogRecord, in OTLP/JSON. */
export function readRecordLines(text: string): { line: number; units: ResourceLogs[]; error?: string }[] {
  const out: { line: number; units: ResourceLogs[]; error?: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      const req = 'resourceLogs' in parsed || 'resource_logs' in parsed
        ? decodeExportRequestJson(parsed)
        : decodeExportRequestJson({ resourceLogs: [{ scopeLogs: [{ logRecords: [parsed] }] }] });
      // One unit per record, keeping its resource and scope.
      const units: ResourceLogs[] = [];
      for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) {
        units.push({ resource: rl.resource ?? null, schemaUrl: rl.schemaUrl, scopeLogs: [{ scope: sl.scope ?? null, schemaUrl: sl.schemaUrl, logRecords: [r] }] });
      }
      out.push({ line: i + 1, units });
    } catch (e) {
      out.push({ line: i + 1, units: [], error: errorMessage(e) });
    }
  });
  return out;
}

function describeRecord(rl: ResourceLogs): string {
  const r = rl.scopeLogs[0]!.logRecords[0]!;
  const sev = r.severityText || (r.severityNumber ? `SEV${r.severityNumber}` : '-');
  let body = anyValueAsString(r.body);
  if (body.length > 60) body = body.slice(0, 57) + '...';
  return `[${sev}] ${JSON.stringify(body)}`;
}

function flatten(rl: ResourceLogs): Map<string, string> {
  const r = rl.scopeLogs[0]?.logRecords[0];
  const m = new Map<string, string>();
  if (!r) return m;
  const put = (prefix: string, kvs: readonly KeyValue[] | undefined): void => {
    const raw = keyValuesToRaw(kvs ?? []);
    for (const k of Object.keys(raw)) m.set(prefix + k, JSON.stringify(raw[k], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  };
  put('', r.attributes);
  put('resource.', rl.resource?.attributes);
  m.set('(body)', anyValueAsString(r.body));
  m.set('(severity)', `${r.severityNumber}/${r.severityText}`);
  return m;
}

function describeChange(before: Map<string, string>, after: Map<string, string>): string {
  const parts: string[] = [];
  for (const [k, v] of after) {
    const old = before.get(k);
    if (old === undefined) parts.push(`+${k}=${v}`);
    else if (old !== v) parts.push(k.startsWith('(') ? `${k} changed` : `~${k}=${v}`);
  }
  for (const k of before.keys()) if (!after.has(k)) parts.push(`-${k}`);
  return parts.join(' ');
}

function droppedByReason(t: Telemetry, processor: string): Map<string, number> {
  const m = new Map<string, number>();
  const c = t.find(MetricNames.processorDropped);
  if (c && c.type === 'counter') {
    for (const e of c.entries()) if (e.labels['processor'] === processor) m.set(e.labels['reason'] ?? 'dropped', (m.get(e.labels['reason'] ?? 'dropped') ?? 0) + e.value);
  }
  return m;
}

export async function dryRun(config: CollectorConfig, registry: ComponentRegistry, recordsFile: string, out: (s: string) => void): Promise<number> {
  const text = fs.readFileSync(recordsFile, 'utf8');
  const lines = readRecordLines(text);
  const telemetry = new Telemetry();
  const host = dryRunHost(telemetry);

  // Build every pipeline's processors, each feeding a stage that captures what it passes on.
  const pipelines = Object.entries(config.service.pipelines).map(([pid, p]) => {
    const stages: Stage[] = p.processors.map((id) => ({ id, processor: undefined, output: undefined }));
    for (let i = 0; i < stages.length; i++) {
      const stage = stages[i]!;
      if (NOT_SIMULATED.has(parseComponentId(stage.id).type)) continue;
      const factory = registry.get('processor', parseComponentId(stage.id).type) as ProcessorFactory | undefined;
      if (!factory) throw new Error(`processor type of "${stage.id}" is not registered`);
      const capture = { consume: async (b: LogsBatch) => void (stage.output = b) };
      stage.processor = factory.create({ id: parseComponentId(stage.id), logger: silentLogger, telemetry }, config.processors[stage.id], capture);
    }
    return { pid, exporters: p.exporters, stages, totals: { delivered: 0, changed: 0, dropped: new Map<string, number>(), limited: new Map<string, number>(), errors: 0 } satisfies PipelineTotals };
  });
  for (const p of pipelines) for (const s of p.stages) await s.processor?.start(host);

  let n = 0;
  let invalid = 0;
  try {
    for (const entry of lines) {
      if (entry.error !== undefined) {
        invalid++;
        out(`line ${entry.line}: not OTLP/JSON: ${entry.error}`);
        continue;
      }
      for (const unit of entry.units) {
        n++;
        out(`#${n} line ${entry.line} ${describeRecord(unit)}`);
        for (const p of pipelines) {
          let current: ResourceLogs[] | undefined = cloneResourceLogs([unit]);
          const steps: string[] = [];
          let changed = false;
          for (const stage of p.stages) {
            if (!stage.processor) {
              steps.push(`${stage.id}: passed (not simulated)`);
              continue;
            }
            const before = flatten(current[0]!);
            const droppedBefore = droppedByReason(telemetry, stage.id);
            stage.output = undefined;
            try {
              await stage.processor.consume({ resourceLogs: current, recordCount: 1, receivedAt: 0 });
            } catch (e) {
              if (e instanceof ThrottledError) {
                steps.push(`${stage.id}: limited (${e.message})`);
                p.totals.limited.set(stage.id, (p.totals.limited.get(stage.id) ?? 0) + 1);
              } else {
                steps.push(`${stage.id}: error (${errorMessage(e)})`);
                p.totals.errors++;
              }
              current = undefined;
              break;
            }
            const outBatch = stage.output as LogsBatch | undefined;
            if (!outBatch || outBatch.recordCount === 0) {
              const after = droppedByReason(telemetry, stage.id);
              const reasons = [...after].filter(([r, v]) => v > (droppedBefore.get(r) ?? 0)).map(([r]) => r);
              steps.push(`${stage.id}: dropped (${reasons.join(', ') || 'no reason counted'})`);
              p.totals.dropped.set(stage.id, (p.totals.dropped.get(stage.id) ?? 0) + 1);
              current = undefined;
              break;
            }
            current = outBatch.resourceLogs;
            const diff = describeChange(before, flatten(current[0]!));
            if (diff) changed = true;
            steps.push(diff ? `${stage.id}: changed ${diff}` : `${stage.id}: kept`);
          }
          if (current) {
            p.totals.delivered++;
            if (changed) p.totals.changed++;
            steps.push(`→ ${p.exporters.join(', ')}`);
          }
          out(`  ${p.pid}: ${steps.join('; ') || '(no processors)'}`);
        }
      }
    }
  } finally {
    for (const p of pipelines) for (const s of p.stages) await s.processor?.shutdown().catch(() => undefined);
  }

  out('');
  out(`totals: ${n} records${invalid ? `, ${invalid} invalid lines` : ''}`);
  for (const p of pipelines) {
    const fmt = (m: Map<string, number>): string => [...m].map(([id, c]) => `${id} ${c}`).join(', ');
    const dropped = [...p.totals.dropped.values()].reduce((a, b) => a + b, 0);
    const limited = [...p.totals.limited.values()].reduce((a, b) => a + b, 0);
    out(`  ${p.pid}: delivered ${p.totals.delivered} (changed ${p.totals.changed}), dropped ${dropped}${dropped ? ` (${fmt(p.totals.dropped)})` : ''}, limited ${limited}${limited ? ` (${fmt(p.totals.limited)})` : ''}${p.totals.errors ? `, errors ${p.totals.errors}` : ''}`);
  }
  return invalid ? 1 : 0;
}
