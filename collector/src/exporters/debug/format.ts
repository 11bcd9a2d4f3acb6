/**
 * Text renderings of a batch for the debug exporter, following upstream debugexporter's output
 * (otlptext): `basic` is a one-line summary, `normal` one line per record, `detailed` a full dump.
 */
import {
  anyValueAsString, idToHex, nanosToIso, SeverityNumber,
} from '@tributary/otlp';
import type { AnyValue, KeyValue, ResourceLogs } from '@tributary/otlp';

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

/** One line per record: the body as a string, then `key=value` attributes. */
export function formatNormal(rls: readonly ResourceLogs[]): string {
  let out = '';
  for (let i = 0; i < rls.length; i++) {
    const sls = rls[i]!.scopeLogs;
    for (let j = 0; j < sls.length; j++) {
      const recs = sls[j]!.logRecords;
      for (let k = 0; k < recs.length; k++) {
        const r = recs[k]!;
        out += anyValueAsString(r.body);
        const attrs = r.attributes;
        for (let a = 0; a < attrs.length; a++) out += ` ${attrs[a]!.key}=${anyValueAsString(attrs[a]!.value)}`;
        out += '\n';
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
        out += `ObservedTimestamp: ${nanosToIso(r.observedTimeUnixNano)}\n`;
        out += `Timestamp: ${nanosToIso(r.timeUnixNano)}\n`;
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
