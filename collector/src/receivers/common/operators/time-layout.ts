/**
 * Timestamp parsing as upstream's `time_parser`: `strptime` (the directives of
 * github.com/observiq/ctimefmt), Go reference layouts (`gotime`, converted to strptime once) and
 * `epoch` (`s`, `ms`, `us`, `ns`, `s.ms`, `s.us`, `s.ns`). A layout is compiled to one regex at start.
 */
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

type Setter = (p: Parts, v: string) => void;
interface Parts { y: number; mo: number; d: number; h: number; mi: number; s: number; ns: number; pm: number; offsetMin: number | undefined; zone: string | undefined }

const DIRECTIVES: Record<string, [string, Setter | undefined]> = {
  Y: ['(\\d{4})', (p, v) => { p.y = Number(v); }],
  y: ['(\\d{2})', (p, v) => { p.y = 2000 + Number(v); }],
  m: ['(\\d{1,2})', (p, v) => { p.mo = Number(v); }],
  q: ['(\\d{1,2})', (p, v) => { p.mo = Number(v); }],
  b: ['([A-Za-z]{3})', (p, v) => { p.mo = MONTHS.indexOf(v.toLowerCase()) + 1; }],
  h: ['([A-Za-z]{3})', (p, v) => { p.mo = MONTHS.indexOf(v.toLowerCase()) + 1; }],
  B: ['([A-Za-z]+)', (p, v) => { p.mo = MONTHS.indexOf(v.slice(0, 3).toLowerCase()) + 1; }],
  d: ['(\\d{1,2})', (p, v) => { p.d = Number(v); }],
  e: ['\\s?(\\d{1,2})', (p, v) => { p.d = Number(v); }],
  g: ['(\\d{1,2})', (p, v) => { p.d = Number(v); }],
  H: ['(\\d{1,2})', (p, v) => { p.h = Number(v); }],
  k: ['\\s?(\\d{1,2})', (p, v) => { p.h = Number(v); }],
  I: ['(\\d{1,2})', (p, v) => { p.h = Number(v) % 12; }],
  l: ['\\s?(\\d{1,2})', (p, v) => { p.h = Number(v) % 12; }],
  M: ['(\\d{2})', (p, v) => { p.mi = Number(v); }],
  S: ['(\\d{2})', (p, v) => { p.s = Number(v); }],
  L: ['(\\d{3})', (p, v) => { p.ns = Number(v) * 1e6; }],
  f: ['(\\d{1,9})', (p, v) => { p.ns = Number(v.padEnd(9, '0')); }],
  s: ['(\\d{1,9})', (p, v) => { p.ns = Number(v.padEnd(9, '0')); }],
  p: ['([AaPp][Mm])', (p, v) => { p.pm = v.toLowerCase() === 'pm' ? 12 : 0; }],
  P: ['([AaPp][Mm])', (p, v) => { p.pm = v.toLowerCase() === 'pm' ? 12 : 0; }],
  a: ['[A-Za-z]{3}', undefined],
  A: ['[A-Za-z]+', undefined],
  j: ['\\d{1,3}', undefined],
  z: ['(Z|[+-]\\d{2}:?\\d{2})', (p, v) => { p.offsetMin = parseOffset(v); }],
  Z: ['([A-Za-z][A-Za-z0-9_/+-]*)', (p, v) => { p.zone = v; }],
  '%': ['%', undefined],
};

function parseOffset(v: string): number {
  if (v === 'Z') return 0;
  const sign = v[0] === '-' ? -1 : 1;
  const digits = v.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
}

const COMPOSITES: Record<string, string> = { D: '%m/%d/%y', F: '%Y-%m-%d', T: '%H:%M:%S', R: '%H:%M', r: '%I:%M:%S %p', c: '%a %b %e %H:%M:%S %Y', x: '%m/%d/%y', X: '%H:%M:%S' };

export interface TimeParser {
  /** Nanoseconds since the epoch; throws with the reason when the value does not fit the layout. */
  parse(value: unknown): bigint;
}

/** Minutes east of UTC of an IANA zone at a given instant. */
const zoneFormatters = new Map<string, Intl.DateTimeFormat>();
export function zoneOffsetMinutes(zone: string, utcMs: number): number {
  let f = zoneFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    zoneFormatters.set(zone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day, parts.hour, parts.minute, parts.second);
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

export function validateZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new Error(`unknown time zone "${zone}"`);
  }
}

/** Local wall time in `zone` → epoch ms (two passes settle DST edges). */
export function wallToEpochMs(zone: string, y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  let off = zoneOffsetMinutes(zone, guess);
  let t = guess - off * 60_000;
  off = zoneOffsetMinutes(zone, t);
  t = guess - off * 60_000;
  return t;
}

