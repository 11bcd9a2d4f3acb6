/**
 * Syslog message parsing into the attributes upstream's syslog parser produces: RFC 5424
 * (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`) and RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`).
 * Severity maps as upstream: emerg→FATAL, alert→ERROR3, crit→ERROR2, err→ERROR, warning→WARN,
 * notice→INFO2, info→INFO, debug→DEBUG.
 */
import { wallToEpochMs } from '../common/operators/time-layout.js';
import type { Entry } from '../common/records.js';

const SEVERITY_NUMBERS = [21, 19, 18, 17, 13, 10, 9, 5];
const SEVERITY_TEXT = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
const MONTHS: Record<string, number> = { Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12 };

export class SyslogParseError extends Error {}

function parsePri(msg: string, allowSkip: boolean): { pri: number | undefined; rest: number } {
  if (msg.charCodeAt(0) !== 0x3c) {
    if (allowSkip) return { pri: undefined, rest: 0 };
    throw new SyslogParseError('missing <PRI> header');
  }
  const close = msg.indexOf('>', 1);
  if (close < 2 || close > 4) throw new SyslogParseError('malformed <PRI> header');
  const pri = Number(msg.slice(1, close));
  if (!Number.isInteger(pri) || pri > 191 || !/^\d+$/.test(msg.slice(1, close))) throw new SyslogParseError('PRI out of range (0-191)');
  return { pri, rest: close + 1 };
}

function setPri(e: Entry, pri: number | undefined): void {
  if (pri === undefined) return;
  const sev = pri & 7;
  e.attributes.priority = pri;
  e.attributes.facility = pri >> 3;
  e.severity = SEVERITY_NUMBERS[sev]!;
  e.severityText = SEVERITY_TEXT[sev]!;
}

function rfc3339Nanos(s: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new SyslogParseError(`invalid RFC 3339 timestamp "${s.slice(0, 40)}"`);
  const ms = Date.parse(`${m[1]!}${m[3]!}`);
  if (Number.isNaN(ms)) throw new SyslogParseError(`invalid timestamp "${s.slice(0, 40)}"`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** `[id k="v"][id2 …]` → { id: { k: v }, … }; returns the index after the structured data. */
function parseStructuredData(msg: string, i: number, out: Record<string, Record<string, string>>): number {
  while (msg[i] === '[') {
    let j = i + 1;
    while (j < msg.length && msg[j] !== ' ' && msg[j] !== ']') j++;
    const id = msg.slice(i + 1, j);
    if (id === '') throw new SyslogParseError('empty SD-ID in structured data');
    const params: Record<string, string> = {};
    while (msg[j] === ' ') {
      j++;
      const eq = msg.indexOf('=', j);
      if (eq < 0 || msg[eq + 1] !== '"') throw new SyslogParseError('malformed SD-PARAM');
      const name = msg.slice(j, eq);
      let k = eq + 2;
      let val = '';
      for (;;) {
        if (k >= msg.length) throw new SyslogParseError('unterminated SD-PARAM value');
        const c = msg[k]!;
        if (c === '\\' && (msg[k + 1] === '"' || msg[k + 1] === '\\' || msg[k + 1] === ']')) {
          val += msg.charAt(k + 1);
          k += 2;
          continue;
        }
        if (c === '"') break;
        val += c;
        k++;
      }
      params[name] = val;
      j = k + 1;
    }
    if (msg[j] !== ']') throw new SyslogParseError('unterminated structured data element');
    out[id] = params;
    i = j + 1;
  }
  return i;
}

function field(msg: string, i: number): [string | undefined, number] {
  const sp = msg.indexOf(' ', i);
  const end = sp < 0 ? msg.length : sp;
  const v = msg.slice(i, end);
  return [v === '-' ? undefined : v, sp < 0 ? msg.length : sp + 1];
}

export function parseRfc5424(msg: string, e: Entry, allowSkipPri: boolean): void {
  const { pri, rest } = parsePri(msg, allowSkipPri);
  let i = rest;
  const sp = msg.indexOf(' ', i);
  if (sp < 0) throw new SyslogParseError('truncated RFC 5424 header');
  const version = Number(msg.slice(i, sp));
  if (!Number.isInteger(version) || version < 1 || version > 999) throw new SyslogParseError('missing RFC 5424 VERSION (is this RFC 3164?)');
  i = sp + 1;
  const [ts, iHost] = field(msg, i);
  const [host, iApp] = field(msg, iHost);
  const [app, iProc] = field(msg, iApp);
  const [proc, iMsgId] = field(msg, iProc);
  const [msgId, iRest] = field(msg, iMsgId);
  i = iRest;
  setPri(e, pri);
  e.attributes.version = version;
  if (ts !== undefined) e.timestamp = rfc3339Nanos(ts);
  if (host !== undefined) e.attributes.hostname = host;
  if (app !== undefined) e.attributes.appname = app;
  if (proc !== undefined) e.attributes.proc_id = proc;
  if (msgId !== undefined) e.attributes.msg_id = msgId;
  if (msg[i] === '-') i += 2;
  else if (msg[i] === '[') {
    const sd: Record<string, Record<string, string>> = {};
    i = parseStructuredData(msg, i, sd);
    e.attributes.structured_data = sd;
    if (msg[i] === ' ') i++;
  } else if (i < msg.length) throw new SyslogParseError('missing STRUCTURED-DATA');
  if (i < msg.length) {
    let m = msg.slice(i);
    if (m.charCodeAt(0) === 0xfeff) m = m.slice(1);
    e.attributes.message = m;
  }
}

export function parseRfc3164(msg: string, e: Entry, zone: string, allowSkipPri: boolean, now = new Date()): void {
  const { pri, rest } = parsePri(msg, allowSkipPri);
  let i = rest;
  const m = /^([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) /.exec(msg.slice(i, i + 16));
  if (!m || MONTHS[m[1]!] === undefined) throw new SyslogParseError('missing RFC 3164 timestamp (Mmm dd hh:mm:ss)');
  i += m[0].length;
  const mo = MONTHS[m[1]!]!;
  const d = Number(m[2]!.trim());
  let year = now.getUTCFullYear();
  const at = (y: number): number => (zone === 'UTC' ? Date.UTC(y, mo - 1, d, Number(m[3]), Number(m[4]), Number(m[5])) : wallToEpochMs(zone, y, mo, d, Number(m[3]), Number(m[4]), Number(m[5])));
  let ms = at(year);
  // No year in RFC 3164: a date more than a day ahead is from last year (December read in January).
  if (ms > now.getTime() + 86_400_000) ms = at(--year);
  setPri(e, pri);
  e.timestamp = BigInt(ms) * 1_000_000n;
  let host: string | undefined;
  // HOSTNAME is absent when the next token is already the TAG (ends with ':' or '[').
  const sp = msg.indexOf(' ', i);
  const tok = sp < 0 ? msg.slice(i) : msg.slice(i, sp);
  if (!/[:[\]]/.test(tok)) {
    host = tok;
    i = sp < 0 ? msg.length : sp + 1;
  }
  if (host !== undefined) e.attributes.hostname = host;
  const tag = /^([^\s:[\]]{1,48})(?:\[([^\]]*)\])?: ?/.exec(msg.slice(i, i + 80));
  if (tag) {
    e.attributes.appname = tag[1]!;
    if (tag[2] !== undefined) e.attributes.proc_id = tag[2];
    i += tag[0].length;
  }
  e.attributes.message = msg.slice(i);
}
