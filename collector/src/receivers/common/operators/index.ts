/**
 * The stanza operators most used with upstream's log receivers, with upstream's keys: `json_parser`,
 * `regex_parser`, `severity_parser`, `time_parser`, `move`, `add`, `remove`, `container`. Operators run
 * in the order listed (upstream's `output` jumps are not supported). Everything is compiled at start;
 * per record only the parse itself runs.
 */
import { z } from 'zod';
import type { ComponentId } from '../../../component.js';
import { errorMessage } from '../../../errors.js';
import { RateLimitedLog, type Logger } from '../../../telemetry/logger.js';
import type { BoundCounter, Telemetry } from '../../../telemetry/metrics.js';
import type { Entry } from '../records.js';
import { ContainerParser } from './container.js';
import { deleteField, getField, mergeInto, parseField, parseTarget, setField, type Field } from './field.js';
import { compileSeverity, type SeverityMatcher } from './severity.js';
import { compileTimeParser, type TimeParser } from './time-layout.js';

const onError = z.enum(['send', 'send_quiet', 'drop', 'drop_quiet']).default('send');
const rangeSchema = z.strictObject({ min: z.number(), max: z.number() });
const mappingValue = z.union([z.string(), z.number(), rangeSchema, z.array(z.union([z.string(), z.number(), rangeSchema]))]);

const timeBlock = z.strictObject({
  parse_from: z.string(),
  layout_type: z.enum(['strptime', 'gotime', 'epoch']).default('strptime'),
  layout: z.string(),
  location: z.string().optional(),
});
const severityBlock = z.strictObject({
  parse_from: z.string(),
  preset: z.enum(['default', 'none']).default('default'),
  mapping: z.record(z.string(), mappingValue).default({}),
  overwrite_text: z.boolean().default(false),
});

const common = { id: z.string().optional(), on_error: onError };
const parserCommon = {
  ...common,
  parse_from: z.string().default('body'),
  parse_to: z.string().default('attributes'),
  timestamp: timeBlock.optional(),
  severity: severityBlock.optional(),
};

export const operatorSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('json_parser'), ...parserCommon }),
  z.strictObject({ type: z.literal('regex_parser'), ...parserCommon, regex: z.string().min(1) }),
  z.strictObject({ type: z.literal('time_parser'), ...common, ...timeBlock.shape }),
  z.strictObject({ type: z.literal('severity_parser'), ...common, ...severityBlock.shape }),
  z.strictObject({ type: z.literal('move'), ...common, from: z.string(), to: z.string() }),
  z.strictObject({ type: z.literal('add'), ...common, field: z.string(), value: z.unknown() }),
  z.strictObject({ type: z.literal('remove'), ...common, field: z.string() }),
  z.strictObject({
    type: z.literal('container'), ...common,
    format: z.enum(['auto', 'docker', 'crio', 'containerd']).default('auto'),
    add_metadata_from_filepath: z.boolean().default(true),
  }),
]);
export type OperatorConfig = z.output<typeof operatorSchema>;
/** Operators are compiled at validation too, so `tributary validate` reports a bad regex or layout. */
export const operatorsSchema = z
  .array(operatorSchema)
  .default([])
  .superRefine((ops, ctx) => {
    ops.forEach((op, i) => {
      try {
        compileStep(op);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: [i], message: errorMessage(e) });
      }
    });
  });

type Step = (e: Entry, source: string) => Entry | undefined;

interface CompiledTime { from: Field; parser: TimeParser }
interface CompiledSeverity { from: Field; matcher: SeverityMatcher; overwrite: boolean }