export function compileStrptime(layout: string, location: string | undefined): TimeParser {
  let src = '';
  const setters: Setter[] = [];
  const expand = (l: string): string => l.replace(/%([DFTRrcxX])/g, (_, c: string) => COMPOSITES[c]!);
  const full = expand(layout);
  for (let i = 0; i < full.length; i++) {
    const c = full[i]!;
    if (c !== '%') {
      src += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    const dch = full[++i];
    const d = dch === undefined ? undefined : DIRECTIVES[dch];
    if (!d) throw new Error(`unsupported strptime directive %${dch ?? ''} in layout "${layout}"`);
    src += d[0];
    if (d[1]) setters.push(d[1]);
  }
  const re = new RegExp(`^${src}$`);
  const now = new Date();
  return {
    parse(value: unknown): bigint {
      if (typeof value !== 'string') throw new Error(`time value is ${value === undefined ? 'missing' : typeof value}, not a string`);
      const m = re.exec(value);
      if (!m) throw new Error(`time "${value}" does not match layout "${layout}"`);
      const p: Parts = { y: now.getUTCFullYear(), mo: 1, d: 1, h: 0, mi: 0, s: 0, ns: 0, pm: 0, offsetMin: undefined, zone: undefined };
      for (let i = 0; i < setters.length; i++) setters[i]!(p, m[i + 1]!);
      if (p.mo < 1) throw new Error(`time "${value}": unknown month`);
      const h = p.h + p.pm;
      let ms: number;
      if (p.offsetMin !== undefined) ms = Date.UTC(p.y, p.mo - 1, p.d, h, p.mi, p.s) - p.offsetMin * 60_000;
      else {
        const zone = p.zone !== undefined && p.zone !== 'UTC' && p.zone !== 'GMT' ? safeZone(p.zone) ?? location : p.zone ?? location;
        ms = zone === undefined || zone === 'UTC' || zone === 'GMT' ? Date.UTC(p.y, p.mo - 1, p.d, h, p.mi, p.s) : wallToEpochMs(zone, p.y, p.mo, p.d, h, p.mi, p.s);
      }
      if (Number.isNaN(ms)) throw new Error(`time "${value}" is not a valid date`);
      return BigInt(ms) * 1_000_000n + BigInt(p.ns);
    },
  };
}

function safeZone(z: string): string | undefined {
  try {
    validateZone(z);
    return z;
  } catch {
    return undefined;
  }
}

/** Go reference layout → strptime. */
export function goLayoutToStrptime(layout: string): string {
  const tokens: [string, string][] = [
    ['January', '%B'], ['Jan', '%b'], ['Monday', '%A'], ['Mon', '%a'], ['MST', '%Z'],
    ['2006', '%Y'], ['Z07:00', '%z'], ['-07:00', '%z'], ['-0700', '%z'], ['Z0700', '%z'],
    ['.000000000', '.%f'], ['.999999999', '.%f'], ['.000000', '.%f'], ['.999999', '.%f'], ['.000', '.%L'], ['.999', '.%f'],
    ['15', '%H'], ['06', '%y'], ['01', '%m'], ['02', '%d'], ['_2', '%e'], ['03', '%I'], ['04', '%M'], ['05', '%S'],
    ['PM', '%p'], ['pm', '%p'], ['1', '%m'], ['2', '%d'], ['3', '%I'], ['4', '%M'], ['5', '%S'],
  ];
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    for (const [t, r] of tokens) {
      if (layout.startsWith(t, i)) {
        out += r;
        i += t.length;
        continue outer;
      }
    }
    const c = layout[i++]!;
    out += c === '%' ? '%%' : c;
  }
  return out;
}

export function compileEpoch(layout: string): TimeParser {
  const scale: Record<string, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };
  const frac = /^s\.(ms|us|ns)$/.exec(layout);
  if (scale[layout] === undefined && !frac) throw new Error(`unsupported epoch layout "${layout}" (use s, ms, us, ns, s.ms, s.us or s.ns)`);
  return {
    parse(value: unknown): bigint {
      const text = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(9)) : typeof value === 'string' ? value.trim() : undefined;
      if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) throw new Error(`epoch value ${JSON.stringify(value)} is not a number`);
      const [whole, fraction = ''] = text.split('.') as [string, string?];
      const unit = frac ? scale.s! : scale[layout]!;
      const digits = unit === 1_000_000_000n ? 9 : unit === 1_000_000n ? 6 : unit === 1_000n ? 3 : 0;
      return BigInt(whole) * unit + BigInt((fraction.slice(0, digits) || '0').padEnd(digits, '0') || '0');
    },
  };
}

export function compileTimeParser(layoutType: 'strptime' | 'gotime' | 'epoch', layout: string, location: string | undefined): TimeParser {
  if (location !== undefined) validateZone(location);
  if (layoutType === 'epoch') return compileEpoch(layout);
  return compileStrptime(layoutType === 'gotime' ? goLayoutToStrptime(layout) : layout, location);
}
