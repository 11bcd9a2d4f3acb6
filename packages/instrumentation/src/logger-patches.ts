/**
 * What the official pino/winston/bunyan instrumentations leave to us, hooked on the same modules and
 * registered after them (so these wrappers run first):
 * - redaction of the app's own output (pino `formatters`, winston `write`, bunyan `_emit`);
 * - no double sending when the app wires its own OpenTelemetry transport/stream;
 * - bunyan 2.x, which the official instrumentation's version range leaves out.
 */
import {
  InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile,
  type InstrumentationConfig, type InstrumentationModuleDefinition,
} from '@opentelemetry/instrumentation';
import { BunyanInstrumentation } from '@opentelemetry/instrumentation-bunyan';
import { context } from '@opentelemetry/api';
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { LogKeys } from './config';
import { correlationIdOf, spanContextOf, validSpanContext } from './context';
import { writeIdFields } from './correlation';
import { attachPinoSender, TRIBUTARY_FORMATTER } from './pino-sender';
import type { Redactor } from './redact';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version';
import { findWinstonError, WINSTON_ERROR } from './winston-bridge';

type AnyFn = (...args: unknown[]) => unknown;
type Rec = Record<string | symbol, unknown>;
type Methods = Record<string, AnyFn>;

export interface LoggerPatchesConfig extends InstrumentationConfig {
  redactor: Redactor;
  /** The OTLP logger for pino records (the official instrumentation's scope); pino sending is off without it. */
  pinoOtelLogger?: () => OtelLogger;
  bridges: ReadonlySet<string>;
  /** Key names of the id fields pino lines gain. */
  logKeys: LogKeys;
  /** Whether pino lines gain the id fields at all. */
  stdoutIds: boolean;
}

const DEDUPED = Symbol.for('tributary.bunyan.deduped');
/** Transports/streams that send to OpenTelemetry; recognised by name, as the app may have its own copy. */
const OTEL_WINSTON_TRANSPORT = 'OpenTelemetryTransportV3';
const OTEL_BUNYAN_STREAM = 'OpenTelemetryBunyanStream';
const PINO_OTEL_TARGETS = /pino-opentelemetry-transport|@opentelemetry\//;

export class LoggerPatches extends InstrumentationBase<LoggerPatchesConfig> {
  constructor(config: LoggerPatchesConfig) {
    super(`${PACKAGE_NAME}/logger-patches`, PACKAGE_VERSION, config);
  }

  protected init(): InstrumentationModuleDefinition[] {
    const defs: InstrumentationModuleDefinition[] = [];
    const bridges = this.getConfig().bridges;
    if (bridges.has('pino')) defs.push(new InstrumentationNodeModuleDefinition('pino', ['>=7 <11'], (m: unknown) => this.patchPino(m)));
    if (bridges.has('winston')) {
      defs.push(new InstrumentationNodeModuleDefinition('winston', ['>=3 <4'], (m: unknown) => m, () => undefined, [
        new InstrumentationNodeModuleFile('winston/lib/winston/logger.js', ['>=3 <4'], (m: unknown) => this.patchWinston(m), () => undefined),
      ]));
    }
    if (bridges.has('bunyan')) defs.push(new InstrumentationNodeModuleDefinition('bunyan', ['>=1 <3'], (m: unknown) => this.patchBunyan(m)));
    return defs;
  }

  private patchPino(module: unknown): unknown {
    const isEsm = (module as Rec)[Symbol.toStringTag] === 'Module';
    const pino = (isEsm ? (module as Rec)['default'] : module) as AnyFn & Rec;
    const config = (): LoggerPatchesConfig => this.getConfig();
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const this_ = this;
    const patched = Object.assign(function tributaryPino(this: unknown, ...args: unknown[]): unknown {
      const { redactor, pinoOtelLogger } = config();
      // pino(opts?, stream?) or pino(stream): make sure there is an options object we can extend.
      const first = args[0];
      const hasOpts = first !== null && typeof first === 'object' && typeof (first as Rec)['write'] !== 'function';
      const opts: Rec = hasOpts ? { ...(first as Rec) } : {};
      if (hasOpts) args[0] = opts; else args.unshift(opts);
      if (redactor.enabled) {
        const formatters = { ...((opts['formatters'] as Rec | undefined) ?? {}) };
        const userLog = formatters['log'] as ((o: Rec) => Rec) | undefined;
        const userBindings = formatters['bindings'] as ((o: Rec) => Rec) | undefined;
        const redactLog = (o: Rec): Rec => redactor.redact(o);
        (redactLog as unknown as Rec)[TRIBUTARY_FORMATTER] = true;
        formatters['log'] = userLog ? (o: Rec) => redactor.redact(userLog(o)) : redactLog;
        formatters['bindings'] = userBindings ? (o: Rec) => redactor.redact(userBindings(o)) : (o: Rec) => redactor.redact(o);
        opts['formatters'] = formatters;
      }
      const logger = pino.apply(this, args) as Rec;
      // Our own id mixin in place of the official one (same fields, without its per-line hook machinery).
      const mixinSym = (pino['symbols'] as Record<string, symbol> | undefined)?.['mixinSym'];
      if (mixinSym !== undefined && config().stdoutIds && logger !== null && typeof logger === 'object') {
        const userMixin = typeof opts['mixin'] === 'function' ? opts['mixin'] as (...a: unknown[]) => Rec : undefined;
        const ids = idsMixin(config().logKeys, () => this_.isEnabled());
        logger[mixinSym] = userMixin ? (...a: unknown[]) => Object.assign(ids(), userMixin(...a)) : ids;
      }
      // No second sender when the app's own transport already goes to OpenTelemetry.
      if (pinoOtelLogger && logger !== null && typeof logger === 'object' && !sendsToOtelItself(opts['transport'])) {
        attachPinoSender(logger, pino as unknown as Parameters<typeof attachPinoSender>[1], pinoOtelLogger, () => this_.isEnabled());
      }
      return logger;
    }, pino);
    if (typeof patched['pino'] === 'function') patched['pino'] = patched;
    if (typeof patched['default'] === 'function') patched['default'] = patched;
    if (isEsm) {
      if ((module as Rec)['pino']) (module as Rec)['pino'] = patched;
      (module as Rec)['default'] = patched;
      return module;
    }
    return patched;
  }