function compileTime(b: z.output<typeof timeBlock>): CompiledTime {
  return { from: parseField(b.parse_from), parser: compileTimeParser(b.layout_type, b.layout, b.location) };
}
function compileSev(b: z.output<typeof severityBlock>): CompiledSeverity {
  return { from: parseField(b.parse_from), matcher: compileSeverity(b.preset, b.mapping), overwrite: b.overwrite_text };
}
function applyTime(e: Entry, t: CompiledTime): void {
  const v = getField(e, t.from);
  if (v === undefined) throw new Error(`time field ${t.from.text} is missing`);
  e.timestamp = t.parser.parse(v);
}
function applySeverity(e: Entry, s: CompiledSeverity): void {
  const v = getField(e, s.from);
  if (v === undefined) throw new Error(`severity field ${s.from.text} is missing`);
  const n = s.matcher.match(v);
  if (n === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the field may hold any value; the unmatched text is kept as String() gives it
    e.severityText = String(v);
    throw new Error(`severity ${JSON.stringify(v)} maps to no level`);
  }
  e.severity = n;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- match() maps only strings and numbers, so v is one of those here
  e.severityText = s.overwrite ? severityName(n) : String(v);
}
const NAMES = ['', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4', 'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4'];
function severityName(n: number): string {
  return NAMES[n] ?? '';
}

/** Go's `(?P<name>…)` becomes JS's `(?<name>…)`; inline `(?i)` at the start becomes the `i` flag. */
export function compileGoRegex(src: string): RegExp {
  let flags = '';
  let s = src;
  const lead = /^\(\?([imsU]+)\)/.exec(s);
  if (lead) {
    for (const f of lead[1]!) if (f === 'i' || f === 'm' || f === 's') flags += f;
    s = s.slice(lead[0].length);
  }
  return new RegExp(s.replace(/\(\?P</g, '(?<'), flags);
}

function parserStep(from: Field, to: Field, parse: (v: unknown) => Record<string, unknown>, t: CompiledTime | undefined, sv: CompiledSeverity | undefined): Step {
  return (e) => {
    const parsed = parse(getField(e, from));
    mergeInto(e, to, parsed);
    if (t) applyTime(e, t);
    if (sv) applySeverity(e, sv);
    return e;
  };
}

function compileStep(op: OperatorConfig): Step {
  switch (op.type) {
    case 'json_parser': {
      const t = op.timestamp && compileTime(op.timestamp);
      const sv = op.severity && compileSev(op.severity);
      return parserStep(parseField(op.parse_from), parseTarget(op.parse_to), (v) => {
        if (typeof v !== 'string') throw new Error(`json_parser: ${op.parse_from} is not a string`);
        const o: unknown = JSON.parse(v);
        if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('json_parser: value is not a JSON object');
        return o as Record<string, unknown>;
      }, t, sv);
    }
    case 'regex_parser': {
      const re = compileGoRegex(op.regex);
      if (!/\(\?<[A-Za-z_]/.test(re.source)) throw new Error('regex_parser: regex has no named capture group');
      const t = op.timestamp && compileTime(op.timestamp);
      const sv = op.severity && compileSev(op.severity);
      return parserStep(parseField(op.parse_from), parseTarget(op.parse_to), (v) => {
        if (typeof v !== 'string') throw new Error(`regex_parser: ${op.parse_from} is not a string`);
        const m = re.exec(v);
        if (!m?.groups) throw new Error('regex_parser: regex pattern does not match');
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(m.groups)) if (m.groups[k] !== undefined) out[k] = m.groups[k];
        return out;
      }, t, sv);
    }
    case 'time_parser': {
      const t = compileTime(op);
      return (e) => {
        applyTime(e, t);
        return e;
      };
    }
    case 'severity_parser': {
      const s = compileSev(op);
      return (e) => {
        applySeverity(e, s);
        return e;
      };
    }
    case 'move': {
      const from = parseField(op.from);
      const to = parseField(op.to);
      return (e) => {
        if (getField(e, from) === undefined) throw new Error(`move: ${op.from} is missing`);
        setField(e, to, deleteField(e, from));
        return e;
      };
    }
    case 'add': {
      const f = parseField(op.field);
      const value = op.value;
      if (typeof value === 'string' && /^EXPR\(/.test(value)) throw new Error('add: EXPR() values are not supported');
      return (e) => {
        setField(e, f, typeof value === 'object' && value !== null ? structuredClone(value) : value);
        return e;
      };
    }
    case 'remove': {
      const f = parseField(op.field);
      return (e) => {
        if (deleteField(e, f) === undefined) throw new Error(`remove: ${op.field} is missing`);
        return e;
      };
    }
    case 'container': {
      const c = new ContainerParser(op.format, op.add_metadata_from_filepath);
      return (e, source) => c.process(e, source);
    }
  }
}

export class OperatorChain {
  private readonly steps: Step[] = [];
  private readonly names: string[] = [];
  private readonly modes: z.output<typeof onError>[] = [];
  private readonly errors: BoundCounter[] = [];
  private readonly log: RateLimitedLog;

  /** Throws `operators[i]: reason` on a bad operator. */
  constructor(ops: readonly OperatorConfig[], id: ComponentId, telemetry: Telemetry, logger: Logger) {
    const counter = telemetry.counter('tributary_receiver_operator_errors_total', 'Entries an operator could not process (on_error decides whether they are kept).');
    ops.forEach((op, i) => {
      const name = op.id ?? `${op.type}${ops.filter((o, j) => j < i && o.type === op.type).length || ''}`;
      try {
        this.steps.push(compileStep(op));
      } catch (e) {
        throw new Error(`receivers.${id.id}.operators[${i}] (${op.type}): ${errorMessage(e)}`);
      }
      this.names.push(name);
      this.modes.push(op.on_error);
      this.errors.push(counter.bind({ receiver: id.id, operator: name }));
    });
    this.log = new RateLimitedLog(logger);
  }

  get empty(): boolean {
    return this.steps.length === 0;
  }

  /** Runs the entry through every operator; undefined = dropped (or held, e.g. a partial line). */
  process(e: Entry, source: string): Entry | undefined {
    let cur: Entry | undefined = e;
    for (let i = 0; i < this.steps.length && cur; i++) {
      try {
        cur = this.steps[i]!(cur, source);
      } catch (err) {
        this.errors[i]!.add(1);
        const mode = this.modes[i]!;
        if (mode === 'send' || mode === 'drop') this.log.warn('operator failed on an entry', { operator: this.names[i], on_error: mode, error: errorMessage(err) });
        if (mode === 'drop' || mode === 'drop_quiet') return undefined;
      }
    }
    return cur;
  }
}
