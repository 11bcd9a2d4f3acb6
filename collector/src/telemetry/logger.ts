/** The collector's own log: one line per event on stderr, `level ts component msg key=value…`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines carry `component=<id>` (and any other fixed fields). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stderr by default. Tests pass a collector function. */
  write?: (line: string) => void;
  /** `text` (default) or `json` lines. */
  encoding?: 'text' | 'json';
}

function formatValue(v: string | number | boolean): string {
  const s = String(v);
  return /[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s;
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const json = options.encoding === 'json';
  const log = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVELS[level] < min) return;
    const all = fields ? { ...base, ...fields } : base;
    if (json) {
      write(JSON.stringify({ level, ts: new Date().toISOString(), msg, ...all }));
      return;
    }
    let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
    for (const k of Object.keys(all)) {
      const v = all[k];
      if (v !== undefined && v !== null) line += ` ${k}=${formatValue(v)}`;
    }
    write(line);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger({ write: () => {} , level: 'error' });

/**
 * Logs at most one line per `intervalMs` for a recurring event (drops, refusals), with the count of
 * occurrences since the last line, so an overload cannot flood the log.
 */
export class RateLimitedLog {
  private last = 0;
  private suppressed = 0;
  constructor(private readonly logger: Logger, private readonly intervalMs = 10_000) {}
  warn(msg: string, fields?: LogFields): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const extra = this.suppressed > 0 ? { ...fields, similar_since_last: this.suppressed } : fields;
    this.last = now;
    this.suppressed = 0;
    this.logger.warn(msg, extra);
  }
}
