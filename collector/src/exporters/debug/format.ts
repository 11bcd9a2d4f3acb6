/**
 * Text renderings of a batch for the debug exporter, following upstream debugexporter's output
 * (otlptext): `basic` is a one-line summary, `normal` one line per record, `detailed` a full dump.
 */
import {
  anyValueAsString, idToHex, nanosToSecondsAndNanos, SeverityNumber,
} from '@tributary/otlp';
import type { AnyValue, KeyValue, ResourceLogs } from '@tributary/otlp';
import type Long from 'long';

/** pdata SeverityNumber.String(): `Unspecified`, `Info`, `Info2`, … built once. */
const SEVERITY_NAMES: readonly string[] = Object.keys(SeverityNumber).map((k) => {
  const base = k.replace(/\d$/, '');
  return base.charAt(0) + base.slice(1).toLowerCase() + k.slice(base.length);
});

export function severityName(n: number): string {
  return `${SEVERITY_NAMES[n] ?? 'Unknown'}(${n})`;
}

/** pdata-style typed value: `Str(x)`, `Int(1)`, `Double(1.5)`, `Bool(true)`, `Map({…})`, `Slice([…])`, `Bytes(…)`, `Empty()`. */
export function typedValue(v: AnyValue | null | undefined): string {
  if (v == null) return 'Empty()';
  if (v.stringValue != null) return `Str(${v.stringValue})`;
  if (v.boolValue != null) return `Bool(${v.boolValue ? 'true' : 'false'})`;
  if (v.intValue != null) return `Int(${anyValueAsString(v)})`;
  if (v.doubleValue != null) return `Double(${anyValueAsString(v)})`;
  if (v.kvlistValue != null) return `Map(${anyValueAsString(v)})`;
  if (v.arrayValue != null) return `Slice(${anyValueAsString(v)})`;
  if (v.bytesValue != null) return `Bytes(${anyValueAsString(v)})`;
  return 'Empty()';
}

/** `LogsExporter {...}` summary line (basic verbosity, and the first line of the others). */
export function formatSummary(name: string, resourceLogs: number, logRecords: number): string {
  return `LogsExporter {"kind": "exporter", "data_type": "logs", "name": ${JSON.stringify(name)}, "#resource logs": ${resourceLogs}, "#log records": ${logRecords}}\n`;
}

/** Go's `Time.String()` of a UTC time: `2020-02-11 20:26:13.000000789 +0000 UTC`, trailing fraction zeros cut. */
export function goTimeString(t: Long): string {
  const { seconds, nanos } = nanosToSecondsAndNanos(t);
  const iso = new Date(seconds * 1000).toISOString();
  const fraction = nanos === 0 ? '' : `.${String(nanos).padStart(9, '0').replace(/0+$/, '')}`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction} +0000 UTC`;
}

/** ` k=v k2=v2` (AsString values), or "" without attributes. */
function attributesString(kvs: readonly KeyValue[] | null | undefined): string {
  let s = '';
  if (kvs != null) for (let i = 0; i < kvs.length; i++) s += ` ${kvs[i]!.key}=${anyValueAsString(kvs[i]!.value)}`;
  return s;
}

/**
 * As upstream's normal verbosity: a `ResourceLog #i [schema] k=v` line, a `ScopeLog #j name@version [schema] k=v`
 * line, then one line per record, the body as a string, a space, and its `key=value` attributes.
 */
export function formatNormal(rls: readonly ResourceLogs[]): string {
  let out = '';
  for (let i = 0; i < rls.length; i++) {
    const rl = rls[i]!;
    out += `ResourceLog #${i}${rl.schemaUrl ? ` [${rl.schemaUrl}]` : ''}${attributesString(rl.resource?.attributes)}\n`;
    const sls = rl.scopeLogs;
    for (let j = 0; j < sls.length; j++) {
      const sl = sls[j]!;
      let details = (sl.scope?.name ?? '') + (sl.scope?.version ? `@${sl.scope.version}` : '');
      if (sl.schemaUrl) details += `${details ? ' ' : ''}[${sl.schemaUrl}]`;
      out += `ScopeLog #${j}${details ? ` ${details}` : ''}${attributesString(sl.scope?.attributes)}\n`;
      const recs = sl.logRecords;
      for (let k = 0; k < recs.length; k++) {
        const r = recs[k]!;
        const attrs = attributesString(r.attributes);
        out += `${anyValueAsString(r.body)} ${attrs.slice(1)}\n`;
      }
    }
  }
  return out;
}

function attributesBlock(title: string, kvs: readonly KeyValue[] | undefined): string {
  if (kvs == null || kvs.length === 0) return '';
  let s = `${title}:\n`;
  for (let i = 0; i < kvs.length; i++) s += `     -> ${kvs[i]!.key}: ${typedValue(kvs[i]!.value)}\n`;
  return s;
}

/** The full dump, as upstream's detailed verbosity. */
export function formatDetailed(rls: readonly ResourceLogs[]): string {
  let out = '';
  for (let i = 0; i < rls.length; i++) {
    const rl = rls[i]!;
    out += `ResourceLog #${i}\nResource SchemaURL: ${rl.schemaUrl}\n`;
    out += attributesBlock('Resource attributes', rl.resource?.attributes);
    for (let j = 0; j < rl.scopeLogs.length; j++) {
      const sl = rl.scopeLogs[j]!;
      out += `ScopeLogs #${j}\nScopeLogs SchemaURL: ${sl.schemaUrl}\n`;
      out += `InstrumentationScope ${sl.scope?.name ?? ''} ${sl.scope?.version ?? ''}\n`;
      out += attributesBlock('InstrumentationScope attributes', sl.scope?.attributes);
      for (let k = 0; k < sl.logRecords.length; k++) {
        const r = sl.logRecords[k]!;
        out += `LogRecord #${k}\n`;
        out += `ObservedTimestamp: ${goTimeString(r.observedTimeUnixNano)}\n`;
        out += `Timestamp: ${goTimeString(r.timeUnixNano)}\n`;
        out += `SeverityText: ${r.severityText}\n`;
        out += `SeverityNumber: ${severityName(r.severityNumber)}\n`;
        if (r.eventName) out += `EventName: ${r.eventName}\n`;
        out += `Body: ${typedValue(r.body)}\n`;
        out += attributesBlock('Attributes', r.attributes);
        out += `Trace ID: ${idToHex(r.traceId)}\n`;
        out += `Span ID: ${idToHex(r.spanId)}\n`;
        out += `Flags: ${r.flags >>> 0}\n`;
      }
    }
  }
  return out;
}
