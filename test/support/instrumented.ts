/**
 * What the instrumentation's process tests share: a collector that writes what it receives to a file,
 * that file read back as flat records, and instrumented Node processes pointed at the collector.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileSinkConfig, freePort, repoRoot, startCollector, type RunningCollector } from './collector-process.js';

export interface FileSink {
  collector: RunningCollector;
  otlpPort: number;
  outFile: string;
  stop(): Promise<void>;
}

/** Starts OTLP/HTTP → batch → file and returns where the records land. */
export async function startFileSink(): Promise<FileSink> {
  const otlpPort = await freePort();
  const healthPort = await freePort();
  const collector = await startCollector(fileSinkConfig(otlpPort, healthPort), { healthPort });
  return {
    collector,
    otlpPort,
    outFile: path.join(collector.dir, 'out/logs.jsonl'),
    async stop() {
      await collector.stop();
      fs.rmSync(collector.dir, { recursive: true, force: true });
    },
  };
}

/** One log record as the tests compare it: AnyValues flattened to plain values. */
export interface Received {
  scope: string;
  service: string;
  traceId?: string;
  spanId?: string;
  severityNumber?: number;
  severityText?: string;
  body: unknown;
  attrs: Record<string, unknown>;
}

/** Flattens an OTLP/JSON AnyValue to a plain value. */
function plain(v: unknown): unknown {
  const a = v as Record<string, unknown> | undefined;
  if (!a) return undefined;
  if ('stringValue' in a) return a['stringValue'];
  if ('intValue' in a) return Number(a['intValue']);
  if ('doubleValue' in a) return a['doubleValue'];
  if ('boolValue' in a) return a['boolValue'];
  if ('kvlistValue' in a) return Object.fromEntries(((a['kvlistValue'] as { values?: { key: string; value: unknown }[] }).values ?? []).map((x) => [x.key, plain(x.value)]));
  if ('arrayValue' in a) return ((a['arrayValue'] as { values?: unknown[] }).values ?? []).map(plain);
  return undefined;
}

type Attr = { key: string; value: unknown };
type ExportLine = { resourceLogs: { resource?: { attributes?: Attr[] }; scopeLogs: { scope?: { name?: string }; logRecords: { traceId?: string; spanId?: string; severityNumber?: number; severityText?: string; body?: unknown; attributes?: Attr[] }[] }[] }[] };

/** The records in the file exporter's output so far (of one service, when given). */
export function readReceived(outFile: string, service?: string): Received[] {
  if (!fs.existsSync(outFile)) return [];
  const out: Received[] = [];
  for (const line of fs.readFileSync(outFile, 'utf8').split('\n')) {
    if (!line) continue;
    const req = JSON.parse(line) as ExportLine;
    for (const rl of req.resourceLogs) {
      const svc = String(plain(rl.resource?.attributes?.find((a) => a.key === 'service.name')?.value));
      if (service !== undefined && svc !== service) continue;
      for (const sl of rl.scopeLogs) for (const r of sl.logRecords) {
        out.push({
          scope: sl.scope?.name ?? '', service: svc, traceId: r.traceId, spanId: r.spanId, severityNumber: r.severityNumber,
          severityText: r.severityText, body: plain(r.body),
          attrs: Object.fromEntries((r.attributes ?? []).map((a) => [a.key, plain(a.value)])),
        });
      }
    }
  }
  return out;
}

export interface NodeRun {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | string>;
}

/** Runs `node args…` from the repository root with the OTLP endpoint set to the collector's. */
export function spawnInstrumented(args: string[], otlpPort: number, env: NodeJS.ProcessEnv = {}): NodeRun {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`, OTEL_BLRP_SCHEDULE_DELAY: '100', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  return { child, out: () => out, err: () => err, exited };
}
