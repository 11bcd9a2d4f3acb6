/**
 * `convert` for the Azure Monitor Logs Ingestion API: the OTLP record model → JSON-array bodies, one
 * array of row objects per call, grouped by stream (retention routing) and split so that each
 * uncompressed body stays within `maxRequestBytes` (1 MB). Pure: "now" (for records without
 * timestamps) is a parameter. Each request remembers which records it carries, so a failed call can be
 * retried (or dead-lettered) record by record.
 */
import type Long from 'long';
import { anyValueAsString, findAttribute, JsonByteWriter, type ResourceLogs } from '@tributary/otlp';
import type { LogsBatch } from '../../component.js';
import { BytesBody } from '../common/json-body.js';
import { batchFromRefs, type RecordRef } from '../common/partial-delivery.js';
import type { CompiledColumn, RecordContext } from './columns.js';

export type { RecordRef } from '../common/partial-delivery.js';


export interface IngestionRequest {
  stream: string;
  /** The JSON array text (decoded from `bodyBytes` when first read). */
  readonly body: string;
  /** The body as UTF-8: what is sent, so the text is never built on the hot path. */
  readonly bodyBytes: Buffer;
  /** Its UTF-8 size. */
  readonly bytes: number;
  records: RecordRef[];
}

class Request extends BytesBody implements IngestionRequest {
  constructor(
    public stream: string,
    bodyBytes: Buffer,
    public records: RecordRef[],
  ) {
    super(bodyBytes);
  }
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
  stream: string;
  /** `[` and the rows so far, as UTF-8. */
  w: JsonByteWriter;
  records: RecordRef[];
  /** In `order` already (a stream is listed at its first row that is not oversize). */
  listed: boolean;
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

/** `rowJson` as bytes into `out`; `shared` is `sharedColumnsJson` as UTF-8. */
function writeRow(columns: readonly CompiledColumn[], ctx: RecordContext, shared: Uint8Array, out: JsonByteWriter): void {
  out.byte(0x7b);
  let first = true;
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!;
    if (col.level !== 'record') continue;
    if (col.write(ctx, out, first ? col.head : col.commaHead)) first = false;
  }
  if (shared.length > 0) {
    if (!first) out.byte(0x2c);
    out.raw(shared);
  }
  out.byte(0x7d);
}

function writeShared(columns: readonly CompiledColumn[], ctx: RecordContext, out: JsonByteWriter): void {
  let first = true;
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!;
    if (col.level === 'record') continue;
    if (col.write(ctx, out, first ? col.head : col.commaHead)) first = false;
  }
}

/**
 * One writer per open stream, kept between calls: bodies are copied out before convert returns, so
 * the memory is free again: after warm-up a batch allocates only the bodies it returns.
 */
const writers: JsonByteWriter[] = [];
const sharedWriter = new JsonByteWriter(4096);

export function convertToIngestionRequests(resourceLogs: readonly ResourceLogs[], o: AzureConvertOptions): AzureConvertResult {
  const requests: IngestionRequest[] = [];
  const oversize: RecordRef[] = [];
  const open = new Map<string, Open>();
  /** Streams in the order of their first row (the order their last requests are flushed in). */
  const order: Open[] = [];
  const hasRouting = Object.keys(o.retentionStreams).length > 0;
  const max = o.maxRequestBytes;
  const columns = o.columns;
  const ctx = { rl: undefined, sl: undefined, r: undefined, now: o.now } as unknown as RecordContext;
  for (let i = 0; i < resourceLogs.length; i++) {
    const rl = resourceLogs[i]!;
    ctx.rl = rl;
    for (let j = 0; j < rl.scopeLogs.length; j++) {
      const sl = rl.scopeLogs[j]!;
      ctx.sl = sl;
      sharedWriter.reset();
      writeShared(columns, ctx, sharedWriter);
      const shared = sharedWriter.copy();
      for (let k = 0; k < sl.logRecords.length; k++) {
        const r = sl.logRecords[k]!;
        ctx.r = r;
        let stream = o.streamName;
        if (hasRouting) {
          const cls = findAttribute(r.attributes, 'retention.class');
          if (cls != null) stream = o.retentionStreams[anyValueAsString(cls)] ?? o.streamName;
        }
        let cur = open.get(stream);
        if (cur === undefined) {
          let w = writers[open.size];
          if (w === undefined) {
            w = new JsonByteWriter(64 * 1024);
            writers.push(w);
          }
          w.reset();
          w.byte(0x5b);
          cur = { stream, w, records: [], listed: false };
          open.set(stream, cur);
        }
        const w = cur.w;
        const start = w.length;
        const nonEmpty = cur.records.length > 0;
        if (nonEmpty) w.byte(0x2c);
        const rowStart = w.length;
        writeRow(columns, ctx, shared, w);
        const size = w.length - rowStart;
        const ref: RecordRef = { rl, sl, lr: r };
        if (size + 2 > max) {
          w.truncate(start);
          oversize.push(ref);
          continue;
        }
        if (!cur.listed) {
          cur.listed = true;
          order.push(cur);
        } else if (nonEmpty && start + 2 + size > max) {
          // The body so far plus `,row]` is over the limit: send it, the row opens the next one.
          const row = Buffer.from(w.bytes().subarray(rowStart));
          w.truncate(start);
          flush(cur, requests);
          w.reset();
          w.byte(0x5b);
          w.raw(row);
          cur.records = [];
        }
        cur.records.push(ref);
      }
    }
  }
  for (let i = 0; i < order.length; i++) flush(order[i]!, requests);
  return { requests, oversize };
}

function flush(cur: Open, requests: IngestionRequest[]): void {
  const w = cur.w;
  w.byte(0x5d);
  // A copy: the writer is reused, the request is sent later.
  requests.push(new Request(cur.stream, w.copy(), cur.records));
}

/** A batch holding only the given records (resource, scope and metadata kept, records not copied). */
export function selectRecords(batch: LogsBatch, refs: readonly RecordRef[]): LogsBatch {
  return batchFromRefs(refs, batch) ?? { ...batch, resourceLogs: [], recordCount: 0 };
}
