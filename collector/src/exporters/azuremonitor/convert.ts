/**
 * `convert` for the Azure Monitor Logs Ingestion API: the OTLP record model → JSON-array bodies, one
 * array of row objects per call, grouped by stream (retention routing) and split so that each
 * uncompressed body stays within `maxRequestBytes` (1 MB). Pure: "now" (for records without
 * timestamps) is a parameter. Each request remembers which records it carries, so a failed call can be
 * retried (or dead-lettered) record by record.
 */
import type Long from 'long';
import { anyValueAsString, findAttribute, type ResourceLogs } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';
import { batchFromRefs, type RecordRef } from '../common/partial-delivery.js';
import type { CompiledColumn, RecordContext } from './columns.js';

export type { RecordRef } from '../common/partial-delivery.js';


export interface IngestionRequest {
  stream: string;
  /** The JSON array text. */
  body: string;
  /** Its UTF-8 size. */
  bytes: number;
  records: RecordRef[];
}

export interface AzureConvertOptions {
  columns: readonly CompiledColumn[];
  streamName: string;
  /** retention.class → stream. */
  retentionStreams: Readonly<Record<string, string>>;
  maxRequestBytes: number;
  now: Long;
}

export interface AzureConvertResult {
  requests: IngestionRequest[];
  /** Records whose single row is larger than the limit: they can never be sent. */
  oversize: RecordRef[];
}

interface Open {
  parts: string[];
  bytes: number;
  records: RecordRef[];
}

/**
 * One row object's JSON: the record-level columns, then `shared` (the scope/resource-level columns,
 * rendered once per ScopeLogs by `sharedColumnsJson`). Columns without a value are left out.
 */
export function rowJson(columns: readonly CompiledColumn[], ctx: RecordContext, shared: string): string {
  let s = '{';
  let first = true;
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!;
    if (col.level !== 'record') continue;
    const v = col.get(ctx);
    if (v === undefined) continue;
    if (!first) s += ',';
    s += col.prefix + v;
    first = false;
  }
  if (shared) s += (first ? '' : ',') + shared;
  return s + '}';
}

/** The scope- and resource-level columns of `ctx.sl` / `ctx.rl` as `"A":…,"B":…` (no braces). */
export function sharedColumnsJson(columns: readonly CompiledColumn[], ctx: RecordContext): string {
  let s = '';
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!;
    if (col.level === 'record') continue;
    const v = col.get(ctx);
    if (v === undefined) continue;
    s += (s ? ',' : '') + col.prefix + v;
  }
  return s;
}

export function convertToIngestionRequests(resourceLogs: readonly ResourceLogs[], o: AzureConvertOptions): AzureConvertResult {
  const requests: IngestionRequest[] = [];
  const oversize: RecordRef[] = [];
  const open = new Map<string, Open>();
  const hasRouting = Object.keys(o.retentionStreams).length > 0;
  const flush = (stream: string, cur: Open): void => {
    requests.push({ stream, body: `[${cur.parts.join(',')}]`, bytes: cur.bytes, records: cur.records });
  };
  const ctx = { rl: undefined, sl: undefined, r: undefined, now: o.now } as unknown as RecordContext;
  for (let i = 0; i < resourceLogs.length; i++) {
    const rl = resourceLogs[i]!;
    ctx.rl = rl;
    for (let j = 0; j < rl.scopeLogs.length; j++) {
      const sl = rl.scopeLogs[j]!;
      ctx.sl = sl;
      const shared = sharedColumnsJson(o.columns, ctx);
      for (let k = 0; k < sl.logRecords.length; k++) {
        const r = sl.logRecords[k]!;
        ctx.r = r;
        let stream = o.streamName;
        if (hasRouting) {
          const cls = findAttribute(r.attributes, 'retention.class');
          if (cls != null) stream = o.retentionStreams[anyValueAsString(cls)] ?? o.streamName;
        }
        const row = rowJson(o.columns, ctx, shared);
        const size = Buffer.byteLength(row, 'utf8');
        const ref: RecordRef = { rl, sl, lr: r };
        if (size + 2 > o.maxRequestBytes) {
          oversize.push(ref);
          continue;
        }
        let cur = open.get(stream);
        if (cur !== undefined && cur.bytes + 1 + size > o.maxRequestBytes) {
          flush(stream, cur);
          cur = undefined;
        }
        if (cur === undefined) {
          cur = { parts: [], bytes: 2, records: [] };
          open.set(stream, cur);
        } else {
          cur.bytes += 1; // the comma
        }
        cur.parts.push(row);
        cur.bytes += size;
        cur.records.push(ref);
      }
    }
  }
  for (const [stream, cur] of open) flush(stream, cur);
  return { requests, oversize };
}

/** A batch holding only the given records (resource, scope and metadata kept, records not copied). */
export function selectRecords(batch: LogsBatch, refs: readonly RecordRef[]): LogsBatch {
  return batchFromRefs(refs, batch) ?? { ...batch, resourceLogs: [], recordCount: 0 };
}
