/** Text the CLI prints: usage, component lists, pipeline summaries, config issues. */
import { stabilityOf, type ComponentKind, type StabilityLevel } from '../component.js';
import { BUILT_IN, type ComponentRegistry } from '../registry.js';
import { formatConfigIssue, type ConfigIssue } from '../config/schema-helpers.js';

export const USAGE = `Usage: tributary <command> [options]

Commands:
  run [--config <file>] [--progress] [--watch-config] [--workers <n|auto>]
                                       load the config, start the collector, run until SIGTERM/SIGINT;
                                       SIGHUP (or, with --watch-config, a change of the file) reloads it;
                                       --workers runs n processes sharing the receivers' ports
  validate [--config <file>] [--dry-run <records.jsonl>]
                                       check the config without starting anything; with --dry-run,
                                       show what each processor does to each record (OTLP/JSON lines)
  replay --from <dead-letter file> --exporter <id> [--config <file>]
                                       resend the batches of a dead-letter file through that exporter
                                       (lines that fail again go to <file>.remaining)
  components [--config <file>] [--long] [--json]
                                       list the component types this build knows (with --config,
                                       also the config's plugins, with their origin); --long: one
                                       line per component with its stability level and origin
  query '<query>' [--since 1h] [--limit 100] [--output text|json] [--follow]
        [--from <store dir>|<api url>] [--token <jwt>] [--tenant <id>]
                                       search the store (default ./data/store if it exists, else
                                       http://127.0.0.1:3100); newest N printed oldest first
  tail '<query>' [--url http://127.0.0.1:3100] [--token <jwt>] [--tenant <id>] [--output text|json]
                                       stream matching records live from the api (WebSocket),
                                       reconnecting and resuming after a disconnect; Ctrl-C stops
  alerts list [--history] | ack <id> [--comment …] | silence <label=value>… --duration 2h
         [--expire <silence id>] [--url …] [--token <jwt>] [--tenant <id>] [--output text|json]
                                       list, acknowledge and silence alerts through the api

Options:
  -c, --config <uri>    config file (default ./otel-config.yaml); repeat to merge several in order
                        (maps merge, lists are replaced); also file:<path>, env:<VAR>, yaml:<a::b: value>
      --set <key=value> override one value after every --config (key path with . or ::, e.g.
                        --set exporters.otlp_http/backend.endpoint=https://otlp.example.com)
      --progress        print a throughput line every 5 s even when stderr is not a terminal
      --watch-config    (run) reload the config when its file changes, as on SIGHUP
      --json            (components) print JSON
  -l, --long            (components) kind, type, stability (alpha|beta|stable) and origin of each
  -v, --version         print the version
  -h, --help            print this help

Exit codes: 0 ok, 1 runtime or startup failure, 2 usage or config error.
`;

const KIND_SECTIONS: readonly [ComponentKind, string][] = [
  ['receiver', 'receivers'], ['processor', 'processors'], ['exporter', 'exporters'], ['extension', 'extensions'],
];

/** `{ receivers: [...], processors: [...], exporters: [...], extensions: [...] }`, types sorted. */
export function componentsByKind(registry: ComponentRegistry): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [kind, section] of KIND_SECTIONS) out[section] = registry.typesOf(kind);
  return out;
}

/** Types that came from plugins, with the plugin they came from. */
export function pluginComponents(registry: ComponentRegistry): { kind: ComponentKind; type: string; origin: string }[] {
  const out: { kind: ComponentKind; type: string; origin: string }[] = [];
  for (const f of registry.list()) {
    const origin = registry.originOf(f.kind, f.type);
    if (origin !== undefined && origin !== BUILT_IN) out.push({ kind: f.kind, type: f.type, origin });
  }
  return out;
}

export function formatComponents(registry: ComponentRegistry): string {
  const lines = KIND_SECTIONS.map(([kind, section]) => {
    const types = registry.typesOf(kind).map((t) => {
      const origin = registry.originOf(kind, t);
      return origin !== undefined && origin !== BUILT_IN ? `${t} (plugin ${origin})` : t;
    });
    return `${section}: ${types.length ? types.join(', ') : '(none)'}`;
  });
  return lines.join('\n');
}

export interface ComponentRow {
  kind: ComponentKind;
  type: string;
  stability: StabilityLevel;
  origin: string;
}

/** One row per registered type, in `list()` order (kind, then type). */
export function componentRows(registry: ComponentRegistry): ComponentRow[] {
  return registry.list().map((f) => ({ kind: f.kind, type: f.type, stability: stabilityOf(f), origin: registry.originOf(f.kind, f.type) ?? BUILT_IN }));
}

/** `--long`: an aligned table, one component per line. */
export function formatComponentsLong(registry: ComponentRegistry): string {
  const rows = componentRows(registry).map((r) => [r.kind, r.type, r.stability, r.origin === BUILT_IN ? r.origin : `plugin ${r.origin}`]);
  const all = [['KIND', 'TYPE', 'STABILITY', 'ORIGIN'], ...rows];
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((r) => r[i]?.length ?? 0)));
  return all.map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join('  ')).join('\n');
}

interface PipelineShape {
  receivers: readonly string[];
  processors: readonly string[];
  exporters: readonly string[];
}

/** `logs (otlp → memory_limiter, batch → file), logs/2 (…)`. */
export function formatPipelines(pipelines: Readonly<Record<string, PipelineShape>>): string {
  const parts = Object.entries(pipelines).map(([id, p]) => {
    const stages = [p.receivers.join(', ')];
    if (p.processors.length) stages.push(p.processors.join(', '));
    stages.push(p.exporters.join(', '));
    return `${id} (${stages.join(' → ')})`;
  });
  return parts.length ? parts.join(', ') : '(none)';
}

export function formatIssue(issue: ConfigIssue): string {
  return formatConfigIssue(issue);
}

/** The `replay` verb's result line(s). */
export function formatReplayResult(
  from: string,
  exporter: string,
  r: { batches: number; records: number; delivered: number; failedBatches: number; failedRecords: number; remainingPath: string | undefined },
): string {
  const head = `replay ${from} → ${exporter}: ${r.batches} batches, ${r.records} records; delivered ${r.delivered}, failed ${r.failedRecords}`;
  return r.remainingPath ? `${head}\n${r.failedBatches} batches that failed again were written to ${r.remainingPath}` : head;
}