  private patchWinston(loggerExports: unknown): unknown {
    const proto = (loggerExports as { prototype: Methods }).prototype;
    const config = (): LoggerPatchesConfig => this.getConfig();
    wrapMethod(proto, 'write', (original) => function tributaryWrite(this: unknown, ...args: unknown[]): unknown {
      const info = args[0];
      if (info !== null && typeof info === 'object') {
        const err = findWinstonError(info as Rec);
        if (err !== undefined) (info as Rec)[WINSTON_ERROR] = err;
        config().redactor.redactInPlace(info as Rec);
      }
      return original.apply(this, args);
    });
    wrapMethod(proto, 'configure', (original) => function tributaryConfigure(this: { transports: unknown[]; remove(t: unknown): unknown }, ...args: unknown[]): unknown {
      const result = original.apply(this, args);
      // The official instrumentation appended its transport last; drop it if the app brought its own.
      const otel = this.transports.filter((t) => (t as object | null)?.constructor?.name === OTEL_WINSTON_TRANSPORT);
      if (otel.length > 1) this.remove(otel[otel.length - 1]);
      return result;
    });
    return loggerExports;
  }

  private patchBunyan(module: unknown): unknown {
    const isEsm = (module as Rec)[Symbol.toStringTag] === 'Module';
    const Logger = (isEsm ? (module as Rec)['default'] : module) as { prototype: object };
    // `_emit` lives on bunyan's own Logger.prototype, under the official wrapper's subclass.
    let proto: object | null = Logger.prototype;
    while (proto && !Object.prototype.hasOwnProperty.call(proto, '_emit')) proto = Object.getPrototypeOf(proto) as object | null;
    if (!proto) return module;
    const config = (): LoggerPatchesConfig => this.getConfig();
    wrapMethod(proto as Methods, '_emit', (original) => function tributaryEmit(this: Rec, ...args: unknown[]): unknown {
      if (this[DEDUPED] !== true) {
        this[DEDUPED] = true;
        dedupeBunyanStreams(this);
      }
      const rec = args[0];
      if (rec !== null && typeof rec === 'object') config().redactor.redactInPlace(rec as Rec);
      return original.apply(this, args);
    });
    return module;
  }
}

/** The trace/span/flags fields and the correlation id for a pino line made inside a span (else nothing). */
function idsMixin(keys: LogKeys, enabled: () => boolean): () => Rec {
  return function tributaryIds(): Rec {
    const ids: Rec = {};
    if (!enabled()) return ids;
    const ctx = context.active();
    const sc = spanContextOf(ctx);
    if (!validSpanContext(sc)) return ids;
    writeIdFields(ids, sc, correlationIdOf(ctx), keys);
    return ids;
  };
}

/**
 * Plain replacement, not the instrumentation's `_wrap`: that one unwraps a method already wrapped by
 * another instrumentation, which would undo the official patch we mean to sit on top of.
 */
function wrapMethod(target: Methods, name: string, wrapper: (original: AnyFn) => AnyFn): void {
  const original = target[name];
  if (typeof original === 'function') target[name] = wrapper(original);
}

function sendsToOtelItself(transport: unknown): boolean {
  if (transport === null || typeof transport !== 'object') return false;
  const t = transport as { target?: unknown; targets?: unknown; pipeline?: unknown };
  if (typeof t.target === 'string' && PINO_OTEL_TARGETS.test(t.target)) return true;
  for (const list of [t.targets, t.pipeline]) {
    if (Array.isArray(list) && list.some((x) => typeof (x as { target?: unknown } | null)?.target === 'string' && PINO_OTEL_TARGETS.test((x as { target: string }).target))) return true;
  }
  return false;
}

function dedupeBunyanStreams(logger: Rec): void {
  const streams = logger['streams'];
  if (!Array.isArray(streams)) return;
  const otel = streams.filter((s) => (s as { stream?: object } | null)?.stream?.constructor?.name === OTEL_BUNYAN_STREAM);
  // The official instrumentation added its stream last.
  if (otel.length > 1) streams.splice(streams.lastIndexOf(otel[otel.length - 1]), 1);
}

/** The official bunyan instrumentation, with its version range widened to bunyan 2 (same Logger internals). */
export class BunyanAnyVersionInstrumentation extends BunyanInstrumentation {
  protected override init(): InstrumentationNodeModuleDefinition[] {
    const defs = super.init();
    for (const d of defs) d.supportedVersions = ['>=1.0.0 <3'];
    return defs;
  }
}
